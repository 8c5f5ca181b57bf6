import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  evaluateThreshold,
  validateRule,
  holds,
  percentChange,
  type THRESHOLD_OPERATORS,
  type ThresholdRule,
  type ThresholdEvent,
} from '../../src/detect/threshold.js';

const summary = (events: ThresholdEvent[]): string[] => events.map((e) => `${e.kind}@${e.index}`);

describe('threshold: value conditions', () => {
  test('> fires at the Nth of N consecutive breaching buckets, once while breached', () => {
    const rule: ThresholdRule = { condition: { operator: '>', value: 100 }, forBuckets: 3, severity: 'warning' };
    const { events, state } = evaluateThreshold([50, 120, 130, 140, 150, 160], rule);
    assert.deepEqual(events, [{ kind: 'breach', index: 3, value: 140, compared: 140, severity: 'warning' }]);
    assert.equal(state.breached, true);
  });

  test('forBuckets defaults to 1 and the recovery defaults to the condition stopping', () => {
    const rule: ThresholdRule = { condition: { operator: '>', value: 100 }, severity: 'info' };
    const { events } = evaluateThreshold([50, 101, 102, 100, 99, 101], rule);
    assert.deepEqual(summary(events), ['breach@1', 'recovery@3', 'breach@5']);
    assert.equal(events[1]!.compared, 100);
  });

  test('a run shorter than forBuckets does not fire', () => {
    const rule: ThresholdRule = { condition: { operator: '<', value: 10 }, forBuckets: 3, severity: 'critical' };
    assert.deepEqual(evaluateThreshold([5, 5, 20, 5, 5, 20], rule).events, []);
  });

  test('hysteresis: hovering 95–105 around a >100 / <90 rule gives one breach and no flapping', () => {
    const rule: ThresholdRule = {
      condition: { operator: '>', value: 100 },
      recovery: { operator: '<', value: 90 },
      severity: 'warning',
    };
    const hover = [80, 101, 95, 105, 96, 104, 99, 102, 95, 105];
    const { events, state } = evaluateThreshold(hover, rule);
    assert.deepEqual(summary(events), ['breach@1']);
    assert.equal(state.breached, true);
    const after = evaluateThreshold([...hover, 89, 95, 101], rule).events;
    assert.deepEqual(summary(after), ['breach@1', 'recovery@10', 'breach@12']);
    assert.equal(after[1]!.compared, 89);
  });

  test('the same series without hysteresis flaps (what the recovery condition prevents)', () => {
    const rule: ThresholdRule = { condition: { operator: '>', value: 100 }, severity: 'warning' };
    assert.equal(evaluateThreshold([80, 101, 95, 105, 96, 104], rule).events.length, 5);
  });

  test('recoverFor needs consecutive recovering buckets', () => {
    const rule: ThresholdRule = {
      condition: { operator: '>', value: 100 },
      recovery: { operator: '<', value: 90 },
      recoverFor: 2,
      severity: 'info',
    };
    const { events } = evaluateThreshold([120, 80, 95, 80, 85, 70], rule);
    assert.deepEqual(summary(events), ['breach@0', 'recovery@4']);
  });

  test('gaps neither breach nor recover and break consecutive runs', () => {
    const rule: ThresholdRule = { condition: { operator: '>=', value: 10 }, forBuckets: 2, severity: 'info' };
    assert.deepEqual(evaluateThreshold([10, null, 10, null, 10], rule).events, []);
    assert.deepEqual(summary(evaluateThreshold([10, null, 10, 11], rule).events), ['breach@3']);
    const rec: ThresholdRule = { ...rule, recoverFor: 2 };
    assert.deepEqual(summary(evaluateThreshold([10, 10, 1, null, 1, null, 1, 1], rec).events), ['breach@1', 'recovery@7']);
    // a gap while breached does not end the breach
    assert.deepEqual(summary(evaluateThreshold([10, 10, null, null], rule).events), ['breach@1']);
  });

  test('non-finite values are gaps', () => {
    const rule: ThresholdRule = { condition: { operator: '>', value: 0 }, forBuckets: 2, severity: 'info' };
    assert.deepEqual(evaluateThreshold([1, Number.NaN, 1, Infinity, 1], rule).events, []);
  });

  test('== and != use a relative tolerance of 1e-9', () => {
    assert.equal(holds('==', 0.1 + 0.2, 0.3), true);
    assert.equal(holds('!=', 0.1 + 0.2, 0.3), false);
    assert.equal(holds('==', 1e12 + 0.5, 1e12), true);
    assert.equal(holds('==', 1.000001, 1), false);
    assert.equal(holds('==', 0, 0), true);
    assert.equal(holds('>', 0.1 + 0.2, 0.3), false);
    assert.equal(holds('<=', 0.1 + 0.2, 0.3), true);
    assert.equal(holds('>=', 0.3, 0.1 + 0.2), true);
    const rule: ThresholdRule = { condition: { operator: '==', value: 0.3 }, severity: 'info' };
    assert.deepEqual(summary(evaluateThreshold([0.1, 0.1 + 0.2, 0.3, 0.4], rule).events), ['breach@1', 'recovery@3']);
  });

  test('every operator', () => {
    const cases: [(typeof THRESHOLD_OPERATORS)[number], boolean[]][] = [
      ['>', [false, false, true]],
      ['>=', [false, true, true]],
      ['<', [true, false, false]],
      ['<=', [true, true, false]],
      ['==', [false, true, false]],
      ['!=', [true, false, true]],
    ];
    for (const [op, expected] of cases)
      assert.deepEqual(
        [4, 5, 6].map((x) => holds(op, x, 5)),
        expected,
        op,
      );
  });
});

