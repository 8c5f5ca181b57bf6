import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import crypto from 'node:crypto';
import type { SegmentFile } from '../storage/events/event-store.js';
import { GroupCommit, type PendingAppend } from './group-commit.js';

export interface WriteBufferOptions {
  dir: string;
  /** a segment is closed (and handed to the loader) once it holds this many bytes ... */
  maxSegmentBytes: number;
  /** ... or once its first line is this old */
  maxSegmentAgeMs: number;
  /**
   * While this says so (the loader is still busy with earlier segments), an old segment stays open
   * and keeps growing: DuckDB loads one large segment for far less CPU per row than many small ones.
   */
  deferAgeRotation?: () => boolean;
  onSegmentClosed: (segment: SegmentFile) => void;
  onCommit?: (lines: number, seconds: number) => void;
}

/** Where ingest puts what it acknowledges: the write-ahead buffer (embedded) or the PostgreSQL outbox (scaled). */
export interface IngestLog {
  /** Resolves once `text` is durable; an empty `text` waits for (and fails with) the appends before it. */
  append(text: string, lines: number, hasIdentify?: boolean): Promise<void>;
  /** Waits until every append made before it is durable (or failed). */
  flush(): Promise<void>;
  /** Refuses new appends, then flushes. */
  close(): Promise<void>;
}

export const SEGMENT_SUFFIX = '.ndjson';

let lastIdMs = 0;

/**
 * Segment ids sort in creation order, so recovery replays them in order: the time part is made
 * strictly increasing within the process (two segments opened in the same millisecond would
 * otherwise be ordered by their random suffix).
 */
export function newSegmentId(now: number): string {
  const ms = now > lastIdMs ? now : lastIdMs + 1;
  lastIdMs = ms;
  return `${ms.toString().padStart(14, '0')}-${crypto.randomBytes(4).toString('hex')}`;
}

/**
 * The ingest write-ahead buffer. Callers append text (complete NDJSON lines) and are answered once
 * the text is fsynced; concurrent requests share one synchronous write (group-commit.ts). Closed
 * segments go to the loader.
 *
 * Every file operation (a batch's write, closing a segment) runs on one serial chain,
 * so a rotation (by age, or a flush) never interleaves with a write, and a segment is never closed
 * while another one is being opened.
 */
export class WriteBuffer implements IngestLog {
  private queue: GroupCommit;
  private io: Promise<unknown> = Promise.resolve();
  private file: fsp.FileHandle | null = null;
  private segment: SegmentFile | null = null;
  /** bytes of the current segment that are durable (written with O_DSYNC) */
  private segmentBytes = 0;
  private segmentOpenedAt = 0;
  private ageRotationQueued = false;
  private timer: NodeJS.Timeout;
  private closed = false;

  constructor(private opts: WriteBufferOptions) {
    fs.mkdirSync(opts.dir, { recursive: true });
    this.queue = new GroupCommit({
      write: (batch) => this.write(batch),
      // after the callers are answered: closing a full (or old) segment does not delay them
      afterCommit: async () => {
        if (this.segmentBytes >= this.opts.maxSegmentBytes || this.isOld()) await this.closeSegment();
      },
      serial: (fn) => this.serial(fn),
    });
    this.timer = setInterval(() => this.rotateIfOld(), Math.max(10, Math.min(opts.maxSegmentAgeMs / 4, 250)));
    this.timer.unref();
  }

