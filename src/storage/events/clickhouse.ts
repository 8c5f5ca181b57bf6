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
import { Readable } from 'node:stream';
import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
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
  eventCountsSql,
  latenessSql,
  exportPageSql,
  identifiesSql,
  listEventsSql,
  recentMessageIdsSql,
  schemaProfileSql,
  timeseriesSql,
  topEventsSql,
  totalsSql,
  valueSharesSql,
} from './clickhouse-sql.js';
import { metricScanSql } from './clickhouse-metric-sql.js';
import { checkClickHouseUserSql, clickHouseUserSqlStatement } from './clickhouse-user-sql.js';
import { runUserSqlStatement } from './clickhouse-user-sql-run.js';
import { VigilError } from '../../errors.js';
import { errorCode, TIMEOUT_EXCEEDED } from './clickhouse-errors.js';
import { MAX_INSERT_BLOCK_ROWS, refusesData, segmentRows, toStoredRow } from './clickhouse-load.js';
import { compareNullable, type Json, mergePatch, type RawRow, toEventRow } from './clickhouse-rows.js';
import { type ClickHouseOptions, connectClickHouse } from './clickhouse-schema.js';

const EXPORT_PAGE_ROWS = 10_000;
const MUTATION_WAIT_MS = 120_000;

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
    const c = await connectClickHouse(opts);
    return new ClickHouseEventStore(c.client, c.userSqlClient, c.database, opts.cluster, c.timeoutMs);
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
    return refusesData(err);
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
    return runUserSqlStatement({ userSql: this.userSqlClient, admin: this.client }, statement, q);
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
