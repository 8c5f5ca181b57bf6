/**
 * Early outage detection on the hour still in progress. Event-volume detection scores an hour once
 * it has ended (and settled), so an outage that starts at 13:05 is seen after 14:00 at best. Here,
 * at each scheduler tick (at most once a minute per project), the events of the last 10, 20, 30
 * and 60 minutes are compared with what those minutes expect: the detector's expected count for
 * each hour they overlap times the share of it they cover. A count far below it (a Poisson lower
 * tail under 1e-6, in units of the event's dispersion, and at most a quarter of the expectation,
 * with at least 20 events expected) raises an `outage` signal at once, anchored at the hour in
 * progress like the hourly run's (idempotent per scope and hour: the hourly run's own signal for
 * that hour later takes its place).
 *
 * Trailing windows rather than "the hour so far": an outage that starts at 13:40 would otherwise
 * be diluted by the 40 normal minutes before it and not show until the next hour. The windows end
 * the project's observed lateness (up to an hour) before now, so events that clients batch or
 * send late are not mistaken for missing ones.
 *
 * The expected counts come from the public scorer only: the series with a placeholder appended;
 * the scorer is causal, so that point's `expected` uses earlier hours only. They are computed once
 * per project and hour (a scan of the history), the counts of the last hour at every check.
 */
import { PERIODS, scoreSeries, type ScoredPoint } from '../../detect/anomaly.js';
import type { EventStore } from '../../storage/events/event-store.js';
import type { Project } from '../../projects/service.js';
import { INTERVAL_MS, bucketFloor } from '../../time/index.js';
import type { SignalService } from '../service.js';
import { MAX_DETECT_BUCKETS, historyBuckets } from '../anomaly/episodes.js';
import { EVENT_VOLUME_EVENTS, INTERVAL, readHourlyCounts } from './event-volume.js';
import { boundedKey } from '../drift/drift.js';
import type { ResolvedDetection } from '../settings.js';
import type { SignalInput } from '../store.js';

/** below this many events expected so far, a shortfall is too likely to be chance to act on */
export const EARLY_MIN_EXPECTED = 20;
/** the count so far must be at most this share of the expectation (an outage, not a dip) */
export const EARLY_MAX_SHARE = 0.25;
/** and this unlikely under the expectation: with ~50 watched events checked every minute, about one false alarm in decades */
export const EARLY_MAX_P = 1e-6;
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
 * A count series' dispersion φ (variance / mean), at least 1, from its scored points: the squared
 * robust spread of its Pearson residuals (actual − expected) / √expected. Robust, so the incidents
 * in the series do not inflate it; 1 when there is too little to go by. It includes the baseline's
 * own error (a Poisson series scores about 1.5): the scatter the detector actually sees.
 */
function countDispersion(points: ScoredPoint[]): number {
  const residuals: number[] = [];
  for (const p of points)
    if (p.expected !== null && p.expected >= DISPERSION_MIN_EXPECTED) residuals.push((p.value - p.expected) / Math.sqrt(p.expected));
  if (residuals.length < DISPERSION_MIN_POINTS) return 1;
  const m = median(residuals);
  const sd = MAD_SCALE * median(residuals.map((r) => Math.abs(r - m)));
  return Math.max(1, sd * sd);
}

/**
 * hours of an event's history before it is watched early: the detector uses the daily period once
 * 3 whole days precede an hour; before that its rolling baseline would read every night as an outage
 */
export const EARLY_MIN_HISTORY_HOURS = 3 * 24;
/** a project's recent events are counted at most this often */
export const EARLY_CHECK_EVERY_MS = 60_000;
/** the trailing windows compared, in minutes: short ones catch a total stop quickly, long ones a partial drop or a quiet event */
export const EARLY_WINDOWS_MINUTES = [10, 20, 30, 60] as const;
/** an observed lateness up to this delays the windows by as much; a longer one is not waited for */
export const EARLY_MAX_LAG_MINUTES = 60;
const MINUTE = 60_000;

/** P(X ≤ k) for X ~ Poisson(λ), summed in log space (k is small next to λ when it matters). */
export function poissonLowerTail(k: number, lambda: number): number {
  if (lambda <= 0) return 1;
  if (k < 0) return 0;
  let logTerm = -lambda;
  let sum = Math.exp(logTerm);
  for (let i = 1; i <= Math.floor(k); i++) {
    logTerm += Math.log(lambda) - Math.log(i);
    sum += Math.exp(logTerm);
  }
  return Math.min(1, sum);
}

export interface SoFarVerdict {
  /** events the elapsed part of the hour expects */
  expectedSoFar: number;
  /** the Poisson lower tail of the count so far, in units of the dispersion */
  p: number;
  outage: boolean;
}

