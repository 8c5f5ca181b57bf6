/** `vigil detect`'s CSV path: parsing, the time grid, one output row per input row, and the same flags as the live detector. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CSV_HEADER, CsvInputError, detectCsv, kindOf, parseCsv, periodsFor, stepOf } from '../../src/detect/csv.js';
import { PERIODS, scoreSeries } from '../../src/detect/anomaly.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5);
const iso = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
const series = (n: number, value: (i: number) => number) =>
  ['timestamp,value', ...Array.from({ length: n }, (_, i) => `${iso(T0 + i * HOUR)},${value(i)}`)].join('\r\n');
const daily = (i: number) => 100 + 50 * Math.sin((2 * Math.PI * i) / 24);

describe('vigil detect on CSV', () => {
  test('reads CRLF lines, infers the hourly step, and writes one row per input row with the documented columns', () => {
    const out = detectCsv(series(24 * 10, daily))
      .csv.trim()
      .split('\n');
    assert.equal(out[0], CSV_HEADER);
    assert.equal(out.length, 24 * 10 + 1);
    assert.equal(stepOf(parseCsv(series(10, daily))), HOUR);
    assert.deepEqual(periodsFor(HOUR), PERIODS['1h']);
    assert.deepEqual(periodsFor(10 * 60_000), [144, 1008], 'a 10-minute step gets derived daily and weekly periods');
  });

  test('flags exactly what the live detector flags on the same values, and an injected spike', () => {
    const values = Array.from({ length: 24 * 21 }, (_, i) => Math.round(daily(i)));
    values[24 * 20 + 5] = 600;
    const text = ['timestamp,value', ...values.map((v, i) => `${iso(T0 + i * HOUR)},${v}`)].join('\n');
    const rows = detectCsv(text, { interval: '1h', sensitivity: 'medium' })
      .csv.trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','));
    const live = scoreSeries(values, { periods: PERIODS['1h'], valueKind: 'fraction', sensitivity: 'medium' });
    assert.deepEqual(
      rows.map((r) => r[6] === '1'),
      live.map((p) => p.isAnomaly),
    );
    assert.equal(rows[24 * 20 + 5][6], '1');
    assert.ok(Number(rows[24 * 20 + 5][5]) > 0.9, `score ${rows[24 * 20 + 5][5]}`);
    assert.ok(Number(rows[24 * 20 + 5][2]) > 100 && Number(rows[24 * 20 + 5][2]) < 200, 'the expected value comes from the daily shape');
  });

  test('a missing step is a gap on the grid, and a repeated timestamp shares its bucket', () => {
    const lines = series(24 * 8, daily).split('\r\n');
    lines.splice(100, 1); // one hour missing
    lines.splice(50, 0, lines[50]); // one hour twice
    const out = detectCsv(lines.join('\n')).csv.trim().split('\n');
    assert.equal(out.length, lines.length);
    assert.equal(out[50].split(',').slice(2).join(), out[51].split(',').slice(2).join(), 'both rows of one timestamp get one score');
  });

  test('bad input says what and where', () => {
    assert.throws(
      () => parseCsv('time,amount\n2026-01-01,1'),
      (e: Error) => e instanceof CsvInputError && /timestamp and value/.test(e.message),
    );
    assert.throws(() => parseCsv('timestamp,value\n2026-01-01 00:00:00,abc'), /line 2: "abc" is not a number/);
    assert.throws(() => parseCsv('timestamp,value\nyesterday,1'), /line 2: "yesterday" is not a timestamp/);
    assert.throws(() => parseCsv(''), /empty/);
    assert.throws(() => detectCsv(series(3, daily), { interval: '2h' }), /--interval must be one of/);
  });

  test('a file of whole numbers of at least 0 is read as counts (tweets an hour, mostly 0); anything else as a fraction', () => {
    assert.equal(kindOf([0, 0, 3, null, 0, 12]), 'count');
    assert.equal(kindOf([0.5, 1, 2]), 'fraction');
    assert.equal(kindOf([3, -1, 4]), 'fraction');
    const mostlyZero = Array.from({ length: 24 * 10 }, (_, i) => (i % 24 === 13 ? 2 : 0));
    const scored = detectCsv(series(mostlyZero.length, (i) => mostlyZero[i]));
    assert.equal(scored.anomalies, 0, 'a quiet series of tweets is no anomaly');
  });
});
