/** The alerts domain: rules, destinations, the delivery outbox and its worker, repeats and digests. */
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.js';
import type { MetaStore } from '../meta-db.js';
import type { ProjectService } from '../projects/service.js';
import type { MetricService } from '../metrics/service.js';
import type { IncidentService } from '../incidents/service.js';
import type { JobQueue, JobWorker } from '../jobs/index.js';
import type { AuditLog } from '../auth/audit.js';
import type { AppLinks } from '../http/app-links.js';
import type { RoutesPlugin } from '../domain-module.js';
import { AlertService } from './service.js';
import { alertRoutes } from './routes.js';

export interface AlertsModuleDeps {
  config: Config;
  log: FastifyBaseLogger;
  meta: MetaStore;
  projects: ProjectService;
  catalog: MetricService;
  jobs: JobQueue;
  audit: AuditLog;
  links: AppLinks;
  now: () => number;
  /** incidents and alerts each need the other: incidents call alerts inside their changes, alerts read incidents when they send */
  incidents: () => IncidentService;
  /** wakes the job worker when a delivery is queued by hand */
  worker: Pick<JobWorker, 'wake'>;
}

export function createAlertsModule(deps: AlertsModuleDeps) {
  const { audit, worker } = deps;
  const alerts = new AlertService({
    db: deps.meta.db,
    dialect: deps.meta.dialect,
    config: deps.config,
    jobs: deps.jobs,
    projects: deps.projects,
    catalog: deps.catalog,
    incidents: deps.incidents,
    log: deps.log,
    now: deps.now,
    links: deps.links,
  });
  const routes: RoutesPlugin = async (app) => {
    await app.register(alertRoutes, { alerts, audit, worker });
  };
  return { alerts, routes, jobHandlers: alerts.jobHandlers() };
}
