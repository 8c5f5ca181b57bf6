/** The incidents domain: signals grouped into incidents, their lifecycle, comments and history. */
import type { FastifyBaseLogger } from 'fastify';
import type { MetaStore } from '../meta-db.js';
import type { ProjectService } from '../projects/service.js';
import type { MetricService } from '../metrics/service.js';
import type { SignalService } from '../signals/service.js';
import type { AuditLog } from '../auth/audit.js';
import type { MembershipService } from '../auth/memberships.js';
import type { RoutesPlugin } from '../domain-module.js';
import { IncidentService, type IncidentServiceDeps } from './service.js';
import { incidentRoutes } from './routes.js';

export interface IncidentsModuleDeps {
  log: FastifyBaseLogger;
  meta: MetaStore;
  projects: ProjectService;
  catalog: MetricService;
  signals: SignalService;
  audit: AuditLog;
  memberships: MembershipService;
  now: () => number;
  /** emits `incident.changed` inside the change's transaction (src/domain-events.ts) */
  onChange: IncidentServiceDeps['onChange'];
  eventCounts: IncidentServiceDeps['eventCounts'];
}

export function createIncidentsModule(deps: IncidentsModuleDeps) {
  const { audit, memberships } = deps;
  const incidents = new IncidentService({
    db: deps.meta.db,
    dialect: deps.meta.dialect,
    catalog: deps.catalog,
    signals: deps.signals,
    projects: deps.projects,
    log: deps.log,
    onChange: deps.onChange,
    now: deps.now,
    eventCounts: deps.eventCounts,
  });
  const routes: RoutesPlugin = async (app) => {
    await app.register(incidentRoutes, { audit, incidents, memberships });
  };
  return { incidents, routes };
}
