/**
 * Alerting: rules that pick incidents, destinations that receive them, and deliveries (the outbox
 * the job worker sends from). SKELETON — filled in by the alerts work.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.js';
import type { Dialect, MetaDb } from '../storage/meta/db.js';
import type { JobQueue } from '../jobs/queue.js';
import type { JobHandler } from '../jobs/worker.js';
import type { ProjectService } from '../projects/service.js';
import type { MetricService } from '../metrics/service.js';
import type { IncidentService } from '../incidents/service.js';
import type { IncidentChange } from '../incidents/types.js';

export interface AlertServiceDeps {
  db: MetaDb;
  dialect: Dialect;
  config: Config;
  jobs: JobQueue;
  projects: ProjectService;
  catalog: MetricService;
  /** set once both services exist (each needs the other) */
  incidents: () => IncidentService;
  log: FastifyBaseLogger;
  now?: () => number;
}

export class AlertService {
  constructor(private deps: AlertServiceDeps) {}

  /** IncidentService's change hook: runs inside the change's transaction (`tx`). */
  async onIncidentChange(_tx: MetaDb, _change: IncidentChange): Promise<void> {}

  /** The scheduler's periodic step: repeats and digests that are due. Returns how many jobs it queued. */
  async scheduleDue(): Promise<number> {
    return 0;
  }

  jobHandlers(): Record<string, JobHandler> {
    return {};
  }
}
