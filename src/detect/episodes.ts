/**
 * Anomalous buckets become signals: a run of flags in one direction is one episode, reported once
 * at its first bucket. A long run is a level shift; a run of zeros where traffic was expected is
 * an outage, which lasts (through the night's expected zeros too) until traffic returns.
 *
 * Besides single buckets outside the band, a sustained deviation counts: consecutive buckets on
 * the same side of the expected value whose combined z, Σ(actual − expected) / √Σ spread², passes
 * the threshold. Small counts need it: at 10 an hour the Poisson floor keeps any one bucket inside
 * the band, but six hours at a tenth of normal are unmistakable.
 */
import type { Direction, ScoredPoint, ValueKind } from './anomaly.js';

export type SignalKind = 'spike' | 'drop' | 'level_shift' | 'outage';

export interface Episode {
  kind: SignalKind;
  direction: Direction;
  /** index of the first anomalous bucket: where the signal is anchored */
  start: number;
  /** index of the last bucket that belongs to it */
  end: number;
  /** the bucket with the largest |z| */
  peak: ScoredPoint;
  /** anomalous buckets folded into it */
  flagged: number;
  /** false while the episode may still go on (it reaches the newest scored bucket) */
  closed: boolean;
}

/** scored buckets without a flag that may separate two flags of one episode */
export const MAX_GAP = 2;
/** flagged buckets that make an episode a level shift rather than a spike or drop */
export const LEVEL_SHIFT_BUCKETS = 6;
/** a bucket takes part in a sustained deviation when it is at least this many spreads off */
const RUN_MIN_Z = 1;
/** the longest run whose combined z is considered: a deviation must show within it */
const RUN_MAX_BUCKETS = 12;

type Evidence = { point: ScoredPoint; flagged: boolean; direction: Direction | null };

/**
 * Per bucket, the combined z of the same-side run it ends (0 outside a run): Σ(actual − expected)
 * / √Σ spread² over the run's buckets, and where that run began.
 */
export function runScores(points: ScoredPoint[], threshold: number, seasonal: boolean): { z: number; first: number }[] {
  let run: { first: number; sign: number; dev: number; variance: number } | null = null;
  return points.map((p, i) => {
    const spread = p.expected === null || p.upper === null ? 0 : (p.upper - p.expected) / threshold;
    // a young seasonal series is judged against a rolling median, too crude to sum deviations of
    const crude = seasonal && p.baseline !== 'seasonal';
    const sign = crude || !p.flaggable || p.settling || spread <= 0 || Math.abs(p.z) < RUN_MIN_Z ? 0 : Math.sign(p.z);
    if (!sign) {
      run = null;
      return { z: 0, first: i };
    }
    if (!run || run.sign !== sign || i - run.first >= RUN_MAX_BUCKETS) run = { first: i, sign, dev: 0, variance: 0 };
    run.dev += p.value - p.expected!;
    run.variance += spread * spread;
    return { z: run.dev / Math.sqrt(run.variance), first: run.first };
  });
}

/**
 * Per bucket: flagged when outside the band, or when part of a sustained run whose combined z
 * passed the threshold (the run is flagged from its first bucket, where the deviation began).
 */
function evidence(points: ScoredPoint[], threshold: number, seasonal: boolean): Evidence[] {
  const out: Evidence[] = points.map((p) => ({ point: p, flagged: p.isAnomaly, direction: p.direction }));
  runScores(points, threshold, seasonal).forEach((r, i) => {
    if (Math.abs(r.z) < threshold) return;
    for (let j = r.first; j <= i; j++) {
      out[j].flagged = true;
      out[j].direction = r.z > 0 ? 'spike' : 'drop';
    }
  });
  return out;
}

/** `seasonal`: the series has seasonal periods (runs are then summed only against seasonal baselines). */
export function episodes(points: ScoredPoint[], valueKind: ValueKind, threshold: number, seasonal = true): Episode[] {
  const out: Episode[] = [];
  let open: Episode | null = null;
  let quiet = 0;
  const close = (closed: boolean) => {
    if (!open) return;
    if (open.kind !== 'outage' && open.flagged >= LEVEL_SHIFT_BUCKETS) open.kind = 'level_shift';
    out.push({ ...open, closed });
    open = null;
  };
  for (const { point: p, flagged, direction } of evidence(points, threshold, seasonal)) {
    if (p.settling) continue;
    const current = open as Episode | null;
    if (current?.kind === 'outage') {
      // an outage goes on while nothing arrives, also when zero is normal (the night)
      if (p.value === 0) {
        current.end = p.index;
        if (flagged) current.flagged++;
        continue;
      }
      close(true);
    }
    if (flagged && open && direction === (open as Episode).direction) {
      const e = open as Episode;
      e.end = p.index;
      e.flagged++;
      quiet = 0;
      if (Math.abs(p.z) > Math.abs(e.peak.z)) e.peak = p;
      continue;
    }
    if (open && !flagged && ++quiet <= MAX_GAP) continue;
    close(true);
    if (flagged && direction) {
      const outage: boolean = valueKind === 'count' && p.value === 0 && direction === 'drop';
      open = { kind: outage ? 'outage' : direction, direction, start: p.index, end: p.index, peak: p, flagged: 1, closed: false };
      quiet = 0;
    }
  }
  close(false);
  return out;
}
