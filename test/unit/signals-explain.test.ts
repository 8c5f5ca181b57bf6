import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { explainSignal, type ExplainableSignal } from '../../src/signals/explain.js';

function signal(over: Partial<ExplainableSignal> = {}): ExplainableSignal {
  return {
    scope: 'event',
    scopeKey: 'event:Order Completed',
    kind: 'outage',
    direction: 'down',
    value: 12,
    expected: 118,
    lower: 84,
    upper: 152,
    z: -9.7,
    details: { event: 'Order Completed', interval: '1h', flagged: 3, samples: 12, model: 'poisson' },
    ...over,
  };
}

describe('explainSignal', () => {
  test('an event outage: observed, expected, band, the model and the run of buckets', () => {
    const e = explainSignal(signal());
    assert.equal(
      e.sentence,
      'Order Completed: 12 events in the hour against 118 expected (band 84–152, Poisson); 3 hours in a row below the band: an outage.',
    );
    assert.deepEqual(
      { ...e, sentence: undefined },
      {
        subject: 'Order Completed',
        observed: '12 events',
        expected: '118',
        band: '84–152',
        samples: 12,
        detector: 'seasonal baseline, Poisson',
        sentence: undefined,
      },
    );
  });

  test('a ratio metric: the binomial model and its denominator; a label names it', () => {
    const e = explainSignal(
      signal({
        scope: 'metric',
        scopeKey: 'metric:4',
        kind: 'drop',
        value: 0.021,
        expected: 0.048,
        lower: 0.036,
        upper: 0.06,
        z: -5.1,
        details: { interval: '1h', flagged: 1, samples: 412, model: 'binomial' },
      }),
      { label: 'checkout conversion' },
    );
    assert.equal(
      e.sentence,
      'checkout conversion: 0.021 in the hour against 0.048 expected (band 0.036–0.06, binomial, 412 samples); below the band: a drop.',
    );
    assert.equal(e.samples, 412);
  });

  test("without the lead's fields (older signals): the z, or the dispersion, and no sample size", () => {
    const old = explainSignal(
      signal({
        scope: 'metric',
        scopeKey: 'metric:4',
        kind: 'spike',
        direction: 'up',
        value: 260,
        expected: 100,
        lower: 80,
        upper: 120,
        z: 6.2,
        details: { interval: '1d' },
      }),
    );
    assert.equal(old.sentence, 'metric:4: 260 in the day against 100 expected (band 80–120, z 6.2); above the band: a spike.');
    assert.equal(old.samples, null);
    assert.equal(old.detector, 'seasonal baseline');
    const pages = explainSignal(
      signal({
        scopeKey: 'event:Page Viewed',
        kind: 'level_shift',
        direction: 'up',
        value: 2400,
        expected: 1000,
        lower: 700,
        upper: 1300,
        details: { event: 'Page Viewed', interval: '1h', flagged: 4, dispersion: 9.6 },
      }),
    );
    assert.equal(
      pages.sentence,
      'Page Viewed: 2,400 events in the hour against 1,000 expected (band 700–1,300, quasi-Poisson, dispersion 9.6); 4 hours in a row above the band: a level shift.',
    );
  });

  test("a metric's unit follows its values; an event count has none", () => {
    const latency = explainSignal(
      signal({
        scope: 'metric',
        scopeKey: 'metric:9',
        kind: 'spike',
        direction: 'up',
        value: 912,
        expected: 300,
        lower: 250,
        upper: 350,
        z: 12,
        details: { interval: '5m', flagged: 2, samples: 840, model: 'log' },
      }),
      { label: 'checkout p95', unit: 'ms' },
    );
    assert.equal(
      latency.sentence,
      'checkout p95: 912 ms in the 5 minutes against 300 ms expected (band 250–350 ms, log scale, 840 samples); 2 buckets of 5 minutes in a row above the band: a spike.',
    );
    assert.equal(explainSignal(signal(), { unit: 'ms' }).observed, '12 events');
  });

  test("the project's total volume", () => {
    const e = explainSignal(
      signal({
        scope: 'volume',
        scopeKey: 'volume:total',
        kind: 'drop',
        value: 8000,
        expected: 14000,
        lower: 12000,
        upper: 16000,
        details: { interval: '1h', flagged: 2, samples: 8000, model: 'poisson' },
      }),
    );
    assert.equal(
      e.sentence,
      'project event volume: 8,000 events in the hour against 14K expected (band 12K–16K, Poisson); 2 hours in a row below the band: a drop.',
    );
  });

  test('a threshold rule: the compared value against the limit', () => {
    const breach = signal({
      scope: 'threshold',
      scopeKey: 'rule:3',
      kind: 'breach',
      direction: 'up',
      value: 912,
      expected: null,
      lower: null,
      upper: null,
      z: 0,
      details: { ruleName: 'p95 latency above 800', compared: 912, condition: { operator: '>', value: 800 }, interval: '5m' },
    });
    const e = explainSignal(breach, { unit: 'ms' });
    assert.equal(e.sentence, 'rule "p95 latency above 800" breached: 912 ms > 800 ms');
    assert.equal(e.detector, 'threshold rule "p95 latency above 800"');
    assert.equal(e.band, null);
    const change = explainSignal({
      ...breach,
      details: { ruleName: 'orders jump', compared: 45, condition: { operator: '>', value: 30, changeOverPeriod: 3 } },
    });
    assert.equal(change.sentence, 'rule "orders jump" breached: change over 3 buckets 45% > 30%');
    assert.equal(
      explainSignal({ ...breach, details: { ruleName: 'r' } }).sentence,
      'rule "r" breached: was 912',
      'a rule without its condition',
    );
    assert.equal(
      explainSignal({ ...breach, kind: 'recovery', details: { ruleName: 'x', compared: 700, condition: { operator: '<=', value: 800 } } })
        .sentence,
      'rule "x" recovered: 700 <= 800',
    );
  });

  test("drift: a distribution's PSI against its stable limit; a schema change in its own words", () => {
    const psi = explainSignal(
      signal({
        scope: 'distribution',
        scopeKey: 'distribution:Order Completed:plan',
        kind: 'distribution_drift',
        direction: null,
        value: 0.31,
        expected: null,
        lower: null,
        upper: 0.1,
        z: 0,
        details: { event: 'Order Completed', property: 'plan', currentValues: 5200 },
      }),
    );
    assert.equal(
      psi.sentence,
      "distribution of Order Completed.plan: PSI 0.31 against a stable limit of 0.1 over 5,200 values: the values' shares moved.",
    );
    const schema = explainSignal(
      signal({
        scope: 'schema',
        scopeKey: 'schema:Signed Up:plan:type_changed',
        kind: 'type_changed',
        direction: null,
        value: 40,
        expected: null,
        lower: null,
        upper: null,
        z: 0,
        details: { event: 'Signed Up', detail: 'plan changed type from string to number' },
      }),
    );
    assert.equal(schema.sentence, 'schema of Signed Up: plan changed type from string to number (40 events that day).');
  });
});
