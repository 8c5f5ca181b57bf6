/**
 * Signals: what detectors raise, one per episode, anchored at its first bucket and idempotent per
 * (scope, bucket). The service stores them and tells its listeners, resolves a metric's detection
 * settings over the project's, and runs live detection of metrics after every collection
 * (anomaly/metric-detection.ts) and again once their newest buckets have settled (anomaly/settled.ts).
 */
import type { MetaDb } from '../meta-db.js';
import type { Project, ProjectService } from '../projects/service.js';
import type { Metric, MetricService } from '../metrics/service.js';
import type { SeriesMark } from '../metrics/schemas.js';
import type { EventStore } from '../storage/events/event-store.js';
import type { JobHandler, JobQueue } from '../jobs/index.js';
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
import { SignalStore, type Signal, type SignalFilter, type SignalInput } from './store.js';
import { MetricDetection, type DetectResult } from './anomaly/metric-detection.js';
import { scheduleSettledDetection, settledDetectionHandlers } from './anomaly/settled.js';

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
  /** owns the projects table, where the project's detection defaults are kept */
  projects: Pick<ProjectService, 'detectionSettings' | 'setDetectionSettings'>;
  /** where the observed lateness of events is measured (the default settling time); without it, the fixed default */
  events?: EventStore;
  /** where a detection run once the newest buckets have settled is queued (see scheduleSettled) */
  jobs?: Pick<JobQueue, 'enqueue'>;
  log: { warn(obj: object, msg: string): void };
  now?: () => number;
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
  private metricDetection: MetricDetection;

  constructor(private deps: SignalServiceDeps) {
    this.store = new SignalStore(deps.db);
    this.now = deps.now ?? Date.now;
    this.lateness = deps.events && new LatenessCache(deps.events, this.now);
    this.metricDetection = new MetricDetection({ catalog: deps.catalog, signals: this, log: deps.log, now: this.now });
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
   * After a collection: a metric whose newest buckets settle before its next collection gets a job
   * for the moment they have settled (anomaly/settled.ts). Returns the jobs queued.
   */
  async scheduleSettled(project: Project, metrics: Metric[]): Promise<number> {
    return this.deps.jobs ? scheduleSettledDetection(this, this.deps.jobs, project, metrics) : 0;
  }

  /** The handler of those jobs: `rerun` gets the metric and the window of its newest bucket. */
  settledJobHandlers(
    projects: Pick<ProjectService, 'getById'>,
    rerun: (project: Project, metrics: Metric[], window: { fromMs: number; toMs: number }) => Promise<void>,
  ): Record<string, JobHandler> {
    return settledDetectionHandlers(this.deps.catalog, projects, rerun);
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
    const project = defaults ?? (await this.projectDetection(projectId));
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
  async projectDetection(projectId: number): Promise<ProjectDetection> {
    try {
      return parseDetection(await this.deps.projects.detectionSettings(projectId));
    } catch {
      return {};
    }
  }

  /** Replaces a project's detection defaults (Settings, the demo). */
  setProjectDetection(projectId: number, settings: ProjectDetection): Promise<void> {
    return this.deps.projects.setDetectionSettings(projectId, parseDetection(settings));
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
  detectCollected(project: Project, metrics: Metric[], window: { fromMs: number; toMs: number }) {
    return this.metricDetection.detectCollected(project, metrics, window);
  }

  /**
   * Scores a metric's total series up to `until` and upserts the episodes that reach `since` or
   * later (default: every episode of the history read), less the settling buckets: those held
   * back by an earlier run fire now.
   */
  detectMetric(project: Project, metric: Metric, opts: { until: number; since?: number }): Promise<DetectResult> {
    return this.metricDetection.detectMetric(project, metric, opts);
  }
}
