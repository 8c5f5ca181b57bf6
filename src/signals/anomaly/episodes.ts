/**
 * The anomaly detector applied to a series on an interval's grid: how much history it reads, which
 * of the newest buckets it holds while they settle, and how an episode becomes a signal. Metric
 * detection, event volume, early outage, gauges in progress and backtests all score this way.
 */
import { PERIODS, scoreSeries, type DetectorOptions, type ValueKind } from '../../detect/anomaly.js';
import { clampToRange, type ValueRange } from '../../detect/value-range.js';
import { episodes, type Episode } from '../../detect/episodes.js';
import { INTERVAL_MS, bucketFloor, type Interval } from '../../time/index.js';
import type { ResolvedDetection } from '../settings.js';
import type { Severity, SignalInput } from '../store.js';

/**
 * Cycles of the longest period read before the window: a period is used once 3 whole cycles
 * precede a bucket, so 5 leave the window seasonal with at least 4 earlier cycles compared
 * (1h: 5 weeks).
 */
const HISTORY_CYCLES = 5;
/** and at least this many buckets: twice the rolling window, for intervals without a period */
const MIN_HISTORY_BUCKETS = 28;
/** a read never spans more (a long backfill of a 5m metric is detected over its newest part) */
export const MAX_DETECT_BUCKETS = 50_000;
/** |z| at or beyond this multiple of the threshold makes a signal critical */
const CRITICAL_Z_MULTIPLE = 2;
/** as does a change of at least this share of the expected value */
const CRITICAL_CHANGE = 0.5;

/** The buckets of history detection reads before a window, for a metric of this interval. */
export function historyBuckets(interval: Interval): number {
  return Math.max(HISTORY_CYCLES * Math.max(0, ...PERIODS[interval]), MIN_HISTORY_BUCKETS);
}

/**
 * critical: an outage, a peak at least twice as far out as the threshold, or one at least half the
 * expected value away from it (z is on the noise model's scale, where a doubling of 100 events is
 * about 8: the size of the change says as much); warning otherwise. A level shift follows the same
 * rule: a lasting change is the one most likely to matter, so it is not demoted to info (which is
 * left to signals without a deviation: recoveries, new events).
 */
export function severityOf(e: Pick<Episode, 'kind' | 'peak'>, threshold: number): Severity {
  const { value, expected, z } = e.peak;
  const change = expected ? Math.abs(value - expected) / Math.abs(expected) : 0;
  return e.kind === 'outage' || Math.abs(z) >= CRITICAL_Z_MULTIPLE * threshold || change >= CRITICAL_CHANGE ? 'critical' : 'warning';
}

/** 2 hours hold 8 buckets at 15m, 2 at 1h, 1 at 1d (detection.md, scenario 13). */
function settlingBuckets(s: ResolvedDetection, stepMs: number): number {
  return Math.ceil((s.settlingMinutes * 60_000) / stepMs);
}

/**
 * The newest buckets before `until` still held while late events may arrive: those that ended
 * less than the settling time before `now` (none once `now` is well past them, none at 0 minutes).
 */
export function heldBuckets(settings: ResolvedDetection, interval: Interval, at: { timeZone: string; until: number; now: number }): number {
  const step = INTERVAL_MS[interval];
  const settledBefore = at.now - settings.settlingMinutes * 60_000;
  return Math.max(0, Math.min(settlingBuckets(settings, step), Math.ceil((at.until - settledBefore) / step)));
}

/** A series on the time grid of an interval: bucket starts and their values (null: a gap). */
export interface BucketSeries {
  starts: number[];
  values: (number | null)[];
  /** per bucket, the number of samples behind the value (src/metrics/compile.ts, "Samples"; null: not known) */
  samples?: (number | null)[];
  valueKind: ValueKind;
  /** what the values can be: a signal's expected value and band stay within it */
  range: ValueRange;
}

/** The position of a bucket in its local day, in buckets: how the detector finds whole days. */
export function dayOffsetOf(startMs: number, timeZone: string, interval: Interval): number {
  const step = INTERVAL_MS[interval];
  if (step >= 86_400_000) return 0;
  return Math.round((startMs - bucketFloor(timeZone, '1d', startMs)) / step);
}

/**
 * Scores a series that ends at `until` and returns the episodes that reach `since` or later, less
 * the settling buckets: those held back by an earlier run fire now. The newest buckets settle
 * only while they are the newest: a window that ends well before `now` has settled.
 */
export function detectEpisodes(
  series: BucketSeries,
  interval: Interval,
  settings: ResolvedDetection,
  at: { timeZone: string; until: number; since: number; now: number },
): Episode[] {
  const { starts, values, valueKind } = series;
  const step = INTERVAL_MS[interval];
  const settling = settlingBuckets(settings, step);
  const points = scoreSeries(values, detectorOptions(series, interval, settings, heldBuckets(settings, interval, at), at.timeZone));
  const touchFrom = at.since - settling * step;
  return episodes(points, valueKind).filter((e) => starts[e.end] >= touchFrom);
}

/** The detector's options for a series of `interval` (the same for live detection and backtests). */
export function detectorOptions(
  series: Pick<BucketSeries, 'starts' | 'valueKind' | 'samples'>,
  interval: Interval,
  settings: ResolvedDetection,
  held: number,
  timeZone: string,
): DetectorOptions {
  return {
    periods: PERIODS[interval],
    valueKind: series.valueKind,
    samples: series.samples,
    sensitivity: settings.sensitivity,
    minSamples: settings.minExpected,
    settlingBuckets: held,
    dayOffset: series.starts.length ? dayOffsetOf(series.starts[0], timeZone, interval) : 0,
  };
}

/** What a scored series watches: a metric's total, an event's volume. */
export type SeriesTarget = Pick<SignalInput, 'scope' | 'scopeKey' | 'metricId'>;

/** An episode of a series as a signal (anchored at its first bucket, with its peak bucket's numbers, the band within the series' range). */
export function episodeSignal(
  target: SeriesTarget,
  series: Pick<BucketSeries, 'starts' | 'range'>,
  e: Episode,
  s: ResolvedDetection,
  interval: Interval,
  details: Record<string, unknown> = {},
): SignalInput {
  const { starts, range } = series;
  const p = e.peak;
  return {
    ...target,
    bucket: starts[e.start],
    endBucket: starts[e.end],
    kind: e.kind,
    direction: e.direction === 'spike' ? 'up' : 'down',
    value: p.value,
    expected: clampToRange(p.expected, range),
    lower: clampToRange(p.lower, range),
    upper: clampToRange(p.upper, range),
    z: p.z,
    score: p.score,
    severity: severityOf(e, s.threshold),
    details: {
      ...details,
      peak: { bucket: starts[p.index], baseline: p.baseline },
      flagged: e.flagged,
      closed: e.closed,
      samples: p.samples,
      model: p.model,
      sustained: p.sustained,
      interval,
      threshold: s.threshold,
      minExpected: s.minExpected,
    },
  };
}
