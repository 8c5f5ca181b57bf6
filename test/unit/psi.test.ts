import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { psi, psiNoise, bandOf } from '../../src/detect/psi.js';

const close = (actual: number, expected: number, eps = 1e-12): void =>
  assert.ok(Math.abs(actual - expected) <= eps, `${actual} ≉ ${expected}`);

describe('psi: detection.md scenarios', () => {
  test('50/50 → 90/10 over 50 events is significant after the correction', () => {
    const r = psi({ a: 25, b: 25 }, { a: 45, b: 5 });
    // 0.4 · ln 1.8 + (−0.4) · ln 0.2
    close(r.psi, 0.4 * Math.log(1.8) + 0.4 * Math.log(5));
    // n_eff = 1 / (1/50 + 1/50) = 25; K − 1 = 1 → 1/25 + 2·√2/25
    close(r.correction, (1 + 2 * Math.SQRT2) / 25);
    close(r.adjusted, r.psi - r.correction);
    assert.ok(r.adjusted >= 0.25, String(r.adjusted));
    assert.equal(r.band, 'significant');
  });

  // Read as 1,000 events on each side (n_eff = 500). The claim needs n_eff ≥ ~383, i.e. about
  // 770 events a side: 500 + 500 would give a correction of 0.0153.
  test('a two-value property over 1,000 unchanged events: correction below 0.01, stable', () => {
    const r = psi({ yes: 600, no: 400 }, { yes: 600, no: 400 });
    assert.ok(r.correction < 0.01, String(r.correction));
    close(r.correction, (1 + 2 * Math.SQRT2) / 500);
    assert.equal(r.psi, 0);
    assert.equal(r.adjusted, 0);
    assert.equal(r.band, 'stable');
  });
});

describe('psi: properties', () => {
  test('identical distributions (different sizes) → adjusted 0, stable', () => {
    const r = psi(
      new Map([
        ['x', 10],
        ['y', 30],
        ['z', 60],
      ]),
      { x: 100, y: 300, z: 600 },
    );
    close(r.psi, 0);
    assert.equal(r.adjusted, 0);
    assert.equal(r.band, 'stable');
  });

  test('the noise correction absorbs sampling wobble on small samples', () => {
    const r = psi({ a: 52, b: 48 }, { a: 47, b: 53 });
    assert.ok(r.psi > 0);
    assert.equal(r.adjusted, 0);
    assert.equal(r.band, 'stable');
  });

  test('a new value absent from the baseline is floored at 1/(2 n), not infinite', () => {
    const r = psi({ free: 100 }, { free: 80, pro: 20 });
    assert.ok(Number.isFinite(r.psi));
    const pro = r.categories.find((c) => c.value === 'pro')!;
    assert.equal(pro.baseShare, 0);
    assert.equal(pro.currentShare, 0.2);
    close(pro.contribution, (0.2 - 1 / 200) * Math.log(0.2 / (1 / 200)));
    assert.equal(r.categories[0]!.value, 'pro');
    assert.equal(r.band, 'significant');
  });

  test('a value that vanished is floored on the current side', () => {
    const r = psi({ a: 50, b: 50 }, { a: 40 });
    const b = r.categories.find((c) => c.value === 'b')!;
    assert.equal(b.currentShare, 0);
    close(b.contribution, (1 / 80 - 0.5) * Math.log(1 / 80 / 0.5));
  });

  test('K = 1 → psi 0, no correction, stable', () => {
    const r = psi({ only: 10 }, { only: 999 });
    assert.deepEqual(r, {
      psi: 0,
      correction: 0,
      adjusted: 0,
      band: 'stable',
      categories: [{ value: 'only', baseShare: 1, currentShare: 1, contribution: 0 }],
    });
  });

  test('values with a zero count on both sides do not count towards K', () => {
    const r = psi({ a: 25, b: 25, c: 0 }, { a: 45, b: 5, c: 0 });
    assert.equal(r.categories.length, 2);
    close(r.correction, (1 + 2 * Math.SQRT2) / 25);
  });

  test('empty inputs throw a RangeError naming the side', () => {
    assert.throws(() => psi({}, { a: 1 }), { name: 'RangeError', message: /^baseline is empty/ });
    assert.throws(() => psi(new Map(), { a: 1 }), { name: 'RangeError', message: /^baseline is empty/ });
    assert.throws(() => psi({ a: 1 }, { a: 0 }), { name: 'RangeError', message: /^current is empty/ });
    assert.throws(() => psi({ a: -1, b: 5 }, { a: 1 }), { name: 'RangeError', message: /^baseline count of 'a'/ });
    assert.throws(() => psi({ a: 1 }, { a: Number.NaN }), { name: 'RangeError', message: /^current count of 'a'/ });
  });

  test('contributions are non-negative, sorted descending, and sum to psi', () => {
    const r = psi({ a: 10, b: 20, c: 30, d: 40 }, { a: 40, b: 5, c: 30, e: 7 });
    let sum = 0;
    for (const c of r.categories) {
      assert.ok(c.contribution >= 0);
      sum += c.contribution;
    }
    close(sum, r.psi, 1e-12);
    const sorted = [...r.categories].sort((x, y) => y.contribution - x.contribution);
    assert.deepEqual(
      r.categories.map((c) => c.value),
      sorted.map((c) => c.value),
    );
    assert.equal(r.categories.at(-1)!.value, 'c');
  });

  test('the correction grows with K and shrinks with the sample sizes', () => {
    close(psiNoise(2, 25), (1 + 2 * Math.SQRT2) / 25);
    close(psiNoise(5, 100), (4 + 2 * Math.sqrt(8)) / 100);
    assert.equal(psiNoise(1, 10), 0);
    assert.ok(psi({ a: 1, b: 1, c: 1 }, { a: 1, b: 1, c: 1 }).correction > psi({ a: 1, b: 1 }, { a: 1, b: 1 }).correction);
    assert.ok(psi({ a: 10, b: 10 }, { a: 10, b: 10 }).correction > psi({ a: 100, b: 100 }, { a: 100, b: 100 }).correction);
  });

  test('bands', () => {
    assert.equal(bandOf(0), 'stable');
    assert.equal(bandOf(0.0999), 'stable');
    assert.equal(bandOf(0.1), 'minor');
    assert.equal(bandOf(0.2499), 'minor');
    assert.equal(bandOf(0.25), 'significant');
  });
});
