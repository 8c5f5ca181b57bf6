/**
 * The pooled spread: a noisy series is judged by the scatter of all its recent residuals, not only
 * by the few same-phase values of earlier cycles (which are quiet by chance now and then).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PERIODS, scoreSeries } from '../../src/detect/anomaly.js';
import { select } from '../../src/detect/baseline.js';
import { episodes } from '../../src/detect/episodes.js';
import { mulberry32 } from '../../src/demo/random.js';

/** Poisson draw (Knuth), enough for the small means here */
function poisson(rand: () => number, mean: number): number {
  const l = Math.exp(-mean);
  let k = 0;
  for (let p = rand(); p > l; p *= rand()) k++;
  return k;
}

/**
 * Hourly checkout conversion of a small shop over `days`: checkouts follow a daily rhythm (10 an
 * hour at night, 30 by day), each converts with probability 0.6; an hour without checkouts is a gap.
 */
function conversion(days: number, seed: number, rate = (_hour: number) => 0.6): { values: (number | null)[]; samples: number[] } {
  const rand = mulberry32(seed);
  const samples: number[] = [];
  const values = Array.from({ length: days * 24 }, (_, i) => {
    const h = i % 24;
    const checkouts = poisson(rand, h < 7 ? 10 : 30);
    let orders = 0;
    for (let k = 0; k < checkouts; k++) if (rand() < rate(i)) orders++;
    samples.push(checkouts);
    return checkouts ? orders / checkouts : null;
  });
  return { values, samples };
}

describe('pooled spread', () => {
  test("a small shop's hourly conversion gives fewer than one signal a week, scored as binomial over its checkouts or, without them, robustly", () => {
    for (const seed of [1, 2, 3, 4, 5])
      for (const withSamples of [true, false]) {
        const { values, samples } = conversion(28, seed);
        const points = scoreSeries(values, { periods: PERIODS['1h'], valueKind: 'fraction', samples: withSamples ? samples : undefined });
        assert.equal(points[0].model, withSamples ? 'binomial' : 'robust');
        // signals are read once the daily period is in use (three days of history): 25 days
        const found = episodes(points, 'fraction').filter((e) => e.start >= 3 * 24);
        assert.ok(
          found.length <= 3,
          `seed ${seed} ${withSamples ? 'binomial' : 'robust'}: ${found.length} signals at ${found.map((e) => e.start)}`,
        );
      }
  });

  test('a day-time halving of that conversion for six hours is still found, as one drop', () => {
    const start = 27 * 24 + 10;
    const { values, samples } = conversion(28, 6, (i) => (i >= start && i < start + 6 ? 0.3 : 0.6));
    const points = scoreSeries(values, { periods: PERIODS['1h'], valueKind: 'fraction', samples });
    const found = episodes(points, 'fraction').filter((e) => e.start >= start - 1 && e.start < start + 6);
    assert.equal(found.length, 1);
    assert.equal(found[0].direction, 'drop');
  });

  test('select finds the k-th smallest value as sorting does', () => {
    const rand = mulberry32(9);
    for (const n of [1, 2, 7, 100]) {
      const xs = Array.from({ length: n }, () => Math.round(rand() * 20));
      const sorted = [...xs].sort((a, b) => a - b);
      for (let k = 0; k < n; k++) assert.equal(select([...xs], n, k), sorted[k]);
    }
  });
});
