/** The scenarios of ../shared/detection.md, as tests (hourly unless said; window 14, min history 7, threshold 3, minimum samples 10). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PERIODS, scoreSeries, type DetectorOptions } from '../../src/detect/anomaly.js';
import { episodes } from '../../src/detect/episodes.js';

const HOURLY: DetectorOptions = {
  periods: PERIODS['1h'],
  valueKind: 'count',
  sensitivity: { z: 3 },
  minSamples: 10,
  rollingWindow: 14,
  minHistory: 7,
};
const flat = (n: number, v: number) => new Array(n).fill(v) as number[];
const flagged = (values: (number | null)[], o: Partial<DetectorOptions> = {}) =>
  scoreSeries(values, { ...HOURLY, ...o }).filter((p) => p.isAnomaly);
const last = (values: (number | null)[], o: Partial<DetectorOptions> = {}) => scoreSeries(values, { ...HOURLY, ...o }).at(-1)!;

/** a daily shape: night 12, day 35, peak 60 (12:00-14:59) */
const dailyShape = (h: number) => (h < 7 || h >= 22 ? 12 : h >= 12 && h < 15 ? 60 : 35);

describe('detection scenarios', () => {
  test('1. a flat 10 per hour: no anomaly; 10 -> 40 is a spike; 10 -> 0 is a drop', () => {
    assert.deepEqual(flagged(flat(48, 10)), []);
    const spike = last([...flat(30, 10), 40]);
    assert.equal(spike.isAnomaly, true);
    assert.equal(spike.direction, 'spike');
    const drop = last([...flat(30, 10), 0]);
    assert.equal(drop.isAnomaly, true);
    assert.equal(drop.direction, 'drop');
  });

  // departs from detection.md: the spread of a count is Poisson on its variance-stabilised scale
  // (Anscombe), not a floor of √expected, so the band is asymmetric as Poisson noise is
  test('2. flat 10 then 30: a spike whose band is Poisson around 10 (upper ≈ 21, where P(X ≥ 21 | 10) ≈ 0.1 %); flat 10 then 14: nothing', () => {
    const p = last([...flat(30, 10), 30]);
    assert.equal(p.isAnomaly, true);
    assert.equal(p.model, 'poisson');
    assert.ok(p.upper! > 19 && p.upper! < 24, `upper ${p.upper}`);
    assert.ok(p.lower! > 1.5 && p.lower! < 10 - 2 * Math.sqrt(10), `lower ${p.lower}`);
    assert.equal(last([...flat(30, 10), 14]).isAnomaly, false);
  });

  test('3. a fractional series at 0.5, then 0.9: flagged; 0.5 then 0.508: not', () => {
    const o = { valueKind: 'fraction' as const };
    assert.equal(last([...flat(30, 0.5), 0.9], o).isAnomaly, true);
    assert.equal(last([...flat(30, 0.5), 0.508], o).isAnomaly, false);
  });

  // departs from detection.md: the floor is on the samples behind a bucket (a count: the larger of
  // actual and expected), not on the expected value, so a spike from a small base fires (issue 17)
  test('4. only 6 points of history: nothing flagged; minimum samples 20 with a baseline of 10: a drop cannot fire, a jump to 100 can', () => {
    assert.deepEqual(flagged([...flat(6, 10), 100]), []);
    assert.equal(last([...flat(6, 10), 100]).expected, null);
    assert.equal(last([...flat(30, 10), 0], { minSamples: 20 }).isAnomaly, false);
    assert.equal(last([...flat(30, 10), 0], { minSamples: 20 }).flaggable, false);
    assert.equal(last([...flat(30, 10), 100], { minSamples: 20 }).isAnomaly, true);
  });

  test('5. baseline 1,000: 1,010 is not flagged (relative floor), 1,300 is', () => {
    assert.equal(last([...flat(30, 1000), 1010]).isAnomaly, false);
    assert.equal(last([...flat(30, 1000), 1300]).isAnomaly, true);
  });

  test('6. a daily shape over 10 days: no anomaly; 160 at a 09:00 slot is a spike expected above 30', () => {
    const days = Array.from({ length: 240 }, (_, i) => dailyShape(i % 24));
    assert.deepEqual(
      flagged(days).map((p) => p.index),
      [],
    );
    const withSpike = [...days, ...Array.from({ length: 9 }, (_, h) => dailyShape(h)), 160];
    const p = last(withSpike);
    assert.equal(p.isAnomaly, true);
    assert.equal(p.direction, 'spike');
    assert.ok(p.expected! > 30, `expected ${p.expected}`);
  });

  test('7. four weeks of an hour-of-week shape with weekends at 60 %: the trough is normal; trough / 4 is a drop; peak × 3 a spike', () => {
    const week = (i: number) => {
      const day = Math.floor(i / 24) % 7;
      return Math.round(dailyShape(i % 24) * 4 * (day >= 5 ? 0.6 : 1));
    };
    const series = Array.from({ length: 28 * 24 }, (_, i) => week(i));
    // the weekly period is used once three weeks precede a bucket: the fourth week is clean
    assert.deepEqual(
      flagged(series)
        .filter((p) => p.index >= 21 * 24)
        .map((p) => p.index),
      [],
    );
    const trough = 5 * 24 + 3; // a weekend night, in the fifth week
    const next = Array.from({ length: trough + 1 }, (_, i) => week(28 * 24 + i));
    const low = [...series, ...next.slice(0, -1), Math.round(next[trough] / 4)];
    assert.equal(last(low).direction, 'drop');
    const peak = 13; // a weekday noon
    const high = [...series, ...next.slice(0, peak), next[peak] * 3];
    assert.equal(last(high).direction, 'spike');
  });

  test('8. a level step to 6x held for 14 days: the last day has no flags (the baseline re-levels)', () => {
    const before = Array.from({ length: 21 * 24 }, (_, i) => dailyShape(i % 24) * 2);
    const after = Array.from({ length: 14 * 24 }, (_, i) => dailyShape(i % 24) * 12);
    const points = scoreSeries([...before, ...after], HOURLY);
    assert.deepEqual(
      points.filter((p) => p.isAnomaly && p.index >= before.length + 13 * 24).map((p) => p.index),
      [],
    );
    assert.ok(
      points.some((p) => p.isAnomaly && p.index >= before.length),
      'the step itself is seen',
    );
  });

  test('9. +30 % held for 5 days: exactly one level-shift signal near the step; a smooth ±3 % daily wave: none', () => {
    const base = (i: number) => 1000 * (dailyShape(i % 24) / 35);
    const before = Array.from({ length: 21 * 24 }, (_, i) => base(i));
    const after = Array.from({ length: 5 * 24 }, (_, i) => base(before.length + i) * 1.3);
    const signals = episodes(scoreSeries([...before, ...after], HOURLY), 'count');
    assert.equal(signals.length, 1, JSON.stringify(signals.map((s) => [s.kind, s.start, s.flagged])));
    assert.equal(signals[0].kind, 'level_shift');
    assert.ok(Math.abs(signals[0].start - before.length) <= 3, `anchored at ${signals[0].start}, step at ${before.length}`);
    const wave = Array.from({ length: 26 * 24 }, (_, i) => 1000 * (1 + 0.03 * Math.sin((2 * Math.PI * i) / 24)));
    assert.deepEqual(episodes(scoreSeries(wave, HOURLY), 'count'), []);
  });

  test('10. a business-hours event that stops: one drop, in working hours, not repeated by later runs; revive and stop again: a second', () => {
    const biz = (i: number) => {
      const h = i % 24;
      const day = Math.floor(i / 24) % 7;
      return day < 5 && h >= 9 && h < 17 ? 100 : 0;
    };
    // five weeks of it; signals are read once the weekly period is in use (three weeks of history)
    const live = Array.from({ length: 35 * 24 }, (_, i) => biz(i));
    const settled = (values: number[]) => episodes(scoreSeries(values, HOURLY), 'count').filter((s) => s.start >= 21 * 24);
    assert.deepEqual(settled(live), [], 'the weekly rhythm alone gives no signal');
    const stopAt = live.length;
    const stopped = [...live, ...flat(4 * 24, 0)];
    const signals = settled(stopped);
    assert.equal(signals.length, 1, JSON.stringify(signals.map((s) => [s.kind, s.start])));
    assert.equal(signals[0].kind, 'outage');
    const h = signals[0].start % 24;
    assert.ok(h >= 9 && h < 17, `announced at ${h}:00`);
    assert.ok(signals[0].start >= stopAt);
    // running again over a longer window gives the same signal (anchored at the same bucket)
    assert.deepEqual(
      settled([...stopped, ...flat(24, 0)]).map((s) => s.start),
      [signals[0].start],
    );
    const revived = [...stopped, ...Array.from({ length: 7 * 24 }, (_, i) => biz(stopped.length + i)), ...flat(3 * 24, 0)];
    const twice = settled(revived).filter((s) => s.direction === 'drop');
    assert.equal(twice.length, 2, JSON.stringify(twice.map((s) => [s.kind, s.start])));
  });

  test('11. no signal ever reports 0 actual against 0 expected', () => {
    const series = Array.from({ length: 30 * 24 }, (_, i) => (i % 24 < 8 ? 0 : 50 + (i % 7)));
    for (const p of scoreSeries([...series, 0, 0, 0], HOURLY)) assert.ok(!(p.isAnomaly && p.value === 0 && p.expected === 0));
  });

  test('12. a missing bucket on the time grid does not shift the phase: a clean series stays clean', () => {
    const days = Array.from({ length: 21 * 24 }, (_, i): number | null => dailyShape(i % 24) * 3);
    days[200] = null;
    days[333] = null;
    assert.deepEqual(
      flagged(days).map((p) => p.index),
      [],
    );
  });

  test('13. settling holds the newest buckets: a half-delivered newest bucket fires with settling 0, not with 1', () => {
    // eight days: every weekday has been seen (in its first week a series cannot drop on a weekday it has not seen)
    const series = [...flat(8 * 24, 100), 50];
    assert.equal(last(series, { settlingBuckets: 0 }).isAnomaly, true);
    const held = last(series, { settlingBuckets: 1 });
    assert.equal(held.isAnomaly, false);
    assert.equal(held.settling, true);
    assert.notEqual(held.expected, null, 'a settling bucket still has its band for charts');
  });
});

