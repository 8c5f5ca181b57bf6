/**
 * Signals: what detectors raise, one per episode, anchored at its first bucket and idempotent per
 * (scope, bucket). Live detection of metrics runs after every collection (app-context passes
 * `detectCollected` to the metrics catalog as its `onCollected` hook): it reads the metric's total
 * series with enough history for the seasonal baseline, scores it with the pure detector and
 * upserts the episodes that touch the window just collected.
 */
import { PERIODS, scoreSeries, type DetectorOptions, type ValueKind } from '../detect/anomaly.js';
import { clampToRange, type ValueRange } from '../detect/value-range.js';
import { episodes, type Episode } from '../detect/episodes.js';
import type { MetaDb } from '../meta-db.js';
import type { Project } from '../projects/service.js';
import type { Metric, MetricService } from '../metrics/service.js';
import type { SeriesMark } from '../metrics/schemas.js';
import { INTERVAL_MS, bucketFloor, type Interval } from '../time/index.js';
import type { EventStore } from '../storage/events/event-store.js';
import type { Job, JobHandler, JobQueue } from '../jobs/index.js';
import type { ProjectService } from '../projects/service.js';
import {
  DEFAULT_SETTLING,
  PUSHED_SETTLING,
  parseDetection,
  resolveDetection,
  type ProjectDetection,
  type ResolvedDetection,
  type SettlingFallback,
} from './settings.js';
import { LatenessCache } from './lateness.js';
import { SignalStore, type Severity, type Signal, type SignalFilter, type SignalInput } from './store.js';

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

/**
 * A detector has scored `scopeKey` (or, ending in `*`, every scope with that prefix) up to `until`
 * (exclusive, epoch ms) in buckets of `stepMs`: how incidents tell that a scope has been healthy
 * for long enough to resolve.
 */
export interface Coverage {
  scopeKey: string;
  until: number;
  stepMs: number;
}

/**
 * Told after every detector run (signals never import incidents): the signals the run inserted or
 * changed, and what it covered. A listener that fails is logged; incidents catch up on signals
 * they have not seen.
 */
export type SignalListener = (projectId: number, written: Signal[], covered: Coverage[]) => Promise<void>;

export interface SignalServiceDeps {
  db: MetaDb;
  catalog: MetricService;
  /** where the observed lateness of events is measured (the default settling time); without it, the fixed default */
  events?: EventStore;
  /** where a detection run once the newest buckets have settled is queued (see scheduleSettled) */
  jobs?: Pick<JobQueue, 'enqueue'>;
  log: { warn(obj: object, msg: string): void };
  now?: () => number;
}

/** A metric's detection and threshold rules again once its newest collected buckets have settled. */
export const JOB_DETECT_SETTLED = 'signals.detect_settled';

export interface DetectResult {
  /** episodes that touch the window (inserted, updated, or seen again unchanged) */
  episodes: number;
  inserted: number;
  updated: number;
  skipped?: string;
}

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

export function encodeCursor(s: Pick<Signal, 'bucket' | 'id'>): string {
  return `${s.bucket}_${s.id}`;
}

export function decodeCursor(cursor: string): { bucket: number; id: number } {
  const [bucket, id] = cursor.split('_').map(Number);
  return { bucket, id };
}

export class SignalService {
  readonly store: SignalStore;
  private now: () => number;
  private listeners: SignalListener[] = [];
  private lateness: LatenessCache | undefined;

  constructor(private deps: SignalServiceDeps) {
    this.store = new SignalStore(deps.db);
    this.now = deps.now ?? Date.now;
    this.lateness = deps.events && new LatenessCache(deps.events, this.now);
  }

  /**
   * The settling time that applies when neither a metric nor its project sets one: 0 for pushed
   * measurements (`kind` gauge), else the observed lateness of the project's events (null: event
   * volume and the other project-wide detectors).
   */
  async settlingFallback(projectId: number, kind: string | null): Promise<SettlingFallback> {
    if (kind === 'gauge') return PUSHED_SETTLING;
    return this.lateness ? this.lateness.settling(projectId) : DEFAULT_SETTLING;
  }

