/**
 * Event volume: the hourly count of each of a project's busiest events, watched with the same
 * detector, settings and upsert rules as a metric, without anyone defining a metric for it. One
 * statement reads the counts of every event; each event's episodes become signals of scope
 * 'event' (`event:<name>`).
 *
 * Counts of events that come several to a session (page views, product views) vary more than
 * Poisson counts: an hour's count is a sum over sessions of 1 to 8 page views each, so its
 * variance is φ times its mean (φ ≈ 10 for the demo's page views), while the detector's count
 * floor assumes φ = 1 and would flag their ordinary swings. Each series is therefore scored in
 * units of φ events (the quasi-Poisson floor √(φ · expected)), with φ estimated robustly from the
 * detector's own residuals; an event that comes once per session keeps φ = 1 and is scored as is.
 */
import type { EventStore } from '../storage/events/event-store.js';
import type { Project } from '../projects/service.js';
import { INTERVAL_MS, bucketFloor, slotsFor } from '../time/index.js';
import { MAX_DETECT_BUCKETS, detectEpisodes, episodeSignal, heldBuckets, historyBuckets, type DetectResult, type SignalService } from './service.js';
import { scoreSeries, PERIODS } from '../detect/anomaly.js';
import { naturalRange } from '../detect/value-range.js';
import type { ResolvedDetection } from './settings.js';
import type { SignalInput } from './store.js';
import { boundedKey } from './drift.js';

/** events watched per project, the busiest of the history read (the long tail is too small to score) */
export const EVENT_VOLUME_EVENTS = 50;
export const INTERVAL = '1h';
/** buckets expected below this say little about dispersion (Pearson residuals of tiny counts are skewed) */
const DISPERSION_MIN_EXPECTED = 5;
/** residuals needed for an estimate: two days of hours */
const DISPERSION_MIN_POINTS = 48;
/** 1.4826 × MAD estimates a standard deviation for normal data */
const MAD_SCALE = 1.4826;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * A count series' dispersion φ (variance / mean), at least 1: the squared robust spread of its
 * Pearson residuals (actual − expected) / √expected against the detector's expected values.
 * Robust, so the incidents in the series do not inflate it; 1 when there is too little to go by.
 * It includes the baseline's own error (a Poisson series scores about 1.5), which is right for
 * its one use: scaling changes nothing but the Poisson floor, and that floor should be as wide
 * as the scatter the detector actually sees.
 */
export function countDispersion(counts: number[], s: Pick<ResolvedDetection, 'sensitivity'>): number {
  const points = scoreSeries(counts, { periods: PERIODS[INTERVAL], valueKind: 'count', sensitivity: s.sensitivity, minExpected: 0 });
  const residuals: number[] = [];
  for (const p of points) if (p.expected !== null && p.expected >= DISPERSION_MIN_EXPECTED) residuals.push((p.value - p.expected) / Math.sqrt(p.expected));
  if (residuals.length < DISPERSION_MIN_POINTS) return 1;
  const m = median(residuals);
  const sd = MAD_SCALE * median(residuals.map((r) => Math.abs(r - m)));
  return Math.max(1, sd * sd);
}

/** The signal of an episode scored in units of φ events, in events again. */
function inEvents(signal: SignalInput, phi: number, s: ResolvedDetection): SignalInput {
  const times = (x: number | null) => (x === null ? null : x * phi);
  // counts are whole: rounding undoes the scaling exactly
  return { ...signal, value: Math.round(signal.value * phi), expected: times(signal.expected), lower: times(signal.lower), upper: times(signal.upper), details: { ...signal.details, minExpected: s.minExpected } };
}

/**
 * The hourly counts of the project's busiest events over [readFrom, until), from the first hour
 * with any event (the hours before a project sent anything are left out rather than read as
 * zeros); null without events.
 */