describe('threshold: % change against one period ago', () => {
  test('150 against 100 one period (24) earlier is +50 %', () => {
    assert.equal(percentChange(150, 100), 50);
    assert.equal(percentChange(50, -100), 150);
    const values: (number | null)[] = Array.from({ length: 24 }, () => 100);
    values.push(150);
    const rule: ThresholdRule = { condition: { operator: '>=', value: 50, changeOverPeriod: 24 }, severity: 'critical' };
    const { events } = evaluateThreshold(values, rule);
    assert.deepEqual(events, [{ kind: 'breach', index: 24, value: 150, compared: 50, severity: 'critical' }]);
    const higher: ThresholdRule = { condition: { operator: '>', value: 50, changeOverPeriod: 24 }, severity: 'critical' };
    assert.deepEqual(evaluateThreshold(values, higher).events, []);
  });

  test('a null or 0 past value is no comparison: neither breach nor recovery', () => {
    const rule: ThresholdRule = { condition: { operator: '>', value: 10, changeOverPeriod: 2 }, severity: 'info' };
    assert.equal(percentChange(5, 0), null);
    assert.equal(percentChange(5, null), null);
    assert.deepEqual(evaluateThreshold([0, null, 100, 100], rule).events, []);
    // breached at index 2 (+100 %); index 3 compares with a null past: stays breached; index 4: +0 % recovers
    const { events } = evaluateThreshold([10, null, 20, 5, 20], rule);
    assert.deepEqual(summary(events), ['breach@2', 'recovery@4']);
    assert.equal(events[1]!.compared, 0);
  });

  test('the first `period` buckets have nothing to compare with', () => {
    const rule: ThresholdRule = { condition: { operator: '<', value: 1000, changeOverPeriod: 3 }, severity: 'info' };
    assert.deepEqual(summary(evaluateThreshold([1, 2, 3, 4], rule).events), ['breach@3']);
  });
});

