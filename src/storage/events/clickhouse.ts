/**
 * The ClickHouse event store (scaled mode, VIGIL_EVENTS_URL=clickhouse://host:8123/db), over HTTP
 * with @clickhouse/client. SQL is in clickhouse-sql.ts, clickhouse-metric-sql.ts and
 * clickhouse-user-sql.ts; every value in it is written by clickhouse-escape.ts.
 *
 * A segment is one INSERT (one block, so one part and all-or-nothing on a single server), tagged
 * with its id; `loaded_segments` records it afterwards. A crash between the two is caught on
 * replay by counting the segment's rows already stored: all there, it is only recorded; some
 * there (a cluster insert cut short), they are deleted and the segment is inserted again.
 */
import fs from 'node:fs';
import readline from 'node:readline';
import { Readable } from 'node:stream';
import { ClickHouseError, ClickHouseLogLevel, createClient, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';
import type {
  EventCountRow,
  EventCountsQuery,
  Lateness,
  LatenessQuery,
  EventListQuery,
  EventRow,
  EventStore,
  ExportQuery,
  MetricScanQuery,
  MetricScanRow,
  SchemaProfileQuery,
  SchemaProfileRow,
  Segment,
  TimeseriesQuery,
  TimeseriesRow,
  Totals,
  UserSqlQuery,
  UserSqlRow,
  ValueSharesQuery,
  WindowQuery,
} from './event-store.js';
import { OTHER_KEY } from './event-store.js';
import { chIdent, chInt, chString } from './clickhouse-escape.js';
import {
  type ROW_COLUMNS,
  eventCountsSql,
  eventsDdl,
  latenessSql,
  exportPageSql,
  identifiesSql,
  listEventsSql,
  recentMessageIdsSql,
  sandboxDatabase,
  schemaProfileSql,
  timeseriesSql,
  topEventsSql,
  totalsSql,
  valueSharesSql,
} from './clickhouse-sql.js';
import { metricScanSql } from './clickhouse-metric-sql.js';
import { checkClickHouseUserSql, clickHouseUserSqlStatement } from './clickhouse-user-sql.js';
import { toUserSqlRows } from './duckdb-user-sql.js';
import { MAX_RESULT_BYTES, checkCellSizes, resultTooLarge, timedOut } from './user-sql-limits.js';
import { VigilError } from '../../errors.js';
import { cutDeep, wellFormed } from './well-formed.js';

export interface ClickHouseOptions {
  /** clickhouse://[user[:password]@]host:8123/database (clickhouses:// for HTTPS) */
  url: string;
  /** VIGIL_EVENTS_CLUSTER: the tables are Distributed over this cluster and created by `vigil migrate` */
  cluster?: string;
  queryTimeoutMs?: number;
}

export interface ClickHouseTarget {
  httpUrl: string;
  username: string;
  password: string;
  database: string;
}

/** Splits a clickhouse:// URL into the HTTP endpoint, credentials and database (`vigil` when none is named). */
export function parseClickHouseUrl(url: string): ClickHouseTarget {
  const u = new URL(url.replace(/^clickhouse(s?):/, 'http$1:'));
  const database = decodeURIComponent(u.pathname.replace(/^\/+|\/+$/g, '')) || 'vigil';
  chIdent(database); // throws for a name that is not letters, digits and _
  return {
    httpUrl: `${u.protocol}//${u.host}`,
    username: decodeURIComponent(u.username) || 'default',
    password: decodeURIComponent(u.password),
    database,
  };
}

/** The statements `vigil migrate` runs (or prints) for the ClickHouse event store of `config`. */
export function clickhouseDdl(config: { clickhouseUrl?: string; eventsCluster?: string }): string[] {
  if (!config.clickhouseUrl) return [];
  return eventsDdl(parseClickHouseUrl(config.clickhouseUrl).database, config.eventsCluster);
}

/** Runs `clickhouseDdl(config)` (`vigil migrate`): on a cluster, the only way the tables get created. */
export async function migrateClickHouse(config: { clickhouseUrl?: string; eventsCluster?: string }): Promise<number> {
  const statements = clickhouseDdl(config);
  if (!statements.length) return 0;
  const t = parseClickHouseUrl(config.clickhouseUrl!);
  const admin = createClient({ url: t.httpUrl, username: t.username, password: t.password, log: { level: ClickHouseLogLevel.OFF } });
  try {
    for (const query of statements) await admin.command({ query });
  } finally {
    await admin.close();
  }
  return statements.length;
}

/** Drops a database and its user-SQL sandbox (tests create one per app), on every node of `cluster` when given. */
export async function dropClickHouseDatabase(url: string, cluster?: string): Promise<void> {
  const t = parseClickHouseUrl(url);
  const client = createClient({ url: t.httpUrl, username: t.username, password: t.password, log: { level: ClickHouseLogLevel.OFF } });
  const onCluster = cluster ? ` ON CLUSTER ${chIdent(cluster)}` : '';
  try {
    for (const db of [t.database, sandboxDatabase(t.database)])
      await client.command({ query: `DROP DATABASE IF EXISTS ${chIdent(db)}${onCluster}` });
  } finally {
    await client.close();
  }
}

/** Rows a segment is inserted with at most in one block (one part; beyond it, a segment spans parts). */
const MAX_INSERT_BLOCK_ROWS = 16_000_000;
const EXPORT_PAGE_ROWS = 10_000;
/** Memory one user-SQL statement may use on the server (a runaway arrayJoin fails instead of starving the store). */
const USER_SQL_MAX_MEMORY_BYTES = 1_000_000_000;
const MUTATION_WAIT_MS = 120_000;

const JSON_TYPES = (v: unknown) =>
  v === null
    ? 'null'
    : Array.isArray(v)
      ? 'array'
      : typeof v === 'object'
        ? 'object'
        : typeof v === 'number'
          ? 'number'
          : typeof v === 'boolean'
            ? 'boolean'
            : 'string';

/** An EventRow as the table stores it: `event` '' for none, the top-level properties also as arrays. */
export function toStoredRow(r: EventRow, segmentId: string) {
  const props = r.properties && typeof r.properties === 'object' && !Array.isArray(r.properties) ? r.properties : {};
  const keys: string[] = [];
  const types: string[] = [];
  const values: (string | null)[] = [];
  for (const [k, v] of Object.entries(props)) {
    keys.push(k);
    types.push(JSON_TYPES(v));
    values.push(v === null || v === undefined ? null : typeof v === 'string' ? v : JSON.stringify(v));
  }
  return {
    project_id: r.project_id,
    message_id: r.message_id,
    type: r.type,
    event: r.event ?? '',
    anonymous_id: r.anonymous_id ?? null,
    user_id: r.user_id ?? null,
    distinct_id: r.distinct_id,
    session_id: r.session_id ?? null,
    timestamp: r.timestamp,
    received_at: r.received_at,
    properties: JSON.stringify(r.properties ?? {}),
    context: JSON.stringify(r.context ?? {}),
    page_path: r.page_path ?? null,
    referrer_host: r.referrer_host ?? null,
    app_version: r.app_version ?? null,
    platform: r.platform ?? null,
    os: r.os ?? null,
    browser: r.browser ?? null,
    device_type: r.device_type ?? null,
    country: r.country ?? null,
    ip_hash: r.ip_hash ?? null,
    prop_keys: keys,
    prop_types: types,
    prop_values: values,
    segment_id: segmentId,
  };
}

/** ClickHouse's error types for input it cannot parse or convert (not a server or network failure). */
const DATA_ERROR_TYPES =
  /PARSE|INCORRECT_DATA|INCORRECT_NUMBER_OF_COLUMNS|TYPE_MISMATCH|CANNOT_CONVERT|ARGUMENT_OUT_OF_BOUND|VALUE_IS_OUT_OF_RANGE|DECIMAL_OVERFLOW|TOO_DEEP|UNKNOWN_FIELD|CANNOT_INSERT_NULL|INCORRECT_UTF8/;

/** The same by number: CANNOT_PARSE_* (6, 26, 27, 38, 41, 72), TYPE_MISMATCH, ARGUMENT_OUT_OF_BOUND, CANNOT_CONVERT_TYPE, INCORRECT_DATA, VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE, CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN. */
const DATA_ERROR_CODES = new Set([6, 26, 27, 38, 41, 53, 69, 70, 72, 117, 321, 349]);

/** One NDJSON line of a segment as a row ClickHouse accepts. */
export function parseSegmentLine(line: string): EventRow {
  const row = JSON.parse(line) as EventRow;
  // JSON.stringify writes a lone surrogate as an escape: only such lines need the deep pass
  return /\\u[dD][89a-fA-F]/.test(line) ? (wellFormed(row) as EventRow) : row;
}

async function* segmentRows(segment: Segment): AsyncGenerator<EventRow> {
  if ('rows' in segment) {
    yield* segment.rows;
    return;
  }
  const lines = readline.createInterface({ input: fs.createReadStream(segment.path, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const line of lines) if (line.trim()) yield parseSegmentLine(line);
}

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

type RawRow = Record<(typeof ROW_COLUMNS)[number], unknown>;
function toEventRow(r: RawRow): EventRow {
  return {
    ...(r as unknown as EventRow),
    event: r.event === '' ? null : (r.event as string),
    properties: cutDeep(JSON.parse(r.properties as string)) as EventRow['properties'],
    context: cutDeep(JSON.parse(r.context as string)) as EventRow['context'],
  };
}

/** RFC 7396 merge patch, as DuckDB's json_merge_patch applies identify traits. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** ClickHouse's error code, from "Code: 159, e.displayText() = ..." or the client's parsed error. */
function errorCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^\d+$/.test(code)) return Number(code);
  const m = /Code: (\d+)/.exec((err as Error)?.message ?? '');
  return m ? Number(m[1]) : undefined;
}
const TIMEOUT_EXCEEDED = 159;
/** max_result_rows or max_result_bytes */
const TOO_MANY_ROWS = 396;
const READONLY = 164;
const UNKNOWN_TABLE = 60;
const UNKNOWN_DATABASE = 81;
/** Codes of a value that does not convert (CANNOT_PARSE_TEXT, _NUMBER, _DATE ..., CANNOT_CONVERT_TYPE): named as DuckDB names them. */
const CONVERSION_ERRORS = new Set([6, 27, 38, 41, 53, 69, 70, 72, 321]);

/** The server's text without its code and exception class decoration ("Code: 62, e.displayText() = DB::Exception: ..., e.what() = ..."). */
function serverMessage(message: string): string {
  return message
    .replace(/^Code: \d+, e\.displayText\(\) = DB::Exception: /, '')
    .replace(/,? e\.what\(\) = DB::Exception\s*$/, '')
    .replace(/\s*\(version [^)]*\)\s*$/, '')
    .trim();
}

