import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { DedupIndex } from '../../src/ingest/dedup-index.js';

const WINDOW = 60_000;

/** A DedupIndex on a clock the test moves by hand. */
function clocked(start = 1_000_000) {
  let now = start;
  const index = new DedupIndex(WINDOW, () => now);
  return { index, at: (ms: number) => (now = start + ms) };
}

describe('DedupIndex: add', () => {
  test('the first add of a pair is new, the second is a duplicate', () => {
    const { index } = clocked();
    assert.equal(index.add(1, 'm-1'), true);
    assert.equal(index.add(1, 'm-1'), false);
    assert.equal(index.add(1, 'm-1'), false);
    assert.equal(index.size, 1);
  });

  test('the same messageId in another project is a different pair', () => {
    const { index } = clocked();
    assert.equal(index.add(1, 'm-1'), true);
    assert.equal(index.add(2, 'm-1'), true);
    assert.equal(index.add(2, 'm-1'), false);
  });

  test('ids that differ only slightly, or that could run into the project separator, are distinct', () => {
    const { index } = clocked();
    for (const [p, m] of [
      [1, 'a'],
      [1, 'A'],
      [1, 'a '],
      [11, 'a'],
      [1, '1a'],
      [1, ''],
      [1, '\u0000a'],
    ] as const) {
      assert.equal(index.add(p, m), true, `${p}/${JSON.stringify(m)}`);
    }
  });
});

describe('DedupIndex: remove', () => {
  test('a removed pair is accepted again', () => {
    const { index } = clocked();
    index.add(1, 'm-1');
    index.remove(1, 'm-1');
    assert.equal(index.add(1, 'm-1'), true);
    assert.equal(index.add(1, 'm-1'), false);
  });

  test('removing an unknown pair changes nothing', () => {
    const { index } = clocked();
    index.add(1, 'keep');
    index.remove(1, 'never-added');
    index.remove(2, 'keep');
    assert.equal(index.size, 1);
    assert.equal(index.add(1, 'keep'), false);
  });

  test('a pair in the previous generation can be removed too', () => {
    const { index, at } = clocked();
    index.add(1, 'old');
    at(WINDOW + 1);
    index.add(1, 'new'); // rotates: 'old' is now in the previous generation
    index.remove(1, 'old');
    assert.equal(index.add(1, 'old'), true);
  });

  test('removing half of 50,000 keys leaves the other half found (probe runs survive deletes)', () => {
    const { index } = clocked();
    const keys = Array.from({ length: 50_000 }, (_, i) => `k-${i}`);
    for (const k of keys) assert.ok(index.add(3, k));
    for (let i = 0; i < keys.length; i += 2) index.remove(3, keys[i]);
    assert.equal(index.size, 25_000);
    let stillKnown = 0;
    let forgotten = 0;
    for (let i = 0; i < keys.length; i++) {
      const isNew = index.add(3, keys[i]);
      if (i % 2 === 1 && !isNew) stillKnown++;
      if (i % 2 === 0 && isNew) forgotten++;
    }
    assert.equal(stillKnown, 25_000);
    assert.equal(forgotten, 25_000);
  });
});

describe('DedupIndex: generations', () => {
  test('a pair is remembered for a whole window after it was added', () => {
    const { index, at } = clocked();
    at(WINDOW - 1);
    index.add(1, 'late-in-generation');
    at(2 * WINDOW - 2); // one window minus 1 ms after the add, after one rotation
    assert.equal(index.add(1, 'late-in-generation'), false);
  });

  test('a pair is remembered across one rotation and forgotten after the second', () => {
    const { index, at } = clocked();
    index.add(1, 'a');
    at(WINDOW);
    assert.equal(index.add(1, 'a'), false, 'one window later');
    at(2 * WINDOW - 1);
    assert.equal(index.add(1, 'a'), false, 'still inside two windows');
    at(2 * WINDOW);
    assert.equal(index.add(1, 'a'), true, 'two windows later');
  });

  test('after a long idle spell nothing older than two windows is remembered', () => {
    const { index, at } = clocked();
    index.add(1, 'idle');
    at(2 * WINDOW + 5); // no activity in between: the first call after the gap must not keep 'idle'
    assert.equal(index.add(1, 'idle'), true);
  });

  test('a pair added at the start is forgotten two windows later even when a rotation happened late', () => {
    const { index, at } = clocked();
    index.add(1, 'early');
    at(2 * WINDOW - 1);
    index.add(1, 'other'); // the first rotation happens this late
    at(2 * WINDOW + WINDOW / 2);
    assert.equal(index.add(1, 'early'), true, '2.5 windows after the add');
  });

  test('a clock that steps back does not drop anything', () => {
    const { index, at } = clocked();
    index.add(1, 'x');
    at(-WINDOW * 5);
    assert.equal(index.add(1, 'x'), false);
  });

  test('size counts both generations and drops the expired one', () => {
    const { index, at } = clocked();
    index.add(1, 'a');
    index.add(1, 'b');
    at(WINDOW);
    index.add(1, 'c');
    assert.equal(index.size, 3);
    at(2 * WINDOW);
    index.add(1, 'd');
    assert.equal(index.size, 2); // c and d
  });
});

describe('DedupIndex: volume', () => {
  test('200,000 random keys: no false duplicates, and every one is found again', () => {
    const index = new DedupIndex(3600_000);
    const keys = Array.from({ length: 200_000 }, () => crypto.randomUUID());
    let falseDuplicates = 0;
    for (const k of keys) if (!index.add(5, k)) falseDuplicates++;
    assert.equal(falseDuplicates, 0);
    assert.equal(index.size, 200_000);
    let missed = 0;
    for (const k of keys) if (index.add(5, k)) missed++;
    assert.equal(missed, 0);
    assert.equal(index.size, 200_000);
  });
});
