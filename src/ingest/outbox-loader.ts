import pg from 'pg';
import type { FastifyBaseLogger } from 'fastify';
import { sql } from 'kysely';
import { VigilError } from '../errors.js';
import type { EventRow, EventStore } from '../storage/events/event-store.js';
import { parseSegmentLine } from '../storage/events/clickhouse-load.js';
import type { MetaDb } from '../meta-db.js';
import { DedupIndex } from './dedup-index.js';
import { loadHalving } from './segment-bisect.js';

/** The session advisory lock the loading process holds ('vigl' as an integer). */
export const OUTBOX_LOCK_KEY = 0x7669676c;
/** Rows in one load at most: one ClickHouse insert, about 50 MB of parsed rows in memory. */
const MAX_LOAD_LINES = 100_000;
/** How often the loader looks for new rows while the outbox is empty. */
const IDLE_MS = 100;
/** How often a process that does not hold the lock tries to take it. */
const CONTEND_MS = 1_000;
/** Waits before retrying after a failure, so a sick store is not hammered. */
const RETRY_MS = 2_000;
const STATEMENT_TIMEOUT_MS = 60_000;
/** Failed tries in a row after which /ready says acknowledged events cannot be loaded (one may be a blip). */
const FAILURES_BEFORE_NOT_READY = 2;

/**
 * Unless a load is in progress (a loader died between loading it and deleting its rows), claims
 * the oldest waiting rows, up to MAX_LOAD_LINES lines, as one load named after its first row.
 */
const CLAIM_SQL = `
WITH picked AS (
  SELECT id FROM (
    SELECT id, sum(line_count) OVER (ORDER BY id) - line_count AS before
    FROM ingest_batches WHERE load_id IS NULL ORDER BY id LIMIT 10000
  ) t WHERE before < $1
)
UPDATE ingest_batches SET load_id = (SELECT min(id) FROM picked)
WHERE id IN (SELECT id FROM picked)
RETURNING id, lines, load_id`;
const UNFINISHED_SQL = `
SELECT id, lines, load_id FROM ingest_batches
WHERE load_id = (SELECT min(load_id) FROM ingest_batches WHERE load_id IS NOT NULL)`;

interface BatchRow {
  id: string;
  lines: string;
  load_id: string;
}

export interface OutboxLoaderOptions {
  /** the PostgreSQL metadata store (VIGIL_DATABASE_URL): the lock is held on a connection of its own */
  url: string;
  db: MetaDb;
  events: EventStore;
  dedupWindowMs: number;
  log: FastifyBaseLogger;
  onLoaded?: (rows: number, seconds: number) => void;
}

export interface OutboxLoaderStatus {
  /** true while this process is the one that loads */
  loading: boolean;
  /** rows this process has loaded into the event store */
  loadedRows: number;
  lastLoadAt: number | null;
  lastError: string | null;
  /** true while this process cannot load acknowledged events (the store keeps failing) */
  failing: boolean;
}

/**
 * Moves the outbox's rows (outbox.ts) into the event store. One process at a time loads, the holder
 * of a PostgreSQL advisory lock; every process with the ingest or worker role contends for it, and
 * when the holder dies its connection closes, the lock is freed, and another takes over within a
 * second. One loader means one place that sees every event, so it drops a messageId seen before
 * wherever it arrived: its dedup index is rebuilt from ClickHouse when it takes over.
 *
 * Each load is named (`load_id`) in PostgreSQL before it is inserted, and inserted as the segment
 * `outbox-<load_id>`, which the event store loads once; the rows are deleted after. A loader that
 * dies between the two leaves the load named, and the next one replays exactly that load first.
 */
export class OutboxLoader {
  private client: pg.Client | null = null;
  private dedup: DedupIndex | null = null;
  private stopped = false;
  private loop: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;
  private state: Omit<OutboxLoaderStatus, 'failing'> = { loading: false, loadedRows: 0, lastLoadAt: null, lastError: null };
  private failures = 0;

  constructor(private opts: OutboxLoaderOptions) {}

  start() {
    this.loop ??= this.run();
  }