/**
 * Whether `observed` events in some minutes are an outage against `expectedSoFar` for them.
 * `dispersion` φ: the event's variance / mean (counts of
 * events that come several to a session vary more than Poisson counts), compared in units of φ.
 */
export function judgeSoFar(observed: number, expectedSoFar: number, dispersion = 1): SoFarVerdict {
  const p = poissonLowerTail(Math.floor(observed / dispersion), expectedSoFar / dispersion);
  const outage = expectedSoFar >= EARLY_MIN_EXPECTED && observed <= EARLY_MAX_SHARE * expectedSoFar && p < EARLY_MAX_P;
  return { expectedSoFar, p, outage };
}

/**
 * An event's expectation for the hour after `values`, and for the hour before it, from one scoring
 * (the scorer is causal: a point's expected value reads only the hours before it); null when the
 * coming hour expects nothing or there is too little history.
 */
export function eventExpectation(values: number[], settings: Pick<ResolvedDetection, 'sensitivity'>): EventExpectation | null {
  const points = scoreSeries(values.concat([0]), {
    periods: PERIODS[INTERVAL],
    valueKind: 'count',
    sensitivity: settings.sensitivity,
    minSamples: 0,
  });
  const expectedAt = (index: number) => {
    const e = points.find((p) => p.index === index)?.expected;
    return e === null || e === undefined ? null : Math.max(0, e);
  };
  const current = expectedAt(values.length);
  if (current === null || current <= 0) return null;
  const previous = values.length > 1 ? expectedAt(values.length - 1) : null;
  return { previous, current, dispersion: countDispersion(points.filter((p) => p.index < values.length)) };
}

/** An event's expected counts of the hour before the current one and of the current one. */
interface EventExpectation {
  previous: number | null;
  current: number;
  dispersion: number;
}

interface HourExpectation {
  hour: number;
  events: Map<string, EventExpectation>;
}

/** What the minutes [from, to) expect, the hour before `hour` and `hour` itself at their own rates (null: not known). */
export function expectedBetween(e: EventExpectation, hour: number, from: number, to: number): number | null {
  const span = INTERVAL_MS[INTERVAL];
  const before = Math.max(0, Math.min(to, hour) - from);
  if (before > 0 && e.previous === null) return null;
  return (before / span) * (e.previous ?? 0) + (Math.max(0, to - Math.max(from, hour)) / span) * e.current;
}

export interface EarlyOutageDeps {
  events: EventStore;
  signals: SignalService;
  now?: () => number;
}

export interface EarlyOutageResult {
  checked: number;
  raised: number;
  skipped?: string;
}

export class EarlyOutageDetector {
  private now: () => number;
  private expectations = new Map<number, Promise<HourExpectation>>();
  private checkedAt = new Map<number, number>();
  /** `${project}:${event}:${hour}` already raised by this process: the signal is not rewritten every minute */
  private raised = new Set<string>();

