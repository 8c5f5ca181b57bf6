import fsp from 'node:fs/promises';
import path from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { EventStore, Segment } from '../storage/events/event-store.js';
import { SEGMENT_SUFFIX, truncateToLastLine } from './write-buffer.js';

/** Waits before retrying a segment the store refused, so a sick store is not hammered. */
const RETRY_MS = 2000;

/**
 * Moves closed segments from the write-ahead directory into the event store, one at a time and in
 * order, deleting each file only after the store has committed it. Loading is idempotent per
 * segment id, so a crash between commit and delete loads nothing twice.
 */
export class SegmentLoader {
  private queue: Segment[] = [];
  private running: Promise<void> | null = null;
  private idleWaiters: (() => void)[] = [];
  private stopped = false;

  constructor(
    private store: EventStore,
    private log: FastifyBaseLogger,
    private onLoaded?: (rows: number, seconds: number) => void,
  ) {}

  /** Loads every segment left in `dir` by an earlier run (before the server accepts events). */
  async recover(dir: string): Promise<{ segments: number; rows: number }> {
    const names = (await fsp.readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith(SEGMENT_SUFFIX)).sort();
    let rows = 0;
    for (const name of names) {
      const file = path.join(dir, name);
      if ((await truncateToLastLine(file)) === 0) {
        await fsp.rm(file, { force: true });
        continue;
      }
      rows += await this.store.loadSegment({ id: name.slice(0, -SEGMENT_SUFFIX.length), path: file });
      await fsp.rm(file, { force: true });
    }
    return { segments: names.length, rows };
  }

  enqueue(segment: Segment) {
    this.queue.push(segment);
    this.running ??= this.run();
  }

  /** Resolves when every enqueued segment is in the store. */
  idle(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  get backlog() {
    return this.queue.length;
  }

  private async run() {
    while (this.queue.length && !this.stopped) {
      const segment = this.queue[0];
      const started = performance.now();
      try {
        const rows = await this.store.loadSegment(segment);
        await fsp.rm(segment.path, { force: true });
        this.queue.shift();
        this.onLoaded?.(rows, (performance.now() - started) / 1000);
      } catch (err) {
        // the segment stays on disk and in the queue: nothing acknowledged is dropped
        this.log.error({ err, segment: segment.id }, 'loading a segment into the event store failed; retrying');
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
    this.running = null;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  async stop() {
    await this.idle();
    this.stopped = true;
  }
}
