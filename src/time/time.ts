/**
 * The single definition of time for Vigil. Instants are UTC epoch milliseconds; windows are
 * half-open [from, to); buckets are aligned in the project's IANA time zone; weeks start Monday.
 */

export const INTERVALS = ['5m', '15m', '1h', '6h', '1d', '1w'] as const;
export type Interval = (typeof INTERVALS)[number];

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const SLOT = 15 * MIN;
const MAX_BUCKETS = 100_000;
const CACHE_LIMIT = 100_000;

/** The instants a JavaScript Date holds: ±8.64e15 ms (years -271821 to 275760). */
const JS_DATE_LIMIT_MS = 8.64e15;

/**
 * An instant as ISO 8601 text; one no Date holds (a row stored before ingest refused such times)
 * as the nearest one it does, rather than a RangeError that fails a whole page.
 */
export function isoTime(ms: number): string {
  return new Date(Math.max(-JS_DATE_LIMIT_MS, Math.min(JS_DATE_LIMIT_MS, ms))).toISOString();
}

export const INTERVAL_MS: Record<Interval, number> = {
  '5m': 5 * MIN,
  '15m': 15 * MIN,
  '1h': HOUR,
  '6h': 6 * HOUR,
  '1d': DAY,
  '1w': 7 * DAY,
};

export function isInterval(s: string): s is Interval {
  return (INTERVALS as readonly string[]).includes(s);
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    // Throws RangeError for an unknown zone.
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

export function isValidTimeZone(tz: string): boolean {
  if (typeof tz !== 'string' || tz === '') return false;
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

const offsetCache = new Map<string, Map<number, number>>();
let cachedOffsets = 0;

/** Offset of local wall time from UTC (ms) at the instant utcMs. Throws RangeError for an unknown zone. */
export function tzOffsetMs(tz: string, utcMs: number): number {
  // Real-world transitions fall on UTC 15-minute boundaries, so the offset is constant within a slot.
  const slot = Math.floor(utcMs / SLOT);
  let perTz = offsetCache.get(tz);
  const hit = perTz?.get(slot);
  if (hit !== undefined) return hit;
  const at = slot * SLOT;
  const p: Record<string, number> = {};
  for (const part of formatter(tz).formatToParts(at)) {
    if (part.type !== 'literal') p[part.type] = Number(part.value);
  }
  const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour % 24, p.minute, p.second);
  const off = wall - at;
  if (cachedOffsets >= CACHE_LIMIT) {
    offsetCache.clear();
    cachedOffsets = 0;
    perTz = undefined;
  }
  if (!perTz) offsetCache.set(tz, (perTz = new Map()));
  perTz.set(slot, off);
  cachedOffsets++;
  return off;
}

/**
 * UTC instant of the local wall time `local` (wall clock expressed as if it were UTC ms).
 * Repeated wall time (fall-back): the later occurrence if it is <= notAfter, else the earlier one.
 * Skipped wall time (spring-forward gap): the transition instant, i.e. the first instant at or after it.
 * Assumes at most one transition within a day either side, as in every real zone.
 */
function localToUtc(tz: string, local: number, notAfter: number): number {
  const before = tzOffsetMs(tz, local - DAY);
  const after = tzOffsetMs(tz, local + DAY);
  if (before === after) return local - before;
  const a = local - before;
  const b = local - after;
  const okA = tzOffsetMs(tz, a) === before;
  const okB = tzOffsetMs(tz, b) === after;
  if (okA && okB) return b <= notAfter ? b : a;
  if (okA) return a;
  if (okB) return b;
  let u = Math.floor(b / SLOT) * SLOT + SLOT;
  while (u < a && tzOffsetMs(tz, u) === before) u += SLOT;
  return u;
}

/** Local midnight (as wall-clock ms) of the day / Monday that contains the wall time `local`. */
function localDayStart(interval: Interval, local: number): number {
  const day = Math.floor(local / DAY);
  if (interval !== '1w') return day * DAY;
  const sinceMonday = (((day + 3) % 7) + 7) % 7; // epoch day 0 was a Thursday
  return (day - sinceMonday) * DAY;
}

/** UTC start of the local bucket containing utcMs. */
export function bucketFloor(tz: string, interval: Interval, utcMs: number): number {
  const off = tzOffsetMs(tz, utcMs);
  const local = utcMs + off;
  if (interval === '1d' || interval === '1w') {
    return localToUtc(tz, localDayStart(interval, local), -Infinity);
  }
  const step = INTERVAL_MS[interval];
  const floored = Math.floor(local / step) * step;
  // Fast path: the offset in force at utcMs also holds at the bucket start.
  const guess = floored - off;
  if (tzOffsetMs(tz, guess) === off) return guess;
  return localToUtc(tz, floored, utcMs);
}

/** UTC start of the bucket following the one that starts at bucketStartUtcMs. */
export function nextBucket(tz: string, interval: Interval, bucketStartUtcMs: number): number {
  const local = bucketStartUtcMs + tzOffsetMs(tz, bucketStartUtcMs);
  if (interval === '1d' || interval === '1w') {
    const len = interval === '1d' ? DAY : 7 * DAY;
    return localToUtc(tz, localDayStart(interval, local) + len, -Infinity);
  }
  const step = INTERVAL_MS[interval];
  const viaFloor = bucketFloor(tz, interval, bucketStartUtcMs + step);
  if (viaFloor > bucketStartUtcMs) return viaFloor;
  // The bucket is longer than nominal (fall-back inside it): the next local boundary's first occurrence.
  return localToUtc(tz, Math.floor(local / step) * step + step, -Infinity);
}

/** Start of every bucket intersecting [fromMs, toMs). */
export function bucketStarts(tz: string, interval: Interval, fromMs: number, toMs: number): number[] {
  if (!(fromMs < toMs)) return [];
  if ((toMs - fromMs) / INTERVAL_MS[interval] > MAX_BUCKETS + 2) {
    throw new RangeError(`window spans more than ${MAX_BUCKETS} ${interval} buckets`);
  }
  const out: number[] = [];
  for (let s = bucketFloor(tz, interval, fromMs); s < toMs; s = nextBucket(tz, interval, s)) {
    if (out.length >= MAX_BUCKETS) throw new RangeError(`window spans more than ${MAX_BUCKETS} ${interval} buckets`);
    out.push(s);
  }
  return out;
}

/**
 * Coarsest UTC grain g such that SQL `floor(ts / g) * g` groups, mapped through bucketFloor, give exactly
 * the local buckets of [fromMs, toMs). Every local boundary is (UTC) a multiple of g.
 */
export function sqlGrainMs(tz: string, interval: Interval, fromMs: number, toMs: number): number {
  if (interval === '5m' || interval === '15m') return INTERVAL_MS[interval];
  let g = HOUR;
  // Daily samples see both sides of every transition (no zone keeps an offset for under a day);
  // start one interval early because the first bucket may begin before fromMs.
  for (let t = fromMs - INTERVAL_MS[interval]; ; t += DAY) {
    const at = Math.min(t, toMs);
    const off = tzOffsetMs(tz, at);
    if (off % (30 * MIN) !== 0) return SLOT;
    if (off % HOUR !== 0) g = 30 * MIN;
    if (at >= toMs) return g;
  }
}

const REL_UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: MIN, h: HOUR, d: DAY, w: 7 * DAY };
const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?))?$/i;

