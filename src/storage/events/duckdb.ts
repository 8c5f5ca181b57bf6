import fs from 'node:fs';
import path from 'node:path';
import { type DuckDBConnection, DuckDBInstance, JsonDuckDBValueConverter } from '@duckdb/node-api';
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
import { metricScanSql } from './duckdb-metric-sql.js';
import { type CheckedUserSql, checkUserSql, runCheckedUserSql } from './duckdb-user-sql.js';
import {
  EVENTS_DDL,
  type Sql,
  eventCountsSql,
  exportSql,
  latenessSql,
  int,
  listEventsSql,
  schemaProfileSql,
  segmentLoadSql,
  timeseriesSql,
  topEventsSql,
  totalsSql,
  valueSharesSql,
} from './duckdb-sql.js';
import { VigilError } from '../../errors.js';
import { cutDeep } from './well-formed.js';
import { lockConflictOf } from './store-locked.js';

export interface DuckDbOptions {
  file: string;
  memoryLimit?: string;
  threads?: number;
  queryTimeoutMs?: number;
  /** connections kept for concurrent reads */
  readers?: number;
}

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

/** DuckDB's error types for a value it cannot read or store (a full disk is an "IO Error"). */
const DATA_ERROR = /^(Invalid Input|Conversion|Constraint|Out of Range) Error/;

/**
 * A small pool: DuckDB runs one statement at a time per connection, so reads take a connection
 * each and the writer has its own, serialized by a promise chain.
 */
class ConnectionPool {
  private idle: DuckDBConnection[] = [];
  private waiters: ((c: DuckDBConnection) => void)[] = [];
  constructor(connections: DuckDBConnection[]) {
    this.idle = connections;
  }
  async use<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    const c = this.idle.pop() ?? (await new Promise<DuckDBConnection>((resolve) => this.waiters.push(resolve)));
    try {
      return await fn(c);
    } finally {
      const next = this.waiters.shift();
      if (next) next(c);
      else this.idle.push(c);
    }
  }
  closeAll() {
    for (const c of this.idle) c.closeSync();
  }
}

