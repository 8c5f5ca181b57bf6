/** The expected value of a bucket from the buckets before it: seasonal, day-of-week corrected daily, or rolling. */
import { type DayFactors, dayOfWeekFactors } from './day-of-week.js';

/** whole weeks that must precede a bucket before the weekly period is used */
const WEEKLY_MIN_CYCLES = 3;
/** whole days before the day-of-week corrected daily baseline is used */
const DAILY_MIN_CYCLES = 3;
/** earlier cycles compared per bucket: enough for a stable median, few enough to follow change */
const MAX_CYCLES = 8;
/** 1.4826 × MAD estimates a standard deviation for normal data */
export const MAD_SCALE = 1.4826;

/**
 * The k-th smallest of xs[0..n) (quickselect, Hoare partition); reorders `xs`. For the dispersion
 * pool, whose windows hold hundreds of values: sorting them at every refresh would be slow.
 */
export function select(xs: Float64Array | number[], n: number, k: number): number {
  let lo = 0,
    hi = n - 1;
  while (lo < hi) {
    const pivot = xs[(lo + hi) >> 1];
    let i = lo,
      j = hi;
    while (i <= j) {
      while (xs[i] < pivot) i++;
      while (xs[j] > pivot) j--;
      if (i <= j) {
        const t = xs[i];
        xs[i] = xs[j];
        xs[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return xs[k];
}

/** Median; sorts `xs` in place (insertion sort: the arrays here hold a few dozen values at most). */
function median(xs: number[]): number {
  for (let i = 1; i < xs.length; i++) {
    const x = xs[i];
    let j = i - 1;
    for (; j >= 0 && xs[j] > x; j--) xs[j + 1] = xs[j];
    xs[j + 1] = x;
  }
  const m = xs.length >> 1;
  return xs.length % 2 ? xs[m] : (xs[m - 1] + xs[m]) / 2;
}

/**
 * The interquartile mean (the mean of the middle half; sorts `xs` in place): as robust as a
 * median to a stray cycle, and unlike it not 0 for a small count that is 0 in half the cycles.
 */
function centerOf(xs: number[]): number {
  if (xs.length < 4) return median(xs);
  median(xs);
  const cut = xs.length >> 2;
  let sum = 0;
  for (let i = cut; i < xs.length - cut; i++) sum += xs[i];
  return sum / (xs.length - 2 * cut);
}

/** MAD_SCALE × the median absolute deviation from `center`, relative to it (0 when it is 0); reuses `xs`. */
function relativeSpread(xs: number[], center: number): number {
  if (!center) return 0;
  for (let i = 0; i < xs.length; i++) xs[i] = Math.abs(xs[i] - center);
  return (MAD_SCALE * median(xs)) / Math.abs(center);
}

export interface Expectation {
  kind: 'seasonal' | 'daily' | 'rolling';
  expected: number;
  /** the typical magnitude of the series here (a mostly-zero series still has a scale) */
  level: number;
  /** the baseline's own relative error */
  error: number;
  /** earlier values it combines: its expected value carries their chance variation, 1.5 / n of one bucket's */
  cycles: number;
  /** the relative spread of one value at this phase (the rolling baseline's is in its error) */
  spread: number;
  /** a weekday not seen yet: how quiet it is normally is unknown, so it cannot drop */
  unseenDay?: boolean;
}

/**
 * Expected values of one series from its earlier buckets. `xs` is read as it stands when asked:
 * the scorer overwrites anomalies in it with their expected values, so they teach nothing.
 */
export class Baseline {
  private sum = [0];
  private count = [0];
  private factors: DayFactors | null = null;
  private factorsDay = -1;
  private scratch = new Float64Array(0);

  constructor(
    private xs: (number | null)[],
    private o: {
      periods: number[];
      day: number;
      week: number;
      dayOffset: number;
      rollingWindow: number;
      minHistory: number;
      isCount: boolean;
    },
  ) {}

  /** Appends prefix sums up to bucket i (exclusive) and redoes them from `from` on (after anomalies were overwritten). */
  sync(i: number, from = i): void {
    const start = Math.min(from, this.sum.length - 1);
    if (start < this.sum.length - 1) {
      this.sum.length = start + 1;
      this.count.length = start + 1;
    }
    for (let j = start; j < i; j++) {
      const v = this.xs[j];
      this.sum.push(this.sum[j] + (v ?? 0));
      this.count.push(this.count[j] + (v === null ? 0 : 1));
    }
  }

  /** The mean of the `period` buckets before t (a week for the weekly baseline, so a quiet weekend is not a level of zero on Monday). */
  private levelAt(t: number, period: number): number | null {
    const from = Math.max(0, t - period);
    const n = this.count[t] - this.count[from];
    return n ? (this.sum[t] - this.sum[from]) / n : null;
  }

  at(i: number): Expectation | null {
    const { week, day } = this.o;
    if (week && i >= WEEKLY_MIN_CYCLES * week) {
      const e = this.seasonal(i, week);
      if (e) return e;
    }
    if (week && day && i >= DAILY_MIN_CYCLES * day) {
      const e = this.daily(i);
      if (e) return e;
    }
    return this.rolling(i);
  }

  /** The same phase in earlier cycles, each as a ratio to its cycle's level, times the current level. */
  private seasonal(i: number, period: number): Expectation | null {
    const level = this.levelAt(i, period);
    const ratios: number[] = [];
    for (let k = 1; k <= MAX_CYCLES && i - k * period >= 0; k++) {
      const past = this.xs[i - k * period];
      const pastLevel = this.levelAt(i - k * period, period);
      if (past === null || pastLevel === null || pastLevel === 0) continue;
      ratios.push(past / pastLevel);
    }
    if (level === null || ratios.length < WEEKLY_MIN_CYCLES - 1) return null;
    const n = ratios.length;
    const r = centerOf(ratios);
    const spread = relativeSpread(ratios, r);
    return { kind: 'seasonal', expected: r * level, level, error: medianError(spread, n), cycles: n, spread };
  }

  /** The same phase of the last days, each divided by its day-of-week factor, times today's factor. */
  private daily(i: number): Expectation | null {
    const { day } = this.o;
    const today = Math.floor((i + this.o.dayOffset) / day);
    if (today !== this.factorsDay) {
      this.factors = dayOfWeekFactors(this.xs, i - ((i + this.o.dayOffset) % day), day, this.o.dayOffset, this.o.isCount);
      this.factorsDay = today;
    }
    const f = this.factors!;
    const dowOf = (t: number) => Math.floor((t + this.o.dayOffset) / day) % 7;
    const deseasoned: number[] = [];
    for (let k = 1; k <= 7 && i - k * day >= 0; k++) {
      const past = this.xs[i - k * day];
      if (past !== null) deseasoned.push(past / f.factor[dowOf(i - k * day)]);
    }
    if (deseasoned.length < DAILY_MIN_CYCLES) return null;
    const n = deseasoned.length;
    const m = centerOf(deseasoned);
    const level = this.levelAt(i, day) ?? 0;
    const dow = dowOf(i);
    const spread = relativeSpread(deseasoned, m);
    const error = Math.sqrt(medianError(spread, n) ** 2 + f.variance[dow]);
    return { kind: 'daily', expected: m * f.factor[dow], level, error, cycles: n, spread, unseenDay: f.seen[dow] === 0 };
  }

  /** A young series: the median of the last whole cycle (or rolling window), whose rhythm is in its error. */
  rolling(i: number): Expectation | null {
    const window = Math.max(this.o.rollingWindow, this.o.day);
    if (this.scratch.length < window) this.scratch = new Float64Array(window);
    const recent = this.scratch;
    let n = 0,
      sum = 0;
    for (let j = i - 1; j >= 0 && n < window; j--)
      if (this.xs[j] !== null) {
        recent[n++] = this.xs[j]!;
        sum += Math.abs(this.xs[j]!);
      }
    if (n < Math.max(this.o.minHistory, this.o.day)) return null;
    // quickselect, not a sort: the window holds a whole day (288 buckets at 5m) and is read every bucket
    const m = n % 2 ? select(recent, n, n >> 1) : (select(recent, n, (n >> 1) - 1) + select(recent, n, n >> 1)) / 2;
    for (let k = 0; k < n; k++) recent[k] = Math.abs(recent[k] - m);
    const error = m ? (MAD_SCALE * select(recent, n, n >> 1)) / Math.abs(m) : 1;
    const level = sum / n;
    return { kind: 'rolling', expected: m, level, error, cycles: n, spread: 0 };
  }
}

/** The relative error of a median of n values whose own relative spread is `spread` (1.25 σ / √n). */
function medianError(spread: number, n: number): number {
  return (1.25 * spread) / Math.sqrt(n);
}
