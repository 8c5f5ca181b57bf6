/**
 * SQL for the ClickHouse event store's reads. It runs on ClickHouse 18.16 (Debian's package) and
 * on current servers, so it uses no query parameters, no window functions, no CTEs of tables,
 * no toStartOfInterval, no DateTime64 and no JSON functions:
 *
 * - values are literals written by clickhouse-escape.ts, identifiers come from allowlists;
 * - `timestamp` and `received_at` are Int64 epoch milliseconds, and a row's slot is integer
 *   arithmetic on them (the same as the DuckDB store's, see time/slots.ts): exact across DST;
 * - the top-level properties are also stored as three parallel arrays (key, JSON type, value as
 *   text) computed at load time, so a property reads as `prop_values[indexOf(prop_keys, k)]`:
 *   exact for any key, where visitParamExtract* would also match nested keys;
 * - `event` is '' for events without a name (a sorting-key column cannot be Nullable on old
 *   servers); reads turn it back into NULL;
 * - what needs row_number() (ranking schema-profile keys, "other" of value shares) is done in
 *   TypeScript on small grouped results.
 */
import type {
  Dimension,
  EventCountsQuery,
  LatenessQuery,
  EventListQuery,
  SchemaProfileQuery,
  SlotSpec,
  TimeseriesQuery,
  ValueSharesQuery,
  WindowQuery,
} from './event-store.js';
import { DIMENSION_COLUMNS, NONE_KEY, OTHER_KEY } from './event-store.js';
import { chIdent, chInt, chString } from './clickhouse-escape.js';

/** Columns of the events table in insert order (JSONEachRow); see EVENT_COLUMNS_DDL. */
export const EVENT_COLUMNS_DDL = `
  project_id UInt32,
  message_id String,
  type String,
  event String,
  anonymous_id Nullable(String),
  user_id Nullable(String),
  distinct_id String,
  session_id Nullable(String),
  timestamp Int64,
  received_at Int64,
  properties String,
  context String,
  page_path Nullable(String),
  referrer_host Nullable(String),
  app_version Nullable(String),
  platform Nullable(String),
  os Nullable(String),
  browser Nullable(String),
  device_type Nullable(String),
  country Nullable(String),
  ip_hash Nullable(String),
  prop_keys Array(String),
  prop_types Array(String),
  prop_values Array(Nullable(String)),
  segment_id String`;

const EVENTS_TABLE_TAIL = `PARTITION BY toYYYYMM(toDateTime(intDiv(timestamp, 1000), 'UTC'))
ORDER BY (project_id, event, timestamp)`;

/** An empty database, current while a user's metric SQL runs: an unqualified table name there names nothing. */
export const sandboxDatabase = (database: string) => `${database}_user_sql`;

/**
 * The DDL of the event store. Single server: MergeTree tables, created by the store when it opens.
 * With a cluster (VIGIL_EVENTS_CLUSTER): per shard a ReplicatedMergeTree `events_local` (and
 * `loaded_segments_local`), and over them Distributed tables named `events` and `loaded_segments`
 * that Vigil reads and writes, all created ON CLUSTER by `vigil migrate`.
 */
