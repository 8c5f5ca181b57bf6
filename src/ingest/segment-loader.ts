import fsp from 'node:fs/promises';
import path from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { EventStore, SegmentFile } from '../storage/events/event-store.js';
import { SEGMENT_SUFFIX, truncateToLastLine } from './write-buffer.js';
import { loadWithoutBadLines } from './segment-bisect.js';
import { WalQuarantine, quarantineDir } from './wal-quarantine.js';

const exists = (file: string) =>
  fsp.access(file).then(
    () => true,
    () => false,
  );

/** Waits before retrying a segment the store refused, so a sick store is not hammered. */
const RETRY_MS = 2000;
/** Failed tries in a row after which /ready says acknowledged events cannot be loaded (one may be a blip). */
const FAILURES_BEFORE_NOT_READY = 2;

export interface SegmentLoaderStatus {
  quarantinedFiles: number;
  quarantinedLines: number;
  /** failed tries in a row of the segment in front of the queue (0 while loading works) */
  loadFailures: number;
  lastLoadError: string | null;
  /** true while acknowledged events cannot be loaded (the store keeps failing) */
  failing: boolean;
}

/**
 * Moves closed segments from the write-ahead directory into the event store, one at a time and in
 * order, deleting each file only after the store has committed it. Loading is idempotent per
 * segment id, so a crash between commit and delete loads nothing twice.
 *
 * A segment the store refuses for its data is loaded without the lines it refuses, which go to the
 * quarantine (wal-quarantine.ts), so one bad line never holds up the segments behind it. A store
 * that fails by itself (a full disk) is retried with the segment whole, and reported by `status()`.
 */
export class SegmentLoader {
  private queue: SegmentFile[] = [];
  private running: Promise<void> | null = null;
  private idleWaiters: (() => void)[] = [];
  private stopping = false;
  private quarantine: WalQuarantine | null = null;
  private failures = 0;
  private lastError: string | null = null;

  constructor(
    private store: EventStore,
    private log: FastifyBaseLogger,
    private onLoaded?: (rows: number, seconds: number) => void,
  ) {}

  /** Loads every segment left in `dir` by an earlier run (before the server accepts events). */
  async recover(dir: string): Promise<{ segments: number; rows: number }> {
    this.quarantine ??= new WalQuarantine(quarantineDir(dir));
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
        rows += await this.load({ id: name.slice(0, -SEGMENT_SUFFIX.length), path: file });
      } catch (err) {
        throw new Error(
          `replaying the write-ahead segment ${file} into the event store failed, and not for a line of it (those are quarantined): the store itself fails. The file is kept; the server cannot start without it: ${(err as Error).message}`,
          { cause: err },
        );
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

  status(): SegmentLoaderStatus {
    const q = this.quarantine?.summary() ?? { files: 0, lines: 0 };
    return {
      quarantinedFiles: q.files,
      quarantinedLines: q.lines,
      loadFailures: this.failures,
      lastLoadError: this.lastError,
      failing: this.failures >= FAILURES_BEFORE_NOT_READY,
    };
  }

  /** Loads a segment; the lines the store refuses for their data go to the quarantine. */
  private async load(segment: SegmentFile): Promise<number> {
    try {
      return await this.store.loadSegment(segment);
    } catch (err) {
      if (!this.store.refusesData(err)) throw err;
      const quarantine = (this.quarantine ??= new WalQuarantine(quarantineDir(path.dirname(segment.path))));
      const { rows, bad } = await loadWithoutBadLines(this.store, segment, quarantine.workDir);
      if (bad.length) {
        await quarantine.add(segment.id, bad);
        this.log.error(
          { segment: segment.id, lines: bad.length, reason: bad[0].reason, quarantine: quarantine.dir },
          'the event store refused lines of a write-ahead segment: they are quarantined (see `vigil wal list`), the rest is loaded',
        );
      }
      return rows;
    }
  }

  private async run() {
    while (this.queue.length) {
      const segment = this.queue[0];
      const started = performance.now();
      try {
        if (!(await exists(segment.path))) {
          // deleted behind our back: retrying cannot bring it back, and would block every
          // segment queued after it (and shutdown)
          if (!(await this.store.isSegmentLoaded(segment.id)))
            this.log.error(
              { segment: segment.id, path: segment.path },
              'a write-ahead segment was deleted before it was loaded: its events are lost',
            );
          this.queue.shift();
          continue;
        }
        const rows = await this.load(segment);
        await fsp.rm(segment.path, { force: true });
        this.queue.shift();
        this.failures = 0;
        this.lastError = null;
        this.onLoaded?.(rows, (performance.now() - started) / 1000);
      } catch (err) {
        // the segment stays on disk (and in the queue): nothing acknowledged is dropped
        this.failures++;
        this.lastError = (err as Error).message;
        if (this.stopping) {
          this.log.error(
            { err, segment: segment.id, left: this.queue.length },
            'loading a segment into the event store failed while stopping; the segments left are replayed at the next start',
          );
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
