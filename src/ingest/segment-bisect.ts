import fsp from 'node:fs/promises';
import path from 'node:path';
import type { EventStore, SegmentFile } from '../storage/events/event-store.js';

/** A line of a segment the store refuses, whatever it is retried with. */
export interface BadLine {
  /** 1-based line number in the segment file */
  line: number;
  text: Buffer;
  reason: string;
}

const NL = Buffer.from('\n');

/** The non-empty lines of a file's bytes (kept as bytes: a line that is not UTF-8 stays as it was). */
export function splitLines(data: Buffer): { line: number; text: Buffer }[] {
  const out: { line: number; text: Buffer }[] = [];
  let start = 0;
  for (let n = 1; start < data.length; n++) {
    let end = data.indexOf(0x0a, start);
    if (end < 0) end = data.length;
    const text = data.subarray(start, end);
    if (text.toString('latin1').trim()) out.push({ line: n, text });
    start = end + 1;
  }
  return out;
}

const firstLine = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0];

/**
 * Loads the lines of a segment the store refused for its data, all but those it refuses. Halves are
 * loaded as segments of their own, named `<segment>.<from>-<to>` so a retry after a crash skips the
 * parts already loaded, and a refused part is halved again until it is one line: a segment of n
 * lines with k bad ones costs about 2·k·log2(n) loads. Throws (loading nothing more) as soon as the
 * store fails for a reason of its own (`EventStore.refusesData` says no): that is retried whole.
 */
export async function loadWithoutBadLines(store: EventStore, segment: SegmentFile, workDir: string, data?: Buffer): Promise<{ rows: number; bad: BadLine[] }> {
  const lines = splitLines(data ?? (await fsp.readFile(segment.path)));
  const bad: BadLine[] = [];
  await fsp.mkdir(workDir, { recursive: true });

  const load = async (from: number, to: number): Promise<number> => {
    const id = `${segment.id}.${from}-${to}`;
    const part: SegmentFile = { id, path: path.join(workDir, `${id}.part`), hasIdentify: segment.hasIdentify };
    await fsp.writeFile(part.path, Buffer.concat(lines.slice(from, to).flatMap((l) => [l.text, NL])));
    try {
      return await store.loadSegment(part);
    } catch (err) {
      if (!store.refusesData(err)) throw err;
      return split(from, to, err);
    } finally {
      await fsp.rm(part.path, { force: true });
    }
  };
  const split = async (from: number, to: number, err: unknown): Promise<number> => {
    if (to - from === 1) {
      bad.push({ line: lines[from].line, text: lines[from].text, reason: firstLine(err) });
      return 0;
    }
    const mid = (from + to) >> 1;
    return (await load(from, mid)) + (await load(mid, to));
  };

  const rows = lines.length ? await load(0, lines.length) : 0;
  return { rows, bad };
}
