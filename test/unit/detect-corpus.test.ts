/** The labelled corpus of bench:detect-quality: deterministic, large enough, labels that say what happened. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SHAPES, corpusForSeed, type CorpusSeries } from '../../bench/detect-corpus.js';

const mean = (xs: (number | null)[]) => {
  const v = xs.filter((x): x is number => x !== null);
  return v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
};

test('seeds 1-10 give at least 200 series of every shape; one seed gives the same series twice, another seed others', () => {
  const all: CorpusSeries[] = [];
  for (let seed = 1; seed <= 10; seed++) all.push(...corpusForSeed(seed, 2));
  assert.ok(all.length >= 200, `${all.length} series`);
  assert.deepEqual(new Set(all.map((s) => s.shape)), new Set(Object.keys(SHAPES)));
  assert.equal(new Set(all.map((s) => s.id)).size, all.length);
  assert.deepEqual(corpusForSeed(3, 1), corpusForSeed(3, 1));
  assert.notDeepEqual(corpusForSeed(3, 1)[1].values, corpusForSeed(4, 1)[1].values);
});

test('every window lies inside its series, after ten days; only the plain rhythm has none', () => {
  for (let seed = 1; seed <= 10; seed++) {
    for (const s of corpusForSeed(seed, 2)) {
      assert.equal(s.values.length, s.starts.length);
      assert.equal(s.windows.length === 0, s.shape === 'count-rhythm', s.id);
      for (const w of s.windows)
        assert.ok(w.start >= 10 * 24 && w.start < w.end && w.end <= s.values.length, `${s.id}: ${JSON.stringify(w)}`);
      if (s.valueKind === 'count')
        assert.ok(
          s.values.every((v) => v === null || (Number.isInteger(v) && v >= 0)),
          `${s.id}: counts are whole`,
        );
    }
  }
});

test('the labelled windows hold the effect: a spike is well above the same hours a week before, an outage well below', () => {
  for (let seed = 1; seed <= 10; seed++) {
    for (const s of corpusForSeed(seed, 2)) {
      const [w] = s.windows;
      if (!w) continue;
      const during = mean(s.values.slice(w.start, w.end));
      const weekBefore = mean(s.values.slice(w.start - 168, w.end - 168));
      if (s.shape === 'count-spike' || s.shape === 'spike-small-base' || s.shape === 'count-with-gaps')
        assert.ok(during > 2 * weekBefore, `${s.id}: ${during} vs ${weekBefore}`);
      if (s.shape === 'count-outage' || s.shape === 'holiday') assert.ok(during < 0.7 * weekBefore, `${s.id}: ${during} vs ${weekBefore}`);
    }
  }
});
