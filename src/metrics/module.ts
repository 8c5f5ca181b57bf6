/** The metrics domain: the catalog of metric definitions, their collection into values, and series reads. */
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.js';
import type { MetaStore } from '../meta-db.js';
import type { EventStore } from '../storage/events/event-store.js';
import type { ProjectService } from '../projects/service.js';
import type { JobQueue } from '../jobs/index.js';
import type { AuditLog } from '../auth/audit.js';
import type { MeasurementStore } from '../ingest/measurement-store.js';
import type { RoutesPlugin } from '../domain-module.js';
import { MetricService, type MetricServiceDeps } from './service.js';
import { metricRoutes } from './routes.js';

export interface MetricsModuleDeps {
  config: Config;
  log: FastifyBaseLogger;
  meta: MetaStore;
  events: EventStore;
  measurements: MeasurementStore;
  projects: ProjectService;
  jobs: JobQueue;
  audit: AuditLog;
  now: () => number;
  /** emits `metric.collected` (src/domain-events.ts) */
  onCollected: MetricServiceDeps['onCollected'];
  /** the signals drawn on a series (metrics never import signals) */
  marksFor: MetricServiceDeps['marksFor'];
}

export function createMetricsModule(deps: MetricsModuleDeps) {
  const { config, audit } = deps;
  const catalog = new MetricService({
    db: deps.meta.db,
    events: deps.events,
    measurements: deps.measurements,
    projects: deps.projects,
    jobs: deps.jobs,
    sqlTimeoutMs: config.metricSqlTimeoutMs,
    sqlMaxRows: config.metricSqlMaxRows,
    settings: { lookbackBuckets: config.metricsLookbackBuckets, backfillDays: config.metricsBackfillDays },
    log: deps.log,
    now: deps.now,
    onCollected: deps.onCollected,
    marksFor: deps.marksFor,
  });
  const routes: RoutesPlugin = async (app) => {
    await app.register(metricRoutes, { audit, catalog });
  };
  return { catalog, routes, jobHandlers: catalog.jobHandlers() };
}
