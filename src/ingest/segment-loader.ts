import fsp from 'node:fs/promises';
import path from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { EventStore, SegmentFile } from '../storage/events/event-store.js';
import { SEGMENT_SUFFIX, truncateToLastLine } from './write-buffer.js';

const exists = (file: string) => fsp.access(file).then(() => true, () => false);

/** Waits before retrying a segment the store refused, so a sick store is not hammered. */
const RETRY_MS = 2000;

/**
 * Moves closed segments from the write-ahead directory into the event store, one at a time and in
 * order, deleting each file only after the store has committed it. Loading is idempotent per
 * segment id, so a crash between commit and delete loads nothing twice.
 */
export class SegmentLoader {
  private queue: SegmentFile[] = [];
  private running: Promise<void> | null = null;
  private idleWaiters: (() => void)[] = [];
  private stopping = false;

  constructor(
    private store: EventStore,
    private log: FastifyBaseLogger,
    private onLoaded?: (rows: number, seconds: number) => void,
  ) {}

  /** Loads every segment left in `dir` by an earlier run (before the server accepts events). */
  async recover(dir: string): Promise<{ segments: number; rows: number }> {
    const names = (await fsp.readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith(SEGMENT_SUFFIX)).sort();
    let rows = 0;
    let segments = 0;
    for (const name of names) {
      const file = path.join(dir, name);
      // a torn last line was cut short by a crash while it was written: it was never acknowledged
      if ((await truncateToLastLine(file)) === 0) {
        await fsp.rm(file, { force: true });
        continue;
      }
      try {
        rows += await this.store.loadSegment({ id: name.slice(0, -SEGMENT_SUFFIX.length), path: file });
      } catch (err) {
        throw new Error(`replaying the write-ahead segment ${file} into the event store failed (the file is kept; the server cannot start without it): ${(err as Error).message}`, { cause: err });
      }
      await fsp.rm(file, { force: true });
      segments++;
    }
    return { segments, rows };
  }

  enqueue(segment: SegmentFile) {
    this.queue.push(segment);
    this.running ??= this.run();
  }

  /** Resolves when every enqueued segment is in the store. */
  idle(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** True while a segment is being loaded or waits to be. */
  get busy() {
    return this.running !== null;
  }

  get backlog() {
    return this.queue.length;
  }

  private async run() {
    while (this.queue.length) {
      const segment = this.queue[0];
      const started = performance.now();
      try {
        if (!(await exists(segment.path))) {
          // deleted behind our back: retrying cannot bring it back, and would block every
          // segment queued after it (and shutdown)
          if (!(await this.store.isSegmentLoaded(segment.id))) this.log.error({ segment: segment.id, path: segment.path }, 'a write-ahead segment was deleted before it was loaded: its events are lost');
          this.queue.shift();
          continue;
        }
        const rows = await this.store.loadSegment(segment);
        await fsp.rm(segment.path, { force: true });
        this.queue.shift();
        this.onLoaded?.(rows, (performance.now() - started) / 1000);
      } catch (err) {
        // the segment stays on disk (and in the queue): nothing acknowledged is dropped
        if (this.stopping) {
          this.log.error({ err, segment: segment.id, left: this.queue.length }, 'loading a segment into the event store failed while stopping; the segments left are replayed at the next start');
          break;
        }
        this.log.error({ err, segment: segment.id }, 'loading a segment into the event store failed; retrying');
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
    this.running = null;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  /**
   * Loads what is queued and stops. A segment the store refuses while stopping stays on disk and
   * is replayed at the next start, so shutdown never waits on a sick store forever.
   */
  async stop() {
    this.stopping = true;
    await this.idle();
  }
}
