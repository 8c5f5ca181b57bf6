import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SEGMENT_SUFFIX, WriteBuffer, newSegmentId, truncateToLastLine, type WriteBufferOptions } from '../../src/ingest/write-buffer.js';
import type { SegmentFile } from '../../src/storage/events/event-store.js';
import { tempDir } from '../helpers/app.js';

interface Harness {
  dir: string;
  buffer: WriteBuffer;
  closed: SegmentFile[];
  commits: number[];
  /** every line of the closed segments, in segment order */
  closedLines(): string[];
  /** segment files still in the directory (the open one, or ones nobody took) */
  files(): string[];
  done(): Promise<void>;
}

function harness(opts: Partial<WriteBufferOptions> = {}): Harness {
  const dir = path.join(tempDir('vigil-wb-'), 'wal');
  const closed: SegmentFile[] = [];
  const commits: number[] = [];
  const buffer = new WriteBuffer({
    dir,
    maxSegmentBytes: 16 * 1024 * 1024,
    maxSegmentAgeMs: 60_000,
    onSegmentClosed: (s) => closed.push(s),
    onCommit: (lines) => commits.push(lines),
    ...opts,
  });
  return {
    dir,
    buffer,
    closed,
    commits,
    closedLines: () => closed.flatMap((s) => fs.readFileSync(s.path, 'utf8').split('\n').filter(Boolean)),
    files: () =>
      fs
        .readdirSync(dir)
        .filter((n) => n.endsWith(SEGMENT_SUFFIX))
        .sort(),
    async done() {
      await buffer.close();
      fs.rmSync(path.dirname(dir), { recursive: true, force: true });
    },
  };
}

const line = (i: number, pad = 0) => JSON.stringify({ i, pad: 'x'.repeat(pad) });

test('200 concurrent appends resolve, share fewer fdatasyncs, and are all in the segment in full', async () => {
  const h = harness();
  try {
    const texts = Array.from({ length: 200 }, (_, i) => `${line(i * 2, 100)}\n${line(i * 2 + 1, 100)}\n`);
    await Promise.all(texts.map((t) => h.buffer.append(t, 2)));
    // every line counted once in the commits, and group commit took fewer commits than appends
    assert.equal(
      h.commits.reduce((a, b) => a + b, 0),
      400,
    );
    assert.ok(h.commits.length < 200, `expected group commit, got ${h.commits.length} commits for 200 appends`);
    // the open segment already holds everything that was acknowledged
    const [open] = h.files();
    assert.ok(open, 'an open segment file');
    const onDisk = fs.readFileSync(path.join(h.dir, open), 'utf8');
    assert.ok(onDisk.endsWith('\n'));
    const seen = onDisk
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l).i as number)
      .sort((a, b) => a - b);
    assert.deepEqual(
      seen,
      Array.from({ length: 400 }, (_, i) => i),
    );
    // each append's text is contiguous (appends are never interleaved)
    for (const t of texts) assert.ok(onDisk.includes(t));
    await h.buffer.flush();
    assert.equal(h.closed.length, 1);
    assert.equal(h.closedLines().length, 400);
  } finally {
    await h.done();
  }
});

test('appends made while a write is in flight join the next write', async () => {
  const h = harness();
  try {
    const first = h.buffer.append(line(0) + '\n', 1);
    // wait until the first write has started, then pile on
    await new Promise((r) => setImmediate(r));
    const rest = Array.from({ length: 50 }, (_, i) => h.buffer.append(line(i + 1) + '\n', 1));
    await Promise.all([first, ...rest]);
    assert.equal(
      h.commits.reduce((a, b) => a + b, 0),
      51,
    );
    assert.ok(h.commits.length <= 3, `commits: ${JSON.stringify(h.commits)}`);
  } finally {
    await h.done();
  }
});