export async function readHourlyCounts(events: EventStore, project: Project, readFrom: number, until: number): Promise<{ starts: number[]; byEvent: Map<string, number[]> } | null> {
  const slots = slotsFor(project.timeZone, INTERVAL, readFrom, until, true);
  const rows = slots.starts.length ? await events.eventCounts({ projectId: project.id, fromMs: readFrom, toMs: until, ...slots.spec, limit: EVENT_VOLUME_EVENTS }) : [];
  const byEvent = new Map<string, number[]>();
  let first = slots.starts.length;
  for (const r of rows) {
    const i = slots.bucketOf(r.slotMs);
    if (i < 0) continue;
    let counts = byEvent.get(r.event);
    if (!counts) byEvent.set(r.event, (counts = new Array<number>(slots.starts.length).fill(0)));
    counts[i] += r.count;
    first = Math.min(first, i);
  }
  if (!byEvent.size) return null;
  for (const [event, counts] of byEvent) byEvent.set(event, counts.slice(first));
  return { starts: slots.starts.slice(first), byEvent };
}

export interface EventVolumeResult extends DetectResult {
  /** events scored */
  events: number;
  ms: number;
}

export interface EventVolumeDeps {
  events: EventStore;
  signals: SignalService;
  now?: () => number;
}

export class EventVolumeDetector {
  private now: () => number;

  constructor(private deps: EventVolumeDeps) {
    this.now = deps.now ?? Date.now;
  }

  /**
   * Scores the hourly counts of the busiest events up to `until` (an hour boundary) and upserts
   * the episodes that reach `since` or later (default: every episode of the history read). The
   * series start at the first hour with any event, so the hours before a project sent anything
   * are left out rather than read as zeros.
   */
  async detect(project: Project, opts: { until: number; since?: number }): Promise<EventVolumeResult> {
    const started = performance.now();
    const { timeZone } = project;
    const done = (r: Omit<EventVolumeResult, 'ms'>): EventVolumeResult => ({ ...r, ms: Math.round(performance.now() - started) });
    const settings = await this.deps.signals.resolve(project.id, null);
    if (!settings.enabled) return done({ events: 0, episodes: 0, inserted: 0, updated: 0, skipped: 'detection is disabled' });
    const step = INTERVAL_MS[INTERVAL];
    const until = bucketFloor(timeZone, INTERVAL, opts.until);
    const readFrom = Math.max(until - MAX_DETECT_BUCKETS * step, bucketFloor(timeZone, INTERVAL, Math.min(opts.since ?? until, until) - historyBuckets(INTERVAL) * step));
    const read = await readHourlyCounts(this.deps.events, project, readFrom, until);
    if (!read) return done({ events: 0, episodes: 0, inserted: 0, updated: 0, skipped: 'no events' });
    const { starts, byEvent } = read;
    const since = Math.max(starts[0], Math.min(opts.since ?? starts[0], until));
    const signals: SignalInput[] = [];
    for (const [event, values] of byEvent) {
      const phi = countDispersion(values, settings);
      const scaled = { ...settings, minExpected: settings.minExpected / phi };
      const series = { starts, values: phi === 1 ? values : values.map((v) => v / phi), valueKind: 'count' as const, range: naturalRange('count', values) };
      const found = detectEpisodes(series, INTERVAL, scaled, { timeZone, until, since, now: this.now() });
      const target = { scope: 'event' as const, scopeKey: boundedKey(`event:${event}`), metricId: null };
      for (const e of found) signals.push(inEvents(episodeSignal(target, series, e, scaled, INTERVAL, { event, dispersion: phi }), phi, settings));
    }
    // every watched event was scored up to `until`, less the buckets still settling (incidents resolve on it)
    const covered = { scopeKey: 'event:*', until: until - heldBuckets(settings, INTERVAL, { timeZone, until, now: this.now() }) * step, stepMs: step };
    const r = await this.deps.signals.upsert(project.id, signals, [covered]);
    return done({ events: byEvent.size, episodes: signals.length, ...r });
  }
}
