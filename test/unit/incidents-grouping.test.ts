import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { higherSeverity } from '../../src/detect/severity.js';
import {
  coverageMatches,
  eventsOfMetric,
  healthyFrom,
  identityOf,
  isRecovery,
  mean,
  median,
  movedTogether,
  opensIncident,
  pearson,
  raiseSensitivity,
  relatedByDefinition,
  resolvesOnCoverage,
  rootOrder,
  seasonalDiff,
  severityOfSignal,
  startedTogether,
  stepOf,
  titleOf,
  withinWindow,
} from '../../src/incidents/grouping.js';
import { random, rhythm } from '../helpers/hourly-events.js';
import type { Signal } from '../../src/signals/store.js';

const HOUR = 3_600_000;

function signal(over: Partial<Signal> = {}): Signal {
  return {
    id: 1,
    projectId: 1,
    scope: 'metric',
    scopeKey: 'metric:1',
    metricId: 1,
    bucket: 100 * HOUR,
    endBucket: 100 * HOUR,
    kind: 'drop',
    direction: 'down',
    value: 57,
    expected: 100,
    lower: 80,
    upper: 120,
    z: -5,
    score: 0.6,
    severity: 'warning',
    details: { interval: '1h', threshold: 4 },
    createdAt: 0,
    updatedAt: 0,
    ...over,
  };
}

describe('incidents grouping: identity, severity, title', () => {
  test('identity is scope, breakdown and direction, never the bucket', () => {
    assert.deepEqual(identityOf(signal()), { scopeKey: 'metric:1', breakdown: '', direction: 'down' });
    assert.deepEqual(identityOf(signal({ bucket: 5, details: { breakdown: 'DE' } })), {
      scopeKey: 'metric:1',
      breakdown: 'DE',
      direction: 'down',
    });
  });

  test('info signals never open incidents; a threshold recovery is a recovery', () => {
    assert.equal(opensIncident(signal()), true);
    assert.equal(opensIncident(signal({ severity: 'info', scope: 'schema', kind: 'new_event' })), false);
    const recovery = signal({ scope: 'threshold', scopeKey: 'rule:3', kind: 'recovery', severity: 'info' });
    assert.equal(opensIncident(recovery), false);
    assert.equal(isRecovery(recovery), true);
    assert.equal(isRecovery(signal()), false);
  });

  test('severity: a rule maps from its severity, an anomaly from its size', () => {
    assert.equal(severityOfSignal(signal({ scope: 'threshold', severity: 'warning' })), 'warning');
    assert.equal(severityOfSignal(signal({ scope: 'threshold', severity: 'critical' })), 'critical');
    assert.equal(severityOfSignal(signal({ kind: 'outage', value: 0, z: -4.5 })), 'critical');
    assert.equal(severityOfSignal(signal({ value: 45, expected: 100, z: -5 })), 'critical', '55 % below');
    assert.equal(severityOfSignal(signal({ value: 75, expected: 100, z: -5 })), 'warning', '25 % below');
    assert.equal(severityOfSignal(signal({ value: 90, expected: 100, z: -4.5 })), 'info', '10 %, z just past the threshold');
    assert.equal(severityOfSignal(signal({ value: 90, expected: 100, z: -9 })), 'warning', 'z twice the threshold');
    assert.equal(severityOfSignal(signal({ value: 90, expected: 100, z: -12 })), 'critical', 'z three times the threshold');
    assert.equal(
      severityOfSignal(signal({ value: 90, expected: 100, z: -9, details: { threshold: 5 } })),
      'info',
      "the signal's own threshold",
    );
    assert.equal(higherSeverity('info', 'critical'), 'critical');
    assert.equal(higherSeverity('critical', 'warning'), 'critical');
  });

  test('titles say what moved and by how much', () => {
    assert.equal(titleOf(signal({ value: 57, expected: 100 }), 'checkout_conversion'), 'checkout_conversion dropped 43% below expected');
    assert.equal(
      titleOf(signal({ kind: 'spike', direction: 'up', value: 260, expected: 120 }), 'orders'),
      'orders rose 117% above expected',
    );
    assert.equal(
      titleOf(signal({ scope: 'event', scopeKey: 'event:signup', metricId: null, kind: 'outage', details: { event: 'signup' } })),
      'event signup volume outage',
    );
    assert.equal(
      titleOf(signal({ scope: 'event', scopeKey: 'event:signup', metricId: null, value: 40, expected: 100 })),
      'event signup volume dropped 60% below expected',
    );
    assert.equal(
      titleOf(
        signal({
          scope: 'threshold',
          scopeKey: 'rule:3',
          kind: 'breach',
          value: 130,
          details: { ruleName: 'too many', condition: { operator: '>', value: 100 }, compared: 130 },
        }),
        'orders',
      ),
      'rule "too many" breached: orders > 100 (was 130)',
    );
    assert.equal(titleOf(signal({ expected: null }), 'x'), 'x drop');
    assert.ok(titleOf(signal(), 'n'.repeat(600)).length <= 500);
  });

  test("step from the signal's interval, an hour for event volume, a day for drift", () => {
    assert.equal(stepOf(signal({ details: { interval: '15m' } })), 15 * 60_000);
    assert.equal(stepOf(signal({ scope: 'event', details: {} })), HOUR);
    assert.equal(stepOf(signal({ scope: 'schema', details: {} })), 24 * HOUR);
    assert.equal(stepOf(signal({ scope: 'threshold', details: {} })), null);
  });
});

