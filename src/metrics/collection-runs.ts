/**
 * When metrics are collected: the scheduled cycles and backfills as jobs, a collection asked for
 * now, and the hand-over of what was collected to detection (`onCollected`).
 */
import { VigilError, badRequest } from '../errors.js';
import type { Job, JobControl, JobQueue } from '../jobs/index.js';
import type { Project, ProjectService } from '../projects/service.js';
import { bucketFloor, type Interval } from '../time/index.js';
import { latestEnd, type CollectionLog, type MetricCollection } from './collection.js';
import type { Metric, MetricStore } from './store.js';

export const JOB_COLLECT = 'metrics.collect';
export const JOB_BACKFILL = 'metrics.backfill';

export interface CollectionRunsDeps {
  projects: ProjectService;
  jobs: JobQueue;
  log: CollectionLog;
  /**
   * Called once a cycle, a backfill or a collect-now has stored values, with the metrics collected
   * (as they are now) and the window (anomaly detection hooks in here, from app-context). Its
   * failure is logged and never fails the collection.
   */
  onCollected?: (project: Project, metrics: Metric[], window: { fromMs: number; toMs: number }) => Promise<void>;
}

export class MetricCollectionRuns {
  constructor(
    private store: MetricStore,
    private collection: MetricCollection,
    private deps: CollectionRunsDeps,
    private now: () => number,
  ) {}

  /** An active metric without history gets a backfill job (one per body version). */
  async scheduleBackfill(m: Metric) {
    if (m.status !== 'active' || m.collectedUntil !== null) return;
    await this.deps.jobs.enqueue({
      kind: JOB_BACKFILL,
      projectId: m.projectId,
      payload: { metricId: m.id, version: m.version },
      dedupeKey: `${JOB_BACKFILL}:${m.id}:${m.version}`,
      priority: 1,
    });
  }

  /** Collects a metric's newest buckets now, then hands them to detection. */
  async collectNow(project: Project, m: Metric) {
    if (m.status === 'archived')
      throw new VigilError('VIGIL_ERR_CONFLICT', `metric "${m.name}" is archived; make it active or draft to collect it`);
    const r = await this.collection.collectNow(project, m, this.now());
    await this.afterCollected(project, [m], r);
    return r;
  }

  /** Recomputes [fromMs, toMs) of one metric in chunks (CLI and jobs). */
  async backfill(
    project: Project,
    m: Metric,
    window: { fromMs: number; toMs: number },
    onProgress?: (done: number, total: number) => Promise<void> | void,
  ) {
    const fromMs = bucketFloor(project.timeZone, m.interval, window.fromMs);
    const toMs = Math.min(window.toMs, latestEnd(project, m.interval, this.now()));
    if (fromMs >= toMs)
      throw badRequest('the backfill window holds no complete bucket: "from" must be before the current bucket', { field: 'from' });
    const r = await this.collection.backfill(project, m, { fromMs, toMs }, onProgress);
    const detectionMs = r.stopped ? 0 : await this.afterCollected(project, [m], { fromMs, toMs });
    return { fromMs, toMs, ...r, detectionMs };
  }

  /** The scheduled cycle of a project and interval (see MetricCollection.runCycle), then detection. */
  async runCycle(project: Project, interval: Interval, until: number) {
    const r = await this.collection.runCycle(project, interval, until);
    const detectionMs = r.window ? await this.afterCollected(project, r.collected, r.window) : 0;
    return { ...r, detectionMs };
  }

  /**
   * Hands the metrics just collected, as they are now, to `onCollected`; returns the milliseconds
   * it took. A failure there is logged: the values are stored whatever detection does.
   */
  private async afterCollected(project: Project, metrics: Metric[], window: { fromMs: number; toMs: number }): Promise<number> {
    if (!this.deps.onCollected || !metrics.length) return 0;
    const started = performance.now();
    try {
      const versions = new Map(metrics.map((m) => [m.id, m.version]));
      const current = (await this.store.list({ projectId: project.id })).filter((m) => versions.get(m.id) === m.version);
      await this.deps.onCollected(project, current, window);
    } catch (err) {
      this.deps.log.warn(
        { projectId: project.id, metrics: metrics.length, error: err instanceof Error ? err.message : String(err) },
        'detection after collection failed',
      );
    }
    return performance.now() - started;
  }

  /**
   * Enqueues a collection job for every (project, interval) whose active metrics miss a newly
   * complete bucket; returns how many were enqueued (an unfinished one is not repeated).
   */
  async scheduleDue(): Promise<number> {
    const now = this.now();
    const due = new Map<string, { projectId: number; interval: Interval; until: number }>();
    for (const m of await this.store.list({ status: 'active' })) {
      if (m.collectedUntil === null) continue;
      const project = await this.deps.projects.getById(m.projectId);
      const until = latestEnd(project, m.interval, now);
      if (m.collectedUntil < until) due.set(`${m.projectId}:${m.interval}`, { projectId: m.projectId, interval: m.interval, until });
    }
    let enqueued = 0;
    for (const [key, payload] of due) {
      const job = await this.deps.jobs.enqueue({
        kind: JOB_COLLECT,
        projectId: payload.projectId,
        payload,
        dedupeKey: `${JOB_COLLECT}:${key}`,
      });
      if (job.created) enqueued++;
    }
    return enqueued;
  }

  /** Handlers for the job worker. */
  jobHandlers() {
    return {
      [JOB_COLLECT]: async (job: Job) => {
        const { projectId, interval, until } = job.payload as { projectId: number; interval: Interval; until: number };
        const r = await this.runCycle(await this.deps.projects.getById(projectId), interval, until);
        return { buckets: r.buckets, metrics: r.metrics, failures: r.failures.length, detectionMs: Math.round(r.detectionMs) };
      },
      [JOB_BACKFILL]: async (job: Job, ctl: JobControl) => {
        const { metricId, version, fromMs, toMs } = job.payload as { metricId: number; version: number; fromMs?: number; toMs?: number };
        const project = await this.deps.projects.getById(job.projectId!);
        const m = await this.store.get(project.id, metricId);
        if (!m || m.version !== version) return { skipped: 'the metric was deleted or changed' };
        if (fromMs === undefined && m.collectedUntil !== null) return { skipped: 'the metric was collected meanwhile' };
        const window =
          fromMs !== undefined && toMs !== undefined ? { fromMs, toMs } : this.collection.defaultBackfillWindow(project, m, this.now());
        const r = await this.backfill(project, m, window, (done, total) => ctl.progress(done / total, `${done}/${total} buckets`));
        return { buckets: r.buckets, stopped: r.stopped, detectionMs: Math.round(r.detectionMs) };
      },
    };
  }
}
