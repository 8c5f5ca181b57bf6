/**
 * Anomalous buckets become signals: a run of flags in one direction is one episode, reported once
 * at its first bucket. A long run is a level shift; a run of zeros where traffic was expected is
 * an outage, which lasts (through the night's expected zeros too) until traffic returns.
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

export function episodes(points: ScoredPoint[], valueKind: ValueKind): Episode[] {
  const out: Episode[] = [];
  let open: (Episode & { quiet: number }) | null = null;
  const close = () => {
    if (!open) return;
    const { quiet: _quiet, ...e } = open;
    if (e.kind !== 'outage' && e.flagged >= LEVEL_SHIFT_BUCKETS) e.kind = 'level_shift';
    out.push({ ...e, closed: true });
    open = null;
  };
  for (const p of points) {
    if (p.settling) continue;
    if (open?.kind === 'outage') {
      // an outage goes on while nothing arrives, also when zero is normal (the night)
      if (p.value === 0) {
        open.end = p.index;
        if (p.isAnomaly) open.flagged++;
        continue;
      }
      close();
    }
    if (p.isAnomaly && open && p.direction === open.direction) {
      open.end = p.index;
      open.flagged++;
      open.quiet = 0;
      if (Math.abs(p.z) > Math.abs(open.peak.z)) open.peak = p;
      continue;
    }
    if (open && !p.isAnomaly && ++open.quiet <= MAX_GAP) continue;
    close();
    if (p.isAnomaly) {
      const outage = valueKind === 'count' && p.value === 0 && p.direction === 'drop';
      open = { kind: outage ? 'outage' : p.direction!, direction: p.direction!, start: p.index, end: p.index, peak: p, flagged: 1, closed: false, quiet: 0 };
    }
  }
  const last = open as (Episode & { quiet: number }) | null;
  if (last) {
    const { quiet: _quiet, ...e } = last;
    if (e.kind !== 'outage' && e.flagged >= LEVEL_SHIFT_BUCKETS) e.kind = 'level_shift';
    out.push({ ...e, closed: false });
  }
  return out;
}
