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
 * Loads items [0, count) as one part, and each part the store refuses for its data as two halves,
 * until a refused part is one item, which goes to `onBad`: n items with k bad ones cost about
 * 2·k·log2(n) loads. `loadPart` must name each part by its range, so a retry after a crash skips
 * the parts already loaded. Throws (loading nothing more) as soon as the store fails for a reason
 * of its own (`refusesData` says no): that is retried whole.
 */
export async function loadHalving(
  count: number,
  loadPart: (from: number, to: number) => Promise<number>,
  refusesData: (err: unknown) => boolean,
  onBad: (index: number, reason: string) => void,
): Promise<number> {
  const load = async (from: number, to: number): Promise<number> => {
    try {
      return await loadPart(from, to);
    } catch (err) {
      if (!refusesData(err)) throw err;
      if (to - from === 1) {
        onBad(from, firstLine(err));
        return 0;
      }
      const mid = (from + to) >> 1;
      return (await load(from, mid)) + (await load(mid, to));
    }
  };
  return count ? load(0, count) : 0;
}

/** The lines of a segment file the store refused for its data, all but those it refuses (see loadHalving). */
export async function loadWithoutBadLines(
  store: EventStore,
  segment: SegmentFile,
  workDir: string,
  data?: Buffer,
): Promise<{ rows: number; bad: BadLine[] }> {
  const lines = splitLines(data ?? (await fsp.readFile(segment.path)));
  const bad: BadLine[] = [];
  await fsp.mkdir(workDir, { recursive: true });
  const loadPart = async (from: number, to: number) => {
    const id = `${segment.id}.${from}-${to}`;
    const part: SegmentFile = { id, path: path.join(workDir, `${id}.part`), hasIdentify: segment.hasIdentify };
    await fsp.writeFile(part.path, Buffer.concat(lines.slice(from, to).flatMap((l) => [l.text, NL])));
    try {
      return await store.loadSegment(part);
    } finally {
      await fsp.rm(part.path, { force: true });
    }
  };
  const rows = await loadHalving(
    lines.length,
    loadPart,
    (err) => store.refusesData(err),
    (i, reason) => bad.push({ line: lines[i].line, text: lines[i].text, reason }),
  );
  return { rows, bad };
}