export function eventsDdl(database: string, cluster?: string): string[] {
  const db = chIdent(database);
  if (!cluster) {
    return [
      `CREATE DATABASE IF NOT EXISTS ${db}`,
      `CREATE DATABASE IF NOT EXISTS ${chIdent(sandboxDatabase(database))}`,
      `CREATE TABLE IF NOT EXISTS ${db}.events (${EVENT_COLUMNS_DDL}\n) ENGINE = MergeTree\n${EVENTS_TABLE_TAIL}`,
      `CREATE TABLE IF NOT EXISTS ${db}.loaded_segments (id String, rows UInt64, loaded_at DateTime) ENGINE = ReplacingMergeTree ORDER BY id`,
    ];
  }
  const c = chIdent(cluster);
  const zk = (table: string) => `'/clickhouse/tables/{shard}/${database}/${table}', '{replica}'`;
  return [
    `CREATE DATABASE IF NOT EXISTS ${db} ON CLUSTER ${c}`,
    `CREATE DATABASE IF NOT EXISTS ${chIdent(sandboxDatabase(database))} ON CLUSTER ${c}`,
    `CREATE TABLE IF NOT EXISTS ${db}.events_local ON CLUSTER ${c} (${EVENT_COLUMNS_DDL}\n) ENGINE = ReplicatedMergeTree(${zk('events_local')})\n${EVENTS_TABLE_TAIL}`,
    // a user's events on one shard: distinct users stay exact per shard, and the Distributed
    // table merges the states of uniqExact and quantile across shards anyway
    `CREATE TABLE IF NOT EXISTS ${db}.events ON CLUSTER ${c} AS ${db}.events_local ENGINE = Distributed(${c}, ${db}, events_local, sipHash64(distinct_id))`,
    `CREATE TABLE IF NOT EXISTS ${db}.loaded_segments_local ON CLUSTER ${c} (id String, rows UInt64, loaded_at DateTime) ENGINE = ReplicatedReplacingMergeTree(${zk('loaded_segments_local')}) ORDER BY id`,
    `CREATE TABLE IF NOT EXISTS ${db}.loaded_segments ON CLUSTER ${c} AS ${db}.loaded_segments_local ENGINE = Distributed(${c}, ${db}, loaded_segments_local, sipHash64(id))`,
  ];
}

export function windowWhere(q: WindowQuery): string {
  return `project_id = ${chInt(q.projectId)} AND timestamp >= ${chInt(q.fromMs)} AND timestamp < ${chInt(q.toMs)}`;
}

/** A top-level property as text (as DuckDB's json_extract_string gives it), NULL when missing or null. */
export function propertyExpr(key: string): string {
  return `prop_values[indexOf(prop_keys, ${chString(key)})]`;
}

const COLUMN_SET = new Set<string>(DIMENSION_COLUMNS);

/** A dimension's value (Nullable(String)); a column name is taken only from DIMENSION_COLUMNS. */
export function dimensionExpr(d: Dimension): string {
  if ('property' in d) return propertyExpr(d.property);
  if (!COLUMN_SET.has(d.column)) throw new RangeError(`unknown dimension column ${JSON.stringify(d.column)}`);
  return d.column === 'event' ? "nullIf(event, '')" : d.column === 'type' ? 'toNullable(type)' : d.column;
}

export const keyExpr = (d: Dimension) => `ifNull(${dimensionExpr(d)}, ${chString(NONE_KEY)})`;

const WEEK_MS = 7 * 86_400_000;
const WEEK_ORIGIN_MS = 4 * 86_400_000;

/** The slot of each row as epoch ms (see time/slots.ts): the DuckDB store's arithmetic. */
export function slotExpr(q: SlotSpec): string {
  const g = chInt(q.grainMs);
  if (!q.localOffsets) return `intDiv(timestamp, ${g}) * ${g}`;
  const [first, ...changes] = q.localOffsets;
  const all = [first, ...changes];
  const offset = changes.length
    ? `multiIf(${all
        .slice(0, -1)
        .map((s, i) => `timestamp < ${chInt(changes[i].fromMs)}, ${chInt(s.offsetMs)}`)
        .join(', ')}, ${chInt(changes[changes.length - 1].offsetMs)})`
    : chInt(first.offsetMs);
  const local = `(timestamp + ${offset})`;
  if (q.grainMs === WEEK_MS) return `intDiv(${local} - ${WEEK_ORIGIN_MS}, ${g}) * ${g} + ${WEEK_ORIGIN_MS}`;
  return `intDiv(${local}, ${g}) * ${g}`;
}

const MEASURE_SQL = {
  events: 'count()',
  users: 'uniqExact(distinct_id)',
  sessions: 'uniqExactIf(assumeNotNull(session_id), isNotNull(session_id))',
} as const;

