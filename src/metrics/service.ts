import { OTHER_KEY, NONE_KEY } from '../storage/events/event-store.js';
import type { MetaDb } from '../meta-db.js';
import type { Project, ProjectService } from '../projects/service.js';
import type { Job, JobControl, JobQueue } from '../jobs/index.js';
import { VigilError, badRequest, notFound } from '../errors.js';
import { INTERVAL_MS, bucketFloor, bucketStarts, formatBucket, nextBucket, type Interval } from '../time/index.js';
import { MAX_BUCKETS } from '../time/window.js';
import { naturalRange } from '../detect/value-range.js';
import { compileMetric, parseBody, seriesShape, type CompiledMetric } from './compile.js';
import { computeMetrics, type CollectorDeps, type Values } from './collector.js';
import { MetricCollection, bucketsBefore, latestEnd, type CollectionLog, type CollectionSettings } from './collection.js';
import { MetricStore, TOTAL, type Metric, type MetricFields } from './store.js';
import {
  MAX_SENSITIVITY_Z,
  MAX_SETTLING_MINUTES,
  MIN_SENSITIVITY_Z,
  SENSITIVITIES,
  type CreateMetric,
  type DetectionSettings,
  type MetricApi,
  type MetricStatus,
  type PreviewMetric,
  type SeriesMark,
  type UpdateMetric,
} from './schemas.js';

export type { Metric } from './store.js';

export const JOB_COLLECT = 'metrics.collect';
export const JOB_BACKFILL = 'metrics.backfill';
const SPARKLINE_POINTS = 24;
const DEFAULT_PREVIEW_BUCKETS = 24;

export interface MetricServiceDeps extends CollectorDeps {
  db: MetaDb;
  projects: ProjectService;
  jobs: JobQueue;
  settings: CollectionSettings;
  log: CollectionLog;
  now?: () => number;
  /**
   * Called once a cycle, a backfill or a collect-now has stored values, with the metrics collected
   * (as they are now) and the window (anomaly detection hooks in here, from app-context). Its
   * failure is logged and never fails the collection.
   */
  onCollected?: (project: Project, metrics: Metric[], window: { fromMs: number; toMs: number }) => Promise<void>;
  /** Marks drawn on a metric's series (signals), overlapping [fromMs, toMs). */
  marksFor?: (metricId: number, fromMs: number, toMs: number) => Promise<SeriesMark[]>;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const label = (key: string) => (key === OTHER_KEY ? 'other' : key === NONE_KEY ? '(none)' : key);
type Series = { key: string; label: string; values: Values; samples?: Values };

/** The route schema checks this too; the service checks it for every other caller (CLI, demo). */
function checkDetection(d: DetectionSettings | undefined) {
  const s = d?.settlingMinutes;
  if (s !== undefined && !(Number.isInteger(s) && s >= 0 && s <= MAX_SETTLING_MINUTES)) {
    throw badRequest(`detection.settlingMinutes must be a whole number of minutes from 0 to ${MAX_SETTLING_MINUTES} (a week)`, {
      field: 'detection.settlingMinutes',
    });
  }
  if (d?.sensitivity === undefined) return;
  const ok =
    typeof d.sensitivity === 'number'
      ? d.sensitivity >= MIN_SENSITIVITY_Z && d.sensitivity <= MAX_SENSITIVITY_Z
      : (SENSITIVITIES as readonly string[]).includes(d.sensitivity);
  if (!ok)
    throw badRequest(
      `detection.sensitivity must be ${SENSITIVITIES.join(', ')} or a |z| from ${MIN_SENSITIVITY_Z} to ${MAX_SENSITIVITY_Z}`,
      { field: 'detection.sensitivity' },
    );
}

/**
 * A count reads 0, from 0 samples, in a collected bucket without a stored value (`collected(i)`);
 * anything else stays as stored.
 */
function fillCounts(compiled: CompiledMetric, starts: number[], s: { values: Values; samples: Values }, collected: (i: number) => boolean) {
  if (compiled.valueKind !== 'count') return s;
  const empty = starts.map((_, i) => s.values[i] === null && collected(i));
  return { values: s.values.map((v, i) => (empty[i] ? 0 : v)), samples: s.samples.map((n, i) => (empty[i] ? 0 : n)) };
}

/** Series sorted by their sum, largest first, "other" last. */
function sortSeries(series: Series[]): Series[] {
  const sum = (v: Values) => v.reduce<number>((a, b) => a + (b ?? 0), 0);
  return series.sort(
    (a, b) => Number(a.key === OTHER_KEY) - Number(b.key === OTHER_KEY) || sum(b.values) - sum(a.values) || a.key.localeCompare(b.key),
  );
}

export class MetricService {
  readonly store: MetricStore;
  readonly collection: MetricCollection;
  private now: () => number;