describe('incidents grouping: relations', () => {
  test('the events a metric is defined on', () => {
    assert.deepEqual(eventsOfMetric('event', { event: 'Signed Up' }), ['Signed Up']);
    assert.deepEqual(eventsOfMetric('event', { event: null }), [], 'all events relate to nothing in particular');
    assert.deepEqual(eventsOfMetric('ratio', { numerator: { event: 'Order Completed' }, denominator: { event: 'Checkout' } }), [
      'Order Completed',
      'Checkout',
    ]);
    assert.deepEqual(eventsOfMetric('per_user', { event: 'View' }), ['View']);
    assert.deepEqual(eventsOfMetric('aggregation', { event: 'Order Completed', property: 'revenue', fn: 'sum' }), ['Order Completed']);
    assert.deepEqual(eventsOfMetric('sql', { sql: 'select 1' }), []);
    assert.deepEqual(eventsOfMetric('gauge', { service: 'api', metric: 'latency' }), []);
  });

  test('related by definition: an event and a metric on it, two metrics sharing an event, two scopes of one metric', () => {
    const event = { scopeKey: 'event:Checkout', metricId: null, events: ['Checkout'] };
    const conversion = { scopeKey: 'metric:2', metricId: 2, events: ['Order Completed', 'Checkout'] };
    const orders = { scopeKey: 'metric:3', metricId: 3, events: ['Order Completed'] };
    const signups = { scopeKey: 'metric:4', metricId: 4, events: ['Signed Up'] };
    assert.equal(relatedByDefinition(event, conversion), true);
    assert.equal(relatedByDefinition(conversion, orders), true);
    assert.equal(relatedByDefinition(orders, signups), false);
    assert.equal(relatedByDefinition(event, orders), false);
    assert.equal(relatedByDefinition({ scopeKey: 'rule:9', metricId: 4, events: [] }, signups), true, 'a rule of the metric');
    assert.equal(relatedByDefinition(orders, orders), false, 'a scope goes by identity, never as related');
  });

  test('pearson: +1, -1, pairs with a gap skipped, too few points or no variance give null', () => {
    const xs = Array.from({ length: 20 }, (_, i) => i);
    assert.ok(
      Math.abs(
        pearson(
          xs,
          xs.map((x) => 3 * x + 1),
        )! - 1,
      ) < 1e-12,
    );
    assert.ok(
      Math.abs(
        pearson(
          xs,
          xs.map((x) => -x),
        )! + 1,
      ) < 1e-12,
    );
    assert.ok(Math.abs(pearson([...xs, null], [...xs, 5])! - 1) < 1e-12);
    assert.equal(pearson([1, 2, 3], [1, 2, 3]), null);
    assert.equal(
      pearson(
        xs,
        xs.map(() => 4),
      ),
      null,
    );
  });

  test('seasonal differences', () => {
    assert.deepEqual(seasonalDiff([1, 2, 3, 5, 7], 2), [2, 3, 4]);
    assert.deepEqual(seasonalDiff([1, null, 3, 5], 2), [2, null]);
    assert.deepEqual(seasonalDiff([1, 2, 3, 5, 7], 2, 2), [3, 4]);
  });

  test('a shared daily rhythm is not moving together; a drop in the same hours is', () => {
    const lag = 24;
    const n = 48 + lag;
    const r1 = random(1),
      r2 = random(2);
    const a = Array.from({ length: n }, (_, i) => rhythm(i % 24) * (1 + 0.05 * (2 * r1() - 1)));
    const b = Array.from({ length: n }, (_, i) => 2 * rhythm(i % 24) * (1 + 0.05 * (2 * r2() - 1)));
    assert.ok(pearson(a, b)! > 0.9, 'the raw series correlate through the rhythm alone');
    assert.equal(movedTogether(a, b, lag).together, false, `seasonal differences do not: r = ${movedTogether(a, b, lag).r}`);
    const dropA = a.map((v, i) => (i >= n - 3 ? v * 0.4 : v));
    const dropB = b.map((v, i) => (i >= n - 3 ? v * 0.5 : v));
    const r = movedTogether(dropA, dropB, lag);
    assert.equal(r.together, true, `r = ${r.r}`);
    const dropOther = b.map((v, i) => (i >= n - 30 && i < n - 27 ? v * 0.5 : v));
    assert.equal(movedTogether(dropA, dropOther, lag).together, false, 'drops at different hours');
  });
});

