/**
 * The seasonal anomaly detector: pure functions over one series, strictly causal (a bucket's
 * score uses only the buckets before it), so live detection and backtests give the same answers.
 * See ../shared/detection.md for the behaviour and its scenarios, and the README's detection
 * section for where this departs from it.
 *
 * Per bucket:
 * - an expected value from a baseline: the same hour of the week in earlier weeks scaled by the
 *   current level (from 3 weeks on); before that the same hour of earlier days, corrected by
 *   day-of-week factors learnt with shrinkage from the first week on (./day-of-week.ts), so a
 *   weekend is not a drop; for the first days a rolling median of one whole cycle;
 * - a noise model that turns the sample size behind the bucket into a spread (./noise.ts):
 *   Poisson for counts, binomial for ratios over their denominator, a log scale for heavy-tailed
 *   sums and averages over their rows, a robust relative spread when nothing is known;
 * - a dispersion φ that scales that spread to what the series actually does, read from the tail of
 *   its recent normalised residuals, at least 1;
 * - z on the model's variance-stabilised scale; the band is the expected value ± threshold spreads
 *   on that scale, mapped back (so a count's band is asymmetric, as Poisson noise is).
 *
 * A bucket is an anomaly when it lies outside the band, or when it belongs to a sustained run on
 * one side whose combined deviation passes the threshold. Anomalies do not teach the baseline:
 * they are learnt as the edge of their band, and left out of the dispersion, so the end of an
 * incident is not a new one; a deviation that lasts two days is accepted as the new normal (a
 * level shift), the history before it rescaled to it.
 */
import { Baseline, MAD_SCALE, select } from './baseline.js';
import { modelFor, noise, type NoiseModel } from './noise.js';

export type ValueKind = 'count' | 'fraction';
export type Sensitivity = 'low' | 'medium' | 'high' | { z: number };
export type Direction = 'spike' | 'drop';
export type { NoiseModel } from './noise.js';

/** |z| at which a bucket is flagged, per sensitivity */
export const THRESHOLDS = { high: 3, medium: 4, low: 5 } as const;
/** seasonal periods (in buckets) per interval, shortest first: a day and a week */
export const PERIODS: Record<string, number[]> = {
  '5m': [288, 2016],
  '15m': [96, 672],
  '1h': [24, 168],
  '6h': [4, 28],
  '1d': [7],
  '1w': [],
};
/** relative error of any baseline, at least (3 %): no series is forecast better than this */
const MODEL_FLOOR = 0.03;
/**
 * the dispersion is read from this quantile of the recent |normalised residuals| (as a standard
 * normal's 90th percentile would be 1.645): higher than the median, so the heavier tails of small,
 * over-dispersed counts widen the band, yet blind to the tenth of buckets that may be odd
 */
const POOL_QUANTILE = 0.9;
const POOL_QUANTILE_Z = 1.6449;
/** and from this one, when the tail is heavier than a normal one's (whale orders, bursts of page views) */
const TAIL_QUANTILE = 0.98;
const TAIL_QUANTILE_Z = 2.3263;
/** the dispersion reads the normalised residuals of this many of the shortest cycles (a week, hourly) */
const POOL_CYCLES = 7;
/** residuals needed before the dispersion is estimated rather than assumed */
const POOL_MIN = 24;
/** a bucket takes part in a sustained run when it is at least this many spreads off */
const RUN_MIN_Z = 1;
/** the longest run whose combined z is considered; also how long a residual waits before it joins the dispersion pool */
const RUN_MAX_BUCKETS = 12;
/** days a deviation lasts before it is taken for the new normal (a holiday lasts one) */
const ACCEPT_AFTER_DAYS = 2;
/** the rolling median replaces a periodic baseline whose recent error is this many times its own */
const PLAIN_BETTER = 0.8;
/** the weight of each new bucket in those recent errors (about the last two days of hours) */
const ERROR_DECAY = 0.02;
/** a lasting change rescales the history before it by at most this factor (either way) */
const MAX_RESCALE = 5;
/** a bucket with fewer samples behind it than this never fires (counts: the larger of actual and expected) */
export const DEFAULT_MIN_SAMPLES = 10;

