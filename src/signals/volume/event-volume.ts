/**
 * Event volume: the hourly count of each of a project's busiest events, watched with the same
 * detector, settings and upsert rules as a metric, without anyone defining a metric for it. One
 * statement reads the counts of every event; each event's episodes become signals of scope
 * 'event' (`event:<name>`).
 *
 * Counts of events that come several to a session (page views) vary more than Poisson counts;
 * the detector estimates each series' dispersion itself (anomaly.ts), so they are scored as they are.
 *
 * The project's total count per hour (every event, not only the busiest) is one more series, of
 * scope 'volume' (`volume:total`), scored the same way.
 */
import type { EventStore } from '../../storage/events/event-store.js';
import type { Project } from '../../projects/service.js';
import { INTERVAL_MS, bucketFloor, slotsFor } from '../../time/index.js';
import type { Slots } from '../../time/slots.js';
import type { SignalService } from '../service.js';
import type { DetectResult } from '../anomaly/metric-detection.js';
import { MAX_DETECT_BUCKETS, detectEpisodes, episodeSignal, heldBuckets, historyBuckets } from '../anomaly/episodes.js';
import { naturalRange } from '../../detect/value-range.js';
import type { SignalInput } from '../store.js';
import { boundedKey } from '../drift/drift.js';

/** the scope key of the project's total event volume (scope 'volume') */
export const TOTAL_VOLUME_KEY = 'volume:total';
/** events watched per project, the busiest of the history read (the long tail is too small to score) */
export const EVENT_VOLUME_EVENTS = 50;
export const INTERVAL = '1h';

/**
 * The hourly counts of the project's busiest events over [readFrom, until), from the first hour
 * with any event (the hours before a project sent anything are left out rather than read as
 * zeros); null without events.
 */
export async function readHourlyCounts(
  events: EventStore,
  project: Project,
  readFrom: number,
  until: number,
): Promise<{ starts: number[]; byEvent: Map<string, number[]> } | null> {
  const slots = slotsFor(project.timeZone, INTERVAL, readFrom, until, true);
  const rows = slots.starts.length
    ? await events.eventCounts({ projectId: project.id, fromMs: readFrom, toMs: until, ...slots.spec, limit: EVENT_VOLUME_EVENTS })
    : [];
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
  /** of the episodes, those of the project's total volume */
  totalEpisodes: number;
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
    if (!settings.enabled)
      return done({ events: 0, totalEpisodes: 0, episodes: 0, inserted: 0, updated: 0, skipped: 'detection is disabled' });
    const step = INTERVAL_MS[INTERVAL];
    const until = bucketFloor(timeZone, INTERVAL, opts.until);
    const readFrom = Math.max(
      until - MAX_DETECT_BUCKETS * step,
      bucketFloor(timeZone, INTERVAL, Math.min(opts.since ?? until, until) - historyBuckets(INTERVAL) * step),
    );
    const read = await readHourlyCounts(this.deps.events, project, readFrom, until);
    if (!read) return done({ events: 0, totalEpisodes: 0, episodes: 0, inserted: 0, updated: 0, skipped: 'no events' });
    const { starts, byEvent } = read;
    const since = Math.max(starts[0], Math.min(opts.since ?? starts[0], until));
    const signals: SignalInput[] = [];
    const score = (target: Pick<SignalInput, 'scope' | 'scopeKey' | 'metricId'>, values: number[], details: Record<string, unknown>) => {
      const series = { starts, values, valueKind: 'count' as const, range: naturalRange('count', values) };
      const found = detectEpisodes(series, INTERVAL, settings, { timeZone, until, since, now: this.now() });
      for (const e of found) signals.push(episodeSignal(target, series, e, settings, INTERVAL, details));
    };
    // the project's total first: when everything drops at once, it is the cause the events share
    const total = await this.hourlyCounts(project, null, starts[0], until);
    score({ scope: 'volume', scopeKey: TOTAL_VOLUME_KEY, metricId: null }, total, {});
    for (const [event, counts] of byEvent)
      score({ scope: 'event', scopeKey: boundedKey(`event:${event}`), metricId: null }, counts, { event });
    // every watched event (and the total) was scored up to `until`, less the buckets still settling (incidents resolve on it)
    const coveredUntil = until - heldBuckets(settings, INTERVAL, { timeZone, until, now: this.now() }) * step;
    const covered = [
      { scopeKey: 'event:*', until: coveredUntil, stepMs: step },
      { scopeKey: TOTAL_VOLUME_KEY, until: coveredUntil, stepMs: step },
    ];
    const r = await this.deps.signals.upsert(project.id, signals, covered);
    return done({
      events: byEvent.size,
      totalEpisodes: signals.filter((x) => x.scope === 'volume').length,
      episodes: signals.length,
      ...r,
    });
  }

  /**
   * The hourly counts of one event, or of every event (null), over the hours of [fromMs, toMs):
   * what incidents correlate to tell whether two volumes moved together.
   */
  async hourlyCounts(project: Project, event: string | null, fromMs: number, toMs: number): Promise<number[]> {
    const slots = slotsFor(project.timeZone, INTERVAL, fromMs, toMs, true);
    return slots.starts.length ? this.countsOf(project, event, slots, fromMs, toMs) : [];
  }

  private async countsOf(project: Project, event: string | null, slots: Slots, fromMs: number, toMs: number): Promise<number[]> {
    const counts = new Array<number>(slots.starts.length).fill(0);
    if (!slots.starts.length) return counts;
    const rows = await this.deps.events.timeseries({
      projectId: project.id,
      ...(event !== null && { event }),
      fromMs,
      toMs,
      measure: 'events',
      limit: 1,
      ...slots.spec,
    });
    for (const r of rows) {
      const i = slots.bucketOf(r.slotMs);
      if (i >= 0) counts[i] += r.value;
    }
    return counts;
  }
}
