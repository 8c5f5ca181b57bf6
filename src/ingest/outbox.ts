import type { MetaDb } from '../meta-db.js';
import { GroupCommit, type PendingAppend } from './group-commit.js';
import type { IngestLog } from './write-buffer.js';

/**
 * The ingest log of the scaled mode (PostgreSQL metadata and ClickHouse events): acknowledged events
 * are rows of `ingest_batches`, committed in PostgreSQL before the client hears "accepted", so an
 * ingest process keeps nothing on its own disk and can be replaced at any time. The event loader
 * (outbox-loader.ts) moves the rows into ClickHouse in large inserts.
 *
 * Group commit (group-commit.ts): one INSERT in flight at a time, and every append that arrives
 * meanwhile joins the next, so a busy process sends few, large rows.
 */
export class IngestOutbox implements IngestLog {
  private queue = new GroupCommit({ write: (batch) => this.insert(batch) });
  private closed = false;

  constructor(
    private db: MetaDb,
    private onCommit?: (lines: number, seconds: number) => void,
  ) {}

  append(text: string, lines: number): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the ingest outbox is closed'));
    return this.queue.append(text, lines, false);
  }

  private async insert(batch: PendingAppend[]): Promise<void> {
    const lines = batch.reduce((n, p) => n + p.lines, 0);
    const started = performance.now();
    await this.db
      .insertInto('ingest_batches')
      .values({ lines: batch.map((p) => p.text).join(''), line_count: lines, received_at: Date.now(), load_id: null })
      .execute();
    try {
      this.onCommit?.(lines, (performance.now() - started) / 1000);
    } catch {
      // metrics must never fail a durable write
    }
  }

  flush(): Promise<void> {
    return this.queue.barrier();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    await this.queue.drained();
  }
}
