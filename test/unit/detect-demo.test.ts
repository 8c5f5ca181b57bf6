/**
 * The demo's injected incidents are found, and its normal rhythm gives no signal: hourly counts of
 * the demo's events, scored causally as the live detector does (the demo project's settings:
 * minimum expected 5, since the demo shop is small).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { demoIncidents, generateDemoTraffic } from '../../src/demo/traffic.js';
import { PERIODS, scoreSeries } from '../../src/detect/anomaly.js';
import { episodes } from '../../src/detect/episodes.js';

const HOUR = 3_600_000;
const END = Date.UTC(2026, 10, 20, 0, 0, 0);
const OPTIONS = { endMs: END, days: 30 };

function hourlyCounts(event: string): number[] {
  const start = END - 30 * 24 * HOUR;
  const counts = new Array(30 * 24).fill(0);
  for (const e of generateDemoTraffic(OPTIONS))
    if (e.type === 'track' && e.event === event) counts[Math.floor((Date.parse(e.timestamp) - start) / HOUR)]++;
  return counts;
}

describe('the demo traffic under the detector', () => {
  const incidents = demoIncidents(OPTIONS);
  const start = END - 30 * 24 * HOUR;
  const cases = [
    ['Order Completed', 'checkout drop', 'drop'],
    ['Signed Up', 'signup spike', 'spike'],
    ['Error Shown', 'error burst', 'spike'],
  ] as const;
  for (const [event, incidentName, direction] of cases) {
    test(`${event}: the "${incidentName}" incident is found, and nothing else fires`, () => {
      const incident = incidents.find((i) => i.name === incidentName)!;
      const points = scoreSeries(hourlyCounts(event), { periods: PERIODS['1h'], valueKind: 'count', minSamples: 5 });
      // signals are read once the daily period is in use (three days of history)
      const signals = episodes(points, 'count').filter((s) => s.start >= 3 * 24);
      const at = (s: { start: number }) => new Date(start + s.start * HOUR).toISOString();
      const inside = signals.filter((s) => start + s.start * HOUR >= incident.startMs - HOUR && start + s.start * HOUR < incident.endMs);
      assert.equal(inside.length, 1, `one signal in the incident window; got ${JSON.stringify(signals.map((s) => [s.kind, at(s)]))}`);
      assert.equal(inside[0].direction, direction);
      assert.deepEqual(
        signals.filter((s) => !inside.includes(s)).map((s) => [s.kind, at(s), s.peak.value, s.peak.expected]),
        [],
        'no signal outside the incident',
      );
    });
  }
});