export interface DetectorOptions {
  /** seasonal periods in buckets (see PERIODS) */
  periods: number[];
  valueKind: ValueKind;
  /** samples behind each bucket: events, a ratio's denominator, a sum's rows (absent: unknown) */
  samples?: (number | null | undefined)[];
  /** the noise model; by default chosen from the value kind, the samples and the values (noise.ts) */
  model?: NoiseModel;
  sensitivity?: Sensitivity;
  /** a bucket with fewer samples than this never fires (default DEFAULT_MIN_SAMPLES) */
  minSamples?: number;
  /** buckets from the series' first bucket back to the start of its day (its position in the day), so day-of-week factors read whole days */
  dayOffset?: number;
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
  /** outside the band, or part of a sustained run past the threshold */
  isAnomaly: boolean;
  /** whether this bucket may be flagged at all (enough samples, a known spread, not 0 against 0) */
  flaggable: boolean;
  direction: Direction | null;
  baseline: 'seasonal' | 'daily' | 'rolling' | 'none';
  settling: boolean;
  /** the samples behind the bucket (counts: the larger of actual and expected), null when unknown */
  samples: number | null;
  model: NoiseModel;
  /** flagged as part of a sustained run rather than on its own */
  sustained: boolean;
}

export function thresholdOf(s: Sensitivity = 'medium'): number {
  return typeof s === 'object' ? s.z : THRESHOLDS[s];
}

/**
 * The series as the detector sees it: gaps (null, non-finite) stay gaps, so the phase of every
 * bucket is its index on the time grid and a missing bucket never shifts it.
 */
export function cleanSeries(values: (number | null | undefined)[]): (number | null)[] {
  return values.map((v) => (typeof v === 'number' && Number.isFinite(v) ? v : null));
}

