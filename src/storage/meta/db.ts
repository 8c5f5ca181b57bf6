import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type Generated } from 'kysely';
import { VigilError } from '../../errors.js';
import { migrations } from './migrations/index.js';

export type Dialect = 'sqlite' | 'postgres';

/** Times are stored as epoch milliseconds (bigint) so the same DDL and code work on SQLite and PostgreSQL. */
export interface ProjectTable {
  id: Generated<number>;
  slug: string;
  name: string;
  time_zone: string;
  created_at: number;
  /** JSON: detection defaults { enabled?, sensitivity?, minExpected?, settlingMinutes? } */
  detection: Generated<string>;
}

export interface ApiKeyTable {
  id: Generated<number>;
  project_id: number;
  name: string;
  prefix: string;
  secret_hash: string;
  scopes: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
}

export interface IpSaltTable {
  day: string;
  salt: string;
}

export interface MetricTable {
  id: Generated<number>;
  project_id: number;
  name: string;
  display_name: string;
  description: string;
  unit: string;
  owner: string;
  /** JSON array of strings */
  tags: string;
  color: string;
  status: string;
  interval: string;
  kind: string;
  /** JSON of the kind's body */
  definition: string;
  version: number;
  history_from: number | null;
  collected_until: number | null;
  last_error: string | null;
  last_error_at: number | null;
  created_at: number;
  updated_at: number;
  /** JSON: detection settings { enabled?, sensitivity?, minExpected? } */
  detection: Generated<string>;
}

export interface MetricValueTable {
  metric_id: number;
  dimension: string;
  key: string;
  bucket: number;
  value: number | null;
  /** how many observations the value stands for (null: not known, e.g. collected before 0018) */
  samples: number | null;
}

export interface MeasurementTable {
  id: Generated<number>;
  project_id: number;
  service: string;
  metric: string;
  ts: number;
  value: number;
  /** JSON object of string tags */
  tags: string;
  received_at: number;
}