  /**
   * After a collection: a metric whose newest buckets settle before its next collection (a 1h
   * metric whose events settle in 3 minutes) gets a job for the moment they have settled, so they
   * are scored then rather than an interval later. Returns the jobs queued.
   */
  async scheduleSettled(project: Project, metrics: Metric[]): Promise<number> {
    if (!this.deps.jobs) return 0;
    const defaults = await this.store.projectDetection(project.id);
    let queued = 0;
    for (const m of metrics) {
      if (m.status !== 'active' || m.collectedUntil === null) continue;
      const { settlingMinutes } = await this.resolve(project.id, m, defaults);
      const settlingMs = settlingMinutes * 60_000;
      if (settlingMs <= 0 || settlingMs >= INTERVAL_MS[m.interval]) continue;
      const job = await this.deps.jobs.enqueue({
        kind: JOB_DETECT_SETTLED,
        projectId: project.id,
        payload: { metricId: m.id, until: m.collectedUntil },
        runAt: m.collectedUntil + settlingMs,
        dedupeKey: `${JOB_DETECT_SETTLED}:${m.id}:${m.collectedUntil}`,
      });
      if (job.created) queued++;
    }
    return queued;
  }

  /**
   * The handler of those jobs: `rerun` gets the metric and the window of its newest bucket (the
   * app runs detection and threshold rules through it, as after a collection).
   */
  settledJobHandlers(
    projects: Pick<ProjectService, 'getById'>,
    rerun: (project: Project, metrics: Metric[], window: { fromMs: number; toMs: number }) => Promise<void>,
  ): Record<string, JobHandler> {
    return {
      [JOB_DETECT_SETTLED]: async (job: Job) => {
        const { metricId, until } = job.payload as { metricId: number; until: number };
        const project = await projects.getById(job.projectId!);
        const m = await this.deps.catalog.get(project, metricId);
        if (m.collectedUntil === null) return { skipped: 'not collected' };
        await rerun(project, [m], { fromMs: bucketFloor(project.timeZone, m.interval, until - 1), toMs: m.collectedUntil });
        return { metricId, until: m.collectedUntil };
      },
    };
  }

  /** Measures the project's lateness afresh on the next use (tests; after a large import). */
  forgetLateness(projectId: number): void {
    this.lateness?.forget(projectId);
  }

  /** A metric's settings (null: the project-wide detectors') over the project's defaults, with the derived settling time. */
  async resolve(
    projectId: number,
    metric: { kind: string; detection: Metric['detection'] } | null,
    defaults?: ProjectDetection,
  ): Promise<ResolvedDetection> {
    const project = defaults ?? (await this.store.projectDetection(projectId));
    const own = metric?.detection ?? {};
    // the lateness scan only when it decides something
    const needsFallback = parseDetection(own).settlingMinutes === undefined && project.settlingMinutes === undefined;
    return resolveDetection(own, project, needsFallback ? await this.settlingFallback(projectId, metric?.kind ?? null) : undefined);
  }

  onSignals(listener: SignalListener): void {
    this.listeners.push(listener);
  }

  /** Stores a detector run's signals (idempotently), then tells the listeners what it wrote and covered. */
  async upsert(projectId: number, signals: SignalInput[], covered: Coverage[] = []): Promise<{ inserted: number; updated: number }> {
    const { inserted, updated, written } = await this.store.upsert(projectId, signals, this.now());
    if (written.length || covered.length) {
      for (const listener of this.listeners) {
        await listener(projectId, written, covered).catch((err) =>
          this.deps.log.warn({ projectId, error: err instanceof Error ? err.message : String(err) }, 'a signal listener failed'),
        );
      }
    }
    return { inserted, updated };
  }

  /** A page of a project's signals, newest first; `nextCursor` continues after its last one. */
  async list(
    project: Project,
    q: Omit<SignalFilter, 'before'> & { cursor?: string },
  ): Promise<{ signals: Signal[]; nextCursor: string | null }> {
    const { cursor, ...filter } = q;
    const page = await this.store.list(project.id, {
      ...filter,
      before: cursor === undefined ? undefined : decodeCursor(cursor),
      limit: q.limit + 1,
    });
    const signals = page.slice(0, q.limit);
    return { signals, nextCursor: page.length > q.limit ? encodeCursor(signals[signals.length - 1]) : null };
  }

  /** A project's detection defaults (what a metric leaves out; all of event-volume detection's settings). */
  projectDetection(projectId: number): Promise<ProjectDetection> {
    return this.store.projectDetection(projectId);
  }