export function timeseriesSql(q: TimeseriesQuery): string {
  let where = windowWhere(q);
  if (q.event !== undefined) where += ` AND event = ${chString(q.event)}`;
  const slot = slotExpr(q);
  const measure = MEASURE_SQL[q.measure];
  if (!q.breakdown) {
    return `SELECT ${slot} AS slot, toFloat64(${measure}) AS value FROM events WHERE ${where} GROUP BY slot ORDER BY slot`;
  }
  const k = keyExpr(q.breakdown);
  const top = `SELECT ${k} AS top_key FROM events WHERE ${where} GROUP BY top_key ORDER BY count() DESC, top_key LIMIT ${chInt(q.limit)}`;
  return `SELECT slot, if(k IN (${top}), k, ${chString(OTHER_KEY)}) AS key, toFloat64(${measure}) AS value
FROM (SELECT ${slot} AS slot, ${k} AS k, distinct_id, session_id FROM events WHERE ${where})
GROUP BY slot, key ORDER BY slot, key`;
}

export function totalsSql(q: WindowQuery): string {
  return `SELECT toFloat64(count()) AS events, toFloat64(${MEASURE_SQL.users}) AS users, toFloat64(${MEASURE_SQL.sessions}) AS sessions FROM events WHERE ${windowWhere(q)}`;
}

export function topEventsSql(q: WindowQuery & { limit: number }): string {
  return `SELECT event AS name, toFloat64(count()) AS n, toFloat64(uniqExact(distinct_id)) AS users FROM events WHERE ${windowWhere(q)} AND event != '' GROUP BY name ORDER BY n DESC, name LIMIT ${chInt(q.limit)}`;
}

/** The columns of an EventRow, `event` as '' (toEventRow makes it null). */
export const ROW_COLUMNS = [
  'project_id',
  'message_id',
  'type',
  'event',
  'anonymous_id',
  'user_id',
  'distinct_id',
  'session_id',
  'timestamp',
  'received_at',
  'properties',
  'context',
  'page_path',
  'referrer_host',
  'app_version',
  'platform',
  'os',
  'browser',
  'device_type',
  'country',
  'ip_hash',
] as const;

export function listEventsSql(q: EventListQuery): string {
  let where = `project_id = ${chInt(q.projectId)}`;
  if (q.event !== undefined) where += ` AND event = ${chString(q.event)}`;
  if (q.userId !== undefined) where += ` AND (user_id = ${chString(q.userId)} OR distinct_id = ${chString(q.userId)})`;
  if (q.before) {
    const ts = chInt(q.before.timestamp);
    where += ` AND (timestamp < ${ts} OR (timestamp = ${ts} AND message_id < ${chString(q.before.messageId)}))`;
  }
  return `SELECT ${ROW_COLUMNS.join(', ')} FROM events WHERE ${where} ORDER BY timestamp DESC, message_id DESC LIMIT ${chInt(q.limit)}`;
}

/** One page of an export, after the keyset cursor `after`. */
export function exportPageSql(q: WindowQuery, after: { timestamp: number; messageId: string } | undefined, limit: number): string {
  let where = windowWhere(q);
  if (after) {
    const ts = chInt(after.timestamp);
    where += ` AND (timestamp > ${ts} OR (timestamp = ${ts} AND message_id > ${chString(after.messageId)}))`;
  }
  return `SELECT ${ROW_COLUMNS.join(', ')} FROM events WHERE ${where} ORDER BY timestamp, message_id LIMIT ${chInt(limit)}`;
}

/** A user's identify calls, in event-time order (the store merges their traits). */
export function identifiesSql(projectId: number, userId: string): string {
  return `SELECT properties FROM events WHERE project_id = ${chInt(projectId)} AND type = 'identify' AND user_id = ${chString(userId)} ORDER BY timestamp, message_id`;
}

