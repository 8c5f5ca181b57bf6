/**
 * Anomalous buckets become signals: a run of flags in one direction is one episode, reported once
 * at its first bucket. A long run is a level shift; a run of zeros where traffic was expected is
 * an outage, which lasts (through the night's expected zeros too) until traffic returns.
 * The scorer flags sustained runs as well as single buckets outside the band (anomaly.ts).
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
/**
 * A lone bucket, not an outage, whose |z| is below this multiple of the threshold is a blip, not a
 * signal: among hundreds of buckets a week a few pass the threshold by chance, mostly by a little.
 * It becomes a signal when the next bucket confirms it (or when it is stronger).
 */
export const BLIP_Z_MULTIPLE = 1.25;

/** the score (|z| / (|z| + threshold)) of a bucket at BLIP_Z_MULTIPLE × the threshold */
const BLIP_SCORE = BLIP_Z_MULTIPLE / (BLIP_Z_MULTIPLE + 1);

export function episodes(points: ScoredPoint[], valueKind: ValueKind): Episode[] {
  const out: Episode[] = [];
  let open: Episode | null = null;
  let quiet = 0;
  const close = (closed: boolean) => {
    if (!open) return;
    if (open.kind !== 'outage' && open.flagged >= LEVEL_SHIFT_BUCKETS) open.kind = 'level_shift';
    const blip = open.kind !== 'outage' && open.start === open.end && !open.peak.sustained && open.peak.score < BLIP_SCORE;
    if (!blip) out.push({ ...open, closed });
    open = null;
  };
  for (const p of points) {
    const flagged = p.isAnomaly;
    const direction = p.direction;
    if (p.settling) continue;
    const current = open as Episode | null;
    if (current?.kind === 'outage') {
      // an outage goes on while nothing arrives, also when zero is normal (the night)
      if (p.value === 0) {
        current.end = p.index;
        if (flagged) current.flagged++;
        quiet = 0;
        continue;
      }
      // traffic is back, though it may still be low: the outage goes on while drops follow it
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
