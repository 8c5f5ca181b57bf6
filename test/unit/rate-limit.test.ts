import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter, rateLimited } from '../../src/http/rate-limit.js';
import { VigilError } from '../../src/errors.js';

/** A limiter on a clock the test moves by hand. */
function limiter(limit: number, windowMs: number, maxKeys?: number) {
  const clock = { t: 1_000_000 };
  const l = new RateLimiter({ limit, windowMs, now: () => clock.t, maxKeys });
  return { l, clock };
}

/** How many of `n` charges to `key` pass, at the current instant. */
function passes(l: RateLimiter, key: string, n: number): number {
  let ok = 0;
  for (let i = 0; i < n; i++) if (l.take(key).ok) ok++;
  return ok;
}

describe('RateLimiter', () => {
  test('a full bucket lets `limit` through at once, then refuses with the wait until one more fits', () => {
    const { l } = limiter(5, 60_000);
    assert.equal(passes(l, 'ip', 5), 5);
    // one request's worth refills every 12 s
    assert.deepEqual(l.take('ip'), { ok: false, retryAfterS: 12 });
    assert.deepEqual(l.take('ip'), { ok: false, retryAfterS: 12 }, 'a refused request costs nothing');
  });

  test('retryAfterS counts down with the clock, is rounded up, and is never below 1', () => {
    const { l, clock } = limiter(5, 60_000);
    passes(l, 'ip', 5);
    clock.t += 10_500;
    assert.deepEqual(l.take('ip'), { ok: false, retryAfterS: 2 });
    clock.t += 1_499;
    assert.deepEqual(l.take('ip'), { ok: false, retryAfterS: 1 });
    clock.t += 1;
    assert.deepEqual(l.take('ip'), { ok: true });
  });

  test('a wait of a fraction of a second is 1 s', () => {
    const { l } = limiter(10, 1000);
    passes(l, 'k', 10);
    assert.deepEqual(l.take('k'), { ok: false, retryAfterS: 1 });
  });

  test('the bucket refills over time, never above `limit`', () => {
    const { l, clock } = limiter(4, 1000);
    assert.equal(passes(l, 'k', 10), 4);
    clock.t += 500;
    assert.equal(passes(l, 'k', 10), 2, 'half a window refills half the bucket');
    clock.t += 3_600_000;
    assert.equal(passes(l, 'k', 10), 4, 'an hour idle is still one full bucket');
  });

  test('sustained traffic at the limit passes; above it is cut to the limit', () => {
    const { l, clock } = limiter(10, 1000);
    let ok = 0;
    // 20 per second for 10 s, evenly spread
    for (let i = 0; i < 200; i++) {
      if (l.take('k').ok) ok++;
      clock.t += 50;
    }
    // the first full bucket plus 10 per second
    assert.ok(ok >= 100 && ok <= 111, `passed ${ok}`);
    const { l: l2, clock: c2 } = limiter(10, 1000);
    let all = 0;
    for (let i = 0; i < 100; i++) {
      if (l2.take('k').ok) all++;
      c2.t += 100;
    }
    assert.equal(all, 100, 'exactly the limit is never refused');
  });

  test('a cost charges several requests at once', () => {
    const { l } = limiter(10, 1000);
    assert.deepEqual(l.take('k', 7), { ok: true });
    assert.equal(l.take('k', 4).ok, false);
    assert.deepEqual(l.take('k', 3), { ok: true });
    assert.throws(() => l.take('k', 11), RangeError);
  });

  test('keys are independent', () => {
    const { l } = limiter(3, 60_000);
    assert.equal(passes(l, 'a', 5), 3);
    assert.equal(passes(l, 'b', 5), 3);
    assert.equal(l.take('a').ok, false);
  });

  test('memory is bounded: past maxKeys the least recently charged key is forgotten', () => {
    const { l } = limiter(1, 60_000, 3);
    for (const k of ['a', 'b', 'c']) assert.ok(l.take(k).ok);
    assert.equal(l.take('a').ok, false, 'refusing "a" does not make it recent');
    assert.ok(l.take('d').ok);
    assert.equal(l.size, 3);
    // "a" was the oldest: forgotten, so it passes again; "c" and "d" are still limited
    assert.ok(l.take('a').ok);
    assert.equal(l.take('c').ok, false);
    assert.equal(l.take('d').ok, false);
    for (let i = 0; i < 1000; i++) l.take(`flood-${i}`);
    assert.equal(l.size, 3);
  });

  test('keys whose bucket is full again are dropped as others are charged', () => {
    const { l, clock } = limiter(2, 1000);
    for (let i = 0; i < 100; i++) l.take(`k${i}`);
    assert.equal(l.size, 100);
    clock.t += 2000;
    for (let i = 0; i < 100; i++) l.take('busy');
    assert.equal(l.size, 1, 'only the key charged recently is remembered');
  });

  test('limits that make no sense are refused when built', () => {
    assert.throws(() => new RateLimiter({ limit: 0, windowMs: 1000 }), RangeError);
    assert.throws(() => new RateLimiter({ limit: 5, windowMs: 0 }), RangeError);
  });
});

describe('rateLimited', () => {
  test('is a 429 catalog error carrying whole seconds', () => {
    const err = rateLimited('too many sign-in attempts from this address', 2.2);
    assert.ok(err instanceof VigilError);
    assert.equal(err.status, 429);
    assert.equal(err.code, 'VIGIL_ERR_RATE_LIMITED');
    assert.equal(err.message, 'too many sign-in attempts from this address; retry in 3 s');
    assert.deepEqual(err.details, { retryAfterSeconds: 3 });
    assert.deepEqual(rateLimited('x', 0).details, { retryAfterSeconds: 1 });
  });
});