/** Counts per slot of the window's most frequent event names. */
export function eventCountsSql(q: EventCountsQuery): string {
  const where = `${windowWhere(q)} AND event != ''`;
  const top = `SELECT event FROM events WHERE ${where} GROUP BY event ORDER BY count() DESC, event LIMIT ${chInt(q.limit)}`;
  return `SELECT event AS name, ${slotExpr(q)} AS slot, toFloat64(count()) AS n FROM events WHERE ${where} AND event IN (${top}) GROUP BY name, slot ORDER BY name, slot`;
}

/**
 * The events received since a time, and the p99 of how late they arrived (ms): `quantile`
 * interpolates like DuckDB's quantile_cont, exactly up to 8192 rows and from a reservoir sample
 * beyond (bounded memory over a busy day; a settling time in whole minutes needs no more).
 */
export function latenessSql(q: LatenessQuery): string {
  return `SELECT toFloat64(count()) AS events, toFloat64(quantile(0.99)(received_at - timestamp)) AS p99 FROM events WHERE project_id = ${chInt(q.projectId)} AND received_at >= ${chInt(q.sinceMs)}`;
}

/** The `limit` most frequent values of one event's property, and the count of all its values. */
export function valueSharesSql(q: ValueSharesQuery): { top: string; total: string } {
  const value = propertyExpr(q.property);
  const where = `${windowWhere(q)} AND event = ${chString(q.event)} AND isNotNull(${value})`;
  return {
    top: `SELECT assumeNotNull(${value}) AS value, toFloat64(count()) AS n FROM events WHERE ${where} GROUP BY value ORDER BY n DESC, value LIMIT ${chInt(q.limit)}`,
    total: `SELECT toFloat64(count()) AS n FROM events WHERE ${where}`,
  };
}

/**
 * The schema profile in three statements (no window functions): the top events; per (event,
 * key) its count and distinct values; then (event, key, type, value) counts for the kept keys,
 * values only for keys with few of them. The store ranks keys per event in between.
 */
export const schemaProfileSql = {
  topEvents: (q: SchemaProfileQuery) =>
    `SELECT event AS name, toFloat64(count()) AS n FROM events WHERE ${windowWhere(q)} AND event != '' GROUP BY name ORDER BY n DESC, name LIMIT ${chInt(q.maxEvents)}`,
  keys: (q: SchemaProfileQuery, events: string[]) =>
    `SELECT event AS name, key, toFloat64(count()) AS n, toFloat64(uniqExactIf(assumeNotNull(value), isNotNull(value))) AS distinct_values
FROM events ARRAY JOIN prop_keys AS key, prop_values AS value
WHERE ${windowWhere(q)} AND event IN (${events.map(chString).join(', ')}) AND NOT startsWith(key, '$')
GROUP BY name, key`,
  pairs: (q: SchemaProfileQuery, keys: { event: string; key: string; withValues: boolean }[]) => {
    const tuple = (k: { event: string; key: string }) => `(${chString(k.event)}, ${chString(k.key)})`;
    const few = keys.filter((k) => k.withValues);
    const value = few.length ? `if((event, key) IN (${few.map(tuple).join(', ')}), value, NULL)` : 'CAST(NULL AS Nullable(String))';
    return `SELECT event AS name, key, type, ${value} AS shown, toFloat64(count()) AS n
FROM events ARRAY JOIN prop_keys AS key, prop_types AS type, prop_values AS value
WHERE ${windowWhere(q)} AND (event, key) IN (${keys.map(tuple).join(', ')})
GROUP BY name, key, type, shown`;
  },
};

/**
 * The message ids of the dedup window, from segments recorded as loaded only: the rows a cut-short
 * load left are replaced when that load is replayed, so they must not count as seen already.
 */
export const recentMessageIdsSql = (sinceMs: number) =>
  `SELECT project_id, message_id FROM events WHERE received_at >= ${chInt(sinceMs)} AND segment_id GLOBAL IN (SELECT id FROM loaded_segments)`;
