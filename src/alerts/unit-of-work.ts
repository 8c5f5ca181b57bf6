/**
 * The stores alerts reads and writes, bound to one connection or transaction. An incident change
 * runs alerts inside the incident's transaction: every read and write there goes through one unit
 * on that transaction, built here, so no store is made ad hoc on `tx` and none escapes it.
 */
import { JobQueue } from '../jobs/queue.js';
import { MetricStore } from '../metrics/store.js';
import { ProjectService } from '../projects/service.js';
import type { Dialect } from '../storage/meta/db.js';
import type { MetaDb } from '../meta-db.js';
import { DeliveryStore } from './deliveries.js';
import { DestinationStore } from './destinations-store.js';
import { RuleStore } from './rule-store.js';

export interface UnitEnv {
  dialect: Dialect;
  secretKey: string;
  now: () => number;
}

export class AlertsUnit {
  readonly deliveries: DeliveryStore;
  readonly rules: RuleStore;
  readonly destinations: DestinationStore;
  /** the job queue, for a delivery's job written with its row */
  readonly jobs: JobQueue;
  /** the metrics' names and tags an alert message shows */
  readonly metrics: MetricStore;
  readonly projects: ProjectService;

  constructor(
    readonly db: MetaDb,
    env: UnitEnv,
  ) {
    this.deliveries = new DeliveryStore(db);
    this.rules = new RuleStore(db);
    this.destinations = new DestinationStore(db, env.secretKey);
    this.jobs = new JobQueue(db, env.dialect, env.now);
    this.metrics = new MetricStore(db);
    this.projects = new ProjectService(db);
  }
}

/** The unit on `db` (a transaction, or the store itself). */
export type UnitOn = (db: MetaDb) => AlertsUnit;

export const unitFactory =
  (env: UnitEnv): UnitOn =>
  (db) =>
    new AlertsUnit(db, env);