export interface JobTable {
  id: Generated<number>;
  kind: string;
  project_id: number | null;
  /** JSON */
  payload: string;
  /** queued | running | done | dead */
  status: string;
  priority: number;
  attempts: number;
  max_attempts: number;
  run_at: number;
  lease_until: number | null;
  locked_by: string | null;
  progress: number | null;
  progress_note: string | null;
  last_error: string | null;
  /** JSON */
  result: string | null;
  dedupe_key: string | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

export interface UserTable {
  id: Generated<number>;
  email: string;
  name: string;
  password_hash: string;
  is_admin: number;
  failed_signins: number;
  locked_until: number | null;
  password_changed_at: number;
  created_at: number;
  /** set while an admin has disabled the account: it cannot sign in */
  disabled_at: number | null;
  last_signin_at: number | null;
}

export interface SessionTable {
  id: Generated<number>;
  user_id: number;
  token_hash: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  user_agent: string;
}

export interface MembershipTable {
  project_id: number;
  user_id: number;
  /** owner | editor | viewer */
  role: string;
  created_at: number;
}

export interface InvitationTable {
  id: Generated<number>;
  project_id: number;
  email: string;
  role: string;
  token_hash: string;
  invited_by: number | null;
  created_at: number;
  expires_at: number;
  accepted_at: number | null;
  revoked_at: number | null;
}

/** A password-reset link: only its token's HMAC; `used_at` once it (or another link of the same user) set a password. */
export interface PasswordResetTable {
  id: Generated<number>;
  user_id: number;
  token_hash: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: number;
  project_id: number | null;
  actor_type: string;
  actor_id: number | null;
  actor_label: string;
  action: string;
  target_type: string;
  target_id: string | null;
  /** JSON { before?, after? } */
  summary: string;
  request_id: string | null;
  ip: string | null;
}

export interface SignalTable {
  id: Generated<number>;
  project_id: number;
  /** metric, later threshold | schema | distribution | event */
  scope: string;
  /** e.g. `metric:12` */
  scope_key: string;
  metric_id: number | null;
  /** the anchor: the episode's first bucket (epoch ms) */
  bucket: number;
  /** the episode's last bucket so far */
  end_bucket: number;
  kind: string;
  direction: string | null;
  value: number;
  expected: number | null;
  lower: number | null;
  upper: number | null;
  z: number;
  score: number;
  /** info | warning | critical */
  severity: string;
  /** JSON */
  details: string;
  created_at: number;
  updated_at: number;
}

export interface ThresholdRuleTable {
  id: Generated<number>;
  project_id: number;
  metric_id: number;
  name: string;
  /** JSON: ThresholdRule (src/detect/threshold.ts) */
  rule: string;
  /** 1 watched, 0 paused */
  enabled: number;
  /** JSON: ThresholdState after the last bucket evaluated; null before the first evaluation */
  state: string | null;
  /** buckets before this (epoch ms) have been evaluated */
  evaluated_until: number | null;
  created_at: number;
  updated_at: number;
}

/** A day's schema profile of a project's events (signals/drift.ts). */
export interface EventProfileTable {
  project_id: number;
  /** the day's first instant, epoch ms */
  day: number;
  /** JSON: DayProfile */
  profile: string;
  events: number;
  created_at: number;
}

/** Where a project-wide detector stands (signals/drift-jobs.ts). */
export interface DetectorRunTable {
  project_id: number;
  detector: string;
  /** buckets before this (epoch ms) have been covered */
  done_until: number;
  updated_at: number;
}

export interface IncidentTable {
  id: Generated<number>;
  project_id: number;
  scope_key: string;
  breakdown: string;
  /** up | down | '' */
  direction: string;
  metric_id: number | null;
  title: string;
  /** open | acknowledged | resolved */
  status: string;
  /** recovered | manual | false_positive */
  resolution: string | null;
  /** info | warning | critical (minor | significant | major before migration 0017) */
  severity: string;
  root_signal_id: number | null;
  assignee_id: number | null;
  muted_until: number | null;
  started_bucket: number;
  last_bucket: number;
  opened_at: number;
  acknowledged_at: number | null;
  resolved_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface IncidentSignalTable {
  incident_id: number;
  signal_id: number;
  /** root | same_scope | related */
  role: string;
  added_at: number;
}

export interface IncidentEventTable {
  id: Generated<number>;
  incident_id: number;
  type: string;
  actor_id: number | null;
  /** JSON */
  data: string;
  at: number;
}

export interface AlertDestinationTable {
  id: Generated<number>;
  project_id: number;
  name: string;
  kind: string;
  /** JSON, not secret */
  config: string;
  /** encrypted JSON (src/alerts/secrets.ts) */
  secrets: string;
  created_at: number;
  updated_at: number;
}

export interface AlertRuleTable {
  id: Generated<number>;
  project_id: number;
  name: string;
  enabled: number;
  /** JSON: AlertRuleSpec */
  spec: string;
  muted_until: number | null;
  digest_until: number | null;
  created_at: number;
  updated_at: number;
}

export interface AlertDeliveryTable {
  id: Generated<number>;
  project_id: number;
  rule_id: number | null;
  destination_id: number | null;
  incident_id: number | null;
  scope_key: string | null;
  /** opened | repeat | resolved | digest | test */
  event: string;
  /** pending | sent | failed */
  status: string;
  idempotency_key: string;
  /** JSON: AlertMessage */
  message: string;
  attempts: number;
  next_attempt_at: number | null;
  last_error: string | null;
  response_status: number | null;
  response_body: string | null;
  external_id: string | null;
  created_at: number;
  updated_at: number;
  sent_at: number | null;
}

/** The last tick slot of a periodic task claimed by a scheduler process (src/jobs/scheduler.ts). */
export interface SchedulerTickTable {
  name: string;
  slot: number;
  holder: string;
  claimed_at: number;
}

/** Acknowledged events of the scaled mode waiting to be loaded into ClickHouse (src/ingest/outbox.ts). */
export interface IngestBatchTable {
  id: Generated<number>;
  /** NDJSON event rows, as the write-ahead segments hold them */
  lines: string;
  line_count: number;
  received_at: number;
  /** set while a loader moves the row into the event store: the id of that load */
  load_id: number | null;
}

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

export interface MetaStore {
  db: MetaDb;
  dialect: Dialect;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function openSqliteMeta(file: string): MetaStore {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const sqlite = new SQLite(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<MetaSchema>({ dialect: new SqliteDialect({ database: sqlite }) });
  return {
    db,
    dialect: 'sqlite',
    async ping() {
      sqlite.prepare('select 1').get();
    },
    async close() {
      await db.destroy();
    },
  };
}

/** PostgreSQL connection settings; the defaults suit one Vigil process of any role. */
export interface PostgresMetaOptions {
  /** connections in the pool: requests, the job worker's claims and heartbeats, the scheduler tick */
  poolMax?: number;
  /** how long opening a connection (or waiting for a free one) may take */
  connectTimeoutMs?: number;
  /** an idle connection is closed after this long */
  idleTimeoutMs?: number;
  /** a statement running longer is cancelled by the server (0: no limit) */
  statementTimeoutMs?: number;
  /** errors of idle connections (the server restarted, say); the pool replaces them */
  onIdleError?: (err: Error) => void;
}

/** Ten connections: enough for a busy API process, few enough that dozens of processes fit in max_connections (100). */
const PG_POOL_MAX = 10;
const PG_CONNECT_TIMEOUT_MS = 5_000;
const PG_IDLE_TIMEOUT_MS = 30_000;
/** Metadata statements are small; one running a minute is stuck (a lock), and should fail rather than hold a connection. */
const PG_STATEMENT_TIMEOUT_MS = 60_000;
/** int8 (count(*), bigint columns: epoch ms) and numeric (sum, avg) */
const PG_INT8_OID = 20;
const PG_NUMERIC_OID = 1700;

/** The URL as it may be shown: without its password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/^([a-z][\w+.-]*:\/\/[^/@:]*):[^/@]*@/i, '$1:***@');
  }
}

/** The text of a connection error; a connect to several addresses fails with an AggregateError whose own message is empty. */
function connectErrorText(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length) return [...new Set(err.errors.map(connectErrorText))].join('; ');
  if (err instanceof Error) return err.message || String((err as { code?: unknown }).code ?? err.name);
  return String(err);
}

/**
 * Bigint columns hold epoch milliseconds and counts, all far below 2^53, so they are read as
 * numbers: the same rows come back from SQLite and PostgreSQL, and no caller has to remember Number().
 */
function parseNumber(text: string): number {
  return Number(text);
}

const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === PG_INT8_OID || oid === PG_NUMERIC_OID
      ? parseNumber
      : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

/** Opens the PostgreSQL metadata store at `url` and checks that it answers. */
export async function openPostgresMeta(url: string, opts: PostgresMetaOptions = {}): Promise<MetaStore> {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.poolMax ?? PG_POOL_MAX,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? PG_CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: opts.idleTimeoutMs ?? PG_IDLE_TIMEOUT_MS,
    statement_timeout: opts.statementTimeoutMs ?? PG_STATEMENT_TIMEOUT_MS,
    application_name: 'vigil',
    types: pgTypes,
  });
  // without a listener an idle connection's error (a server restart) would end the process
  pool.on('error', (err) => opts.onIdleError?.(err));
  try {
    const client = await pool.connect();
    client.release();
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new VigilError(
      'VIGIL_ERR_UNAVAILABLE',
      `cannot reach the PostgreSQL metadata store at VIGIL_DATABASE_URL=${redactUrl(url)}: ${connectErrorText(err)}`,
    );
  }
  const db = new Kysely<MetaSchema>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    dialect: 'postgres',
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      await db.destroy();
    },
  };
}

/** Errors of two processes creating the migration tables at once (Kysely locks only after creating them). */
const isCreateRace = (err: unknown) => ['23505', '42P07'].includes(String((err as { code?: unknown })?.code));

export async function migrateMeta(store: MetaStore): Promise<string[]> {
  const migrator = new Migrator({
    db: store.db,
    provider: { getMigrations: async () => migrations(store.dialect) },
  });
  let outcome = await migrator.migrateToLatest();
  if (outcome.error && store.dialect === 'postgres' && isCreateRace(outcome.error)) outcome = await migrator.migrateToLatest();
  const { error, results } = outcome;
  if (error) throw error;
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

export const isPostgresUrl = (target: string) => /^postgres(ql)?:\/\//i.test(target);

/** Opens the metadata store (a postgres:// URL, else a SQLite file) and brings its schema up to date. */
export async function openMetaStore(target: string, opts: PostgresMetaOptions = {}): Promise<MetaStore> {
  const meta = isPostgresUrl(target) ? await openPostgresMeta(target, opts) : openSqliteMeta(target);
  try {
    await migrateMeta(meta);
  } catch (err) {
    await meta.close().catch(() => undefined);
    throw err;
  }
  return meta;
}
