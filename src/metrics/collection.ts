/**
 * When metric values are computed: the scheduled cycle (every active metric of a project and
 * interval, for the newly complete buckets plus a look-back for late events), backfills of a
 * metric's history in chunks, and an immediate collection of one metric.
 */
import type { Project } from '../projects/service.js';
import { INTERVAL_MS, bucketFloor, bucketStarts, type Interval } from '../time/index.js';
import { compileMetric, parseBody } from './compile.js';
import { computeMetrics, type CollectorDeps, type MetricToCompute } from './collector.js';
import type { Metric, MetricStore } from './store.js';

export interface CollectionSettings {
  /** complete buckets recomputed on every cycle, for events that arrive late */
  lookbackBuckets: number;
  /** history computed for a new or changed metric */
  backfillDays: number;
}

export interface CollectionLog {
  warn(obj: object, msg: string): void;
}

const DAY_MS = 86_400_000;
/** A backfill chunk spans at least this long (and at least MIN_CHUNK_BUCKETS buckets). */
const CHUNK_MS = 7 * DAY_MS;
const MIN_CHUNK_BUCKETS = 168;

export function toCompute(m: Metric): MetricToCompute {
  return { id: m.id, compiled: compileMetric(parseBody(m.kind, m.definition)) };
}

/** End of the last complete bucket at `now`: the start of the current one. */
export function latestEnd(project: Project, interval: Interval, now: number): number {
  return bucketFloor(project.timeZone, interval, now);
}

/** Start of the bucket `n` buckets before the bucket starting at `end`. */
export function bucketsBefore(project: Project, interval: Interval, end: number, n: number): number {
  if (n <= 0) return end;
  const starts = bucketStarts(project.timeZone, interval, end - (n + 1) * INTERVAL_MS[interval], end);
  return starts[Math.max(0, starts.length - n)];
}

export class MetricCollection {
  constructor(
    private store: MetricStore,
    private deps: CollectorDeps,
    private settings: CollectionSettings,
    private log: CollectionLog,
    private now: () => number = Date.now,
  ) {}

  /**
   * Computes and stores [fromMs, toMs) for the metrics, as one event scan (plus one statement per
   * sql metric). A sql or gauge metric that fails is logged and left for the next cycle.
   */
  async collect(
    project: Project,
    interval: Interval,
    window: { fromMs: number; toMs: number },
    metrics: Metric[],
    opts: { skipFailed: boolean },
  ) {
    const { starts, results, failures } = await computeMetrics(this.deps, project, interval, window, metrics.map(toCompute));
    await this.store.saveValues(metrics, window, starts, results, true);
    if (failures.length) {
      const version = new Map(metrics.map((m) => [m.id, m.version]));
      for (const f of failures) this.log.warn({ metricId: f.metricId, error: f.error.message }, 'metric collection failed');
      await this.store.recordFailures(
        failures.map((f) => ({ metricId: f.metricId, version: version.get(f.metricId)!, message: f.error.message })),
        window,
        opts.skipFailed,
        this.now(),
      );
    }
    return { buckets: starts.length, metrics: results.length, failures };
  }

  /** The scheduled cycle for one project and interval, up to `until` (a bucket boundary). */
  async runCycle(project: Project, interval: Interval, until: number) {
    const metrics = (await this.store.list({ projectId: project.id, status: 'active', interval })).filter((m) => m.collectedUntil !== null);
    if (!metrics.length) return { buckets: 0, metrics: 0, failures: [], window: null, collected: [] };
    const oldest = Math.min(...metrics.map((m) => m.collectedUntil!));
    // after a long stop the cycle catches up at most one backfill period
    const floor = bucketsBefore(project, interval, until, Math.ceil((this.settings.backfillDays * DAY_MS) / INTERVAL_MS[interval]));
    const fromMs = Math.max(bucketsBefore(project, interval, Math.min(oldest, until), this.settings.lookbackBuckets), floor);
    // a metric that fails here (its statement, its gauge) gets gaps for the window and its error
    const window = { fromMs, toMs: until };
    const r = await this.collect(project, interval, window, metrics, { skipFailed: true });
    const failed = new Set(r.failures.map((f) => f.metricId));
    return { ...r, window, collected: metrics.filter((m) => !failed.has(m.id)) };
  }

  /** The default history of a new or changed metric: the last `backfillDays` up to `now`'s bucket. */
  defaultBackfillWindow(project: Project, m: Metric, now: number) {
    const toMs = latestEnd(project, m.interval, now);
    return { fromMs: bucketFloor(project.timeZone, m.interval, toMs - this.settings.backfillDays * DAY_MS), toMs };
  }

  /**
   * Computes [fromMs, toMs) in chunks, newest first (recent values show up first, and the
   * collected range stays contiguous). Stops when the metric's body changes meanwhile.
   */
  async backfill(
    project: Project,
    m: Metric,
    window: { fromMs: number; toMs: number },
    onProgress?: (done: number, total: number) => Promise<void> | void,
  ) {
    const starts = bucketStarts(project.timeZone, m.interval, window.fromMs, window.toMs);
    const perChunk = Math.max(MIN_CHUNK_BUCKETS, Math.ceil(CHUNK_MS / INTERVAL_MS[m.interval]));
    let done = 0;
    for (let end = starts.length; end > 0; end -= perChunk) {
      const begin = Math.max(0, end - perChunk);
      const current = await this.store.get(project.id, m.id);
      if (!current || current.version !== m.version) return { buckets: done, stopped: true };
      const chunk = { fromMs: starts[begin], toMs: end === starts.length ? window.toMs : starts[end] };
      const { failures } = await this.collect(project, m.interval, chunk, [m], { skipFailed: false });
      if (failures.length) throw failures[0].error;
      done += end - begin;
      await onProgress?.(done, starts.length);
    }
    return { buckets: done, stopped: false };
  }

  /** Collects one metric now: its history when it has none, else the last buckets plus the look-back. */
  async collectNow(project: Project, m: Metric, now: number) {
    if (m.collectedUntil === null) {
      const window = this.defaultBackfillWindow(project, m, now);
      const r = await this.backfill(project, m, window);
      return { ...window, buckets: r.buckets };
    }
    const toMs = latestEnd(project, m.interval, now);
    const fromMs = bucketsBefore(project, m.interval, Math.min(m.collectedUntil, toMs), this.settings.lookbackBuckets);
    const r = await this.collect(project, m.interval, { fromMs, toMs }, [m], { skipFailed: false });
    if (r.failures.length) throw r.failures[0].error;
    return { fromMs, toMs, buckets: r.buckets };
  }
}
