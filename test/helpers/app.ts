import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import pg from 'pg';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type ConfigInput } from '../../src/config.js';
import { createAppContext, type AppContext } from '../../src/app-context.js';
import { buildServer } from '../../src/server.js';
import type { Project } from '../../src/projects/service.js';
import { openMetaStore, type MetaStore } from '../../src/meta-db.js';
import { dropClickHouseDatabase } from '../../src/storage/events/clickhouse-schema.js';

export interface TestApp {
  url: string;
  ctx: AppContext;
  app: FastifyInstance;
  project: Project;
  writeKey: string;
  readKey: string;
  dataDir: string;
  close(): Promise<void>;
}

export function tempDir(prefix = 'vigil-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * The metadata store the tests run on. `VIGIL_TEST_META=postgres` (scripts/run-tests.mjs sets it
 * for its PostgreSQL pass) gives every test app and every openTestMeta() a fresh PostgreSQL
 * database, created from the server at VIGIL_TEST_POSTGRES_URL and dropped on close.
 */
export const TEST_META: 'sqlite' | 'postgres' = process.env.VIGIL_TEST_META === 'postgres' ? 'postgres' : 'sqlite';
/** A database of the server the test databases are created from (an admin connection). */
export const TEST_POSTGRES_URL = process.env.VIGIL_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

// --- ClickHouse event store option (VIGIL_TEST_EVENTS) ---
/**
 * The event store the tests run on. `VIGIL_TEST_EVENTS=clickhouse` (scripts/run-tests.mjs sets it
 * for its ClickHouse pass) gives every test app a fresh ClickHouse database on the server at
 * VIGIL_TEST_CLICKHOUSE_URL (the store creates it when it opens), dropped on close.
 */
export const TEST_EVENTS: 'duckdb' | 'clickhouse' = process.env.VIGIL_TEST_EVENTS === 'clickhouse' ? 'clickhouse' : 'duckdb';
export const TEST_CLICKHOUSE_URL = process.env.VIGIL_TEST_CLICKHOUSE_URL ?? 'clickhouse://127.0.0.1:8123/vigil_test';
/** A clickhouse:// URL naming a fresh database of the test server. */
export function testClickHouseUrl(prefix = 'vigil_test'): string {
  const url = new URL(TEST_CLICKHOUSE_URL);
  url.pathname = `/${prefix}_${randomBytes(6).toString('hex')}`;
  return url.toString();
}
/**
 * For a ClickHouse-only test file: false (run) when the server at VIGIL_TEST_CLICKHOUSE_URL answers,
 * else a reason to skip; under CI=true never a skip, so a missing server fails the tests.
 */
export async function clickhouseSkip(): Promise<string | false> {
  const url = process.env.VIGIL_TEST_CLICKHOUSE_URL;
  const http = new URL(TEST_CLICKHOUSE_URL.replace(/^clickhouse(s?):/, 'http$1:'));
  const answers = url
    ? await fetch(`${http.protocol}//${http.host}/ping`, { signal: AbortSignal.timeout(3000) }).then(
        (r) => r.ok,
        () => false,
      )
    : false;
  if (answers || process.env.CI === 'true') return false;
  return `no ClickHouse: ${url ? `nothing answers at ${url}` : 'VIGIL_TEST_CLICKHOUSE_URL is not set'} (scripts/clickhouse.sh start)`;
}
// --- end of the ClickHouse option ---

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Whether the test PostgreSQL server answers (tests that need it skip, or fail in CI, when not). */
export async function postgresReachable(): Promise<boolean> {
  return withAdmin(async () => true).catch(() => false);
}

/** A fresh, empty PostgreSQL database; drop() removes it (closing whatever connections are left). */
export async function createTestDatabase(prefix = 'vigil_test'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await withAdmin(async (c) => {
    await c.query(`CREATE DATABASE ${name}`);
    // a test database is thrown away: commits need not wait for the disk (as SQLite's synchronous=NORMAL)
    await c.query(`ALTER DATABASE ${name} SET synchronous_commit = off`);
  });
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    name,
    url: url.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/** A migrated metadata store of the kind TEST_META names (SQLite in memory, or a fresh PostgreSQL database); close() drops the database. */
export async function openTestMeta(): Promise<MetaStore> {
  if (TEST_META === 'sqlite') return openMetaStore(':memory:');
  const database = await createTestDatabase();
  let meta: MetaStore;
  try {
    meta = await openMetaStore(database.url);
  } catch (err) {
    await database.drop();
    throw err;
  }
  return {
    ...meta,
    async close() {
      await meta.close();
      await database.drop();
    },
  };
}

/** A real Vigil (SQLite or PostgreSQL as TEST_META says, DuckDB in a temp folder) on a loopback port, with one project and keys. */
export async function startTestApp(opts: { timeZone?: string; config?: ConfigInput; now?: () => number } = {}): Promise<TestApp> {
  const dataDir = tempDir();
  const database = TEST_META === 'postgres' && opts.config?.databaseUrl === undefined ? await createTestDatabase() : undefined;
  const eventsUrl = TEST_EVENTS === 'clickhouse' && opts.config?.eventsUrl === undefined ? testClickHouseUrl() : undefined;
  const config = loadConfig(
    {},
    {
      dataDir,
      port: 0,
      host: '127.0.0.1',
      logLevel: 'silent',
      demo: 'false',
      ingestFlushMs: 200,
      // cheap password hashing: tests sign in many times
      passwordScryptLogN: 10,
      databaseUrl: database?.url,
      eventsUrl,
      ...opts.config,
    },
  );
  let ctx: AppContext;
  try {
    ctx = await createAppContext(config, pino({ level: 'silent' }), { now: opts.now });
  } catch (err) {
    await database?.drop();
    if (eventsUrl) await dropClickHouseDatabase(eventsUrl).catch(() => undefined);
    throw err;
  }
  const app = await buildServer(ctx);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address() as { port: number };
  const project = await ctx.projects.create({ slug: 'shop', name: 'Shop', timeZone: opts.timeZone ?? 'UTC' });
  const writeKey = (await ctx.apiKeys.create({ projectId: project.id, scopes: ['ingest'] })).secret;
  const readKey = (await ctx.apiKeys.create({ projectId: project.id, scopes: ['read'] })).secret;
  return {
    url: `http://127.0.0.1:${address.port}`,
    ctx,
    app,
    project,
    writeKey,
    readKey,
    dataDir,
    async close() {
      await app.close();
      await ctx.close();
      await database?.drop();
      if (eventsUrl) await dropClickHouseDatabase(eventsUrl);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, body: json, headers: res.headers };
}

export async function getJson(url: string, key?: string) {
  const res = await fetch(url, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  return { status: res.status, body: (await res.json()) as any };
}

export const basic = (writeKey: string) => ({ authorization: 'Basic ' + Buffer.from(writeKey + ':').toString('base64') });

/** POST with full control over the body bytes and headers (no content-type unless given). */
export async function send(url: string, body: string | Buffer, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers, body: typeof body === 'string' ? body : new Uint8Array(body) });
  const text = await res.text();
  let json: any = text;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON: keep the text for the assertion message
  }
  return { status: res.status, body: json, headers: res.headers };
}