describe('threshold: state continuation', () => {
  const series: (number | null)[] = [];
  for (let i = 0; i < 200; i++) series.push(i % 37 === 5 ? null : 100 + 30 * Math.sin(i / 4) + (i % 11));
  const rules: ThresholdRule[] = [
    {
      condition: { operator: '>', value: 120 },
      forBuckets: 2,
      recovery: { operator: '<', value: 105 },
      recoverFor: 2,
      severity: 'warning',
    },
    {
      condition: { operator: '>', value: 10, changeOverPeriod: 24 },
      forBuckets: 2,
      recovery: { operator: '<', value: 0, changeOverPeriod: 12 },
      severity: 'critical',
    },
    { condition: { operator: '<=', value: 90 }, forBuckets: 3, severity: 'info' },
  ];

  for (const [n, rule] of rules.entries()) {
    test(`two halves with the state give the same events as one run (rule ${n})`, () => {
      const whole = evaluateThreshold(series, rule);
      assert.ok(whole.events.length >= 4, 'the fixture should produce several events');
      for (const cut of [1, 13, 25, 100, 199]) {
        const first = evaluateThreshold(series.slice(0, cut), rule);
        const second = evaluateThreshold(series.slice(cut), rule, first.state);
        const joined = [...first.events, ...second.events.map((e) => ({ ...e, index: e.index + cut }))];
        assert.deepEqual(joined, whole.events, `cut at ${cut}`);
        assert.deepEqual(second.state, whole.state, `cut at ${cut}`);
      }
    });
  }

  test('bucket-by-bucket (live) equals one run, and the history keeps only the longest period', () => {
    const rule = rules[1]!;
    let state: ReturnType<typeof evaluateThreshold>['state'] | undefined;
    const live: ThresholdEvent[] = [];
    for (let i = 0; i < series.length; i++) {
      const r = evaluateThreshold([series[i]!], rule, state);
      live.push(...r.events.map((e) => ({ ...e, index: e.index + i })));
      state = r.state;
    }
    assert.deepEqual(live, evaluateThreshold(series, rule).events);
    assert.equal(state!.history.length, 24);
    assert.deepEqual(evaluateThreshold([1, 2, 3], rules[0]!).state.history, []);
  });

  test('the caller state is not mutated', () => {
    const state = { breached: false, run: 1, history: [] };
    evaluateThreshold([500, 500], rules[0]!, state);
    assert.deepEqual(state, { breached: false, run: 1, history: [] });
  });
});

describe('validateRule', () => {
  const ok = { condition: { operator: '>', value: 100 }, severity: 'warning' };

  test('returns a clean copy of a valid rule', () => {
    assert.deepEqual(validateRule({ ...ok, extra: 1 }), ok);
    const full = {
      condition: { operator: '<=', value: -5, changeOverPeriod: 24 },
      forBuckets: 3,
      recovery: { operator: '>', value: 0 },
      recoverFor: 2,
      severity: 'critical',
    };
    assert.deepEqual(validateRule(full), full);
  });

  test('names the field that is wrong', () => {
    const bad: [unknown, RegExp][] = [
      [null, /^rule must be an object$/],
      [{ severity: 'info' }, /^condition must be an object$/],
      [{ ...ok, condition: { operator: '=>', value: 1 } }, /^condition\.operator must be one of > >= < <= == !=$/],
      [{ ...ok, condition: { operator: '>', value: '1' } }, /^condition\.value must be a finite number$/],
      [{ ...ok, condition: { operator: '>', value: Number.NaN } }, /^condition\.value must be a finite number$/],
      [{ ...ok, condition: { operator: '>', value: 1, changeOverPeriod: 0 } }, /^condition\.changeOverPeriod must be an integer/],
      [
        { ...ok, condition: { operator: '>', value: 1, changeOverPeriod: 99_999 } },
        /^condition\.changeOverPeriod must be an integer from 1 to 2016$/,
      ],
      [{ ...ok, severity: 'high' }, /^severity must be one of info warning critical$/],
      [{ ...ok, forBuckets: 1.5 }, /^forBuckets must be an integer/],
      [{ ...ok, recovery: { operator: 'lt', value: 1 } }, /^recovery\.operator must be one of/],
      [{ ...ok, recoverFor: 0 }, /^recoverFor must be an integer/],
    ];
    for (const [rule, message] of bad) {
      assert.throws(
        () => validateRule(rule),
        (e: unknown) => e instanceof Error && message.test(e.message),
        JSON.stringify(rule),
      );
    }
  });
});
