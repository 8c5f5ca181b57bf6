/**
 * The metadata database as the domains see it: one Kysely schema composed of each domain's tables
 * (`src/<domain>/tables.ts`), and the store opened with that schema.
 *
 * The composition lives here, at the ground level beside config.ts and errors.ts, and not in
 * src/storage: storage imports no domain (its connection code, src/storage/meta/db.ts, is generic
 * over the schema), while every domain may import storage and this file. Times are stored as epoch
 * milliseconds (bigint) so the same DDL and code work on SQLite and PostgreSQL.
 */
import type { Kysely } from 'kysely';
import type { AlertDeliveryTable, AlertDestinationTable, AlertRuleTable } from './alerts/tables.js';
import type {
  ApiKeyTable,
  AuditLogTable,
  InvitationTable,
  MembershipTable,
  PasswordResetTable,
  SessionTable,
  UserTable,
} from './auth/tables.js';
import type { IncidentEventTable, IncidentSignalTable, IncidentTable } from './incidents/tables.js';
import type { IngestBatchTable, IpSaltTable } from './ingest/tables.js';
import type { JobTable, SchedulerTickTable } from './jobs/tables.js';
import type { MeasurementTable, MetricTable, MetricValueTable } from './metrics/tables.js';
import type { ProjectTable } from './projects/tables.js';
import type { DetectorRunTable, EventProfileTable, SignalTable, ThresholdRuleTable } from './signals/tables.js';
import {
  type MetaStore as GenericMetaStore,
  openMetaStore as openGenericMetaStore,
  openPostgresMeta as openGenericPostgresMeta,
  openSqliteMeta as openGenericSqliteMeta,
  type PostgresMetaOptions,
} from './storage/meta/db.js';

export interface MetaSchema {
  projects: ProjectTable;
  api_keys: ApiKeyTable;
  ip_salts: IpSaltTable;
  metrics: MetricTable;
  metric_values: MetricValueTable;
  measurements: MeasurementTable;
  jobs: JobTable;
  users: UserTable;
  sessions: SessionTable;
  memberships: MembershipTable;
  invitations: InvitationTable;
  password_resets: PasswordResetTable;
  audit_log: AuditLogTable;
  signals: SignalTable;
  event_profiles: EventProfileTable;
  detector_runs: DetectorRunTable;
  threshold_rules: ThresholdRuleTable;
  incidents: IncidentTable;
  incident_signals: IncidentSignalTable;
  incident_events: IncidentEventTable;
  alert_destinations: AlertDestinationTable;
  alert_rules: AlertRuleTable;
  alert_deliveries: AlertDeliveryTable;
  scheduler_ticks: SchedulerTickTable;
  ingest_batches: IngestBatchTable;
}

export type MetaDb = Kysely<MetaSchema>;
export type MetaStore = GenericMetaStore<MetaSchema>;

/** The metadata store (a postgres:// URL, else a SQLite file), its schema brought up to date. */
export const openMetaStore: (target: string, opts?: PostgresMetaOptions) => Promise<MetaStore> = openGenericMetaStore;
export const openSqliteMeta: (file: string) => MetaStore = openGenericSqliteMeta;
export const openPostgresMeta: (url: string, opts?: PostgresMetaOptions) => Promise<MetaStore> = openGenericPostgresMeta;