test('segments rotate by size, and are handed over in order with nothing lost or repeated', async () => {
  const h = harness({ maxSegmentBytes: 4096 });
  try {
    // sequential appends of ~1 KB: a new segment every ~4 appends
    for (let i = 0; i < 40; i++) await h.buffer.append(line(i, 1000) + '\n', 1);
    // 5 lines of ~1 KB fill a segment: 8 are closed (the last one just after its append resolves)
    assert.ok(h.closed.length >= 7, `expected rotation by size, got ${h.closed.length} closed segments`);
    for (const s of h.closed) assert.ok(fs.statSync(s.path).size >= 4096, 'a segment is closed once it reaches the size');
    // concurrent appends across rotations
    await Promise.all(Array.from({ length: 40 }, (_, i) => h.buffer.append(line(40 + i, 1000) + '\n', 1)));
    await h.buffer.flush();
    const ids = h.closed.map((s) => s.id);
    assert.deepEqual([...ids].sort(), ids, 'segments are handed over in creation order');
    assert.equal(new Set(ids).size, ids.length);
    const order = h.closedLines().map((l) => JSON.parse(l).i as number);
    assert.deepEqual(
      order.slice(0, 40),
      Array.from({ length: 40 }, (_, i) => i),
      'sequential appends keep their order across segments',
    );
    assert.deepEqual(
      [...order].sort((a, b) => a - b),
      Array.from({ length: 80 }, (_, i) => i),
    );
    assert.deepEqual(
      h.files().sort(),
      ids.map((id) => id + SEGMENT_SUFFIX).sort(),
      'only handed-over segments are left (the loader deletes them)',
    );
  } finally {
    await h.done();
  }
});

test('an idle segment rotates by age', async () => {
  const h = harness({ maxSegmentAgeMs: 100 });
  try {
    await h.buffer.append(line(1) + '\n', 1);
    assert.equal(h.closed.length, 0);
    const deadline = Date.now() + 3000;
    while (!h.closed.length && Date.now() < deadline) await sleep(20);
    assert.equal(h.closed.length, 1, 'the segment was closed by age');
    assert.deepEqual(h.closedLines(), [line(1)]);
    await h.buffer.append(line(2) + '\n', 1);
    while (h.closed.length < 2 && Date.now() < deadline + 3000) await sleep(20);
    assert.equal(h.closed.length, 2);
    assert.ok(h.closed[0].id < h.closed[1].id, 'in order');
    assert.deepEqual(h.closedLines(), [line(1), line(2)]);
  } finally {
    await h.done();
  }
});

test('a segment rotates by age under continuous load (a busy writer does not starve the rotation)', async () => {
  const h = harness({ maxSegmentAgeMs: 100 });
  try {
    let stop = false;
    let n = 0;
    const writers = Array.from({ length: 8 }, async () => {
      while (!stop) await h.buffer.append(line(n++) + '\n', 1);
    });
    await sleep(800);
    const closedUnderLoad = h.closed.length;
    stop = true;
    await Promise.all(writers);
    assert.ok(closedUnderLoad >= 2, `expected segments to close by age while writes never pause, got ${closedUnderLoad}`);
    await h.buffer.flush();
    const seen = h
      .closedLines()
      .map((l) => JSON.parse(l).i as number)
      .sort((a, b) => a - b);
    assert.deepEqual(
      seen,
      Array.from({ length: n }, (_, i) => i),
    );
  } finally {
    await h.done();
  }
});

test('flush() closes the current segment after the appends before it are written, and waits for them', async () => {
  const h = harness();
  try {
    await h.buffer.flush();
    assert.equal(h.closed.length, 0, 'nothing to close');
    // not awaited: flush must still include them
    const appends = Array.from({ length: 20 }, (_, i) => h.buffer.append(line(i) + '\n', 1));
    await h.buffer.flush();
    assert.equal(h.closed.length, 1);
    assert.equal(h.closedLines().length, 20);
    await Promise.all(appends);
    await h.buffer.append(line(99) + '\n', 1);
    await h.buffer.flush();
    assert.equal(h.closed.length, 2, 'a new segment after a flush');
    assert.deepEqual(fs.readFileSync(h.closed[1].path, 'utf8'), line(99) + '\n');
  } finally {
    await h.done();
  }
});

test('close() writes what was appended before it and refuses appends after it', async () => {
  const h = harness();
  try {
    const before = h.buffer.append(line(1) + '\n', 1);
    await h.buffer.close();
    await before;
    assert.equal(h.closed.length, 1);
    assert.deepEqual(h.closedLines(), [line(1)]);
    await assert.rejects(h.buffer.append(line(2) + '\n', 1), /closed/);
  } finally {
    await h.done();
  }
});

test('a failed write rejects its callers, and the next append goes to a fresh segment', async () => {
  const h = harness();
  try {
    await h.buffer.append(line(1) + '\n', 1);
    // make the next write fail (EBADF) by closing the open segment's handle under the buffer
    const file = (h.buffer as unknown as { file: { close(): Promise<void> } }).file;
    await file.close();
    await assert.rejects(h.buffer.append(line(2) + '\n', 1));
    await h.buffer.append(line(3) + '\n', 1);
    assert.equal(h.closed.length, 1, 'the segment with the acknowledged line was handed over');
    await h.buffer.flush();
    assert.equal(h.closed.length, 2);
    assert.deepEqual(h.closedLines(), [line(1), line(3)], 'the failed, unacknowledged line is not in any segment');
  } finally {
    await h.done();
  }
});

