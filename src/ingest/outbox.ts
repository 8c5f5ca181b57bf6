import type { MetaDb } from '../storage/meta/db.js';
import type { IngestLog } from './write-buffer.js';

interface Pending {
  text: string;
  lines: number;
  /** the outbox's failure count when the append was made */
  failuresAtCall: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * The ingest log of the scaled mode (PostgreSQL metadata and ClickHouse events): acknowledged events
 * are rows of `ingest_batches`, committed in PostgreSQL before the client hears "accepted", so an
 * ingest process keeps nothing on its own disk and can be replaced at any time. The event loader
 * (outbox-loader.ts) moves the rows into ClickHouse in large inserts.
 *
 * Group commit, as the write-ahead buffer does: one INSERT is in flight at a time, and every append
 * that arrives meanwhile joins the next, so a busy process sends few, large rows.
 */
export class IngestOutbox implements IngestLog {
  private pending: Pending[] = [];
  private draining: Promise<void> | null = null;
  private failures = 0;
  private closed = false;

  constructor(
    private db: MetaDb,
    private onCommit?: (lines: number, seconds: number) => void,
  ) {}

  /**
   * Resolves once `text` (complete NDJSON lines) is committed. An empty `text` is a barrier: it
   * resolves once everything appended before it is committed, and rejects if any of that failed.
   */
  append(text: string, lines: number): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the ingest outbox is closed'));
    return this.enqueue(text, lines);
  }

  private enqueue(text: string, lines: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ text, lines, failuresAtCall: this.failures, resolve, reject });
      this.draining ??= this.drain();
    });
  }

  private async drain(): Promise<void> {
    try {
      // let every request parsed in this turn of the event loop join the same insert
      await new Promise((r) => setImmediate(r));
      while (this.pending.length) {
        const batch = this.pending;
        this.pending = [];
        await this.commit(batch);
      }
    } finally {
      this.draining = null;
    }
  }

  /** Inserts one batch as one row, then answers its callers. Never throws. */
  private async commit(batch: Pending[]): Promise<void> {
    const lines = batch.reduce((n, p) => n + p.lines, 0);
    if (lines > 0) {
      const started = performance.now();
      try {
        await this.db.insertInto('ingest_batches').values({ lines: batch.map((p) => p.text).join(''), line_count: lines, received_at: Date.now(), load_id: null }).execute();
      } catch (err) {
        this.failures++;
        for (const p of batch) p.reject(err as Error);
        return;
      }
      try {
        this.onCommit?.(lines, (performance.now() - started) / 1000);
      } catch {
        // metrics must never fail a durable write
      }
    }
    for (const p of batch) {
      if (p.text === '' && p.failuresAtCall !== this.failures) p.reject(new Error('an earlier write this one waited for failed'));
      else p.resolve();
    }
  }

  /** Waits until every append made before this call is committed (or has failed). */
  async flush(): Promise<void> {
    await this.enqueue('', 0).catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }
}