  /** Replaces a project's detection defaults (Settings, the demo). */
  setProjectDetection(projectId: number, settings: ProjectDetection): Promise<void> {
    return this.store.setProjectDetection(projectId, parseDetection(settings));
  }

  /**
   * These signals, by id. `db` reads inside a caller's transaction (on SQLite a read outside it
   * would wait for the transaction to end).
   */
  byIds(ids: number[], db?: MetaDb): Promise<Signal[]> {
    return (db ? new SignalStore(db) : this.store).byIds(ids);
  }

  /** Signals inserted or updated in [fromMs, toMs), oldest write first (incidents' catch-up). */
  writtenBetween(fromMs: number, toMs: number, limit: number): Promise<Signal[]> {
    return this.store.writtenBetween(fromMs, toMs, limit);
  }

  forMetric(metricId: number, fromMs: number, toMs: number): Promise<Signal[]> {
    return this.store.forMetric(metricId, fromMs, toMs);
  }

  /** The marks the metrics catalog draws on a series. */
  async marksFor(metricId: number, fromMs: number, toMs: number): Promise<SeriesMark[]> {
    return (await this.forMetric(metricId, fromMs, toMs)).map((s) => ({
      bucket: s.bucket,
      endBucket: s.endBucket,
      kind: s.kind,
      direction: s.direction,
      severity: s.severity,
      score: s.score,
    }));
  }

  /**
   * Detection after a collection of `window`: every active metric with detection enabled. A metric
   * that fails is logged and the others go on.
   */
  async detectCollected(project: Project, metrics: Metric[], window: { fromMs: number; toMs: number }) {
    const started = performance.now();
    const defaults = await this.store.projectDetection(project.id);
    let detected = 0,
      signals = 0,
      failed = 0;
    for (const m of metrics) {
      if (m.status !== 'active') continue;
      try {
        const r = await this.detect(project, m, { until: window.toMs, since: window.fromMs }, defaults);
        if (!r.skipped) detected++;
        signals += r.episodes;
      } catch (err) {
        failed++;
        this.deps.log.warn(
          { projectId: project.id, metricId: m.id, error: err instanceof Error ? err.message : String(err) },
          'metric detection failed',
        );
      }
    }
    return { metrics: detected, signals, failed, ms: performance.now() - started };
  }

  /**
   * Scores a metric's total series up to `until` and upserts the episodes that reach `since` or
   * later (default: every episode of the history read), less the settling buckets: those held
   * back by an earlier run fire now.
   */
  detectMetric(project: Project, metric: Metric, opts: { until: number; since?: number }): Promise<DetectResult> {
    return this.detect(project, metric, opts, undefined);
  }

  private async detect(
    project: Project,
    metric: Metric,
    opts: { until: number; since?: number },
    defaults: ProjectDetection | undefined,
  ): Promise<DetectResult> {
    const settings = await this.resolve(project.id, metric, defaults);
    const none = (skipped: string): DetectResult => ({ episodes: 0, inserted: 0, updated: 0, skipped });
    if (!settings.enabled) return none('detection is disabled');
    if (metric.historyFrom === null || metric.collectedUntil === null) return none('not collected yet');
    const step = INTERVAL_MS[metric.interval];
    const until = Math.min(opts.until, metric.collectedUntil);
    const since = Math.max(metric.historyFrom, Math.min(opts.since ?? metric.historyFrom, until));
    const readFrom = Math.max(
      metric.historyFrom,
      until - MAX_DETECT_BUCKETS * step,
      bucketFloor(project.timeZone, metric.interval, since - historyBuckets(metric.interval) * step),
    );
    if (readFrom >= until) return none('nothing collected before "until"');
    const series = await this.deps.catalog.totalSeries(project, metric, readFrom, until);
    const found = detectEpisodes(series, metric.interval, settings, { timeZone: project.timeZone, until, since, now: this.now() });
    const target = { scope: 'metric' as const, scopeKey: `metric:${metric.id}`, metricId: metric.id };
    const covered = {
      scopeKey: target.scopeKey,
      until: until - heldBuckets(settings, metric.interval, { timeZone: project.timeZone, until, now: this.now() }) * step,
      stepMs: step,
    };
    const r = await this.upsert(
      project.id,
      found.map((e) => episodeSignal(target, series, e, settings, metric.interval)),
      [covered],
    );
    return { episodes: found.length, ...r };
  }
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
