/**
 * The seasonal anomaly detector: pure functions over one series, strictly causal (a bucket's
 * score uses only the buckets before it), so live detection and backtests give the same answers.
 * See ../shared/detection.md for the behaviour and its scenarios.
 *
 * Per bucket: a baseline (the same phase in earlier cycles scaled by the current level, or a
 * rolling median for young or non-seasonal series) gives the expected value and a robust spread
 * (MAD); a pooled spread (the typical residual of all recent buckets, whatever their phase) keeps
 * the few same-phase values from reading a noisy series as a quiet one; floors keep tiny noise
 * quiet; z = (actual - expected) / spread; the band is expected ± threshold × spread, and a bucket
 * is an anomaly exactly when it lies outside the band.
 */

export type ValueKind = 'count' | 'fraction';
export type Sensitivity = 'low' | 'medium' | 'high' | { z: number };
export type Direction = 'spike' | 'drop';

/** |z| at which a bucket is flagged, per sensitivity */
export const THRESHOLDS = { high: 3, medium: 4, low: 5 } as const;
/** seasonal periods (in buckets) per interval, shortest first */
export const PERIODS: Record<string, number[]> = { '5m': [288, 2016], '15m': [96, 672], '1h': [24, 168], '6h': [4, 28], '1d': [7], '1w': [] };
/** whole cycles that must precede a bucket before its period is used */
const MIN_CYCLES = 3;
/** earlier cycles compared per bucket: enough for a stable median, few enough to follow change */
const MAX_CYCLES = 8;
/** the spread never goes below these shares of the expected value (or of the level, if larger): 5 % seasonal, 3 % rolling */
const RELATIVE_FLOOR = { seasonal: 0.05, rolling: 0.03 } as const;
/** a count's spread is at least 1, and at least √expected (Poisson) */
const COUNT_ABSOLUTE_FLOOR = 1;
/** 1.4826 × MAD estimates a standard deviation for normal data */
const MAD_SCALE = 1.4826;
/** the pooled spread reads the residuals of this many of the shortest cycles (a week, hourly) */
const POOL_CYCLES = 7;
/** a count series whose maximum is below this share of the minimum expected value is skipped */
const SKIP_BELOW_SHARE = 0.5;

export interface DetectorOptions {
  /** seasonal periods in buckets (see PERIODS) */
  periods: number[];
  valueKind: ValueKind;
  sensitivity?: Sensitivity;
  /** count-shaped series: buckets expected below this are never flagged (default 50) */
  minExpected?: number;
  /** rolling baseline: buckets used (default 14) and needed (default 7) */
  rollingWindow?: number;
  minHistory?: number;
  /** the newest buckets held back while late events may arrive (default 0) */
  settlingBuckets?: number;
}

export interface ScoredPoint {
  index: number;
  value: number;
  expected: number | null;
  lower: number | null;
  upper: number | null;
  z: number;
  /** |z| / (|z| + threshold): 0.5 at the band's edge; 0 when the bucket cannot be flagged */
  score: number;
  isAnomaly: boolean;
  /** whether this bucket may be flagged at all (not below the minimum expected count, not 0 against 0) */
  flaggable: boolean;
  direction: Direction | null;
  baseline: 'seasonal' | 'rolling' | 'none';
  settling: boolean;
}

export function thresholdOf(s: Sensitivity = 'medium'): number {
  return typeof s === 'object' ? s.z : THRESHOLDS[s];
}

/**
 * The k-th smallest of xs[0..n) (quickselect, Hoare partition); reorders `xs`. For the pooled
 * spread, whose windows hold hundreds of values: sorting them at every refresh would be slow.
 */
