/**
 * Incidents: signals grouped into one thing to act on. SKELETON — filled in by the incidents work.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Dialect, MetaDb } from '../storage/meta/db.js';
import type { MetricService } from '../metrics/service.js';
import type { ProjectService } from '../projects/service.js';
import type { Coverage } from '../signals/service.js';
import type { Signal } from '../signals/store.js';
import type { SignalService } from '../signals/service.js';
import type { IncidentChangeHook } from './types.js';

export interface IncidentServiceDeps {
  db: MetaDb;
  dialect: Dialect;
  catalog: MetricService;
  signals: SignalService;
  projects: ProjectService;
  log: FastifyBaseLogger;
  /** the alerts domain's hook, called inside each change's transaction */
  onChange: IncidentChangeHook;
  now?: () => number;
}

export class IncidentService {
  constructor(private deps: IncidentServiceDeps) {}

  /** SignalService's listener: new and grown signals, and what the run covered (auto-resolve). */
  async onSignals(_projectId: number, _written: Signal[], _covered: Coverage[]): Promise<void> {}

  /** The scheduler's periodic step: catch up on signals not yet grouped (a listener that failed). */
  async tick(): Promise<void> {}
}