export class DuckDbEventStore implements EventStore {
  readonly kind = 'duckdb' as const;
  private writeChain: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private instance: DuckDBInstance,
    private writer: DuckDBConnection,
    private readers: ConnectionPool,
    private timeoutMs: number,
  ) {}

  static async open(opts: DuckDbOptions): Promise<DuckDbEventStore> {
    if (opts.file !== ':memory:') fs.mkdirSync(path.dirname(opts.file), { recursive: true });
    // no extension is ever downloaded, whatever a user's SQL names
    const settings: Record<string, string> = { checkpoint_threshold: '256MB', autoinstall_known_extensions: 'false' };
    if (opts.memoryLimit) settings.memory_limit = opts.memoryLimit;
    if (opts.threads) settings.threads = String(opts.threads);
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(opts.file, settings);
    } catch (err) {
      throw lockConflictOf(err, opts.file) ?? err;
    }
    const writer = await instance.connect();
    await writer.run(EVENTS_DDL);
    const readers: DuckDBConnection[] = [];
    for (let i = 0; i < (opts.readers ?? 4); i++) readers.push(await instance.connect());
    return new DuckDbEventStore(instance, writer, new ConnectionPool(readers), opts.queryTimeoutMs ?? 30_000);
  }

  loadSegment(segment: Segment): Promise<number> {
    const run = this.writeChain.then(() => this.loadNow(segment));
    this.writeChain = run.catch(() => undefined);
    return run;
  }

  private async loadNow(segment: Segment): Promise<number> {
    const w = this.writer;
    if (await this.isSegmentLoadedOn(w, segment.id)) return 0;
    if (!('path' in segment)) throw new Error('the DuckDB event store loads segments from write-ahead files only');
    const { insertEvents, upsertUsers } = segmentLoadSql(segment.path);
    await w.run('BEGIN TRANSACTION');
    try {
      const rows = Number((await w.run(insertEvents)).rowsChanged);
      if (segment.hasIdentify !== false) await w.run(upsertUsers);
      await w.run(`INSERT INTO loaded_segments VALUES ($1, ${int(rows)}, now()::TIMESTAMP)`, [segment.id]);
      await w.run('COMMIT');
      return rows;
    } catch (err) {
      await w.run('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  /** One transaction on the writer, after the loads queued before it. */
  deleteProject(projectId: number): Promise<number> {
    const run = this.writeChain.then(async () => {
      const w = this.writer;
      await w.run('BEGIN TRANSACTION');
      try {
        const deleted = Number((await w.run(`DELETE FROM events WHERE project_id = ${int(projectId)}`)).rowsChanged);
        await w.run(`DELETE FROM users WHERE project_id = ${int(projectId)}`);
        await w.run('COMMIT');
        return deleted;
      } catch (err) {
        await w.run('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
    this.writeChain = run.catch(() => undefined);
    return run;
  }

  refusesData(err: unknown): boolean {
    return err instanceof Error && DATA_ERROR.test(err.message);
  }

  private async isSegmentLoadedOn(c: DuckDBConnection, id: string): Promise<boolean> {
    const r = await c.runAndReadAll('SELECT 1 FROM loaded_segments WHERE id = $1', [id]);
    return r.currentRowCount > 0;
  }

  isSegmentLoaded(id: string): Promise<boolean> {
    return this.readers.use((c) => this.isSegmentLoadedOn(c, id));
  }

  async *recentMessageIds(sinceMs: number): AsyncIterable<[number, string][]> {
    const c = await this.instance.connect();
    try {
      const result = await c.stream(`SELECT project_id, message_id FROM events WHERE received_at >= epoch_ms(${int(sinceMs)})`);
      for await (const rows of result.yieldRows()) yield rows as [number, string][];
    } finally {
      c.closeSync();
    }
  }

  private queries = 0;
  /** Statements that read the events (tests and benchmarks count them). */
  get queryCount() {
    return this.queries;
  }

  /** Runs a read with a time limit; an overrun is interrupted and reported by `overrun` (a 503 by default). */
  private query<T extends Record<string, Json>>(
    q: Sql,
    timeoutMs = this.timeoutMs,
    overrun = (ms: number) => new VigilError('VIGIL_ERR_UNAVAILABLE', `the query took longer than ${ms} ms and was stopped`),
    counted = true,
  ): Promise<T[]> {
    if (counted) this.queries++;
    return this.readers.use(async (c) => {
      const timer = setTimeout(() => c.interrupt(), timeoutMs);
      try {
        const reader = await c.runAndReadAll(q.sql, q.params);
        return reader.getRowObjectsJson() as T[];
      } catch (err) {
        if (/interrupt/i.test((err as Error).message)) throw overrun(timeoutMs);
        throw err;
      } finally {
        clearTimeout(timer);
      }
    });
  }

  async metricScan(q: MetricScanQuery): Promise<MetricScanRow[]> {
    const rows = await this.query<Record<string, Json>>(metricScanSql(q));
    return rows.map((r) => ({
      slotMs: r.slot as number,
      dimension: r.dim as number,
      key: r.key as string | null,
      values: q.columns.map((_, i) => (r[`c${i}`] ?? null) as number | null),
    }));
  }

  async validateUserSql(sql: string): Promise<void> {
    await this.checkUserSql(sql);
  }

  private checkUserSql(sql: string): Promise<CheckedUserSql> {
    return checkUserSql(async (text) => {
      // parsing reads no table, so it is not counted as a query
      const [row] = await this.query<{ ast: string }>(
        { sql: 'SELECT json_serialize_sql($1::VARCHAR) AS ast', params: [text] },
        this.timeoutMs,
        undefined,
        false,
      );
      return row.ast;
    }, sql);
  }

  async runUserSql(q: UserSqlQuery): Promise<UserSqlRow[]> {
    const checked = await this.checkUserSql(q.sql);
    this.queries++;
    return this.readers.use((c) => runCheckedUserSql(c, q, checked));
  }

  async timeseries(q: TimeseriesQuery): Promise<TimeseriesRow[]> {
    const rows = await this.query<{ slot: number; key: string | null; value: number }>(timeseriesSql(q));
    return rows.map((r) => ({ slotMs: r.slot, key: r.key, value: r.value }));
  }

  async totals(q: WindowQuery): Promise<Totals> {
    const [row] = await this.query<{ events: number; users: number; sessions: number }>(totalsSql(q));
    return { events: row.events, users: row.users, sessions: row.sessions };
  }

  topEvents(q: WindowQuery & { limit: number }) {
    return this.query<{ event: string; count: number; users: number }>(topEventsSql(q));
  }

  async schemaProfile(q: SchemaProfileQuery): Promise<SchemaProfileRow[]> {
    const rows = await this.query<{
      event: string;
      events: number;
      key: string | null;
      type: string | null;
      value: string | null;
      count: number;
      distinct_values: number;
    }>(schemaProfileSql(q));
    return rows.map((r) => ({
      event: r.event,
      events: r.events,
      key: r.key,
      type: r.type,
      value: r.value,
      count: r.count,
      distinct: r.distinct_values,
    }));
  }

  async eventCounts(q: EventCountsQuery): Promise<EventCountRow[]> {
    const rows = await this.query<{ event: string; slot: number; count: number }>(eventCountsSql(q));
    return rows.map((r) => ({ event: r.event, slotMs: r.slot, count: r.count }));
  }

  async lateness(q: LatenessQuery): Promise<Lateness> {
    const [row] = await this.query<{ events: number; p99: number | null }>(latenessSql(q));
    return { events: row?.events ?? 0, p99Ms: row && row.events > 0 && row.p99 !== null ? row.p99 : null };
  }

  valueShares(q: ValueSharesQuery): Promise<{ value: string; count: number }[]> {
    return this.query<{ value: string; count: number }>(valueSharesSql(q));
  }

  async listEvents(q: EventListQuery): Promise<EventRow[]> {
    return (await this.query<RawRow>(listEventsSql(q))).map(toEventRow);
  }

  async *exportEvents(q: ExportQuery): AsyncIterable<EventRow[]> {
    const c = await this.instance.connect();
    try {
      const { sql } = exportSql(q);
      const result = await c.stream(sql);
      for await (const rows of result.yieldConvertedRowObjects(JsonDuckDBValueConverter))
        yield (rows as unknown as RawRow[]).map(toEventRow);
    } finally {
      c.closeSync();
    }
  }

  async userTraits(projectId: number, userId: string): Promise<Record<string, unknown> | null> {
    const rows = await this.query<{ traits: string }>({
      sql: `SELECT traits FROM users WHERE project_id = ${int(projectId)} AND user_id = $1`,
      params: [userId],
    });
    return rows.length ? JSON.parse(rows[0].traits) : null;
  }

  async ping(): Promise<void> {
    await this.query({ sql: 'SELECT 1 AS ok', params: [] });
  }

  /** Runs SQL directly (benchmarks compare the API's time with this). */
  rawQuery(sql: string, params: string[] = []) {
    return this.query({ sql, params });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writeChain;
    await this.writer.run('CHECKPOINT').catch(() => undefined);
    this.readers.closeAll();
    this.writer.closeSync();
    this.instance.closeSync();
  }
}

type RawRow = Omit<EventRow, 'properties' | 'context'> & { properties: string; context: string };
function toEventRow(r: RawRow): EventRow {
  return {
    ...r,
    properties: cutDeep(JSON.parse(r.properties)) as EventRow['properties'],
    context: cutDeep(JSON.parse(r.context)) as EventRow['context'],
  };
}
