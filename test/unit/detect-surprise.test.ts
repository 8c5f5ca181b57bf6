/** The anomaly likelihood behind `vigil detect`'s anomaly_score (src/detect/surprise.ts). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { scoreSeries } from '../../src/detect/anomaly.js';
import { DETECTION, SUPPRESS, WARMUP, anomalyLikelihood, logRarity } from '../../src/detect/surprise.js';
import { mulberry32 } from '../../src/demo/random.js';

/** a noisy series around 100 (uniform noise ±10), scored by the detector without seasonality */
function noisy(n: number, seed: number, shift = (_i: number) => 0): number[] {
  const rand = mulberry32(seed);
  return Array.from({ length: n }, (_, i) => 100 + 20 * (rand() - 0.5) + shift(i));
}
const likelihood = (values: number[]) => anomalyLikelihood(scoreSeries(values, { periods: [], valueKind: 'fraction' }));
const firstAbove = (scores: number[], from = 0) => scores.findIndex((s, i) => i >= from && s >= DETECTION);

describe('anomaly likelihood', () => {
  test('a log scale of rarity: 0 at the mean, 0.5 at a tail of 1 in 100,000, 1 at 1 in 10^10', () => {
    assert.equal(logRarity(5, 5, 1), 0);
    assert.equal(logRarity(3, 5, 1), 0, 'below the mean is not rare');
    assert.ok(Math.abs(logRarity(4.2649, 0, 1) - 0.5) < 0.01, `${logRarity(4.2649, 0, 1)}`);
    assert.ok(logRarity(7, 0, 1) > 0.99);
    assert.equal(logRarity(50, 0, 1), 1);
  });

  test('a steady noisy series rarely reaches a detection (under 1 bucket in 300); nothing is scored before the warm-up', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const scores = likelihood(noisy(3000, seed));
      const detections = scores.filter((s) => s >= DETECTION).length;
      assert.ok(detections < 10, `seed ${seed}: ${detections} detections`);
      assert.ok(scores.slice(0, WARMUP).every((s) => s === 0));
    }
  });

  test('a level shift of three noise widths is detected within a few buckets of its start', () => {
    const scores = likelihood(noisy(3000, 4, (i) => (i >= 2000 ? 60 : 0)));
    const at = firstAbove(scores, 1990);
    assert.ok(at >= 2000 && at <= 2005, `first detection at ${at}`);
  });

  test('after a detection the score stays below it for a while; a later incident is detected again', () => {
    const values = noisy(4000, 6, (i) => ((i >= 2000 && i < 2030) || (i >= 3000 && i < 3030) ? 80 : 0));
    const scores = likelihood(values);
    const first = firstAbove(scores, 2000);
    assert.ok(first >= 2000 && first < 2030, `first at ${first}`);
    assert.ok(
      scores.slice(first + 1, first + 1 + SUPPRESS).every((s) => s < DETECTION),
      'one detection per incident',
    );
    const second = firstAbove(scores, 3000);
    assert.ok(second >= 3000 && second < 3030, `second at ${second}`);
  });

  test('a value beyond every earlier value (by more than 5 % of their range) scores 1', () => {
    const values = noisy(1000, 7);
    const max = Math.max(...values);
    const min = Math.min(...values);
    values.push(max + 0.2 * (max - min));
    assert.equal(likelihood(values).at(-1), 1);
  });

  test("causal: a bucket's score does not change when later buckets arrive", () => {
    const values = noisy(2500, 8, (i) => (i >= 2200 ? 40 : 0));
    const all = likelihood(values);
    for (const n of [500, 2100, 2210]) assert.deepEqual(likelihood(values.slice(0, n)), all.slice(0, n));
  });
});
