import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { stl, mstl } from '../../src/detect/stl.js';

// Seeded noise (mulberry32 + Box–Muller) so every run sees the same series.
function gaussian(seed: number): () => number {
  let a = seed >>> 0;
  const uniform = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const mean = (a: number[]): number => a.reduce((s, v) => s + v, 0) / a.length;
const std = (a: number[]): number => {
  const m = mean(a);
  return Math.sqrt(mean(a.map((v) => (v - m) ** 2)));
};
const maxDiff = (a: number[], b: number[]): number => Math.max(...a.map((v, i) => Math.abs(v - b[i])));
const rmsDiff = (a: number[], b: number[]): number => Math.sqrt(mean(a.map((v, i) => (v - b[i]) ** 2)));
function corr(a: number[], b: number[]): number {
  const ma = mean(a),
    mb = mean(b);
  let ab = 0,
    aa = 0,
    bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += (a[i] - ma) * (b[i] - mb);
    aa += (a[i] - ma) ** 2;
    bb += (b[i] - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}
const TAU = 2 * Math.PI;

// 30 days hourly: line 100 + 0.05·t, daily sine of amplitude 10, noise σ = 0.5.
const N = 24 * 30;
const noise = range(N).map(gaussian(7));
const line = range(N).map((t) => 100 + 0.05 * t);
const daily = range(N).map((t) => 10 * Math.sin((TAU * t) / 24));
const series = range(N).map((t) => line[t] + daily[t] + 0.5 * noise[t]);

describe('stl', () => {
  test('recovers a line plus a daily sine plus small noise', () => {
    const d = stl(series, 24);
    const inner = (a: number[]): number[] => a.slice(24, N - 24); // LOESS is least sure at the ends
    assert.ok(maxDiff(inner(d.trend), inner(line)) < 0.35, `trend max error inside ${maxDiff(inner(d.trend), inner(line))}`);
    assert.ok(maxDiff(d.trend, line) < 1, `trend max error ${maxDiff(d.trend, line)}`);
    assert.ok(corr(d.seasonal, daily) > 0.999, `seasonal correlation ${corr(d.seasonal, daily)}`);
    const amplitude = Math.SQRT2 * std(d.seasonal);
    assert.ok(Math.abs(amplitude - 10) < 0.5, `amplitude ${amplitude}`);
    assert.ok(corr(d.remainder, noise) > 0.8, `remainder vs noise ${corr(d.remainder, noise)}`);
    assert.ok(Math.abs(std(d.remainder) - 0.5) < 0.1, `remainder σ ${std(d.remainder)}`);
    for (let c = 0; c < N; c += 24) {
      const cycleMean = mean(d.seasonal.slice(c, c + 24));
      assert.ok(Math.abs(cycleMean) < 0.1, `cycle at ${c}: seasonal mean ${cycleMean}`);
    }
    for (let i = 0; i < N; i++) assert.ok(Math.abs(d.trend[i] + d.seasonal[i] + d.remainder[i] - series[i]) < 1e-9);
  });

  test('robust: five huge outliers barely move trend and seasonal; they land in the remainder with weight ≈ 0', () => {
    const at = [40, 200, 333, 500, 690];
    const dirty = series.slice();
    for (const i of at) dirty[i] += 500;
    const clean = stl(series, 24),
      robust = stl(dirty, 24);
    assert.ok(maxDiff(robust.trend, clean.trend) < 0.3, `trend moved ${maxDiff(robust.trend, clean.trend)}`);
    // Dropping a point moves the seasonal of its phase by about the noise (σ 0.5), most at a subseries' end.
    assert.ok(rmsDiff(robust.seasonal, clean.seasonal) < 0.2, `seasonal moved ${rmsDiff(robust.seasonal, clean.seasonal)} (rms)`);
    assert.ok(maxDiff(robust.seasonal, clean.seasonal) < 2, `seasonal moved ${maxDiff(robust.seasonal, clean.seasonal)}`);
    for (const i of at) {
      assert.ok(Math.abs(robust.remainder[i] - 500) < 5, `remainder at ${i}: ${robust.remainder[i]}`);
      assert.ok(robust.weights[i] < 0.01, `weight at ${i}: ${robust.weights[i]}`);
    }
    assert.ok(mean(robust.weights) > 0.8);
    // The same without robustness is dragged far: the comparison above can fail.
    const plain = stl(dirty, 24, { robust: false });
    assert.ok(maxDiff(plain.trend, clean.trend) > 5 && rmsDiff(plain.seasonal, clean.seasonal) > 5);
    assert.deepEqual(new Set(plain.weights), new Set([1]));
  });

  test('a level step: the trend follows it within one trend window', () => {
    const step = 360,
      nt = 47; // the default trend window for period 24, seasonal window 7
    const y = series.map((v, t) => v - 0.05 * t + (t >= step ? 30 : 0));
    const d = stl(y, 24);
    for (let t = 0; t < N; t++) {
      if (t < step - nt) assert.ok(Math.abs(d.trend[t] - 100) < 1, `before: trend[${t}] = ${d.trend[t]}`);
      if (t >= step + nt) assert.ok(Math.abs(d.trend[t] - 130) < 1, `after: trend[${t}] = ${d.trend[t]}`);
    }
    assert.ok(d.trend[step - 15] < 115 && d.trend[step + 15] > 115, 'the trend crosses halfway near the step');
    assert.ok(corr(d.seasonal, daily) > 0.99);
  });

  test('exact: a purely periodic series is its seasonal minus the mean, with a constant trend', () => {
    const shape = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8];
    const y = range(120).map((t) => shape[t % 12]);
    const m = mean(y);
    for (const opts of [{}, { robust: false }, { seasonalWindow: Infinity }, { seasonalWindow: 13, trendWindow: 31 }]) {
      const d = stl(y, 12, opts);
      assert.ok(
        maxDiff(
          d.seasonal,
          y.map((v) => v - m),
        ) < 1e-6,
        JSON.stringify(opts),
      );
      assert.ok(
        maxDiff(
          d.trend,
          y.map(() => m),
        ) < 1e-6,
        JSON.stringify(opts),
      );
      assert.ok(Math.max(...d.remainder.map(Math.abs)) < 1e-6 && Math.min(...d.weights) > 0.99, JSON.stringify(opts));
    }
  });

  test('exact: a pure line has no seasonal and is its own trend', () => {
    const y = range(200).map((t) => -3 + 0.7 * t);
    for (const opts of [{}, { robust: false }]) {
      const d = stl(y, 24, opts);
      assert.ok(Math.max(...d.seasonal.map(Math.abs)) < 1e-6, JSON.stringify(opts));
      assert.ok(maxDiff(d.trend, y) < 1e-6, JSON.stringify(opts));
    }
  });

  test('matches statsmodels 0.13.5 STL (degrees 1, windows 7/23/13, jumps 1/3/2) on a fixed series', () => {
    // Produced offline with STL(y, period=12, seasonal=7, seasonal_jump=1, trend_jump=3, low_pass_jump=2,
    // robust=...).fit(inner_iter=2, outer_iter=6) for robust, .fit() otherwise.
    const y = range(96).map(
      (t) => 20 + 0.1 * t + 5 * Math.sin((TAU * t) / 12) + 2 * Math.cos((TAU * t) / 6) + 0.5 * Math.sin(0.37 * t * t),
    );
    y[10] += 30;
    y[50] -= 25;
    const at = [0, 5, 10, 31, 50, 64, 95];
    const reference = {
      robust: {
        trend: [20.05237103, 20.50711355, 20.97932457, 23.13388428, 25.05794993, 26.56497246, 29.71295379],
        seasonal: [2.004889271, 3.551986855, -5.2032775, -1.723467423, 3.384541104, 3.645078764, -1.820797659],
        weights: [0.9917993217, 0.9974552561, 0, 0.9772090544, 0, 0.9998482949, 0.8260265646],
      },
      plain: {
        trend: [21.89475519, 22.71746496, 23.33929335, 23.21864737, 23.14760869, 26.50433469, 29.97506044],
        seasonal: [-0.3201727239, 1.587015305, 11.65953011, -1.742049103, -3.089079177, 4.017119734, -2.127214617],
        weights: [1, 1, 1, 1, 1, 1, 1],
      },
    };
    for (const robust of [true, false]) {
      const d = stl(y, 12, { robust }),
        ref = reference[robust ? 'robust' : 'plain'];
      for (const part of ['trend', 'seasonal', 'weights'] as const) {
        assert.ok(
          maxDiff(
            at.map((i) => d[part][i]),
            ref[part],
          ) < 1e-7,
          `${robust ? 'robust' : 'plain'} ${part}: ${at.map((i) => d[part][i])}`,
        );
      }
    }
  });

  test('input errors throw RangeError with clear messages', () => {
    assert.throws(() => stl([1, 2, Number.NaN, 4, 5, 6], 2), { name: 'RangeError', message: /values\[2\] is NaN.*interpolate/ });
    assert.throws(() => stl([1, 2, 3, Infinity], 2), { name: 'RangeError', message: /values\[3\] is Infinity/ });
    assert.throws(() => stl(series, 1), { name: 'RangeError', message: /period must be an integer ≥ 2, got 1/ });
    assert.throws(() => stl(series, 24.5), { name: 'RangeError', message: /period must be an integer/ });
    assert.throws(() => stl(series.slice(0, 47), 24), { name: 'RangeError', message: /at least 2 × period = 48 values .*got 47/ });
    assert.throws(() => stl(series, 24, { seasonalWindow: 1 }), {
      name: 'RangeError',
      message: /option seasonalWindow must be an integer ≥ 3/,
    });
    assert.throws(() => stl(series, 24, { trendWindow: 10.5 }), { name: 'RangeError', message: /trendWindow/ });
    assert.throws(() => stl(series, 24, { innerIterations: 0 }), { name: 'RangeError', message: /innerIterations/ });
    assert.throws(() => mstl(series, []), { name: 'RangeError', message: /at least one period/ });
    assert.throws(() => mstl([1, Number.NaN], [2]), { name: 'RangeError', message: /mstl: values\[1\] is NaN/ });
    assert.throws(() => mstl(series, [24, 0]), { name: 'RangeError', message: /mstl: period must be an integer ≥ 2, got 0/ });
    assert.equal(stl(series.slice(0, 48), 24).trend.length, 48, 'exactly two cycles is enough');
  });
});

describe('mstl', () => {
  // Six weeks hourly: a line, a daily sine (amplitude 20), a weekly shape (weekends low), noise σ = 1.
  const n = 168 * 6;
  const rand = gaussian(11);
  const trend = range(n).map((t) => 200 + 0.02 * t);
  const day = range(n).map((t) => 20 * Math.sin((TAU * t) / 24));
  const week = range(n).map((t) => 15 * Math.cos((TAU * t) / 168) + 6 * Math.sin((2 * TAU * t) / 168));
  const y = range(n).map((t) => trend[t] + day[t] + week[t] + rand());

  test('recovers trend, daily and weekly components over six weeks', () => {
    const d = mstl(y, [24, 168]);
    assert.ok(corr(d.seasonals[0], day) > 0.95, `daily ${corr(d.seasonals[0], day)}`);
    assert.ok(corr(d.seasonals[1], week) > 0.95, `weekly ${corr(d.seasonals[1], week)}`);
    assert.ok(maxDiff(d.trend, trend) < 3, `trend max error ${maxDiff(d.trend, trend)}`);
    assert.ok(std(d.remainder) < 1.5, `remainder σ ${std(d.remainder)}`);
    const reversed = mstl(y, [168, 24]); // returned in the order given
    assert.ok(maxDiff(reversed.seasonals[0], d.seasonals[1]) < 1e-9 && maxDiff(reversed.seasonals[1], d.seasonals[0]) < 1e-9);
  });

  test('with one period it is stl', () => {
    assert.ok(maxDiff(mstl(series, [24], { seasonalWindow: 7 }).seasonals[0], stl(series, 24).seasonal) < 1e-9);
    const d = mstl(series, [24]),
      s = stl(series, 24); // default windows differ: 11 against 7
    assert.ok(corr(d.seasonals[0], s.seasonal) > 0.999 && maxDiff(d.trend, s.trend) < 0.5);
  });

  test('a period with fewer than two whole cycles is skipped with a zero seasonal', () => {
    const short = y.slice(0, 300); // 12.5 days: two cycles of 24, not of 168
    const d = mstl(short, [168, 24]);
    assert.deepEqual(new Set(d.seasonals[0]), new Set([0]));
    assert.ok(corr(d.seasonals[1], day.slice(0, 300)) > 0.95);
    const none = mstl(y.slice(0, 40), [24, 168]); // nothing usable: a smooth trend, zero seasonals
    assert.ok(none.seasonals.every((s) => s.every((v) => v === 0)) && none.trend.length === 40);
    for (let i = 0; i < 40; i++) assert.ok(Math.abs(none.trend[i] + none.remainder[i] - y[i]) < 1e-9);
  });
});

test('speed: 1,000 series of 2,000 points (stl, period 24) and 50 (mstl, 24 + 168)', () => {
  const make = (seed: number): number[] => {
    const r = gaussian(seed);
    return range(2000).map((t) => 100 + 0.01 * t + 10 * Math.sin((TAU * t) / 24) + 5 * Math.sin((TAU * t) / 168) + r());
  };
  const many = range(1000).map(make);
  let start = performance.now();
  for (const s of many) stl(s, 24);
  const stlMs = performance.now() - start;
  start = performance.now();
  for (const s of many.slice(0, 50)) mstl(s, [24, 168]);
  const mstlMs = performance.now() - start;
  console.log(
    `stl: 1,000 × 2,000 points in ${stlMs.toFixed(0)} ms (${(stlMs / 1000).toFixed(2)} ms each); ` +
      `mstl 24+168: 50 × 2,000 points in ${mstlMs.toFixed(0)} ms (${(mstlMs / 50).toFixed(2)} ms each)`,
  );
});