describe('incidents grouping: window, root, resolving, false positives', () => {
  test('the window: 2 buckets either side of the incident, at least 2 hours', () => {
    const incident = { startedBucket: 10 * HOUR, lastBucket: 12 * HOUR };
    assert.equal(withinWindow(incident, 14 * HOUR, HOUR), true);
    assert.equal(withinWindow(incident, 15 * HOUR, HOUR), false);
    assert.equal(withinWindow(incident, 8 * HOUR, HOUR), true);
    assert.equal(withinWindow(incident, 7 * HOUR, HOUR), false);
    assert.equal(withinWindow(incident, 14 * HOUR, 5 * 60_000), true, '2 hours for a 5m metric');
    assert.equal(withinWindow(incident, 16 * HOUR, 6 * HOUR), true, '2 buckets of 6h');
  });

  test('root order: earliest first; together, the event volume first (the cause)', () => {
    const metric = signal({ id: 1, bucket: 10 * HOUR });
    const event = signal({ id: 2, scope: 'event', scopeKey: 'event:Checkout', metricId: null, bucket: 10 * HOUR });
    const earlier = signal({ id: 3, bucket: 9 * HOUR });
    assert.deepEqual(
      [metric, event, earlier].sort(rootOrder).map((s) => s.id),
      [3, 2, 1],
    );
  });

  test('root order among co-moving series of one bucket: the total, then events, then metrics; then the largest relative change', () => {
    const b = 10 * HOUR;
    const ev = (id: number, event: string, value: number, expected: number) =>
      signal({
        id,
        scope: 'event',
        scopeKey: `event:${event}`,
        metricId: null,
        bucket: b,
        direction: value > expected ? 'up' : 'down',
        value,
        expected,
        details: { event, interval: '1h' },
      });
    const total = (value: number, expected: number) =>
      signal({
        id: 9,
        scope: 'volume',
        scopeKey: 'volume:total',
        metricId: null,
        bucket: b,
        direction: value > expected ? 'up' : 'down',
        value,
        expected,
        details: { interval: '1h' },
      });
    // a signup spike: Signed Up ×6 leads the identify calls it brings (×3) and the metric counting it
    const signups = ev(5, 'Signed Up', 600, 100),
      identify = ev(4, '$identify', 900, 300);
    const metric = signal({ id: 1, bucket: b, direction: 'up', value: 600, expected: 100 });
    assert.deepEqual(
      [identify, metric, signups].sort(rootOrder).map((s) => s.id),
      [5, 4, 1],
    );
    // an outage: everything at about 10 %; the total is the cause the events share
    const outage = [ev(2, 'Order Completed', 9, 100), ev(3, 'Page Viewed', 120, 1000), total(1500, 14000)];
    assert.deepEqual(
      outage.sort(rootOrder).map((s) => s.id),
      [9, 2, 3],
    );
    // one event's spike that lifted the total a little: the event is the cause
    assert.deepEqual(
      [total(15000, 14000), signups].sort(rootOrder).map((s) => s.id),
      [5, 9],
    );
    // every sign-up sends an $identify: the same numbers, and the tracked event is the cause, whichever was stored first
    const identifyCopy = ev(1, '$identify', 600, 100);
    assert.deepEqual(
      [identifyCopy, signups].sort(rootOrder).map((s) => s.id),
      [5, 1],
    );
    assert.deepEqual(
      [ev(1, '$identify', 610, 100), signups].sort(rootOrder).map((s) => s.id),
      [5, 1],
      'within 10 % is a tie',
    );
    // earlier still wins over everything
    const early = signal({ id: 7, bucket: b - HOUR });
    assert.deepEqual(
      [total(1500, 14000), early].sort(rootOrder).map((s) => s.id),
      [7, 9],
    );
  });

  test('started together: the same direction, onsets at most one bucket (of the coarser interval) apart', () => {
    const a = signal({ bucket: 10 * HOUR, direction: 'up' });
    assert.equal(startedTogether(a, signal({ bucket: 11 * HOUR, direction: 'up' })), true);
    assert.equal(startedTogether(a, signal({ bucket: 9 * HOUR, direction: 'up' })), true);
    assert.equal(startedTogether(a, signal({ bucket: 12 * HOUR, direction: 'up' })), false, 'two buckets apart');
    assert.equal(
      startedTogether(a, signal({ bucket: 10 * HOUR, direction: 'down' })),
      true,
      'opposite ways too (orders down, latency up): the correlation decides',
    );
    assert.equal(startedTogether(signal({ direction: null }), signal({ direction: null })), false, 'no direction, no co-movement');
    const daily = signal({ bucket: 10 * HOUR, direction: 'up', details: { interval: '1d' } });
    assert.equal(
      startedTogether(daily, signal({ bucket: 30 * HOUR, direction: 'up', scope: 'event', scopeKey: 'event:x', details: {} })),
      true,
      'within a day of a daily metric',
    );
  });

  test("the project's total volume: hourly, an anomaly by size, titled in words", () => {
    const total = signal({ scope: 'volume', scopeKey: 'volume:total', metricId: null, value: 57, expected: 100, details: {} });
    assert.equal(stepOf(total), HOUR);
    assert.equal(severityOfSignal(total), 'warning');
    assert.equal(titleOf(total), 'project event volume dropped 43% below expected');
    assert.equal(titleOf({ ...total, kind: 'outage' }), 'project event volume outage');
  });

  test('auto-resolve: N healthy buckets after the last flagged one; rules resolve on their recovery only', () => {
    assert.equal(healthyFrom(10 * HOUR, HOUR), 14 * HOUR, 'buckets 11, 12, 13 scored: until 14');
    assert.equal(healthyFrom(10 * HOUR, HOUR, 1), 12 * HOUR);
    assert.equal(resolvesOnCoverage('metric:1'), true);
    assert.equal(resolvesOnCoverage('rule:1'), false);
    assert.equal(coverageMatches('metric:1', 'metric:1'), true);
    assert.equal(coverageMatches('metric:1', 'metric:12'), false);
    assert.equal(coverageMatches('event:*', 'event:Signed Up'), true);
    assert.equal(coverageMatches('schema:*', 'event:x'), false);
  });

  test('a false positive raises the threshold one notch, bounded', () => {
    assert.equal(raiseSensitivity('high'), 'medium');
    assert.equal(raiseSensitivity('medium'), 'low');
    assert.equal(raiseSensitivity('low'), 6);
    assert.equal(raiseSensitivity(3.5), 4.5);
    assert.equal(raiseSensitivity(7.5), 8);
    assert.equal(raiseSensitivity(8), null);
    assert.equal(raiseSensitivity(12), null);
  });

  test('mean and median', () => {
    assert.equal(mean([]), null);
    assert.equal(median([]), null);
    assert.equal(mean([1, 2, 6]), 3);
    assert.equal(median([5, 1, 3]), 3);
    assert.equal(median([4, 1, 3, 2]), 2.5);
  });
});