/**
 * Parses an API/CLI time: ISO 8601 with Z or an offset, a plain date 'YYYY-MM-DD' (UTC midnight),
 * epoch milliseconds, 'now', or a relative offset from now ('-7d', '-24h', '-30m', 'now-1h', '+15m').
 * A date-time without a zone is rejected (ambiguous). Returns null if unparseable.
 */
export function parseTimeInput(s: string, nowMs: number): number | null {
  const str = s.trim();
  if (/^\d{1,16}$/.test(str)) return Number(str) <= 8.64e15 ? Number(str) : null;
  const rel = /^(?:now)?(?:([+-])(\d{1,9})(ms|s|m|h|d|w))?$/i.exec(str);
  if (rel && str !== '') {
    if (!rel[1]) return nowMs;
    const ms = nowMs + (rel[1] === '-' ? -1 : 1) * Number(rel[2]) * REL_UNIT_MS[rel[3].toLowerCase()];
    return Math.abs(ms) <= 8.64e15 ? ms : null;
  }
  const m = ISO_RE.exec(str);
  if (!m) return null;
  const [, y, mo, d, h = '0', mi = '0', sec = '0', frac = '', zone] = m;
  const hasTime = m[4] !== undefined;
  if (hasTime && zone === undefined) return null;
  const ms = Number(frac.padEnd(3, '0').slice(0, 3));
  const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec), ms);
  const check = new Date(wall);
  if (
    check.getUTCFullYear() !== Number(y) ||
    check.getUTCMonth() !== Number(mo) - 1 ||
    check.getUTCDate() !== Number(d) ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(sec) > 59
  )
    return null;
  if (!zone || zone.toUpperCase() === 'Z') return wall;
  const zh = Number(zone.slice(1, 3));
  const zm = zone.length > 3 ? Number(zone.slice(-2)) : 0; // '+05', '+0530', '+05:30'
  if (zh > 18 || zm > 59) return null;
  return wall - (zone[0] === '-' ? -1 : 1) * (zh * HOUR + zm * MIN);
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Bucket start as ISO 8601 local time with numeric offset, e.g. '2026-03-29T03:00:00+02:00'. */
export function formatBucket(tz: string, _interval: Interval, bucketStartUtcMs: number): string {
  const off = tzOffsetMs(tz, bucketStartUtcMs);
  const l = new Date(bucketStartUtcMs + off);
  const abs = Math.abs(off);
  const sign = off < 0 ? '-' : '+';
  return (
    `${pad(l.getUTCFullYear(), 4)}-${pad(l.getUTCMonth() + 1)}-${pad(l.getUTCDate())}` +
    `T${pad(l.getUTCHours())}:${pad(l.getUTCMinutes())}:${pad(l.getUTCSeconds())}` +
    `${sign}${pad(Math.floor(abs / HOUR))}:${pad(Math.floor((abs % HOUR) / MIN))}`
  );
}

/**
 * The UTC offsets in force over [fromMs, toMs), as spans starting at each change (found to the
 * 15 minutes by bisection between daily samples). Lets SQL compute local wall-clock time exactly.
 */
export function offsetSpans(tz: string, fromMs: number, toMs: number): { fromMs: number; offsetMs: number }[] {
  const spans = [{ fromMs, offsetMs: tzOffsetMs(tz, fromMs) }];
  for (let t = fromMs; t < toMs; ) {
    const next = Math.min(t + DAY, toMs);
    const off = tzOffsetMs(tz, next);
    if (off !== spans[spans.length - 1].offsetMs) {
      let lo = t,
        hi = next;
      while (hi - lo > SLOT) {
        const mid = lo + Math.floor((hi - lo) / 2 / SLOT) * SLOT || lo + SLOT;
        if (tzOffsetMs(tz, mid) === off) hi = mid;
        else lo = mid;
      }
      spans.push({ fromMs: hi, offsetMs: off });
    }
    t = next;
  }
  return spans;
}

/** Monday 1970-01-05 00:00 is 4 days after the epoch; weeks are floored relative to it. */
export const WEEK_ORIGIN_MS = 4 * DAY;
