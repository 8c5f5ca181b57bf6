/** src/format/number.ts: the one number formatter of the web app, alert texts and API texts. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDistinct, formatNumber, formatPercentChange } from '../../src/format/number.js';
import { titleOf } from '../../src/incidents/grouping.js';

describe('formatNumber', () => {
  test('small fractions keep three significant digits instead of collapsing to 0.01', () => {
    assert.equal(formatNumber(0.0115), '0.0115');
    assert.equal(formatNumber(0.01234), '0.0123');
    assert.equal(formatNumber(0.5), '0.5');
    assert.equal(formatNumber(-0.0042), '-0.0042');
  });

  test('from 1: at most two decimals, thousands separated; from 10,000: K and M', () => {
    assert.equal(formatNumber(0), '0');
    assert.equal(formatNumber(3), '3');
    assert.equal(formatNumber(1.005), '1.01');
    assert.equal(formatNumber(1234.5678), '1,234.57');
    assert.equal(formatNumber(9999), '9,999');
    assert.equal(formatNumber(12_345), '12.3K');
    assert.equal(formatNumber(4_560_000), '4.6M');
    assert.equal(formatNumber(-25_000), '-25K');
  });

  test('what is not a number says so', () => {
    assert.equal(formatNumber(Number.NaN), 'n/a');
    assert.equal(formatNumber(Infinity), '∞');
  });
});

describe('formatDistinct', () => {
  test('axis ticks 0.01, 0.015, 0.02 stay distinct (they read 0.01, 0.01, 0.02 before)', () => {
    assert.deepEqual(formatDistinct([0.01, 0.015, 0.02]), ['0.01', '0.015', '0.02']);
    assert.deepEqual(formatDistinct([0.01, 0.0125, 0.015, 0.0175, 0.02]), ['0.01', '0.0125', '0.015', '0.0175', '0.02']);
  });

  test('a value is told apart from the threshold it is compared with', () => {
    assert.deepEqual(formatDistinct([0.0115, 0.012]), ['0.0115', '0.012']);
    assert.deepEqual(formatDistinct([0.0115, 0.01151]), ['0.0115', '0.01151']);
    assert.deepEqual(formatDistinct([100_000, 100_400]), ['100K', '100.4K']);
    assert.deepEqual(formatDistinct([1000.001, 1000.002]), ['1,000.001', '1,000.002']);
  });

  test('never fewer digits than formatNumber gives; equal values read the same', () => {
    assert.deepEqual(formatDistinct([1234.5, 1234.5, 20]), ['1,234.5', '1,234.5', '20']);
    assert.deepEqual(formatDistinct([]), []);
  });
});

test('formatPercentChange: signed, one decimal below 10 %', () => {
  assert.equal(formatPercentChange(-40), '−40%');
  assert.equal(formatPercentChange(12.345), '+12%');
  assert.equal(formatPercentChange(4.44), '+4.4%');
  assert.equal(formatPercentChange(0), '±0.0%');
});

test("a threshold incident's title tells the value from the threshold: > 0.0115 (was 0.0118)", () => {
  const signal = {
    scope: 'threshold' as const,
    scopeKey: 'rule:3',
    kind: 'breach',
    direction: 'up' as const,
    value: 0.0118,
    expected: null,
    details: { ruleName: 'error rate', condition: { operator: '>', value: 0.0115 }, compared: 0.0118 },
  };
  assert.equal(titleOf(signal, 'errors'), 'rule "error rate" breached: errors > 0.0115 (was 0.0118)');
});
