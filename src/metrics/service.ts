import type { MetaDb } from '../meta-db.js';
import type { Project, ProjectService } from '../projects/service.js';
import type { JobQueue } from '../jobs/index.js';
import { VigilError, notFound } from '../errors.js';
import { INTERVAL_MS, bucketFloor, formatBucket, type Interval } from '../time/index.js';
import type { CollectorDeps } from './collector.js';
import { MetricCollection, latestEnd, type CollectionLog, type CollectionSettings } from './collection.js';
import { MetricCollectionRuns, type CollectionRunsDeps } from './collection-runs.js';
import { checkBody, checkDetection } from './definition-checks.js';
import { metricToApi } from './metric-api.js';
import { MetricSeriesReads, type MetricSeriesDeps } from './series-reads.js';
import { MetricStore, type Metric, type MetricFields } from './store.js';
import type { CreateMetric, MetricApi, MetricStatus, PreviewMetric, UpdateMetric } from './schemas.js';

export type { Metric } from './store.js';
export { JOB_BACKFILL, JOB_COLLECT } from './collection-runs.js';

const SPARKLINE_POINTS = 24;

export interface MetricServiceDeps extends CollectorDeps, CollectionRunsDeps, MetricSeriesDeps {
  db: MetaDb;
  projects: ProjectService;
  jobs: JobQueue;
  settings: CollectionSettings;
  log: CollectionLog;
  now?: () => number;
}

/**
 * The metrics catalog: definitions and their checks here, values read through MetricSeriesReads,
 * collection runs through MetricCollectionRuns; callers see one service.
 */
export class MetricService {
  readonly store: MetricStore;
  readonly collection: MetricCollection;
  private now: () => number;
  private reads: MetricSeriesReads;
  private runs: MetricCollectionRuns;

  constructor(private deps: MetricServiceDeps) {
    this.store = new MetricStore(deps.db);
    this.now = deps.now ?? Date.now;
    this.collection = new MetricCollection(this.store, deps, deps.settings, deps.log, this.now);
    this.reads = new MetricSeriesReads(this.store, deps, this.now);
    this.runs = new MetricCollectionRuns(this.store, this.collection, deps, this.now);
  }

  toApi(m: Metric): MetricApi {
    return metricToApi(m);
  }

  private async assertNameFree(project: Project, name: string, except?: number) {
    const existing = await this.store.byName(project.id, name);
    if (existing && existing.id !== except)
      throw new VigilError('VIGIL_ERR_CONFLICT', `a metric named "${name}" already exists in this project`, { field: 'name' });
  }

  async create(project: Project, input: CreateMetric): Promise<Metric> {
    checkDetection(input.detection);
    await checkBody(this.deps.events, input.kind, input.definition);
    await this.assertNameFree(project, input.name);
    const fields: MetricFields = {
      name: input.name,
      displayName: input.displayName ?? input.name,
      description: input.description ?? '',
      unit: input.unit ?? '',
      owner: input.owner ?? '',
      tags: input.tags ?? [],
      color: input.color ?? '',
      status: input.status ?? 'active',
      interval: input.interval ?? '1h',
      kind: input.kind,
      definition: input.definition,
      detection: input.detection ?? {},
    };
    const m = await this.store.insert(project.id, fields, this.now());
    await this.runs.scheduleBackfill(m);
    return m;
  }

  async get(project: Project, id: number): Promise<Metric> {
    const m = await this.store.get(project.id, id);
    if (!m) throw notFound(`metric ${id}`);
    return m;
  }

  async byName(project: Project, name: string): Promise<Metric> {
    const m = await this.store.byName(project.id, name);
    if (!m) throw notFound(`metric "${name}"`);
    return m;
  }

  /** A changed body (kind, definition or interval) clears the history, which is then computed again. */
  async update(project: Project, id: number, patch: UpdateMetric): Promise<Metric> {
    checkDetection(patch.detection);
    const m = await this.get(project, id);
    const kind = patch.kind ?? m.kind;
    const definition = patch.definition === undefined ? m.definition : patch.definition;
    const bodyChanged =
      kind !== m.kind ||
      JSON.stringify(definition) !== JSON.stringify(m.definition) ||
      (patch.interval !== undefined && patch.interval !== m.interval);
    if (bodyChanged) await checkBody(this.deps.events, kind, definition);
    if (patch.name !== undefined) await this.assertNameFree(project, patch.name, id);
    const updated = await this.store.update(id, { ...patch, kind, definition } as Partial<MetricFields>, this.now(), bodyChanged);
    await this.runs.scheduleBackfill(updated);
    return updated;
  }

