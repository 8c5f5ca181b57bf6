import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, type Generated } from 'kysely';
import { migrations } from './migrations/index.js';

export type Dialect = 'sqlite' | 'postgres';

/** Times are stored as epoch milliseconds (bigint) so the same DDL and code work on SQLite and PostgreSQL. */
export interface ProjectTable {
  id: Generated<number>;
  slug: string;
  name: string;
  time_zone: string;
  created_at: number;
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

export interface MetaSchema {
  projects: ProjectTable;
  api_keys: ApiKeyTable;
  ip_salts: IpSaltTable;
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

export async function migrateMeta(store: MetaStore): Promise<string[]> {
  const migrator = new Migrator({
    db: store.db,
    provider: { getMigrations: async () => migrations(store.dialect) },
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error;
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Opens the SQLite metadata store and brings its schema up to date. */
export async function openMetaStore(file: string): Promise<MetaStore> {
  const meta = openSqliteMeta(file);
  await migrateMeta(meta);
  return meta;
}
