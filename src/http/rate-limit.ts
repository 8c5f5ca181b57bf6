import { VigilError } from '../errors.js';

export type Take = { ok: true } | { ok: false; retryAfterS: number };

export interface RateLimiterOptions {
  /** requests allowed per window; also the largest burst */
  limit: number;
  windowMs: number;
  now?: () => number;
  /** keys remembered at most; past it the least recently charged key is forgotten */
  maxKeys?: number;
}

/** Enough for every IP of a busy sign-in page or every key of a large install: about 10 MB at most. */
const DEFAULT_MAX_KEYS = 100_000;

/**
 * An in-memory token bucket per key, in its GCRA form (the "generic cell rate algorithm"): each
 * key holds one number, the time its bucket would be full again (`tat`). Charging moves it one
 * `windowMs / limit` interval later; a charge that would put it more than `windowMs` ahead of now
 * is refused, and the overshoot is exactly how long to wait. So a key may send `limit` requests
 * at once, then `limit` per window sustained (in the worst window, up to twice `limit`: a full
 * bucket plus its refill); a refused request costs nothing.
 *
 * Why this and not a sliding log or timers: Vigil runs one process per role, so memory is the
 * right place; on the ingest hot path a charge is O(1), a Map lookup and a few additions, with no
 * timer per key. Memory stays bounded: the map is kept in least-recently-charged order, each
 * charge drops the oldest key when its bucket is full again (forgetting it changes nothing), and
 * past `maxKeys` the oldest key is forgotten even if not full (failing open for that one key, so
 * a flood of new keys can never lock out the others).
 */
export class RateLimiter {
  readonly limit: number;
  readonly windowMs: number;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly maxKeys: number;
  /** key → theoretical arrival time (ms) at which its bucket is full again */
  private readonly tat = new Map<string, number>();

  constructor(opts: RateLimiterOptions) {
    if (!(opts.limit >= 1) || !(opts.windowMs > 0))
      throw new RangeError(`a rate limit needs limit >= 1 and windowMs > 0 (got ${opts.limit} per ${opts.windowMs} ms)`);
    this.limit = opts.limit;
    this.windowMs = opts.windowMs;
    this.intervalMs = opts.windowMs / opts.limit;
    this.now = opts.now ?? Date.now;
    this.maxKeys = Math.max(1, opts.maxKeys ?? DEFAULT_MAX_KEYS);
  }

  /** Keys currently remembered (for tests and metrics). */
  get size(): number {
    return this.tat.size;
  }

  /** Charges `cost` requests to `key`: ok, or how many whole seconds to wait before it would pass. */
  take(key: string, cost = 1): Take {
    if (cost > this.limit) throw new RangeError(`a charge of ${cost} can never pass a limit of ${this.limit}`);
    const now = this.now();
    this.dropOldestIfIdle(now);
    const stored = this.tat.get(key);
    const start = stored === undefined || stored < now ? now : stored;
    const next = start + cost * this.intervalMs;
    const overshoot = next - now - this.windowMs;
    if (overshoot > 0) return { ok: false, retryAfterS: Math.max(1, Math.ceil(overshoot / 1000)) };
    // re-inserting keeps the map in least-recently-charged order
    if (stored !== undefined) this.tat.delete(key);
    this.tat.set(key, next);
    while (this.tat.size > this.maxKeys) this.tat.delete(this.tat.keys().next().value as string);
    return { ok: true };
  }

  /** Whole seconds to wait before a charge of one to `key` would pass (0: it would pass now); charges nothing. */
  waitFor(key: string): number {
    const stored = this.tat.get(key);
    const overshoot = (stored ?? 0) + this.intervalMs - this.now() - this.windowMs;
    return overshoot > 0 ? Math.max(1, Math.ceil(overshoot / 1000)) : 0;
  }

  /** Forgets the least recently charged key if its bucket is full again (it then holds no state). */
  private dropOldestIfIdle(now: number) {
    const oldest = this.tat.entries().next();
    if (!oldest.done && oldest.value[1] <= now) this.tat.delete(oldest.value[0]);
  }
}

/** The 429 every limit answers; the error handler turns `retryAfterSeconds` into `Retry-After`. */
export function rateLimited(what: string, retryAfterS: number): VigilError {
  const n = Math.max(1, Math.ceil(retryAfterS));
  return new VigilError('VIGIL_ERR_RATE_LIMITED', `${what}; retry in ${n} s`, { retryAfterSeconds: n });
}