  /**
   * Resolves once `text` is durable on disk; an empty `text` is a barrier (group-commit.ts).
   * `hasIdentify: false` promises that the text holds no identify call, which spares the loader a step.
   */
  append(text: string, lines: number, hasIdentify = true): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the write buffer is closed'));
    return this.queue.append(text, lines, hasIdentify);
  }

  /** Runs file operations one at a time, in call order; never rejects the chain. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.io.then(fn);
    this.io = run.catch(() => undefined);
    return run;
  }

  /** Writes one batch durably, or throws with none of it left in the segment. */
  private async write(batch: PendingAppend[]): Promise<void> {
    const data = Buffer.from(batch.length === 1 ? batch[0].text : batch.map((p) => p.text).join(''), 'utf8');
    const started = performance.now();
    const file = await this.openSegment();
    const committed = this.segmentBytes;
    try {
      await writeAll(file, data);
    } catch (err) {
      // part of the batch may be in the file: cut it off (before its callers hear of the failure
      // and retry, so a crash cannot replay lines they were told are not stored) and start afresh
      await this.abandonSegment(committed);
      throw err;
    }
    this.segmentBytes += data.length;
    if (this.segment && batch.some((p) => p.hasIdentify)) this.segment.hasIdentify = true;
    try {
      this.opts.onCommit?.(
        batch.reduce((n, p) => n + p.lines, 0),
        (performance.now() - started) / 1000,
      );
    } catch {
      // metrics must never fail a durable write
    }
  }

  private async openSegment(): Promise<fsp.FileHandle> {
    if (this.file) return this.file;
    const id = newSegmentId(Date.now());
    const file = path.join(this.opts.dir, id + SEGMENT_SUFFIX);
    // O_DSYNC: each write returns only once its data is on disk, so a commit is one round trip to
    // the thread pool instead of two (write, then fdatasync), which matters when the event loop is busy
    const handle = await fsp.open(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_APPEND | fs.constants.O_DSYNC);
    try {
      // make the new directory entry durable too, or a crash could lose the whole file
      const dir = await fsp.open(this.opts.dir, 'r');
      await dir.sync().finally(() => dir.close());
    } catch (err) {
      await handle.close().catch(() => undefined);
      await fsp.rm(file, { force: true }).catch(() => undefined);
      throw err;
    }
    this.file = handle;
    this.segment = { id, path: file, hasIdentify: false };
    this.segmentBytes = 0;
    this.segmentOpenedAt = Date.now();
    return handle;
  }

  /** Closes the current segment and hands it to the loader (on the serial chain only). */
  private async closeSegment(): Promise<void> {
    const { file, segment, segmentBytes } = this;
    this.file = null;
    this.segment = null;
    this.segmentBytes = 0;
    if (!file || !segment) return;
    await file.close().catch(() => undefined);
    if (segmentBytes > 0) this.handOver(segment);
    else await fsp.rm(segment.path, { force: true }).catch(() => undefined);
  }

  /**
   * After a failed write: truncates the segment to its last durable byte (so no line of the failed,
   * unacknowledged batch is loaded: the client retries it) and hands what was acknowledged over.
   */
  private async abandonSegment(committed: number): Promise<void> {
    const { file, segment } = this;
    this.file = null;
    this.segment = null;
    this.segmentBytes = 0;
    if (!file || !segment) return;
    let clean = false;
    try {
      await file.truncate(committed);
      await file.datasync();
      clean = true;
    } catch {
      // the disk is failing; fall back to dropping a torn tail below
    }
    await file.close().catch(() => undefined);
    if (committed === 0) {
      // nothing in it was acknowledged
      await fsp.rm(segment.path, { force: true }).catch(() => undefined);
      return;
    }
    // acknowledged lines must not be lost; if the truncate failed, complete lines of the failed
    // batch may be loaded too (a retry of them would then be stored twice)
    if (!clean) await truncateToLastLine(segment.path).catch(() => undefined);
    this.handOver(segment);
  }

  private handOver(segment: SegmentFile) {
    try {
      this.opts.onSegmentClosed(segment);
    } catch {
      // the file stays in the directory and is replayed at the next start
    }
  }

  private isOld(): boolean {
    return Date.now() - this.segmentOpenedAt >= this.opts.maxSegmentAgeMs && !this.opts.deferAgeRotation?.();
  }

  private rotateIfOld() {
    if (!this.segment || this.ageRotationQueued || !this.isOld()) return;
    this.ageRotationQueued = true;
    void this.serial(async () => {
      this.ageRotationQueued = false;
      if (this.segment && this.isOld()) await this.closeSegment();
    }).catch(() => undefined);
  }

  /**
   * Waits until every append made before this call is on disk (or has failed), then closes the
   * current segment so the loader takes it (tests, import, shutdown).
   */
  async flush(): Promise<void> {
    await this.queue.barrier();
    await this.serial(() => this.closeSegment());
  }

  /** Refuses new appends, then flushes: the directory holds only closed segments afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.flush();
    await this.queue.drained();
  }
}

/** Writes all of `data` at the end of an append-mode file (a write may be short). */
async function writeAll(file: fsp.FileHandle, data: Buffer): Promise<void> {
  let offset = 0;
  while (offset < data.length) {
    const { bytesWritten } = await file.write(data, offset, data.length - offset);
    if (bytesWritten <= 0) throw new Error('the write made no progress');
    offset += bytesWritten;
  }
}

/** Drops a torn last line (a write cut short by a crash; it was never acknowledged). */
export async function truncateToLastLine(file: string): Promise<number> {
  const handle = await fsp.open(file, 'r+');
  try {
    const { size } = await handle.stat();
    let end = size;
    const chunk = Buffer.alloc(64 * 1024);
    while (end > 0) {
      const start = Math.max(0, end - chunk.length);
      const { bytesRead } = await handle.read(chunk, 0, end - start, start);
      const nl = chunk.subarray(0, bytesRead).lastIndexOf(0x0a);
      if (nl >= 0) {
        end = start + nl + 1;
        break;
      }
      end = start;
    }
    if (end !== size) {
      await handle.truncate(end);
      await handle.sync();
    }
    return end;
  } finally {
    await handle.close();
  }
}
