import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import crypto from 'node:crypto';
import type { Segment } from '../storage/events/event-store.js';

export interface WriteBufferOptions {
  dir: string;
  /** a segment is closed (and handed to the loader) once it holds this many bytes ... */
  maxSegmentBytes: number;
  /** ... or once its first line is this old */
  maxSegmentAgeMs: number;
  onSegmentClosed: (segment: Segment) => void;
  onCommit?: (lines: number, seconds: number) => void;
}

interface Pending {
  text: string;
  lines: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

export const SEGMENT_SUFFIX = '.ndjson';

/** Segment ids sort in creation order, so recovery replays them in order. */
export function newSegmentId(now: number): string {
  return `${now.toString().padStart(14, '0')}-${crypto.randomBytes(4).toString('hex')}`;
}

/**
 * The ingest write-ahead buffer. Callers append text (complete NDJSON lines) and are answered once
 * the text is fsynced: every append that arrives while a write is in flight joins the next write,
 * so concurrent requests share one fdatasync (group commit). Closed segments go to the loader.
 */
export class WriteBuffer {
  private pending: Pending[] = [];
  private draining: Promise<void> | null = null;
  private file: fsp.FileHandle | null = null;
  private segment: Segment | null = null;
  private segmentBytes = 0;
  private segmentOpenedAt = 0;
  private timer: NodeJS.Timeout;
  private closed = false;

  constructor(private opts: WriteBufferOptions) {
    fs.mkdirSync(opts.dir, { recursive: true });
    this.timer = setInterval(() => {
      if (this.segment && Date.now() - this.segmentOpenedAt >= opts.maxSegmentAgeMs) void this.rotate();
    }, Math.max(10, Math.min(opts.maxSegmentAgeMs / 4, 250)));
    this.timer.unref();
  }

  /** Resolves once `text` is durable on disk. */
  append(text: string, lines: number): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the write buffer is closed'));
    return new Promise((resolve, reject) => {
      this.pending.push({ text, lines, resolve, reject });
      this.draining ??= this.drain();
    });
  }

  private async drain(): Promise<void> {
    // let every request parsed in this turn of the event loop join the same write
    await new Promise((r) => setImmediate(r));
    while (this.pending.length) {
      const batch = this.pending;
      this.pending = [];
      const started = performance.now();
      try {
        const file = await this.openSegment();
        const data = batch.length === 1 ? batch[0].text : batch.map((p) => p.text).join('');
        const { bytesWritten } = await file.write(data);
        await file.datasync();
        this.segmentBytes += bytesWritten;
        this.opts.onCommit?.(batch.reduce((n, p) => n + p.lines, 0), (performance.now() - started) / 1000);
        for (const p of batch) p.resolve();
      } catch (err) {
        for (const p of batch) p.reject(err as Error);
        // a failed write may have left part of the batch in the file: start a fresh segment
        await this.rotate(true);
      }
      if (this.segmentBytes >= this.opts.maxSegmentBytes) await this.closeSegment();
    }
    this.draining = null;
  }

  private async openSegment(): Promise<fsp.FileHandle> {
    if (this.file) return this.file;
    const id = newSegmentId(Date.now());
    const file = path.join(this.opts.dir, id + SEGMENT_SUFFIX);
    this.file = await fsp.open(file, 'a');
    // make the new directory entry durable too, or a crash could lose the whole file
    const dir = await fsp.open(this.opts.dir, 'r');
    await dir.sync().finally(() => dir.close());
    this.segment = { id, path: file };
    this.segmentBytes = 0;
    this.segmentOpenedAt = Date.now();
    return this.file;
  }

  private async closeSegment(discardPartial = false) {
    const { file, segment } = this;
    this.file = null;
    this.segment = null;
    if (!file || !segment) return;
    await file.close().catch(() => undefined);
    if (discardPartial) await truncateToLastLine(segment.path);
    if (this.segmentBytes > 0 || discardPartial) this.opts.onSegmentClosed(segment);
    else await fsp.rm(segment.path, { force: true });
  }

  /** Closes the current segment between writes, so the loader can take it. */
  private async rotate(afterFailure = false): Promise<void> {
    if (afterFailure) return this.closeSegment(true);
    while (this.draining) await this.draining;
    if (this.segment) await this.closeSegment();
  }

  /** Waits for pending appends and closes the current segment (tests and shutdown). */
  async flush(): Promise<void> {
    await this.rotate();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
    this.closed = true;
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