const nextTurn = () => new Promise((r) => setImmediate(r));
/** 'ok' or the rejection's message (a handler is attached at once, so no rejection goes unhandled). */
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (err: Error) => err.message,
  );

/** Makes the next segment impossible to open (the directory becomes a file); returns the undo. */
function breakDirectory(dir: string) {
  fs.renameSync(dir, dir + '.aside');
  fs.writeFileSync(dir, '');
  return () => {
    fs.rmSync(dir, { force: true });
    fs.renameSync(dir + '.aside', dir);
  };
}

test('an empty append is a barrier: it resolves after the appends before it, and fails if one of them failed', async () => {
  const h = harness();
  try {
    const order: string[] = [];
    await Promise.all([
      h.buffer.append(line(1) + '\n', 1).then(() => order.push('write')),
      h.buffer.append('', 0).then(() => order.push('barrier')),
    ]);
    assert.deepEqual(order, ['write', 'barrier']);
    await h.buffer.flush(); // no segment is open now, so the next write opens one
    const repair = breakDirectory(h.dir);
    // a barrier in the same batch as the failing write
    const sameBatch = await Promise.all([outcome(h.buffer.append(line(2) + '\n', 1)), outcome(h.buffer.append('', 0))]);
    assert.match(sameBatch[0], /ENOTDIR|not a directory/i);
    assert.match(sameBatch[1], /ENOTDIR|not a directory/i);
    // a barrier made while the failing write is in flight lands in the next (empty) batch
    const failing = outcome(h.buffer.append(line(3) + '\n', 1));
    await nextTurn(); // the buffer's drain takes the batch and starts opening a segment
    const barrier = outcome(h.buffer.append('', 0));
    assert.match(await failing, /ENOTDIR|not a directory/i);
    assert.equal(await barrier, 'an earlier write this one waited for failed');
    repair();
    // failures before a barrier was made do not concern it
    await h.buffer.append(line(4) + '\n', 1);
    await h.buffer.append('', 0);
    await h.buffer.flush();
    assert.deepEqual(h.closedLines(), [line(1), line(4)]);
  } finally {
    await h.done();
  }
});

test('truncateToLastLine: no newline at all → 0 bytes', async () => {
  const dir = tempDir('vigil-trunc-');
  try {
    const f = path.join(dir, 'a.ndjson');
    fs.writeFileSync(f, '{"torn":');
    assert.equal(await truncateToLastLine(f), 0);
    assert.equal(fs.statSync(f).size, 0);
    fs.writeFileSync(f, '');
    assert.equal(await truncateToLastLine(f), 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('truncateToLastLine: a torn tail is removed, also when it is longer than one read chunk', async () => {
  const dir = tempDir('vigil-trunc-');
  try {
    const f = path.join(dir, 'a.ndjson');
    const good = `${line(1)}\n${line(2)}\n`;
    fs.writeFileSync(f, good + '{"i":3,"pa');
    assert.equal(await truncateToLastLine(f), Buffer.byteLength(good));
    assert.equal(fs.readFileSync(f, 'utf8'), good);
    // a tail of 200 KB without a newline (spans several 64 KB chunks), multi-byte text before it
    const good2 = `${JSON.stringify({ s: 'é✓'.repeat(30_000) })}\n`;
    fs.writeFileSync(f, good2 + 'x'.repeat(200 * 1024));
    assert.equal(await truncateToLastLine(f), Buffer.byteLength(good2));
    assert.equal(fs.readFileSync(f, 'utf8'), good2);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('truncateToLastLine: a clean file is left untouched', async () => {
  const dir = tempDir('vigil-trunc-');
  try {
    const f = path.join(dir, 'a.ndjson');
    const good = `${line(1)}\n${line(2, 100_000)}\n`;
    fs.writeFileSync(f, good);
    const before = fs.statSync(f).mtimeMs;
    assert.equal(await truncateToLastLine(f), Buffer.byteLength(good));
    assert.equal(fs.readFileSync(f, 'utf8'), good);
    assert.equal(fs.statSync(f).mtimeMs, before);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('segment ids sort in creation order, also within one millisecond', () => {
  const now = Date.now();
  const ids = Array.from({ length: 50 }, () => newSegmentId(now));
  assert.deepEqual([...ids].reverse().sort(), ids);
  assert.equal(new Set(ids).size, ids.length);
  // a clock that steps back does not reorder them either
  assert.ok(newSegmentId(now - 5000) > ids[ids.length - 1]);
});