  constructor(private deps: EarlyOutageDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Checks the project's current hour unless it was checked less than a minute ago. */
  async checkDue(project: Project): Promise<EarlyOutageResult> {
    const now = this.now();
    const last = this.checkedAt.get(project.id);
    if (last !== undefined && now - last >= 0 && now - last < EARLY_CHECK_EVERY_MS)
      return { checked: 0, raised: 0, skipped: 'checked less than a minute ago' };
    this.checkedAt.set(project.id, now);
    return this.check(project);
  }

  /** Counts the last hour's events by minute and raises an outage signal for each watched event far below its expectation. */
  async check(project: Project): Promise<EarlyOutageResult> {
    const now = this.now();
    const settings = await this.deps.signals.resolve(project.id, null);
    if (!settings.enabled) return { checked: 0, raised: 0, skipped: 'detection is disabled' };
    const hour = bucketFloor(project.timeZone, INTERVAL, now);
    const expectation = await this.expectation(project, hour, settings);
    // the windows end where the counts are complete: events still on their way would read as missing
    const end = now - (await this.lagMs(project.id));
    const anchor = bucketFloor(project.timeZone, INTERVAL, end);
    const longest = Math.max(...EARLY_WINDOWS_MINUTES) * MINUTE;
    const enough = (e: EventExpectation) =>
      (expectedBetween(e, hour, end - longest, end) ?? (e.current * Math.max(0, end - hour)) / INTERVAL_MS[INTERVAL]) >= EARLY_MIN_EXPECTED;
    const watched = [...expectation.events].filter(([event, e]) => enough(e) && !this.raised.has(`${project.id}:${event}:${anchor}`));
    if (!watched.length) return { checked: 0, raised: 0, skipped: 'nothing expected in sufficient numbers' };

    // events not among the busiest of the last hour (far more than are watched) count as none; minutes in UTC
    const limit = EVENT_VOLUME_EVENTS * 4;
    const rows = await this.deps.events.eventCounts({ projectId: project.id, fromMs: end - longest, toMs: end, grainMs: MINUTE, limit });
    const byEvent = new Map<string, { slotMs: number; count: number }[]>();
    for (const r of rows) byEvent.set(r.event, [...(byEvent.get(r.event) ?? []), r]);
    const complete = byEvent.size < limit;

    const signals: SignalInput[] = [];
    for (const [event, e] of watched) {
      const minutes = byEvent.get(event);
      if (minutes === undefined && !complete) continue;
      for (const w of EARLY_WINDOWS_MINUTES) {
        const from = end - w * MINUTE;
        const expected = expectedBetween(e, hour, from, end);
        if (expected === null) continue;
        // a minute slot partly inside the window counts whole: the count errs high, away from an alarm
        const observed = (minutes ?? []).reduce((n, m) => n + (m.slotMs + MINUTE > from ? m.count : 0), 0);
        const v = judgeSoFar(observed, expected, e.dispersion);
        if (!v.outage) continue;
        this.raised.add(`${project.id}:${event}:${anchor}`);
        signals.push(earlySignal(event, anchor, observed, e, v, w));
        break;
      }
    }
    if (signals.length) await this.deps.signals.upsert(project.id, signals);
    this.prune(anchor);
    return { checked: watched.length, raised: signals.length };
  }

  /**
   * How far behind the clock the counts are complete: the observed lateness of the project's
   * events, when it is measured and at most an hour (beyond that the figure comes from imports or
   * clients offline for long, and waiting for it would defeat detecting early).
   */
  private async lagMs(projectId: number): Promise<number> {
    const lateness = await this.deps.signals.settlingFallback(projectId, null);
    return lateness.source === 'observed' && lateness.minutes <= EARLY_MAX_LAG_MINUTES ? lateness.minutes * MINUTE : 0;
  }

  /** The expected count of each busy event for `hour`, computed once per project and hour. */
  private expectation(project: Project, hour: number, settings: ResolvedDetection): Promise<HourExpectation> {
    const cached = this.expectations.get(project.id);
    if (cached) {
      const hit = cached.then((c) => (c.hour === hour ? c : null));
      return hit.then((c) => c ?? this.computeExpectation(project, hour, settings));
    }
    return this.computeExpectation(project, hour, settings);
  }

  private computeExpectation(project: Project, hour: number, settings: ResolvedDetection): Promise<HourExpectation> {
    const step = INTERVAL_MS[INTERVAL];
    const readFrom = Math.max(
      hour - MAX_DETECT_BUCKETS * step,
      bucketFloor(project.timeZone, INTERVAL, hour - historyBuckets(INTERVAL) * step),
    );
    const value = (async (): Promise<HourExpectation> => {
      const read = await readHourlyCounts(this.deps.events, project, readFrom, hour);
      const events = new Map<string, EventExpectation>();
      for (const [event, values] of read?.byEvent ?? []) {
        if (values.length < EARLY_MIN_HISTORY_HOURS) continue;
        const expectation = eventExpectation(values, settings);
        if (expectation) events.set(event, expectation);
      }
      return { hour, events };
    })();
    this.expectations.set(project.id, value);
    // a failed read is not remembered
    value.catch(() => this.expectations.delete(project.id));
    return value;
  }

  private prune(hour: number): void {
    for (const key of this.raised) if (Number(key.slice(key.lastIndexOf(':') + 1)) < hour) this.raised.delete(key);
  }
}

/** An early outage as a signal of the event's volume, anchored at the hour in progress. */
function earlySignal(
  event: string,
  hour: number,
  observed: number,
  e: EventExpectation,
  v: SoFarVerdict,
  windowMinutes: number,
): SignalInput {
  return {
    scope: 'event',
    scopeKey: boundedKey(`event:${event}`),
    metricId: null,
    bucket: hour,
    endBucket: hour,
    kind: 'outage',
    direction: 'down',
    value: observed,
    expected: v.expectedSoFar,
    lower: null,
    upper: null,
    z: (observed - v.expectedSoFar) / Math.sqrt(e.dispersion * v.expectedSoFar),
    score: 1 - v.p,
    severity: 'critical',
    details: {
      event,
      early: true,
      interval: INTERVAL,
      windowMinutes,
      expectedHour: e.current,
      dispersion: e.dispersion,
      p: v.p,
      why: `${observed} ${event} in the last ${windowMinutes} minutes against ${Math.round(v.expectedSoFar)} expected`,
    },
  };
}
