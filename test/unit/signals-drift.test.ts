/**
 * The pure parts of drift and event-volume detection: merging daily profiles into a baseline,
 * schema changes and PSI results as signals, bounded scope keys, and the dispersion estimate that
 * scores events which come several to a session.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { profileEvents, schemaChanges } from '../../src/detect/schema-drift.js';
import { psi } from '../../src/detect/psi.js';
import { boundedKey, distributionSignal, mergeProfiles, schemaSignal } from '../../src/signals/drift/drift.js';
import { PERIODS, scoreSeries } from '../../src/detect/anomaly.js';
import { episodes } from '../../src/detect/episodes.js';
import { mulberry32 } from '../../src/demo/random.js';

const rows = (event: string, props: Record<string, unknown>[]) => props.map((properties) => ({ event, properties }));

describe('mergeProfiles', () => {
  test('merging daily profiles gives the profile of all their events when values are few', () => {
    const a = rows('Order', [
      { plan: 'pro', amount: 1 },
      { plan: 'free', amount: null },
    ]);
    const b = rows('Order', [{ plan: 'team' }, { plan: 'pro', amount: 'x' }]);
    const c = rows('Ping', [{}]);
    assert.deepEqual(mergeProfiles([profileEvents(a), profileEvents([...b, ...c])]), profileEvents([...a, ...b, ...c]));
    assert.deepEqual(mergeProfiles([]), {});
  });

  test('values stop being known once a day had too many or their union grows past 20; distinct is then a lower bound', () => {
    const many = (from: number, n: number) =>
      rows(
        'E',
        Array.from({ length: n }, (_, i) => ({ id: `v${from + i}` })),
      );
    const merged = mergeProfiles([profileEvents(many(0, 15)), profileEvents(many(15, 15))]);
    assert.deepEqual(merged.E.properties.id, { types: { string: 30 }, distinct: 30 });
    const wide = mergeProfiles([profileEvents(many(0, 25)), profileEvents(many(0, 3))]);
    assert.deepEqual(wide.E.properties.id, { types: { string: 28 }, distinct: 25 });
    assert.equal(wide.E.count, 28);
    const reversed = mergeProfiles([profileEvents(many(0, 3)), profileEvents(many(0, 25))]);
    assert.deepEqual(reversed.E.properties.id, { types: { string: 28 }, distinct: 25 });
  });

  test('a property seen only as null has no values, before and after merging', () => {
    const merged = mergeProfiles([profileEvents(rows('E', [{ x: null }])), profileEvents(rows('E', [{ x: null }]))]);
    assert.deepEqual(merged.E.properties.x, { types: { null: 2 }, distinct: 0 });
  });
});

describe('drift signals', () => {
  const DAY = Date.parse('2026-05-04T00:00:00Z');
  const baseline = profileEvents(
    rows(
      'Order',
      Array.from({ length: 40 }, (_, i) => ({ plan: ['free', 'pro'][i % 2], amount: i })),
    ),
  );
  const today = profileEvents([
    ...rows(
      'Order',
      Array.from({ length: 30 }, (_, i) => ({ plan: ['free', 'pro', 'enterprise'][i % 3], amount: String(i) })),
    ),
    ...rows('Refund', [{}, {}]),
  ]);

  test('each schema change is a signal of its kind, keyed by event, property, kind (and value), anchored at the day', () => {
    const signals = schemaChanges(baseline, today).map((c) => schemaSignal(c, DAY, today, 7));
    assert.deepEqual(
      signals.map((s) => [s.scopeKey, s.kind, s.severity, s.value]),
      [
        ['schema:Order:amount:type_changed', 'type_changed', 'warning', 30],
        ['schema:Order:plan:new_value:enterprise', 'new_value', 'info', 10],
        ['schema:Refund:*:new_event', 'new_event', 'info', 2],
      ],
    );
    for (const s of signals) {
      assert.equal(s.scope, 'schema');
      assert.equal(s.bucket, DAY);
      assert.equal(s.endBucket, DAY);
      assert.equal(s.direction, null);
      assert.match(String(s.details.detail), /\.$/);
    }
    assert.deepEqual([signals[0].details.before, signals[0].details.after], ['number', 'string']);
  });

  test('a PSI result is a distribution signal: info when minor, warning when significant, with the top movers', () => {
    const significant = distributionSignal('Order', 'plan', psi({ a: 25, b: 25 }, { a: 45, b: 5 }), DAY, {
      baseline: 50,
      current: 50,
      baselineDays: 7,
    });
    assert.equal(significant.kind, 'distribution_drift');
    assert.equal(significant.scopeKey, 'distribution:Order:plan');
    assert.equal(significant.severity, 'warning');
    assert.equal(significant.details.band, 'significant');
    assert.equal(significant.value, significant.details.adjusted);
    assert.ok(significant.score > 0.5 && significant.score < 1);
    assert.deepEqual(
      (significant.details.top as { value: string }[]).map((c) => c.value),
      ['b', 'a'],
    );
    const r = psi({ a: 500, b: 500 }, { a: 700, b: 300 });
    assert.equal(r.band, 'minor');
    assert.equal(distributionSignal('Order', 'plan', r, DAY, { baseline: 1000, current: 1000, baselineDays: 7 }).severity, 'info');
  });

  test('a scope key longer than its column keeps its head and a hash of the whole', () => {
    assert.equal(boundedKey('schema:Order:plan:new_value:x'), 'schema:Order:plan:new_value:x');
    const long = `schema:Order:plan:new_value:${'v'.repeat(400)}`;
    const k = boundedKey(long);
    assert.equal(k.length, 300);
    assert.ok(k.startsWith('schema:Order:plan:new_value:vvv'));
    assert.notEqual(boundedKey(long + 'w'), k);
  });
});

describe("the detector reads a count series' own dispersion", () => {
  const HOURS = 21 * 24;
  /** hourly counts with a daily shape: sessions Poisson, each with `perSession()` events */
  function series(seed: number, perSession: (r: () => number) => number) {
    const r = mulberry32(seed);
    return Array.from({ length: HOURS }, (_, h) => {
      const lambda = 40 + 30 * Math.sin((2 * Math.PI * (h % 24)) / 24);
      let sessions = 0;
      // biome-ignore lint/correctness/useValidForDirection: t grows by exponential gaps (a Poisson process)
      for (let t = -Math.log(1 - r()); t < lambda; t += -Math.log(1 - r())) sessions++;
      let n = 0;
      for (let s = 0; s < sessions; s++) n += perSession(r);
      return n;
    });
  }
  /** the band's width at the last bucket in units of √expected (a Poisson series' is about 2 × threshold) */
  const width = (values: number[]) => {
    const p = scoreSeries(values, { periods: PERIODS['1h'], valueKind: 'count' }).at(-1)!;
    return (p.upper! - p.lower!) / Math.sqrt(p.expected!);
  };

  test('events that come 1 to 8 to a session get a band about √(variance / mean) times wider than Poisson ones, and neither fires', () => {
    const poisson = series(1, () => 1);
    const pageViews = series(2, (r) => 1 + Math.floor(r() * 8));
    // per session 1-8 events: variance / mean = E[k²] / E[k] = 25.5 / 4.5 ≈ 5.7, so about 2.4 times wider
    const ratio = width(pageViews) / width(poisson);
    assert.ok(ratio > 1.6 && ratio < 4, String(ratio));
    for (const values of [poisson, pageViews]) {
      assert.deepEqual(
        episodes(scoreSeries(values, { periods: PERIODS['1h'], valueKind: 'count' }), 'count').map((e) => e.start),
        [],
      );
    }
  });
});
