import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import { VigilError } from '../../errors.js';
import { migrations } from './migrations/index.js';

/**
 * The metadata store's connection: SQLite or PostgreSQL, opened, checked and migrated. It is generic
 * over the schema `DB` because storage imports no domain: the domains' tables and their composition
 * into one schema live above it (src/meta-db.ts).
 */
export type Dialect = 'sqlite' | 'postgres';

export interface MetaStore<DB> {
  db: Kysely<DB>;
  dialect: Dialect;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function openSqliteMeta<DB>(file: string): MetaStore<DB> {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const sqlite = new SQLite(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: sqlite }) });
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
export async function openPostgresMeta<DB>(url: string, opts: PostgresMetaOptions = {}): Promise<MetaStore<DB>> {
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
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
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

export async function migrateMeta<DB>(store: MetaStore<DB>): Promise<string[]> {
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
export async function openMetaStore<DB>(target: string, opts: PostgresMetaOptions = {}): Promise<MetaStore<DB>> {
  const meta = isPostgresUrl(target) ? await openPostgresMeta<DB>(target, opts) : openSqliteMeta<DB>(target);
  try {
    await migrateMeta(meta);
  } catch (err) {
    await meta.close().catch(() => undefined);
    throw err;
  }
  return meta;
}