export class ClickHouseEventStore implements EventStore {
  readonly kind = 'clickhouse' as const;
  private writeChain: Promise<unknown> = Promise.resolve();
  private closed = false;
  private queries = 0;

  private constructor(
    private client: ClickHouseClient,
    private userSqlClient: ClickHouseClient,
    readonly database: string,
    private cluster: string | undefined,
    private timeoutMs: number,
  ) {}

  static async open(opts: ClickHouseOptions): Promise<ClickHouseEventStore> {
    const t = parseClickHouseUrl(opts.url);
    const timeoutMs = opts.queryTimeoutMs ?? 30_000;
    // errors are thrown to the caller, which reports them: the client logs nothing itself
    const common = {
      url: t.httpUrl,
      username: t.username,
      password: t.password,
      request_timeout: timeoutMs + 30_000,
      log: { level: ClickHouseLogLevel.OFF },
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0 } as ClickHouseSettings,
    };
    const admin = createClient(common);
    try {
      if (!opts.cluster) {
        for (const statement of eventsDdl(t.database)) await admin.command({ query: statement });
      } else {
        const exists = await (await admin.query({ query: `EXISTS TABLE ${chIdent(t.database)}.events`, format: 'TabSeparated' })).text();
        if (exists.trim() !== '1')
          throw new Error(
            `the ClickHouse table ${t.database}.events does not exist on cluster ${opts.cluster}: run \`vigil migrate\` first (it creates the replicated and distributed tables ON CLUSTER)`,
          );
      }
    } catch (err) {
      await admin.close();
      if (
        err instanceof Error &&
        /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|socket hang up/.test(err.message + String((err as { code?: string }).code))
      ) {
        throw new Error(`cannot reach ClickHouse at ${t.httpUrl} (VIGIL_EVENTS_URL): ${err.message}`, { cause: err });
      }
      throw err;
    }
    await admin.close();
    // on a cluster, a subquery over `events` inside IN (breakdowns' top keys, top-event counts) runs
    // as GLOBAL IN: its result is sent to the shards (the default, 'deny', refuses such queries)
    const client = createClient({
      ...common,
      database: t.database,
      clickhouse_settings: { ...common.clickhouse_settings, ...(opts.cluster ? { distributed_product_mode: 'global' } : {}) },
    });
    const userSqlClient = createClient({ ...common, database: sandboxDatabase(t.database) });
    return new ClickHouseEventStore(client, userSqlClient, t.database, opts.cluster, timeoutMs);
  }

  private settings(timeoutMs = this.timeoutMs): ClickHouseSettings {
    return { max_execution_time: Math.max(1, Math.ceil(timeoutMs / 1000)) };
  }

  private async rows<T>(sql: string, timeoutMs = this.timeoutMs): Promise<T[]> {
    if (this.closed) throw new Error('the ClickHouse event store is closed');
    try {
      const result = await this.client.query({ query: sql, format: 'JSONEachRow', clickhouse_settings: this.settings(timeoutMs) });
      return (await result.json()) as T[];
    } catch (err) {
      if (errorCode(err) === TIMEOUT_EXCEEDED)
        throw new VigilError('VIGIL_ERR_UNAVAILABLE', `the query took longer than ${timeoutMs} ms and was stopped`);
      throw err;
    }
  }

  /** Statements that read the events: one per read of the interface (tests and benchmarks count them). */
  get queryCount() {
    return this.queries;
  }

  private read<T>(sql: string): Promise<T[]> {
    this.queries++;
    return this.rows<T>(sql);
  }

  loadSegment(segment: Segment): Promise<number> {
    const run = this.writeChain.then(() => this.loadNow(segment));
    this.writeChain = run.catch(() => undefined);
    return run;
  }

  refusesData(err: unknown): boolean {
    // a line that is not JSON (SyntaxError), or a time that is no integer (chInt's RangeError), fails before ClickHouse is asked
    if (err instanceof SyntaxError || err instanceof RangeError) return true;
    if (err instanceof ClickHouseError && DATA_ERROR_TYPES.test(err.type ?? '')) return true;
    // old servers (18.16) answer with text only: "Code: 26, e.displayText() = ..."
    const code = err instanceof ClickHouseError ? err.code : /^Code: (\d+)/.exec(err instanceof Error ? err.message : '')?.[1];
    return code !== undefined && DATA_ERROR_CODES.has(Number(code));
  }

  private async loadNow(segment: Segment): Promise<number> {
    if (await this.isSegmentLoaded(segment.id)) return 0;
    let count = 0;
    let minTs = Infinity;
    let maxTs = -Infinity;
    const projects = new Set<number>();
    for await (const r of segmentRows(segment)) {
      count++;
      minTs = Math.min(minTs, r.timestamp);
      maxTs = Math.max(maxTs, r.timestamp);
      projects.add(r.project_id);
    }
    if (count > 0) {
      const segmentRowsSql = `SELECT count() AS n FROM events WHERE project_id IN (${[...projects].map(chInt).join(', ')}) AND timestamp >= ${chInt(minTs)} AND timestamp <= ${chInt(maxTs)} AND segment_id = ${chString(segment.id)}`;
      const stored = await this.rows<{ n: number }>(segmentRowsSql);
      const already = Number(stored[0]?.n ?? 0);
      if (already === count) {
        await this.markLoaded(segment.id, count);
        return 0;
      }
      if (already > 0) await this.deleteSegmentRows(segment.id, segmentRowsSql);
      await this.client.insert({
        table: 'events',
        values: Readable.from(
          (async function* () {
            for await (const r of segmentRows(segment)) yield toStoredRow(r, segment.id);
          })(),
        ),
        format: 'JSONEachRow',
        clickhouse_settings: { max_insert_block_size: String(MAX_INSERT_BLOCK_ROWS), insert_distributed_sync: 1 } as ClickHouseSettings,
      });
    }
    await this.markLoaded(segment.id, count);
    return count;
  }

  /**
   * Records a segment as loaded. insert_deduplicate=0: a replicated table drops a block equal to a
   * recent one, and the same record within a second is equal to the letter (a replay that only
   * records must not be dropped).
   */
  private async markLoaded(id: string, rows: number) {
    await this.client.command({
      query: `INSERT INTO loaded_segments (id, rows, loaded_at) VALUES (${chString(id)}, ${chInt(rows)}, now())`,
      clickhouse_settings: { insert_distributed_sync: 1, insert_deduplicate: 0 },
    });
  }

  /** Removes the rows a cut-short insert of a segment left (a mutation; rare: only on replay), and waits for it. */
  private deleteSegmentRows(id: string, remaining: string) {
    return this.deleteWhere(`segment_id = ${chString(id)}`, remaining, `deleting the partial rows of segment ${id}`);
  }

  /** A mutation, queued after the loads before it: the project's rows are gone once it resolves. */
  deleteProject(projectId: number): Promise<number> {
    const run = this.writeChain.then(async () => {
      const remaining = `SELECT count() AS n FROM events WHERE project_id = ${chInt(projectId)}`;
      const [row] = await this.rows<{ n: number }>(remaining);
      const events = Number(row?.n ?? 0);
      if (events > 0) await this.deleteWhere(`project_id = ${chInt(projectId)}`, remaining, `deleting the events of project ${projectId}`);
      return events;
    });
    this.writeChain = run.catch(() => undefined);
    return run;
  }

  /**
   * ALTER TABLE ... DELETE WHERE `condition` (a mutation: the server keeps it and finishes it even
   * if this process stops), and waits up to MUTATION_WAIT_MS for it. On a cluster the mutation is
   * queued on every shard, and system.mutations shows only this node's: the wait is for
   * `remaining` (the matching rows, read through the Distributed table) to be 0.
   */
  private async deleteWhere(condition: string, remaining: string, what: string) {
    const table = this.cluster ? `${chIdent(this.database)}.events_local ON CLUSTER ${chIdent(this.cluster)}` : 'events';
    await this.client.command({ query: `ALTER TABLE ${table} DELETE WHERE ${condition}` });
    const pending = this.cluster
      ? remaining
      : `SELECT count() AS n FROM system.mutations WHERE database = ${chString(this.database)} AND table IN ('events', 'events_local') AND is_done = 0`;
    const deadline = Date.now() + MUTATION_WAIT_MS;
    for (;;) {
      const [row] = await this.rows<{ n: number }>(pending);
      if (!Number(row?.n)) return;
      if (Date.now() > deadline)
        throw new VigilError(
          'VIGIL_ERR_UNAVAILABLE',
          `${what} did not finish within ${MUTATION_WAIT_MS / 1000} s; ClickHouse goes on with it: try again later`,
        );
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async isSegmentLoaded(id: string): Promise<boolean> {
    const rows = await this.rows<{ n: number }>(`SELECT count() AS n FROM loaded_segments WHERE id = ${chString(id)}`);
    return Number(rows[0]?.n ?? 0) > 0;
  }

  async *recentMessageIds(sinceMs: number): AsyncIterable<[number, string][]> {
    const result = await this.client.query({
      query: recentMessageIdsSql(sinceMs),
      format: 'JSONEachRow',
      clickhouse_settings: this.settings(10 * this.timeoutMs),
    });
    for await (const rows of result.stream()) {
      yield rows.map((row) => {
        const r = row.json<{ project_id: number; message_id: string }>();
        return [r.project_id, r.message_id] as [number, string];
      });
    }
  }

  async timeseries(q: TimeseriesQuery): Promise<TimeseriesRow[]> {
    const rows = await this.read<{ slot: number; key?: string; value: number }>(timeseriesSql(q));
    return rows.map((r) => ({ slotMs: r.slot, key: r.key ?? null, value: r.value }));
  }

  async totals(q: WindowQuery): Promise<Totals> {
    const [row] = await this.read<Totals>(totalsSql(q));
    return { events: row.events, users: row.users, sessions: row.sessions };
  }

  async topEvents(q: WindowQuery & { limit: number }) {
    const rows = await this.read<{ name: string; n: number; users: number }>(topEventsSql(q));
    return rows.map((r) => ({ event: r.name, count: r.n, users: r.users }));
  }

  async listEvents(q: EventListQuery): Promise<EventRow[]> {
    return (await this.read<RawRow>(listEventsSql(q))).map(toEventRow);
  }

  async *exportEvents(q: ExportQuery): AsyncIterable<EventRow[]> {
    let after: { timestamp: number; messageId: string } | undefined;
    for (;;) {
      const rows = (await this.rows<RawRow>(exportPageSql(q, after, EXPORT_PAGE_ROWS))).map(toEventRow);
      if (rows.length) yield rows;
      if (rows.length < EXPORT_PAGE_ROWS) return;
      const last = rows[rows.length - 1];
      after = { timestamp: last.timestamp, messageId: last.message_id };
    }
  }

  async userTraits(projectId: number, userId: string): Promise<Record<string, unknown> | null> {
    const rows = await this.read<{ properties: string }>(identifiesSql(projectId, userId));
    if (!rows.length) return null;
    return rows.reduce<unknown>((traits, r) => mergePatch(traits, JSON.parse(r.properties)), {}) as Record<string, unknown>;
  }

  async metricScan(q: MetricScanQuery): Promise<MetricScanRow[]> {
    const rows = await this.read<Record<string, number | string | null>>(metricScanSql(q));
    const out = rows.map((r) => ({
      slotMs: Number(r.slot),
      dimension: Number(r.dim),
      key: (r.key ?? null) as string | null,
      values: q.columns.map((_, i) => (r[`c${i}`] ?? null) as number | null),
    }));
    // the order DuckDB's ORDER BY 1, 2, 3 gives (NULL keys last)
    return out.sort((a, b) => a.slotMs - b.slotMs || a.dimension - b.dimension || compareNullable(a.key, b.key));
  }

  async schemaProfile(q: SchemaProfileQuery): Promise<SchemaProfileRow[]> {
    this.queries++;
    const top = await this.rows<{ name: string; n: number }>(schemaProfileSql.topEvents(q));
    if (!top.length) return [];
    const keyStats = await this.rows<{ name: string; key: string; n: number; distinct_values: number }>(
      schemaProfileSql.keys(
        q,
        top.map((t) => t.name),
      ),
    );
    const kept = new Map<string, { key: string; distinct: number }[]>();
    for (const t of top) {
      const ranked = keyStats.filter((k) => k.name === t.name).sort((a, b) => b.n - a.n || compareNullable(a.key, b.key));
      kept.set(
        t.name,
        ranked.slice(0, q.maxProperties).map((k) => ({ key: k.key, distinct: k.distinct_values })),
      );
    }
    const wanted = [...kept].flatMap(([event, keys]) => keys.map((k) => ({ event, key: k.key, withValues: k.distinct <= q.maxValues })));
    const pairs = wanted.length
      ? await this.rows<{ name: string; key: string; type: string; shown: string | null; n: number }>(schemaProfileSql.pairs(q, wanted))
      : [];
    const out: SchemaProfileRow[] = [];
    for (const t of top) {
      const keys = kept.get(t.name)!;
      if (!keys.length) out.push({ event: t.name, events: t.n, key: null, type: null, value: null, count: 0, distinct: 0 });
      for (const k of keys) {
        for (const p of pairs)
          if (p.name === t.name && p.key === k.key)
            out.push({ event: t.name, events: t.n, key: k.key, type: p.type, value: p.shown ?? null, count: p.n, distinct: k.distinct });
      }
    }
    return out.sort(
      (a, b) =>
        compareNullable(a.event, b.event) ||
        compareNullable(a.key, b.key) ||
        compareNullable(a.type, b.type) ||
        compareNullable(a.value, b.value),
    );
  }

  async eventCounts(q: EventCountsQuery): Promise<EventCountRow[]> {
    const rows = await this.read<{ name: string; slot: number; n: number }>(eventCountsSql(q));
    return rows.map((r) => ({ event: r.name, slotMs: r.slot, count: r.n }));
  }

  async lateness(q: LatenessQuery): Promise<Lateness> {
    const [row] = await this.read<{ events: number; p99: number }>(latenessSql(q));
    // an empty window's quantile is nan (or 0) in ClickHouse: no events, no figure
    return { events: row?.events ?? 0, p99Ms: row && row.events > 0 && Number.isFinite(row.p99) ? row.p99 : null };
  }

  async valueShares(q: ValueSharesQuery): Promise<{ value: string; count: number }[]> {
    this.queries++;
    const sql = valueSharesSql(q);
    const [top, total] = await Promise.all([this.rows<{ value: string; n: number }>(sql.top), this.rows<{ n: number }>(sql.total)]);
    const out = top.map((r) => ({ value: r.value, count: r.n }));
    const rest = (total[0]?.n ?? 0) - out.reduce((s, r) => s + r.count, 0);
    if (rest > 0) out.push({ value: OTHER_KEY, count: rest });
    return out;
  }

  async validateUserSql(sql: string): Promise<void> {
    checkClickHouseUserSql(sql);
  }

  async runUserSql(q: UserSqlQuery): Promise<UserSqlRow[]> {
    const checked = checkClickHouseUserSql(q.sql);
    const statement = clickHouseUserSqlStatement(this.database, q, checked);
    this.queries++;
    const seconds = Math.max(1, Math.ceil(q.timeoutMs / 1000));
    // the server checks max_execution_time only between blocks, so a query busy within one block (a
    // heavy function over a few rows) runs on past it: past the limit and a short grace the request is
    // aborted and the query killed (it stops at its next block)
    const queryId = globalThis.crypto.randomUUID();
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), seconds * 1000 + 500);
    const started = performance.now();
    let rows: Record<string, unknown>[];
    try {
      const result = await this.userSqlClient.query({
        query: statement,
        format: 'JSONEachRow',
        query_id: queryId,
        abort_signal: deadline.signal,
        // readonly last: the limits before it are set, then nothing can change them
        clickhouse_settings: {
          max_execution_time: seconds,
          max_result_rows: String(q.maxRows + 1),
          max_result_bytes: String(MAX_RESULT_BYTES),
          result_overflow_mode: 'throw',
          max_memory_usage: String(USER_SQL_MAX_MEMORY_BYTES),
          readonly: '1',
        } as ClickHouseSettings,
      });
      rows = (await result.json()) as Record<string, unknown>[];
    } catch (err) {
      const code = errorCode(err);
      const message = (err as Error).message;
      if (deadline.signal.aborted && code === undefined) {
        await this.client.command({ query: `KILL QUERY WHERE query_id = ${chString(queryId)} ASYNC` }).catch(() => undefined);
        throw timedOut(q.timeoutMs);
      }
      if (code === TIMEOUT_EXCEEDED) throw timedOut(q.timeoutMs);
      if (code === TOO_MANY_ROWS && /max bytes/.test(message)) throw resultTooLarge();
      if (code === TOO_MANY_ROWS)
        throw new VigilError(
          'VIGIL_ERR_METRIC_SQL_TOO_MANY_ROWS',
          `the metric's SQL returned more than ${q.maxRows} rows; aggregate to one row per bucket (and breakdown)`,
          { maxRows: q.maxRows },
        );
      if (code === READONLY || code === UNKNOWN_TABLE || code === UNKNOWN_DATABASE)
        throw new VigilError(
          'VIGIL_ERR_METRIC_SQL_FORBIDDEN',
          `the metric's SQL may read only the "events" view: ${serverMessage(message)}`,
        );
      throw new VigilError(
        'VIGIL_ERR_METRIC_SQL_INVALID',
        `the metric's SQL failed: ${CONVERSION_ERRORS.has(code ?? -1) ? 'Conversion Error: ' : ''}${serverMessage(message)}`,
      );
    } finally {
      clearTimeout(timer);
    }
    // reading the result into JavaScript counts against the limit too
    if (performance.now() - started > q.timeoutMs) throw timedOut(q.timeoutMs);
    checkCellSizes(rows);
    return toUserSqlRows(rows, q.maxRows);
  }

  async ping(): Promise<void> {
    await this.rows('SELECT 1 AS ok');
  }

  /** Runs SQL directly (benchmarks compare the API's time with this). */
  rawQuery(sql: string, params: string[] = []): Promise<Record<string, Json>[]> {
    if (params.length) throw new Error('the ClickHouse store binds no parameters: write values with clickhouse-escape.ts');
    return this.rows<Record<string, Json>>(sql);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writeChain;
    await this.client.close();
    await this.userSqlClient.close();
  }
}

/** ORDER BY's order: by bytes of UTF-8 (as both engines compare strings), NULL last. */
function compareNullable(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
