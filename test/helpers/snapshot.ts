import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';

const HEADER = '#### ';

/**
 * Named text snapshots kept together in one file. When the file is missing or UPDATE_SNAPSHOTS=1,
 * the values checked are recorded and written by save(); otherwise each is compared with the
 * stored text, so a change in the output shows up as a failing test (and in review).
 */
export class SnapshotFile {
  private stored: Map<string, string> | null;
  private seen = new Map<string, string>();

  constructor(readonly file: string) {
    const update = process.env.UPDATE_SNAPSHOTS === '1' || !fs.existsSync(file);
    this.stored = update ? null : parseSnapshots(fs.readFileSync(file, 'utf8'));
  }

  get updating(): boolean {
    return this.stored === null;
  }

  check(name: string, text: string): void {
    assert.ok(!name.includes('\n'), 'a snapshot name is one line');
    assert.ok(!this.seen.has(name), `snapshot "${name}" is checked twice`);
    const value = text.replace(/\s+$/, '');
    assert.ok(!value.split('\n').some((l) => l.startsWith(HEADER)), `snapshot "${name}" has a line starting with "${HEADER}"`);
    this.seen.set(name, value);
    if (!this.stored) return;
    const expected = this.stored.get(name);
    if (expected === undefined) assert.fail(`no snapshot "${name}" in ${this.file}; run with UPDATE_SNAPSHOTS=1 to record it`);
    assert.equal(value, expected, `snapshot "${name}" differs from ${this.file}; if the change is intended, run with UPDATE_SNAPSHOTS=1`);
  }

  /** Stored snapshots that no check asked for (a renamed or removed query). */
  unchecked(): string[] {
    return this.stored ? [...this.stored.keys()].filter((k) => !this.seen.has(k)) : [];
  }

  /** Writes the file when recording; a no-op when comparing. */
  save(): void {
    if (this.stored) return;
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    fs.writeFileSync(this.file, [...this.seen].map(([name, text]) => `${HEADER}${name}\n${text}\n`).join('\n'));
  }
}

export function parseSnapshots(content: string): Map<string, string> {
  const out = new Map<string, string>();
  let name: string | null = null;
  let lines: string[] = [];
  const flush = () => {
    if (name !== null) out.set(name, lines.join('\n').replace(/\s+$/, ''));
  };
  for (const line of content.split('\n')) {
    if (line.startsWith(HEADER)) {
      flush();
      name = line.slice(HEADER.length);
      lines = [];
    } else if (name !== null) {
      lines.push(line);
    }
  }
  flush();
  return out;
}
