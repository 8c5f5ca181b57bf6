/**
 * The write-ahead log's quarantine: lines of acknowledged segments the event store refuses for
 * their data (see segment-bisect.ts). Each refused segment leaves `<wal>/quarantine/<segment>.ndjson`
 * with its bad lines unchanged, and `<segment>.reasons.ndjson` with one `{"line", "reason"}` per
 * line (its line number in the quarantine file). `vigil wal list` shows them, `vigil wal replay`
 * loads them again (as they are after an operator's fix, or cleaned by `cleanSegmentLine`).
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import crypto from 'node:crypto';
import type { EventStore } from '../storage/events/event-store.js';
import { wellFormed } from '../storage/events/well-formed.js';
import { isStorableTime } from './segment-spec.js';
import { loadWithoutBadLines, splitLines, type BadLine } from './segment-bisect.js';

const LINES_SUFFIX = '.ndjson';
const REASONS_SUFFIX = '.reasons.ndjson';

export const quarantineDir = (walDir: string) => path.join(walDir, 'quarantine');

export interface QuarantineFile {
  /** the segment the lines came from */
  segment: string;
  path: string;
  lines: number;
  /** per line of the file: its line in the segment it came from, and why the store refused it */
  reasons: { line: number; segmentLine?: number; reason: string }[];
}

/** Writes `data` to `file` durably: a crash leaves the old file or the new one, never half. */
async function writeDurably(file: string, data: Buffer | string) {
  const tmp = `${file}.tmp`;
  const handle = await fsp.open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fsp.rename(tmp, file);
}

export class WalQuarantine {
  private counts = { files: 0, lines: 0 };

  constructor(readonly dir: string) {
    for (const f of this.list()) {
      this.counts.files++;
      this.counts.lines += f.lines;
    }
  }

  /** Where the loader writes the parts of a segment it splits. */
  get workDir() {
    return path.join(this.dir, '.work');
  }

  /** Files and lines held (kept up to date by this process; `vigil wal replay` runs with the server stopped). */
  summary() {
    return { ...this.counts };
  }

  /** Puts a segment's bad lines in quarantine (replacing what an earlier try of the same segment left). */
  async add(segment: string, bad: BadLine[]) {
    await fsp.mkdir(this.dir, { recursive: true });
    const file = path.join(this.dir, segment + LINES_SUFFIX);
    const before = fs.existsSync(file) ? this.read(segment).lines : null;
    // reasons first: lines without their reasons would be harder to act on than the reverse
    await writeDurably(
      path.join(this.dir, segment + REASONS_SUFFIX),
      bad.map((b, i) => JSON.stringify({ line: i + 1, segmentLine: b.line, reason: b.reason }) + '\n').join(''),
    );
    await writeDurably(file, Buffer.concat(bad.flatMap((b) => [b.text, Buffer.from('\n')])));
    const dir = await fsp.open(this.dir, 'r');
    await dir.sync().finally(() => dir.close());
    if (before === null) this.counts.files++;
    this.counts.lines += bad.length - (before ?? 0);
  }

  list(): QuarantineFile[] {
    const names = fs.existsSync(this.dir) ? fs.readdirSync(this.dir) : [];
    return names
      .filter((n) => n.endsWith(LINES_SUFFIX) && !n.endsWith(REASONS_SUFFIX))
      .sort()
      .map((n) => this.read(n.slice(0, -LINES_SUFFIX.length)));
  }

  private read(segment: string): QuarantineFile {
    const file = path.join(this.dir, segment + LINES_SUFFIX);
    const lines = splitLines(fs.readFileSync(file)).length;
    let reasons: QuarantineFile['reasons'] = [];
    try {
      reasons = fs
        .readFileSync(path.join(this.dir, segment + REASONS_SUFFIX), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
    } catch {
      // lines without reasons (the sidecar was removed by hand): still listed and replayed
    }
    return { segment, path: file, lines, reasons };
  }

  /**
   * Loads a quarantined file again; the lines the store still refuses stay (with their new
   * reasons), the file goes once none is left. The load is named after the content, so replaying
   * the same lines twice (a crash in between) stores them once.
   */
  async replay(store: EventStore, segment: string, opts: { clean?: boolean } = {}): Promise<{ loaded: number; left: number }> {
    const file = path.join(this.dir, segment + LINES_SUFFIX);
    let data = await fsp.readFile(file);
    if (opts.clean)
      data = Buffer.from(
        splitLines(data)
          .map((l) => cleanSegmentLine(l.text.toString('utf8')) + '\n')
          .join(''),
      );
    const id = `replay-${crypto.createHash('sha256').update(data).digest('hex').slice(0, 16)}`;
    const { rows, bad } = await loadWithoutBadLines(store, { id, path: file }, this.workDir, data);
    if (bad.length) await this.add(segment, bad);
    else await this.remove(segment);
    return { loaded: rows, left: bad.length };
  }

  private async remove(segment: string) {
    const before = this.read(segment).lines;
    await fsp.rm(path.join(this.dir, segment + REASONS_SUFFIX), { force: true });
    await fsp.rm(path.join(this.dir, segment + LINES_SUFFIX), { force: true });
    this.counts.files--;
    this.counts.lines -= before;
  }
}

/**
 * A stored row (an EventRow line) made loadable where that loses nothing an operator could want:
 * lone surrogates become U+FFFD, and an event time no store can hold becomes the time the event
 * was received (what ingest uses for an event without a time). A line that is not JSON is left as it is.
 */
export function cleanSegmentLine(line: string): string {
  let row: Record<string, unknown>;
  try {
    row = wellFormed(JSON.parse(line)) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (typeof row.timestamp !== 'number' || !isStorableTime(row.timestamp)) row.timestamp = row.received_at;
  return JSON.stringify(row);
}