  status(): OutboxLoaderStatus {
    return { ...this.state, failing: this.failures >= FAILURES_BEFORE_NOT_READY };
  }

  /** Rows waiting in the outbox, cluster-wide, the age of the oldest, and the lines ClickHouse refused. */
  async backlog(
    now = Date.now(),
  ): Promise<{ batches: number; events: number; oldestAgeMs: number | null; quarantinedLoads: number; quarantinedLines: number }> {
    const row = await this.opts.db
      .selectFrom('ingest_batches')
      .select([
        sql<number>`count(*)`.as('batches'),
        sql<number | null>`sum(line_count)`.as('events'),
        sql<number | null>`min(received_at)`.as('oldest'),
      ])
      .executeTakeFirstOrThrow();
    const {
      rows: [q],
    } = await sql<{
      loads: number;
      lines: number | null;
    }>`SELECT count(*) AS loads, sum(line_count) AS lines FROM ingest_quarantine`.execute(this.opts.db);
    return {
      batches: Number(row.batches),
      events: Number(row.events ?? 0),
      oldestAgeMs: row.oldest === null ? null : Math.max(0, now - Number(row.oldest)),
      quarantinedLoads: Number(q.loads),
      quarantinedLines: Number(q.lines ?? 0),
    };
  }

  /**
   * Resolves once every row committed before the call is in the event store, whichever process
   * loads it (tests, import, the demo seed); fails after `timeoutMs` when nobody does.
   */
  async waitLoaded(timeoutMs = 120_000): Promise<void> {
    const { db } = this.opts;
    const last = await db.selectFrom('ingest_batches').select(sql<number | null>`max(id)`.as('id')).executeTakeFirstOrThrow();
    if (last.id === null) return;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.wakeUp?.();
      const left = await db.selectFrom('ingest_batches').select('id').where('id', '<=', Number(last.id)).limit(1).executeTakeFirst();
      if (!left) return;
      if (Date.now() > deadline) {
        throw new VigilError(
          'VIGIL_ERR_UNAVAILABLE',
          `acknowledged events have waited in the PostgreSQL outbox for ${timeoutMs / 1000} s: no process is loading them into ClickHouse (start one with the ingest or worker role) or ClickHouse refuses them (see the loading process's log)`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Finishes the load in progress, then releases the lock (its connection closes). */
  async stop() {
    this.stopped = true;
    this.wakeUp?.();
    await this.loop;
    await this.disconnect();
  }

  private async run() {
    while (!this.stopped) {
      let pause = CONTEND_MS;
      try {
        if (!this.state.loading) await this.contend();
        if (this.state.loading) pause = (await this.loadOnce()) ? 0 : IDLE_MS;
        this.failures = 0;
      } catch (err) {
        this.failures++;
        this.state.lastError = (err as Error).message;
        this.opts.log.error({ err }, 'loading the ingest outbox into the event store failed; retrying');
        pause = RETRY_MS;
      }
      if (pause && !this.stopped) await this.sleep(pause);
    }
  }

  /** Tries to become the loading process; on success rebuilds the dedup index. */
  private async contend() {
    if (!this.client) {
      const client = new pg.Client({
        connectionString: this.opts.url,
        application_name: 'vigil-event-loader',
        statement_timeout: STATEMENT_TIMEOUT_MS,
      });
      // a broken connection has lost the lock with it: stop loading until it is taken again
      const lost = () => {
        if (this.client !== client) return;
        this.client = null;
        this.dedup = null;
        if (this.state.loading)
          this.opts.log.warn('the event loader lost its PostgreSQL connection (and its lock); another process takes over');
        this.state.loading = false;
      };
      client.on('error', lost);
      client.on('end', lost);
      await client.connect();
      this.client = client;
    }
    const { rows } = await this.client.query<{ got: boolean }>('SELECT pg_try_advisory_lock($1) AS got', [OUTBOX_LOCK_KEY]);
    if (!rows[0].got) return;
    const started = performance.now();
    const dedup = new DedupIndex(this.opts.dedupWindowMs);
    for await (const ids of this.opts.events.recentMessageIds(Date.now() - this.opts.dedupWindowMs))
      for (const [p, m] of ids) dedup.add(Number(p), m);
    this.dedup = dedup;
    this.state.loading = true;
    this.opts.log.info(
      { messageIds: dedup.size, ms: Math.round(performance.now() - started) },
      'this process now loads the ingest outbox into the event store',
    );
  }

  /** Loads one batch of rows; false when there was none. */
  private async loadOnce(): Promise<boolean> {
    const client = this.client!;
    const dedup = this.dedup!;
    let batches = (await client.query<BatchRow>(UNFINISHED_SQL)).rows;
    if (!batches.length) batches = (await client.query<BatchRow>(CLAIM_SQL, [MAX_LOAD_LINES])).rows;
    if (!batches.length) return false;
    const started = performance.now();
    const loadId = batches[0].load_id;
    batches.sort((a, b) => Number(a.id) - Number(b.id));
    const rows: EventRow[] = [];
    const texts: string[] = [];
    const bad: { text: string; reason: string }[] = [];
    for (const b of batches) {
      for (const line of b.lines.split('\n')) {
        if (!line) continue;
        let row: EventRow;
        try {
          row = parseSegmentLine(line);
        } catch (err) {
          bad.push({ text: line, reason: `not JSON: ${(err as Error).message}` });
          continue;
        }
        // the dedup index needs these two; ClickHouse judges the rest
        if (!Number.isSafeInteger(row.project_id) || typeof row.message_id !== 'string') {
          bad.push({ text: line, reason: 'project_id must be an integer and message_id a string' });
          continue;
        }
        if (!dedup.add(row.project_id, row.message_id)) continue;
        rows.push(row);
        texts.push(line);
      }
    }
    let loaded: number;
    try {
      loaded = await this.loadRows(`outbox-${loadId}`, rows, (i, reason) => bad.push({ text: texts[i], reason }));
    } catch (err) {
      // the load is retried: its rows are not duplicates of themselves
      for (const r of rows) dedup.remove(r.project_id, r.message_id);
      throw err;
    }
    await this.finishLoad(client, loadId, bad);
    this.state.loadedRows += loaded;
    this.state.lastLoadAt = Date.now();
    this.state.lastError = null;
    this.opts.onLoaded?.(rows.length, (performance.now() - started) / 1000);
    return true;
  }

  /**
   * Loads the rows as one ClickHouse segment; when ClickHouse refuses it for its data, as halves
   * (segment-bisect.ts) until the rows it refuses are found, which go to `onBad`.
   */
  private loadRows(id: string, rows: EventRow[], onBad: (index: number, reason: string) => void): Promise<number> {
    const { events } = this.opts;
    const loadPart = async (from: number, to: number) => {
      await events.loadSegment({ id: from === 0 && to === rows.length ? id : `${id}.${from}-${to}`, rows: rows.slice(from, to) });
      return to - from;
    };
    return loadHalving(rows.length, loadPart, (err) => events.refusesData(err), onBad);
  }

  /** Deletes a finished load's rows from the outbox and keeps the lines ClickHouse refused, in one transaction. */
  private async finishLoad(client: pg.Client, loadId: string, bad: { text: string; reason: string }[]) {
    await client.query('BEGIN');
    try {
      if (bad.length) {
        await client.query(
          'INSERT INTO ingest_quarantine (load_id, lines, reasons, line_count, quarantined_at) VALUES ($1, $2, $3, $4, $5)',
          [
            loadId,
            bad.map((b) => b.text + '\n').join(''),
            bad.map((b, i) => JSON.stringify({ line: i + 1, reason: b.reason }) + '\n').join(''),
            bad.length,
            Date.now(),
          ],
        );
        this.opts.log.error(
          { loadId, lines: bad.length, reason: bad[0].reason },
          'ClickHouse refused lines of the ingest outbox: they are kept in the table ingest_quarantine, the rest is loaded',
        );
      }
      await client.query('DELETE FROM ingest_batches WHERE load_id = $1', [loadId]);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = null;
        done();
      };
    });
  }

  private async disconnect() {
    const client = this.client;
    this.client = null;
    this.state.loading = false;
    await client?.end().catch(() => undefined);
  }
}