export function select(xs: Float64Array | number[], n: number, k: number): number {
  let lo = 0, hi = n - 1;
  while (lo < hi) {
    const pivot = xs[(lo + hi) >> 1];
    let i = lo, j = hi;
    while (i <= j) {
      while (xs[i] < pivot) i++;
      while (xs[j] > pivot) j--;
      if (i <= j) {
        const t = xs[i]; xs[i] = xs[j]; xs[j] = t;
        i++; j--;
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

function mad(xs: number[], center: number): number {
  for (let i = 0; i < xs.length; i++) xs[i] = Math.abs(xs[i] - center);
  return median(xs);
}

/**
 * The series as the detector sees it: gaps (null, non-finite) stay gaps, so the phase of every
 * bucket is its index on the time grid and a missing bucket never shifts it.
 */
export function cleanSeries(values: (number | null | undefined)[]): (number | null)[] {
  return values.map((v) => (typeof v === 'number' && Number.isFinite(v) ? v : null));
}

/**
 * The level at t: the mean of the cycle before it (a day for the daily period; a week for the
 * weekly one, so a quiet weekend does not read as a level of zero on Monday morning).
 */
function levelAt(prefix: { sum: number[]; count: number[] }, t: number, period: number): number | null {
  const from = Math.max(0, t - period);
  const n = prefix.count[t] - prefix.count[from];
  return n ? (prefix.sum[t] - prefix.sum[from]) / n : null;
}

/** Baseline for bucket i from earlier buckets only; null when the history is too short. */
function baselineAt(values: (number | null)[], prefix: { sum: number[]; count: number[] }, i: number, o: Required<Omit<DetectorOptions, 'sensitivity'>>) {
  // the longest period with enough whole cycles before i (periods are sorted longest first)
  let period = 0;
  for (const p of o.periods) if (i >= MIN_CYCLES * p) { period = p; break; }
  if (period) {
    const level = levelAt(prefix, i, period);
    const ratios: number[] = [];
    for (let k = 1; k <= MAX_CYCLES && i - k * period >= 0; k++) {
      const past = values[i - k * period];
      const pastLevel = levelAt(prefix, i - k * period, period);
      if (past === null || pastLevel === null || pastLevel === 0) continue;
      ratios.push(past / pastLevel);
    }
    if (level !== null && ratios.length >= MIN_CYCLES - 1) {
      const r = median(ratios);
      // mad() reuses the array: the ratios are not needed after this
      return { kind: 'seasonal' as const, expected: r * level, level, spread: MAD_SCALE * mad(ratios, r) * Math.abs(level) };
    }
  }
  // a young series of a seasonal interval is scored only after one whole cycle, against that
  // cycle, so its rhythm is in the spread rather than flagged
  const cycle = o.periods.length ? o.periods[o.periods.length - 1] : 0;
  const window = Math.max(o.rollingWindow, cycle);
  const recent: number[] = [];
  for (let j = i - 1; j >= 0 && recent.length < window; j--) if (values[j] !== null) recent.push(values[j]!);
  if (recent.length < Math.max(o.minHistory, cycle)) return null;
  let sum = 0;
  for (const v of recent) sum += v;
  const m = median(recent);
  return { kind: 'rolling' as const, expected: m, level: sum / recent.length, spread: MAD_SCALE * mad(recent, m) };
}

/** Scores every bucket of a series (gaps are skipped: they are neither scored nor used). */
export function scoreSeries(input: (number | null | undefined)[], opts: DetectorOptions): ScoredPoint[] {
  const o = { minExpected: 50, rollingWindow: 14, minHistory: 7, settlingBuckets: 0, ...opts, periods: [...opts.periods].sort((a, b) => b - a) };
  const threshold = thresholdOf(opts.sensitivity);
  const values = cleanSeries(input);
  const isCount = o.valueKind === 'count';
  const prefix = { sum: [0], count: [0] };
  for (const v of values) {
    prefix.sum.push(prefix.sum[prefix.sum.length - 1] + (v ?? 0));
    prefix.count.push(prefix.count[prefix.count.length - 1] + (v === null ? 0 : 1));
  }
  const max = Math.max(...values.map((v) => v ?? -Infinity));
  // small numbers are noise: a count series that never comes near the minimum is not scored
  const skipAll = isCount && max < o.minExpected * SKIP_BELOW_SHARE;
  // the pooled spread, in units of the level: 1.4826 × the median |residual / level| of the
  // buckets of the last POOL_CYCLES shortest cycles, refreshed once a shortest cycle (causal: it
  // uses only buckets scored before); it floors the spread of seasonal baselines (a rolling one
  // already reads a whole cycle)
  const shortest = o.periods.length ? o.periods[o.periods.length - 1] : 0;
  const residuals = new Float64Array(values.length);
  const scratch = new Float64Array(shortest * POOL_CYCLES);
  let kept = 0, pooled = 0, refreshAt = shortest;
  const out: ScoredPoint[] = [];
  values.forEach((value, i) => {
    if (shortest && i >= refreshAt) {
      refreshAt = i + shortest;
      let n = 0;
      for (let j = kept - 1; j >= 0 && n < scratch.length; j--) scratch[n++] = residuals[j];
      // one cycle of residuals at least, or the pool is no better than the phase's own few values
      pooled = n >= shortest ? MAD_SCALE * select(scratch, n, n >> 1) : 0;
    }
    if (value === null) return;
    const settling = i >= values.length - o.settlingBuckets;
    const base = skipAll ? null : baselineAt(values, prefix, i, o);
    if (!base) {
      out.push({ index: i, value, expected: null, lower: null, upper: null, z: 0, score: 0, isAnomaly: false, flaggable: false, direction: null, baseline: 'none', settling });
      return;
    }
    if (base.kind === 'seasonal') {
      if (base.level !== 0) residuals[kept++] = Math.abs((value - base.expected) / base.level);
    } else if (shortest && i >= 2 * shortest) {
      // before the seasonal baseline starts, the pool fills with the residuals of a naive one (the
      // same phase one cycle ago, scaled by the level), so it is ready when the baseline is; the
      // naive forecast's error holds two buckets' noise, hence ÷ √2
      const past = values[i - shortest];
      const level = levelAt(prefix, i, shortest);
      const pastLevel = levelAt(prefix, i - shortest, shortest);
      if (past !== null && level && pastLevel) residuals[kept++] = Math.abs(value / level - past / pastLevel) / Math.SQRT2;
    }
    // relative to the level too: a series that is mostly 0 (expected 0, no spread) still has a
    // scale, and a value far beyond it is a deviation
    let spread = Math.max(base.spread, Math.max(Math.abs(base.expected), Math.abs(base.level)) * RELATIVE_FLOOR[base.kind]);
    if (base.kind === 'seasonal') spread = Math.max(spread, pooled * Math.abs(base.level));
    if (isCount) spread = Math.max(spread, COUNT_ABSOLUTE_FLOOR, Math.sqrt(Math.max(0, base.expected)));
    const z = spread > 0 ? (value - base.expected) / spread : 0;
    const lower = base.expected - threshold * spread;
    const upper = base.expected + threshold * spread;
    const flaggable = !(isCount && base.expected < o.minExpected) && !(value === 0 && base.expected === 0);
    const outside = value <= lower || value >= upper;
    const isAnomaly = flaggable && outside && spread > 0 && !settling;
    out.push({
      index: i, value, expected: base.expected, lower, upper, z,
      score: flaggable ? Math.abs(z) / (Math.abs(z) + threshold) : 0,
      isAnomaly,
      flaggable,
      direction: isAnomaly ? (z > 0 ? 'spike' : 'drop') : null,
      baseline: base.kind,
      settling,
    });
  });
  return out;
}
