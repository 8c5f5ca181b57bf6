/** Expected ranges stay within what a series can take: a ratio's within [0, 1], a count's at 0 or above. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { naturalRange } from '../../src/detect/value-range.js';
import { seriesShape } from '../../src/metrics/compile.js';
import { detectEpisodes, episodeSignal } from '../../src/signals/anomaly/episodes.js';
import { resolveDetection } from '../../src/signals/settings.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 3, 1);

/** A noisy checkout conversion around 1 % over 30 days of hours, then six hours at 9 %. */
function conversion(): { starts: number[]; values: number[] } {
  const starts: number[] = [];
  const values: number[] = [];
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 30 * 24; i++) {
    starts.push(T0 + i * HOUR);
    values.push(i >= 30 * 24 - 6 ? 0.09 : Math.max(0, 0.01 + (random() - 0.5) * 0.016));
  }
  return { starts, values };
}

describe('naturalRange', () => {
  test('a count is never below 0; a share never below 0 nor above 1; events per user may pass 1; anything else is unbounded', () => {
    assert.deepEqual(naturalRange('count', [3, 5]), { min: 0, max: Infinity });
    assert.deepEqual(naturalRange('ratio', [0.2, null, 0.9]), { min: 0, max: 1 });
    assert.deepEqual(naturalRange('ratio', [1.8, 2.4]), { min: 0, max: Infinity });
    assert.deepEqual(naturalRange('any', [-3, 5]), { min: -Infinity, max: Infinity });
  });

  test('metric kinds: ratio and per-user metrics are ratios, event counts counts, sql and gauges anything', () => {
    assert.equal(seriesShape('ratio', { detectAs: 'fraction' }), 'ratio');
    assert.equal(seriesShape('per_user', { detectAs: 'fraction' }), 'ratio');
    assert.equal(seriesShape('event', { detectAs: 'count' }), 'count');
    assert.equal(seriesShape('sql', { detectAs: 'fraction' }), 'any');
    assert.equal(seriesShape('gauge', { detectAs: 'fraction' }), 'any');
  });
});

test("a ratio's expected range in a signal never goes below 0 (the detector's own band does)", () => {
  const { starts, values } = conversion();

  const settings = resolveDetection({}, {});
  const series = { starts, values, valueKind: 'fraction' as const, range: naturalRange('ratio', values) };
  const until = starts[starts.length - 1] + HOUR;
  const found = detectEpisodes(series, '1h', settings, { timeZone: 'UTC', until, since: starts[0], now: until + 10 * HOUR });
  assert.ok(found.length > 0, 'the jump is found');
  for (const e of found) {
    assert.ok(e.peak.lower! < 0, "the detector's own band at the peak goes below 0");
    const s = episodeSignal({ scope: 'metric', scopeKey: 'metric:1', metricId: 1 }, series, e, settings, '1h');
    assert.ok(s.lower! >= 0 && s.upper! <= 1 && s.expected! >= 0, `within [0, 1]: ${s.lower}–${s.upper}`);
  }
});