  archive(project: Project, id: number): Promise<Metric> {
    return this.update(project, id, { status: 'archived' });
  }

  async remove(project: Project, id: number): Promise<void> {
    await this.get(project, id);
    await this.store.delete(id);
  }

  /** The project's active metrics as stored (no values read). */
  active(project: Project): Promise<Metric[]> {
    return this.store.list({ projectId: project.id, status: 'active' });
  }

  /** The catalog with each metric's latest value, its change and a sparkline, from one values query. */
  async list(project: Project, status?: MetricStatus) {
    const metrics = await this.store.list({ projectId: project.id, status });
    // one bucket more than the sparkline (for the change), and one of slack for a DST day
    const recent = metrics
      .filter((m) => m.collectedUntil !== null)
      .map((m) => ({ id: m.id, since: m.collectedUntil! - (SPARKLINE_POINTS + 2) * INTERVAL_MS[m.interval] }));
    const latest = await this.store.recentTotals(recent);
    return metrics.map((m) => {
      const points = (latest.get(m.id) ?? []).slice(0, SPARKLINE_POINTS + 1).reverse();
      const values = points.map((p) => p.value);
      const last = points[points.length - 1];
      const [prev, cur] = [values[values.length - 2], values[values.length - 1]];
      const change =
        prev === undefined || prev === null || prev === 0 || cur === null || cur === undefined ? null : (cur - prev) / Math.abs(prev);
      return {
        ...this.toApi(m),
        latest: last ? { bucket: formatBucket(project.timeZone, m.interval, last.bucket), value: last.value } : null,
        change,
        sparkline: values.slice(-SPARKLINE_POINTS),
      };
    });
  }

  /**
   * Every bucket of the window with the stored values. A count-shaped metric reads 0 in a collected
   * bucket without value; anything not collected yet (or a fraction's gap) is null.
   */
  async series(project: Project, id: number, q: { fromMs: number; toMs: number; breakdown?: string }) {
    return this.reads.series(project, await this.get(project, id), q);
  }

  /** A gauge's value in the bucket still in progress (null: not a gauge, or nothing pushed yet). */
  gaugeSoFar(project: Project, m: Metric) {
    return this.reads.gaugeSoFar(project, m);
  }

  /** A gauge's values from the bucket starting at `fromMs` to the one in progress (null: not a gauge). */
  gaugeSince(project: Project, m: Metric, fromMs: number) {
    return this.reads.gaugeSince(project, m, fromMs);
  }

  /** The total series of [fromMs, toMs) as the series endpoint gives it, for detection. */
  totalSeries(project: Project, m: Metric, fromMs: number, toMs: number) {
    return this.reads.totalSeries(project, m, fromMs, toMs);
  }

  /** Computes an unsaved definition over the last complete buckets, for the form's live preview. */
  preview(project: Project, input: PreviewMetric) {
    return this.reads.preview(project, input);
  }

  /** An unsaved definition's total series over the buckets of [fromMs, toMs), for backtests. */
  computeSeries(project: Project, input: Omit<PreviewMetric, 'buckets'>, window: { fromMs: number; toMs: number }) {
    return this.reads.computeSeries(project, input, window);
  }

  /** Where the history of a metric of this interval would start if it were defined now (its default backfill). */
  backfillFrom(project: Project, interval: Interval): number {
    return bucketFloor(project.timeZone, interval, latestEnd(project, interval, this.now()) - this.deps.settings.backfillDays * 86_400_000);
  }

  async collectNow(project: Project, id: number) {
    const r = await this.runs.collectNow(project, await this.get(project, id));
    return {
      from: new Date(r.fromMs).toISOString(),
      to: new Date(r.toMs).toISOString(),
      buckets: r.buckets,
      metric: this.toApi(await this.get(project, id)),
    };
  }

  /** Recomputes [fromMs, toMs) of one metric in chunks (CLI and jobs). */
  backfill(
    project: Project,
    m: Metric,
    window: { fromMs: number; toMs: number },
    onProgress?: (done: number, total: number) => Promise<void> | void,
  ) {
    return this.runs.backfill(project, m, window, onProgress);
  }

  /** The scheduled cycle of a project and interval (see MetricCollection.runCycle), then detection. */
  runCycle(project: Project, interval: Interval, until: number) {
    return this.runs.runCycle(project, interval, until);
  }

  /** Enqueues a collection job for every (project, interval) whose active metrics miss a newly complete bucket. */
  scheduleDue(): Promise<number> {
    return this.runs.scheduleDue();
  }

  /** Handlers for the job worker. */
  jobHandlers() {
    return this.runs.jobHandlers();
  }
}