/** Scores every bucket of a series (gaps are skipped: they are neither scored nor used). */
// long because it is one pass over the series that keeps the baseline, the current run and the episode state together
export function scoreSeries(input: (number | null | undefined)[], opts: DetectorOptions): ScoredPoint[] {
  const periods = [...opts.periods].sort((a, b) => a - b);
  const week = periods.length ? periods[periods.length - 1] : 0;
  const day = periods.length > 1 ? periods[0] : week ? week / 7 : 0;
  const threshold = thresholdOf(opts.sensitivity);
  const minSamples = opts.minSamples ?? DEFAULT_MIN_SAMPLES;
  const settlingFrom = input.length - (opts.settlingBuckets ?? 0);
  const values = cleanSeries(input);
  // a count that has been 0 since the series began has not begun (a metric of an event nobody sent
  // yet): its leading zeros are neither scored nor learnt from, or its first events read as a surge
  if (opts.valueKind === 'count') for (let i = 0; i < values.length && !values[i]; i++) values[i] = null;
  const samples = opts.samples ? cleanSeries(opts.samples) : null;
  const isCount = opts.valueKind === 'count';
  const model = opts.model ?? modelFor(opts.valueKind, values, samples);
  const dayOffset = day ? (((opts.dayOffset ?? 0) % day) + day) % day : 0;
  const shape = {
    periods,
    day: Number.isInteger(day) ? day : 0,
    week,
    dayOffset,
    rollingWindow: opts.rollingWindow ?? 14,
    minHistory: opts.minHistory ?? 7,
    isCount,
  };
  // what later buckets learn from: the values, anomalies held to the edge of their band
  const learnt = [...values];
  const baseline = new Baseline(learnt, shape);
  // the samples a log-scale series expects (its rows), for a sum that falls because its rows did
  const expectedSamples = samples && model === 'log' ? new Baseline(samples, { ...shape, isCount: true }) : null;

  const poolSize = Math.max(POOL_MIN, (day || 7) * POOL_CYCLES);
  const residuals = new Float64Array(values.length);
  // without samples, the same phase's few earlier values may agree by chance: their spread is
  // floored by the typical relative residual of all recent buckets (the pooled spread)
  const relative = new Float64Array(values.length);
  let pooledSpread = 0;
  const residualOf = new Int32Array(values.length).fill(-1);
  const scratch = new Float64Array(poolSize);
  let kept = 0,
    admitted = 0,
    dispersion = 0,
    refreshAt = 0;
  let rhythmError = 0,
    plainError = 0;
  const refreshEvery = Math.max(1, day || 7);

  const out: ScoredPoint[] = [];
  const byIndex: (ScoredPoint | undefined)[] = new Array(values.length);
  // a run's residuals add up; their chance variance is the buckets' sampling variances plus the
  // baseline's error, which neighbouring buckets share (a slow day is slow all day), so its
  // standard deviations add rather than its variances
  let run: { first: number; sign: number; residual: number; sampling: number; modelSd: number; samples: number } | null = null;
  // a stretch of anomalies in one direction (quiet gaps of up to half a day allowed: the night of
  // a small series rarely fires), for accepting a lasting change as the new normal
  let shift: { from: number; last: number; sign: number } | null = null;
  const shiftGap = Math.max(RUN_MAX_BUCKETS, Math.floor(shape.day / 2));
  const acceptAfter = Math.max(ACCEPT_AFTER_DAYS * shape.day, RUN_MAX_BUCKETS);
  /**
   * The change from `from` to `to` is the new normal: learnt as it is, and the history before it
   * scaled by the change (actual over expected), so every baseline, weekly ones too, expects the
   * new level at once instead of drifting to it over weeks.
   */
  const accept = (from: number, to: number) => {
    let actual = 0,
      expected = 0;
    for (let j = from; j <= to; j++) {
      const q = byIndex[j];
      if (q?.expected !== null && q?.expected !== undefined) {
        actual += q.value;
        expected += q.expected;
      }
    }
    // (an outage or a burst is not a level to scale the past to: only a change by a factor within MAX_RESCALE)
    const change = actual > 0 && expected > 0 ? actual / expected : 0;
    const factor = model !== 'robust' && change >= 1 / MAX_RESCALE && change <= MAX_RESCALE ? change : 1;
    for (let j = 0; j < from; j++) if (learnt[j] !== null && factor !== 1) learnt[j]! *= factor;
    for (let j = from; j <= to; j++) learnt[j] = values[j];
    baseline.sync(to + 1, 0);
  };

  // an anomaly teaches the baseline no more than the edge of its band
  const unlearn = (j: number, p: ScoredPoint) => {
    if (p.lower !== null && p.upper !== null) learnt[j] = Math.min(p.upper, Math.max(p.lower, p.value));
  };

  for (let i = 0; i < values.length; i++) {
    // residuals join the dispersion pool once a run can no longer flag them
    while (admitted < kept && residualOf[admitted] >= 0 && residualOf[admitted] < i - RUN_MAX_BUCKETS) admitted++;
    if (i >= refreshAt) {
      refreshAt = i + refreshEvery;
      let n = 0;
      for (let j = admitted - 1; j >= 0 && n < poolSize; j--) if (!byIndex[residualOf[j]]?.isAnomaly) scratch[n++] = Math.abs(residuals[j]);
      if (n < POOL_MIN) dispersion = 0;
      else {
        const body = select(scratch, n, Math.floor(POOL_QUANTILE * (n - 1))) / POOL_QUANTILE_Z;
        const tail = select(scratch, n, Math.floor(TAIL_QUANTILE * (n - 1))) / TAIL_QUANTILE_Z;
        dispersion = Math.max(1, body, tail) ** 2;
        n = 0;
        for (let j = admitted - 1; j >= 0 && n < poolSize; j--) if (!byIndex[residualOf[j]]?.isAnomaly) scratch[n++] = relative[j];
        pooledSpread = MAD_SCALE * select(scratch, n, n >> 1);
      }
    }
    const value = values[i];
    if (value === null) continue;
    baseline.sync(i);
    expectedSamples?.sync(i);
    const settling = i >= settlingFrom;
    const rhythmic = baseline.at(i);
    let base = rhythmic;
    // a series without the rhythm of its periods (a machine's metric, not people's traffic) is
    // better read by the rolling median: whichever has erred less lately is used
    const plain = base && base.kind !== 'rolling' ? baseline.rolling(i) : null;
    if (plain && rhythmError > 0 && plainError < PLAIN_BETTER * rhythmError) base = plain;
    const n = samples?.[i] ?? null;
    if (!base) {
      // (object literals written out: spreading a shared one is the scorer's slowest line)
      const p: ScoredPoint = {
        index: i,
        value,
        expected: null,
        lower: null,
        upper: null,
        z: 0,
        score: 0,
        isAnomaly: false,
        flaggable: false,
        direction: null,
        baseline: 'none',
        settling,
        samples: n,
        model,
        sustained: false,
      };
      out.push(p);
      byIndex[i] = p;
      run = null;
      continue;
    }
    const expectedN = expectedSamples?.at(i)?.expected ?? null;
    const nz = noise(model, {
      expected: base.expected,
      level: base.level,
      error: Math.max(MODEL_FLOOR, base.error),
      samples: n,
      expectedSamples: expectedN,
      cycles: base.cycles,
      phaseSpread: Math.max(base.spread, pooledSpread),
    });
    // before the dispersion is known: a rolling baseline's error holds the spread of a whole recent
    // cycle, dispersion and all; Poisson and binomial noise is known; a log-scale or robust series waits
    const phi = dispersion || (base.kind === 'rolling' || model === 'poisson' || model === 'binomial' ? 1 : 0);
    const spread = Math.sqrt(nz.variance * phi);
    const residual = nz.transform(value) - nz.center;
    const z = spread > 0 ? residual / spread : 0;
    if (base.kind !== 'rolling' && nz.variance > 0) {
      residuals[kept] = residual / Math.sqrt(nz.variance);
      relative[kept] = Math.abs(value - base.expected) / (Math.max(Math.abs(base.expected), Math.abs(base.level)) || 1);
      residualOf[kept++] = i;
    }
    const behind =
      model === 'poisson'
        ? Math.max(value, base.expected)
        : model === 'log' && (n !== null || expectedN !== null)
          ? Math.max(n ?? 0, expectedN ?? 0)
          : n;
    const enough = behind === null ? true : behind >= minSamples;
    // a bucket with too few samples cannot fire on its own, but adds to a run (a conversion rate over
    // 5 tries an hour says little in one hour and much over eight)
    const summable = spread > 0 && !(value === 0 && base.expected === 0) && !(base.unseenDay && residual < 0);
    const flaggable = enough && summable;
    const outside = flaggable && Math.abs(z) >= threshold;
    const p: ScoredPoint = {
      index: i,
      value,
      expected: base.expected,
      lower: nz.inverse(nz.center - threshold * spread),
      upper: nz.inverse(nz.center + threshold * spread),
      z,
      score: flaggable ? Math.abs(z) / (Math.abs(z) + threshold) : 0,
      isAnomaly: outside && !settling,
      flaggable,
      direction: outside && !settling ? (z > 0 ? 'spike' : 'drop') : null,
      baseline: base.kind,
      settling,
      samples: behind,
      model,
      sustained: false,
    };
    out.push(p);
    byIndex[i] = p;
    if (plain && rhythmic) {
      const scale = Math.max(Math.abs(rhythmic.expected), Math.abs(rhythmic.level)) || 1;
      rhythmError += ERROR_DECAY * (Math.abs(value - rhythmic.expected) / scale - rhythmError);
      plainError += ERROR_DECAY * (Math.abs(value - plain.expected) / scale - plainError);
    }

    // a sustained run: consecutive buckets on one side, each at least RUN_MIN_Z off, whose
    // combined z passes the threshold, are flagged from the run's first bucket (a young series'
    // rolling baseline is too crude to sum deviations of)
    const sign = !summable || settling || base.kind === 'rolling' || Math.abs(z) < RUN_MIN_Z ? 0 : Math.sign(z);
    if (!sign) run = null;
    else {
      if (!run || run.sign !== sign || i - run.first >= RUN_MAX_BUCKETS)
        run = { first: i, sign, residual: 0, sampling: 0, modelSd: 0, samples: 0 };
      run.residual += nz.transform(value) - nz.center;
      run.sampling += (nz.variance - nz.modelVariance) * phi;
      run.modelSd += Math.sqrt(nz.modelVariance * phi);
      run.samples += behind ?? Infinity;
      if (run.samples >= minSamples && Math.abs(run.residual) / Math.sqrt(run.sampling + run.modelSd ** 2) >= threshold) {
        let from = i;
        for (let j = run.first; j <= i; j++) {
          const q = byIndex[j];
          if (!q || q.settling) continue;
          if (!q.isAnomaly) {
            q.isAnomaly = true;
            q.sustained = true;
            q.direction = run.sign > 0 ? 'spike' : 'drop';
            unlearn(j, q);
            from = Math.min(from, j);
          }
        }
        if (from < i) baseline.sync(i + 1, from);
      }
    }
    if (p.isAnomaly) {
      unlearn(i, p);
      const sign = p.direction === 'spike' ? 1 : -1;
      const from: number = p.sustained && run ? run.first : i;
      if (!shift || shift.sign !== sign || from - shift.last > shiftGap) shift = { from, last: i, sign };
      else shift.last = i;
      if (i - shift.from + 1 >= acceptAfter) {
        accept(shift.from, i);
        shift = null;
      }
    } else if (shift && run?.sign !== shift.sign && i - shift.last > shiftGap) shift = null; // (a run on its side may still flag back)
  }
  return out;
}
