/** How far a gauge's bucket so far is outside the detector's band (src/signals/anomaly/gauge-in-progress.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IN_PROGRESS_Z_MULTIPLE, zAgainstBand } from '../../src/signals/anomaly/gauge-in-progress.js';

test('z against an asymmetric band: each side in units of its own half-width', () => {
  const band = { expected: 100, lower: 80, upper: 140, threshold: 4 };
  assert.equal(zAgainstBand(100, band), 0);
  assert.equal(zAgainstBand(140, band), 4, 'on the upper edge: the threshold');
  assert.equal(zAgainstBand(180, band), 8, 'twice as far: what a bucket in progress needs');
  assert.equal(zAgainstBand(60, band), -8);
  assert.equal(zAgainstBand(120, { ...band, upper: 100 }), 0, 'no width: no z');
  assert.equal(IN_PROGRESS_Z_MULTIPLE, 2);
});
