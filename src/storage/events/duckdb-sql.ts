/**
 * SQL for the DuckDB event store's reads. Integers (project ids, times, grains) are inlined after
 * a safe-integer check so DuckDB can prune row groups by their zone maps; strings are bound.
 */
import type {
  Dimension,
  EventCountsQuery,
  LatenessQuery,
  EventListQuery,
  ExportQuery,
  SchemaProfileQuery,
  SlotSpec,
  TimeseriesQuery,
  ValueSharesQuery,
  WindowQuery,
} from './event-store.js';
import { NONE_KEY, OTHER_KEY } from './event-store.js';

export interface Sql {
  sql: string;
  params: string[];
}

export function int(n: number): string {
  if (!Number.isSafeInteger(n)) throw new RangeError(`expected an integer, got ${n}`);
  return String(n);
}

/**
 * One top-level property key as a JSON Pointer (`/key`, with `~` and `/` escaped): it takes any
 * name as it is, where a JSONPath (`$."key"`) fails for the empty name and reads `*` as a wildcard.
 */
export function propertyPath(key: string): string {
  return '/' + key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * A row's key as a JSON Pointer (`/key`, `~` and `/` escaped), which takes any name as it is: a
 * JSONPath built per row (`$."key"`) is refused for the empty name and for a `*` (a wildcard is
 * allowed only in a constant path), so one event with such a property failed the whole profile.
 */
const KEY_POINTER = `'/' || replace(replace(key, '~', '~0'), '/', '~1')`;

export const EVENTS_DDL = `
CREATE TABLE IF NOT EXISTS events (
  project_id INTEGER NOT NULL,
  message_id VARCHAR NOT NULL,
  type VARCHAR NOT NULL,
  event VARCHAR,
  anonymous_id VARCHAR,
  user_id VARCHAR,
  distinct_id VARCHAR NOT NULL,
  session_id VARCHAR,
  timestamp TIMESTAMP NOT NULL,
  received_at TIMESTAMP NOT NULL,
  properties VARCHAR NOT NULL,
  context VARCHAR NOT NULL,
  page_path VARCHAR,
  referrer_host VARCHAR,
  app_version VARCHAR,
  platform VARCHAR,
  os VARCHAR,
  browser VARCHAR,
  device_type VARCHAR,
  country VARCHAR,
  ip_hash VARCHAR
);
CREATE TABLE IF NOT EXISTS users (
  project_id INTEGER NOT NULL,
  user_id VARCHAR NOT NULL,
  traits VARCHAR NOT NULL,
  first_seen TIMESTAMP NOT NULL,
  last_seen TIMESTAMP NOT NULL,
  PRIMARY KEY (project_id, user_id)
);
CREATE TABLE IF NOT EXISTS loaded_segments (
  id VARCHAR PRIMARY KEY,
  rows BIGINT NOT NULL,
  loaded_at TIMESTAMP NOT NULL
);`;

/** The column spec read_json uses for a segment file: its lines are EventRow objects. */
const SEGMENT_COLUMNS =
  "{project_id:'INTEGER', message_id:'VARCHAR', type:'VARCHAR', event:'VARCHAR', anonymous_id:'VARCHAR', user_id:'VARCHAR', distinct_id:'VARCHAR', session_id:'VARCHAR', timestamp:'BIGINT', received_at:'BIGINT', properties:'JSON', context:'JSON', page_path:'VARCHAR', referrer_host:'VARCHAR', app_version:'VARCHAR', platform:'VARCHAR', os:'VARCHAR', browser:'VARCHAR', device_type:'VARCHAR', country:'VARCHAR', ip_hash:'VARCHAR'}";

/**
 * Loading a segment: its events go straight from the file into the table. They are not sorted:
 * a segment fills less than a row group, so sorting would not help zone maps, and it costs more
 * CPU than the insert. Identify calls are read again (only when the segment has any) to keep the
 * latest traits per user.
 */
export function segmentLoadSql(file: string): { insertEvents: string; upsertUsers: string } {
  const source = `read_json('${file.replace(/'/g, "''")}', format='newline_delimited', columns=${SEGMENT_COLUMNS})`;
  return {
    insertEvents: `INSERT INTO events SELECT project_id, message_id, type, event, anonymous_id, user_id, distinct_id, session_id,
       epoch_ms(timestamp), epoch_ms(received_at), properties::VARCHAR, context::VARCHAR, page_path, referrer_host,
       app_version, platform, os, browser, device_type, country, ip_hash
     FROM ${source}`,
    // a segment's identify calls are merged in event-time order; a segment whose calls are all
    // older than the stored ones only adds the traits the stored ones lack
    upsertUsers: `INSERT INTO users
     SELECT project_id, user_id, list_reduce(list(properties ORDER BY timestamp, message_id), lambda acc, x: json_merge_patch(acc, x))::VARCHAR,
       epoch_ms(min(timestamp)), epoch_ms(max(timestamp))
     FROM ${source} WHERE type = 'identify' AND user_id IS NOT NULL GROUP BY project_id, user_id
     ON CONFLICT (project_id, user_id) DO UPDATE SET
       traits = CASE WHEN excluded.last_seen >= users.last_seen THEN json_merge_patch(users.traits, excluded.traits)
         ELSE json_merge_patch(excluded.traits, users.traits) END::VARCHAR,
       first_seen = least(users.first_seen, excluded.first_seen),
       last_seen = greatest(users.last_seen, excluded.last_seen)`,
  };
}

export function windowWhere(q: WindowQuery): string {
  return `project_id = ${int(q.projectId)} AND timestamp >= epoch_ms(${int(q.fromMs)}) AND timestamp < epoch_ms(${int(q.toMs)})`;
}

export function dimensionExpr(d: Dimension, params: string[]): string {
  if ('column' in d) return d.column;
  params.push(propertyPath(d.property));
  return `json_extract_string(properties, $${params.length})`;
}

const MEASURE_SQL = {
  events: 'count(*)',
  users: 'count(DISTINCT distinct_id)',
  sessions: 'count(DISTINCT session_id)',
} as const;

const WEEK_MS = 7 * 86_400_000;
const WEEK_ORIGIN_MS = 4 * 86_400_000;

/** The slot of each row as epoch ms (see time/slots.ts). */
export function slotExpr(q: SlotSpec): string {
  const g = int(q.grainMs);
  if (!q.localOffsets) return `epoch_ms(timestamp) // ${g} * ${g}`;
  const [first, ...changes] = q.localOffsets;
  const offset = changes.length
    ? `CASE ${[first, ...changes]
        .slice(0, -1)
        .map((s, i) => `WHEN timestamp < epoch_ms(${int(changes[i].fromMs)}) THEN ${int(s.offsetMs)}`)
        .join(' ')} ELSE ${int(changes[changes.length - 1].offsetMs)} END`
    : int(first.offsetMs);
  const local = `(epoch_ms(timestamp) + ${offset})`;
  if (q.grainMs === WEEK_MS) return `(${local} - ${WEEK_ORIGIN_MS}) // ${g} * ${g} + ${WEEK_ORIGIN_MS}`;
  return `${local} // ${g} * ${g}`;
}

export function timeseriesSql(q: TimeseriesQuery): Sql {
  const params: string[] = [];
  let where = windowWhere(q);
  if (q.event !== undefined) {
    params.push(q.event);
    where += ` AND event = $${params.length}`;
  }
  const slot = slotExpr(q);
  const measure = MEASURE_SQL[q.measure];
  if (!q.breakdown) {
    return {
      sql: `SELECT (${slot})::DOUBLE AS slot, NULL AS key, ${measure}::DOUBLE AS value FROM events WHERE ${where} GROUP BY 1 ORDER BY 1`,
      params,
    };
  }
  const dim = dimensionExpr(q.breakdown, params);
  const sql = `WITH base AS (
  SELECT ${slot} AS slot, coalesce(${dim}, '${NONE_KEY}') AS key, distinct_id, session_id FROM events WHERE ${where}
), top AS (
  SELECT key FROM base GROUP BY key ORDER BY count(*) DESC, key LIMIT ${int(q.limit)}
)
SELECT slot::DOUBLE AS slot, CASE WHEN key IN (SELECT key FROM top) THEN key ELSE '${OTHER_KEY}' END AS key,
  ${measure}::DOUBLE AS value
FROM base GROUP BY 1, 2 ORDER BY 1, 2`;
  return { sql, params };
}

export function totalsSql(q: WindowQuery): Sql {
  return {
    sql: `SELECT count(*)::DOUBLE AS events, count(DISTINCT distinct_id)::DOUBLE AS users, count(DISTINCT session_id)::DOUBLE AS sessions FROM events WHERE ${windowWhere(q)}`,
    params: [],
  };
}

export function topEventsSql(q: WindowQuery & { limit: number }): Sql {
  return {
    sql: `SELECT event, count(*)::DOUBLE AS count, count(DISTINCT distinct_id)::DOUBLE AS users FROM events WHERE ${windowWhere(q)} AND event IS NOT NULL GROUP BY event ORDER BY count DESC, event LIMIT ${int(q.limit)}`,
    params: [],
  };
}

export const ROW_SELECT = `project_id, message_id, type, event, anonymous_id, user_id, distinct_id, session_id,
  epoch_ms(timestamp)::DOUBLE AS timestamp, epoch_ms(received_at)::DOUBLE AS received_at, properties, context,
  page_path, referrer_host, app_version, platform, os, browser, device_type, country, ip_hash`;

export function listEventsSql(q: EventListQuery): Sql {
  const params: string[] = [];
  let where = `project_id = ${int(q.projectId)}`;
  if (q.event !== undefined) {
    params.push(q.event);
    where += ` AND event = $${params.length}`;
  }
  if (q.userId !== undefined) {
    params.push(q.userId);
    where += ` AND (user_id = $${params.length} OR distinct_id = $${params.length})`;
  }
  if (q.before) {
    params.push(q.before.messageId);
    const ts = `epoch_ms(${int(q.before.timestamp)})`;
    where += ` AND (timestamp < ${ts} OR (timestamp = ${ts} AND message_id < $${params.length}))`;
  }
  return { sql: `SELECT ${ROW_SELECT} FROM events WHERE ${where} ORDER BY timestamp DESC, message_id DESC LIMIT ${int(q.limit)}`, params };
}

export function exportSql(q: ExportQuery): Sql {
  return { sql: `SELECT ${ROW_SELECT} FROM events WHERE ${windowWhere(q)} ORDER BY timestamp, message_id`, params: [] };
}

/** json_type's names as the profile's value types (detect/schema-drift.ts ValueType). */
const JSON_TYPE = `CASE json_type(properties, path) WHEN 'VARCHAR' THEN 'string' WHEN 'BOOLEAN' THEN 'boolean' WHEN 'OBJECT' THEN 'object'
        WHEN 'ARRAY' THEN 'array' WHEN 'NULL' THEN 'null' WHEN 'BIGINT' THEN 'number' WHEN 'UBIGINT' THEN 'number' WHEN 'DOUBLE' THEN 'number'
        WHEN 'HUGEINT' THEN 'number' ELSE lower(json_type(properties, path)) END`;

/**
 * A window's schema profile: the most frequent events, their keys (json_keys, unnested), and per
 * key, type and value (as text, see json_extract_string) a count. Values are returned only for
 * keys with few distinct values; an event without properties keeps one row with a null key.
 */
export function schemaProfileSql(q: SchemaProfileQuery): Sql {
  const sql = `WITH base AS (
  SELECT event, properties FROM events WHERE ${windowWhere(q)} AND event IS NOT NULL
), top_events AS (
  SELECT event, count(*) AS n FROM base GROUP BY event ORDER BY n DESC, event LIMIT ${int(q.maxEvents)}
), keyed AS (
  SELECT event, properties, key, ${KEY_POINTER} AS path
  FROM (SELECT event, properties, unnest(json_keys(properties)) AS key FROM base WHERE event IN (SELECT event FROM top_events))
  WHERE NOT starts_with(key, '$')
), pairs AS (
  SELECT event, key, ${JSON_TYPE} AS type, json_extract_string(properties, path) AS value, count(*) AS n
  FROM keyed GROUP BY ALL
), keys AS (
  SELECT event, key, count(DISTINCT value) AS distinct_values, row_number() OVER (PARTITION BY event ORDER BY sum(n) DESC, key) AS rank
  FROM pairs GROUP BY event, key
)
SELECT t.event, t.n::DOUBLE AS events, k.key, p.type, CASE WHEN k.distinct_values <= ${int(q.maxValues)} THEN p.value END AS value,
  coalesce(sum(p.n), 0)::DOUBLE AS count, coalesce(k.distinct_values, 0)::DOUBLE AS distinct_values
FROM top_events t
LEFT JOIN keys k ON k.event = t.event AND k.rank <= ${int(q.maxProperties)}
LEFT JOIN pairs p ON p.event = k.event AND p.key = k.key
GROUP BY ALL ORDER BY 1, 3, 4, 5`;
  return { sql, params: [] };
}

/** Counts per slot of the window's most frequent event names. */
export function eventCountsSql(q: EventCountsQuery): Sql {
  const sql = `WITH base AS (
  SELECT event, ${slotExpr(q)} AS slot FROM events WHERE ${windowWhere(q)} AND event IS NOT NULL
), top AS (
  SELECT event FROM base GROUP BY event ORDER BY count(*) DESC, event LIMIT ${int(q.limit)}
)
SELECT event, slot::DOUBLE AS slot, count(*)::DOUBLE AS count FROM base WHERE event IN (SELECT event FROM top) GROUP BY 1, 2 ORDER BY 1, 2`;
  return { sql, params: [] };
}

/** The events received since a time, and the p99 of how late they arrived (ms). */
export function latenessSql(q: LatenessQuery): Sql {
  const sql = `SELECT count(*)::DOUBLE AS events, quantile_cont(epoch_ms(received_at) - epoch_ms(timestamp), 0.99)::DOUBLE AS p99
FROM events WHERE project_id = ${int(q.projectId)} AND received_at >= epoch_ms(${int(q.sinceMs)})`;
  return { sql, params: [] };
}

/** Counts per value of one event's property, the most frequent `limit` values and the rest as OTHER_KEY. */
export function valueSharesSql(q: ValueSharesQuery): Sql {
  const params = [q.event, propertyPath(q.property)];
  const sql = `WITH v AS (
  SELECT json_extract_string(properties, $2) AS value, count(*) AS n FROM events
  WHERE ${windowWhere(q)} AND event = $1 AND json_extract_string(properties, $2) IS NOT NULL GROUP BY 1
), ranked AS (
  SELECT value, n, row_number() OVER (ORDER BY n DESC, value) AS rank FROM v
)
SELECT CASE WHEN rank <= ${int(q.limit)} THEN value ELSE '${OTHER_KEY}' END AS value, sum(n)::DOUBLE AS count
FROM ranked GROUP BY 1 ORDER BY min(rank)`;
  return { sql, params };
}