describe('forecast', () => {
  test('14. with too little history nothing is forecast; after two weeks of a daily shape the next 3 hours are within max(25 %, 5)', async () => {
    const { forecast } = await import('../../src/detect/forecast.js');
    assert.deepEqual(
      forecast(
        Array.from({ length: 30 }, (_, i) => dailyShape(i % 24)),
        PERIODS['1h'],
        3,
      ),
      [],
    );
    const history = Array.from({ length: 14 * 24 }, (_, i) => dailyShape(i % 24) + ((i * 7919) % 5) - 2);
    const next = forecast(history, PERIODS['1h'], 3);
    assert.equal(next.length, 3);
    next.forEach((f, h) => {
      const truth = dailyShape((history.length + h) % 24);
      assert.ok(Math.abs(f.value - truth) <= Math.max(0.25 * truth, 5), `step ${f.step}: ${f.value} against ${truth}`);
      assert.ok(f.lower <= f.value && f.value <= f.upper);
    });
  });

  test('a rising series is forecast to keep rising; gaps in the history are bridged', async () => {
    const { forecast } = await import('../../src/detect/forecast.js');
    const history: (number | null)[] = Array.from({ length: 14 * 24 }, (_, i) => 100 + i + 20 * Math.sin((2 * Math.PI * i) / 24));
    history[100] = null;
    history[101] = null;
    const [f] = forecast(history, PERIODS['1h'], 1);
    const truth = 100 + history.length + 20 * Math.sin((2 * Math.PI * history.length) / 24);
    assert.ok(Math.abs(f.value - truth) < 10, `${f.value} against ${truth}`);
  });
});