  constructor(private deps: MetricServiceDeps) {
    this.store = new MetricStore(deps.db);
    this.now = deps.now ?? Date.now;
    this.collection = new MetricCollection(this.store, deps, deps.settings, deps.log, this.now);
  }

  toApi(m: Metric): MetricApi {
    const compiled = compileMetric(parseBody(m.kind, m.definition));
    return {
      id: m.id,
      name: m.name,
      displayName: m.displayName,
      description: m.description,
      unit: m.unit,
      owner: m.owner,
      tags: m.tags,
      color: m.color,
      interval: m.interval,
      status: m.status,
      kind: m.kind,
      definition: m.definition,
      valueKind: compiled.valueKind,
      breakdowns: compiled.breakdowns,
      version: m.version,
      historyFrom: iso(m.historyFrom),
      collectedUntil: iso(m.collectedUntil),
      lastError: m.lastError && { message: m.lastError.message, at: iso(m.lastError.at)! },
      detection: m.detection,
      createdAt: iso(m.createdAt)!,
      updatedAt: iso(m.updatedAt)!,
    };
  }

  /** Checks a definition: its schema, its filters and breakdowns, and for sql the statement itself. */
  private async checkBody(kind: string, definition: unknown): Promise<CompiledMetric> {
    const body = parseBody(kind, definition);
    if (body.kind === 'sql') await this.deps.events.validateUserSql(body.definition.sql);
    return compileMetric(body);
  }

  private async assertNameFree(project: Project, name: string, except?: number) {
    const existing = await this.store.byName(project.id, name);
    if (existing && existing.id !== except)
      throw new VigilError('VIGIL_ERR_CONFLICT', `a metric named "${name}" already exists in this project`, { field: 'name' });
  }

  async create(project: Project, input: CreateMetric): Promise<Metric> {
    checkDetection(input.detection);
    await this.checkBody(input.kind, input.definition);
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
    await this.scheduleBackfill(m);
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
    if (bodyChanged) await this.checkBody(kind, definition);
    if (patch.name !== undefined) await this.assertNameFree(project, patch.name, id);
    const updated = await this.store.update(id, { ...patch, kind, definition } as Partial<MetricFields>, this.now(), bodyChanged);
    await this.scheduleBackfill(updated);
    return updated;
  }

  archive(project: Project, id: number): Promise<Metric> {
    return this.update(project, id, { status: 'archived' });
  }

  async remove(project: Project, id: number): Promise<void> {
    await this.get(project, id);
    await this.store.delete(id);
  }

  /** An active metric without history gets a backfill job (one per body version). */
  private async scheduleBackfill(m: Metric) {
    if (m.status !== 'active' || m.collectedUntil !== null) return;
    await this.deps.jobs.enqueue({
      kind: JOB_BACKFILL,
      projectId: m.projectId,
      payload: { metricId: m.id, version: m.version },
      dedupeKey: `${JOB_BACKFILL}:${m.id}:${m.version}`,
      priority: 1,
    });
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

  private bucketsOf(project: Project, interval: Interval, fromMs: number, toMs: number): number[] {
    const estimate = Math.ceil((toMs - fromMs) / INTERVAL_MS[interval]);
    if (estimate > MAX_BUCKETS + 2)
      throw badRequest(
        `that window holds about ${estimate} ${interval} buckets; at most ${MAX_BUCKETS} are allowed, choose a shorter window`,
        { field: 'from' },
      );
    return bucketStarts(project.timeZone, interval, fromMs, toMs);
  }

  /**
   * Every bucket of the window with the stored values. A count-shaped metric reads 0 in a collected
   * bucket without value; anything not collected yet (or a fraction's gap) is null.
   */
  async series(project: Project, id: number, q: { fromMs: number; toMs: number; breakdown?: string }) {
    const m = await this.get(project, id);
    const compiled = compileMetric(parseBody(m.kind, m.definition));
    if (q.breakdown !== undefined && !compiled.breakdowns.includes(q.breakdown)) {
      throw badRequest(
        `metric "${m.name}" has no breakdown "${q.breakdown}"${compiled.breakdowns.length ? `; it has: ${compiled.breakdowns.join(', ')}` : ''}`,
        { field: 'breakdown' },
      );
    }
    const starts = this.bucketsOf(project, m.interval, q.fromMs, q.toMs);
    const rows = starts.length ? await this.store.values(m.id, q.breakdown ?? TOTAL, starts[0], q.toMs) : [];
    const index = new Map(starts.map((s, i) => [s, i]));
    const collected = (s: number) => m.historyFrom !== null && m.collectedUntil !== null && s >= m.historyFrom && s < m.collectedUntil;
    const empty = () => ({ values: new Array(starts.length).fill(null) as Values, samples: new Array(starts.length).fill(null) as Values });
    const byKey = new Map<string, { values: Values; samples: Values }>();
    for (const r of rows) {
      const i = index.get(r.bucket);
      if (i === undefined) continue;
      let s = byKey.get(r.key);
      if (!s) byKey.set(r.key, (s = empty()));
      s.values[i] = r.value;
      s.samples[i] = r.samples;
    }
    if (q.breakdown === undefined) {
      const total = byKey.get(TOTAL) ?? empty();
      byKey.clear();
      byKey.set(
        'total',
        fillCounts(compiled, starts, total, (i) => collected(starts[i])),
      );
    }
    const series = sortSeries(
      [...byKey].map(([key, s]) => ({ key, label: key === 'total' && q.breakdown === undefined ? 'total' : label(key), ...s })),
    );
    const marks = starts.length && this.deps.marksFor ? await this.deps.marksFor(m.id, starts[0], q.toMs) : [];
    return {
      metric: { id: m.id, name: m.name, unit: m.unit, valueKind: compiled.valueKind, interval: m.interval },
      timeZone: project.timeZone,
      from: starts.length ? formatBucket(project.timeZone, m.interval, starts[0]) : new Date(q.fromMs).toISOString(),
      to: new Date(q.toMs).toISOString(),
      buckets: starts.map((s) => formatBucket(project.timeZone, m.interval, s)),
      breakdown: q.breakdown ?? null,
      series,
      collectedUntil: iso(m.collectedUntil),
      signals: marks.map((s) => ({
        ...s,
        bucket: formatBucket(project.timeZone, m.interval, s.bucket),
        endBucket: formatBucket(project.timeZone, m.interval, s.endBucket),
      })),
    };
  }

  /**
   * A gauge's value in the bucket still in progress, from the measurements pushed so far (null:
   * not a gauge, or nothing pushed yet). Pushed values cannot come late, so threshold rules may act
   * on it at once instead of waiting for the bucket to end and be collected.
   */
  async gaugeSoFar(project: Project, m: Metric): Promise<{ bucket: number; value: number } | null> {
    const since = await this.gaugeSince(project, m, latestEnd(project, m.interval, this.now()));
    const value = since?.values[since.values.length - 1];
    return since && value !== null && value !== undefined ? { bucket: since.starts[since.starts.length - 1], value } : null;
  }

  /**
   * A gauge's values from the bucket starting at `fromMs` to the one in progress, from the
   * measurements (null: not a gauge); a bucket without any is null.
   */
  async gaugeSince(project: Project, m: Metric, fromMs: number): Promise<{ starts: number[]; values: (number | null)[] } | null> {
    if (m.kind !== 'gauge') return null;
    const current = latestEnd(project, m.interval, this.now());
    const { starts, r } = await this.computeDraft(project, compileMetric(parseBody(m.kind, m.definition)), m.interval, {
      fromMs: Math.min(fromMs, current),
      toMs: nextBucket(project.timeZone, m.interval, current),
    });
    return { starts, values: r.total };
  }

  /**
   * The total series of [fromMs, toMs) as the series endpoint gives it (a count reads 0 in a
   * collected bucket without value; not collected, or a fraction's gap, is null), for detection.
   */
  async totalSeries(project: Project, m: Metric, fromMs: number, toMs: number) {
    const compiled = compileMetric(parseBody(m.kind, m.definition));
    const valueKind = compiled.detectAs;
    const starts = bucketStarts(project.timeZone, m.interval, fromMs, toMs);
    let values: Values = new Array(starts.length).fill(null);
    let samples: Values = new Array(starts.length).fill(null);
    if (!starts.length) return { starts, values, samples, valueKind, range: naturalRange(seriesShape(m.kind, compiled), values) };
    const index = new Map(starts.map((s, i) => [s, i]));
    for (const r of await this.store.values(m.id, TOTAL, starts[0], toMs)) {
      const i = r.key === TOTAL ? index.get(r.bucket) : undefined;
      if (i !== undefined) [values[i], samples[i]] = [r.value, r.samples];
    }
    if (m.historyFrom !== null && m.collectedUntil !== null) {
      ({ values, samples } = fillCounts(
        compiled,
        starts,
        { values, samples },
        (i) => starts[i] >= m.historyFrom! && starts[i] < m.collectedUntil!,
      ));
    }
    return { starts, values, samples, valueKind, range: naturalRange(seriesShape(m.kind, compiled), values) };
  }

  /** Computes an unsaved definition over the last complete buckets, for the form's live preview. */
  async preview(project: Project, input: PreviewMetric) {
    const compiled = await this.checkBody(input.kind, input.definition);
    const interval = input.interval ?? '1h';
    const toMs = latestEnd(project, interval, this.now());
    const fromMs = bucketsBefore(project, interval, toMs, input.buckets ?? DEFAULT_PREVIEW_BUCKETS);
    const { starts, r } = await this.computeDraft(project, compiled, interval, { fromMs, toMs });
    const breakdown = compiled.breakdowns[0] ?? null;
    const keyed = sortSeries(
      r.breakdowns.filter((b) => b.dimension === breakdown).map((b) => ({ key: b.key, label: label(b.key), values: b.values })),
    );
    return {
      interval,
      timeZone: project.timeZone,
      valueKind: compiled.valueKind,
      buckets: starts.map((s) => formatBucket(project.timeZone, interval, s)),
      total: r.total,
      breakdown,
      series: keyed,
    };
  }

  private async computeDraft(project: Project, compiled: CompiledMetric, interval: Interval, window: { fromMs: number; toMs: number }) {
    const { starts, results, failures } = await computeMetrics(this.deps, project, interval, window, [{ id: 0, compiled }]);
    if (failures.length) throw failures[0].error;
    return { starts, r: results[0] };
  }

  /** Where the history of a metric of this interval would start if it were defined now (its default backfill). */
  backfillFrom(project: Project, interval: Interval): number {
    return bucketFloor(project.timeZone, interval, latestEnd(project, interval, this.now()) - this.deps.settings.backfillDays * 86_400_000);
  }

  /**
   * An unsaved definition's total series over the buckets of [fromMs, toMs), computed as preview
   * does, for backtests: complete buckets only (the current one and later ones are null, as a
   * saved metric's not-yet-collected buckets are).
   */
  async computeSeries(project: Project, input: Omit<PreviewMetric, 'buckets'>, window: { fromMs: number; toMs: number }) {
    const compiled = await this.checkBody(input.kind, input.definition);
    const interval = input.interval ?? '1h';
    const starts = bucketStarts(project.timeZone, interval, window.fromMs, window.toMs);
    const values: Values = new Array(starts.length).fill(null);
    const samples: Values = new Array(starts.length).fill(null);
    const toMs = Math.min(window.toMs, latestEnd(project, interval, this.now()));
    if (starts.length && starts[0] < toMs) {
      const computed = await this.computeDraft(project, compiled, interval, { fromMs: starts[0], toMs });
      const index = new Map(starts.map((s, i) => [s, i]));
      computed.starts.forEach((s, j) => {
        const i = index.get(s);
        if (i !== undefined) [values[i], samples[i]] = [computed.r.total[j], computed.r.samples[j]];
      });
    }
    return {
      interval,
      valueKind: compiled.detectAs,
      starts,
      values,
      samples,
      range: naturalRange(seriesShape(input.kind, compiled), values),
    };
  }

  async collectNow(project: Project, id: number) {
    const m = await this.get(project, id);
    if (m.status === 'archived')
      throw new VigilError('VIGIL_ERR_CONFLICT', `metric "${m.name}" is archived; make it active or draft to collect it`);
    const r = await this.collection.collectNow(project, m, this.now());
    await this.afterCollected(project, [m], r);
    return {
      from: new Date(r.fromMs).toISOString(),
      to: new Date(r.toMs).toISOString(),
      buckets: r.buckets,
      metric: this.toApi(await this.get(project, id)),
    };
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
