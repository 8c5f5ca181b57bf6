// The ClickHouse event store's figures (npm run bench:scaled-events; needs VIGIL_TEST_CLICKHOUSE_URL
// or CLICKHOUSE_URL, e.g. from scripts/clickhouse.sh):
//   1. ingest events/s into ClickHouse through two Vigil ingest processes sharing one PostgreSQL
//      outbox (/v1/batch, 100 events a request; PostgreSQL at VIGIL_TEST_POSTGRES_URL), acknowledged
//      and counted again when the events are queryable in ClickHouse;
//   2. the hourly-count query (the analytics time series, 90 days hourly) on 10 million events,
//      ClickHouse against DuckDB on the same generated data (bench/bench-data.ts);
//   3. a collection cycle of the 200 metrics of bench/metrics.ts on ClickHouse.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadConfig } from '../src/config.js';
import pg from 'pg';
import { createAppContext } from '../src/app-context.js';
import { openMetaStore } from '../src/meta-db.js';
import { ProjectService, type Project } from '../src/projects/service.js';
import { ApiKeyService } from '../src/auth/api-keys.js';
import { DuckDbEventStore } from '../src/storage/events/duckdb.js';
import { ClickHouseEventStore } from '../src/storage/events/clickhouse.js';
import { dropClickHouseDatabase } from '../src/storage/events/clickhouse-schema.js';
import { generateEvents } from './bench-data.js';
import { definitions } from './metric-definitions.js';
import { freePort } from './server-process.js';

const PG = process.env.VIGIL_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const CH = process.env.CLICKHOUSE_URL ?? process.env.VIGIL_TEST_CLICKHOUSE_URL;
if (!CH) throw new Error('set CLICKHOUSE_URL (or VIGIL_TEST_CLICKHOUSE_URL), e.g. $(scripts/clickhouse.sh url)');
const base = new URL(CH);
const chUrl = (db: string) => {
  const u = new URL(base.toString());
  u.pathname = `/${db}`;
  return u.toString();
};
const EVENTS = Number(process.env.EVENTS ?? 10_000_000);
const DAYS = 90;
const RUNS = Number(process.env.RUNS ?? 5);
const INGEST_SECONDS = Number(process.env.INGEST_SECONDS ?? 20);
const INGEST_PROCESSES = 2;
const CONNECTIONS = 16;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const DATA_DIR = path.resolve(process.env.BENCH_DATA_DIR ?? 'bench/.data/metrics-10m-90d');
const LOAD_CHUNK = 1_000_000;

const n = (x: number) => Math.round(x).toLocaleString('en');
const ms = (x: number) => `${x.toFixed(x < 10 ? 2 : x < 100 ? 1 : 0)} ms`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const r = await fn();
  return [r, performance.now() - t];
}

// ---- 1. ingest through two processes ----

/** A PostgreSQL database for the metadata and the outbox, with a project and its write key. */
async function createMetaDatabase(name: string): Promise<{ url: string; key: string; drop: () => Promise<void> }> {
  const admin = new pg.Client({ connectionString: PG });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(PG);
  u.pathname = `/${name}`;
  const meta = await openMetaStore(u.toString());
  const project = await new ProjectService(meta.db).create({ slug: 'bench' });
  const key = (await new ApiKeyService(meta.db).create({ projectId: project.id, scopes: ['ingest'] })).secret;
  await meta.close();
  const drop = async () => {
    const c = new pg.Client({ connectionString: PG });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.end();
  };
  return { url: u.toString(), key, drop };
}

/** `vigil serve --role ingest` on the scaled mode's stores (it also contends to load the outbox). */
async function startIngest(eventsUrl: string, databaseUrl: string): Promise<{ url: string; child: ChildProcess; dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-ch-'));
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve', '--role', 'ingest'], {
    env: {
      ...process.env,
      VIGIL_DATA_DIR: dir,
      VIGIL_PORT: String(port),
      VIGIL_HOST: '127.0.0.1',
      VIGIL_DEMO: 'false',
      VIGIL_LOG_LEVEL: 'warn',
      VIGIL_EVENTS_URL: eventsUrl,
      VIGIL_DATABASE_URL: databaseUrl,
      VIGIL_INGEST_RATE_LIMIT: '10000000',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (
      await fetch(`${url}/ready`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (i > 600) throw new Error('an ingest process did not become ready');
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, child, dir };
}

function batchBody(request: string, size: number): string {
  const now = new Date().toISOString();
  return JSON.stringify({
    batch: Array.from({ length: size }, (_, i) => ({
      type: 'track',
      event: ['Product Viewed', 'Order Completed', 'Search'][i % 3],
      messageId: `${request}-${i}`,
      anonymousId: `anon-${i % 997}`,
      userId: i % 3 ? undefined : `user_${i % 331}`,
      timestamp: now,
      properties: { product_id: `p-${i % 50}`, price: 19.99 + (i % 7), plan: ['free', 'pro', 'team'][i % 3] },
      context: { ip: `203.0.113.${i % 200}`, library: { name: 'analytics.js', version: '5.2.0' }, page: { path: '/pricing' } },
    })),
  });
}

async function ingestFigure(): Promise<string> {
  const db = `vigil_bench_ingest_${process.pid}`;
  const url = chUrl(db);
  const meta = await createMetaDatabase(db);
  const servers = [];
  for (let i = 0; i < INGEST_PROCESSES; i++) servers.push(await startIngest(url, meta.url));
  const store = await ClickHouseEventStore.open({ url });
  let sent = 0;
  let failed = 0;
  const started = performance.now();
  const end = Date.now() + INGEST_SECONDS * 1000;
  await Promise.all(
    servers.flatMap((s, si) =>
      Array.from({ length: CONNECTIONS }, async (_, c) => {
        for (let r = 0; Date.now() < end; r++) {
          const res = await fetch(`${s.url}/v1/batch`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${meta.key}:`).toString('base64')}` },
            body: batchBody(`s${si}-c${c}-r${r}`, 100),
          });
          await res.arrayBuffer();
          if (res.ok) sent += 100;
          else failed++;
        }
      }),
    ),
  );
  const acked = performance.now();
  const outbox = (await (await fetch(`${servers[0].url}/ready`)).json()).outbox as { events: number };
  // the figure counts events when they are queryable in ClickHouse
  let stored = 0;
  for (;;) {
    stored = (await store.totals({ projectId: 1, fromMs: 0, toMs: Date.now() + DAY })).events;
    if (stored >= sent || performance.now() - acked > 120_000) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const visible = performance.now();
  await store.close();
  for (const s of servers) {
    const exited = new Promise((r) => s.child.once('exit', r));
    s.child.kill('SIGTERM');
    await exited;
    fs.rmSync(s.dir, { recursive: true, force: true });
  }
  await dropClickHouseDatabase(url);
  await meta.drop();
  return `ingest into ClickHouse through ${INGEST_PROCESSES} Vigil ingest processes on one PostgreSQL outbox (${CONNECTIONS} connections each, /v1/batch of 100 events, ${INGEST_SECONDS} s):
  acknowledged ${n(sent)} events (${failed} failed requests): ${n(sent / ((acked - started) / 1000))} events/s acknowledged (committed in PostgreSQL);
  ${n(outbox.events)} still in the outbox at the last acknowledgement;
  ${n(stored)} queryable in ClickHouse ${((visible - acked) / 1000).toFixed(1)} s after the last acknowledgement: ${n(stored / ((visible - started) / 1000))} events/s end to end`;
}

// ---- 2. the same 10M events in DuckDB and ClickHouse ----

async function ensureData(): Promise<{ endMs: number; duckFile: string }> {
  const duckFile = path.join(DATA_DIR, 'events.duckdb');
  const markerFile = path.join(DATA_DIR, 'data.json');
  const marker = fs.existsSync(markerFile)
    ? (JSON.parse(fs.readFileSync(markerFile, 'utf8')) as { events: number; days: number; endMs: number })
    : null;
  if (marker && marker.events === EVENTS && marker.days === DAYS && fs.existsSync(duckFile)) return { endMs: marker.endMs, duckFile };
  const endMs = Math.floor(Date.now() / HOUR) * HOUR;
  fs.rmSync(duckFile, { force: true });
  await generateEvents(duckFile, { events: EVENTS, days: DAYS, endMs });
  fs.writeFileSync(markerFile, JSON.stringify({ events: EVENTS, days: DAYS, endMs }));
  return { endMs, duckFile };
}

/** Copies the DuckDB events into ClickHouse as segments of 1M rows (through loadSegment, timed), unless they are there. */
async function loadClickHouse(duckFile: string, endMs: number, url: string): Promise<string> {
  const store = await ClickHouseEventStore.open({ url });
  const have =
    (await store.totals({ projectId: 1, fromMs: 0, toMs: endMs + DAY })).events +
    (await store.totals({ projectId: 2, fromMs: 0, toMs: endMs + DAY })).events;
  if (have === EVENTS && (await store.isSegmentLoaded(`bench-${endMs}-last`))) {
    await store.close();
    return `ClickHouse already holds the ${n(EVENTS)} events`;
  }
  await store.close();
  await dropClickHouseDatabase(url);
  const fresh = await ClickHouseEventStore.open({ url });
  const db = await DuckDBInstance.create(duckFile, { access_mode: 'READ_ONLY' });
  const c = await db.connect();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-segments-'));
  let loadMs = 0;
  let exportMs = 0;
  try {
    for (let offset = 0, i = 0; offset < EVENTS; offset += LOAD_CHUNK, i++) {
      const file = path.join(tmp, `seg-${i}.ndjson`);
      const t = performance.now();
      await c.run(`COPY (SELECT project_id, message_id, type, event, anonymous_id, user_id, distinct_id, session_id, epoch_ms(timestamp) AS timestamp,
          epoch_ms(received_at) AS received_at, properties::JSON AS properties, context::JSON AS context, page_path, referrer_host, app_version, platform, os, browser,
          device_type, country, ip_hash FROM events ORDER BY timestamp LIMIT ${LOAD_CHUNK} OFFSET ${offset}) TO '${file}' (FORMAT JSON)`);
      exportMs += performance.now() - t;
      const id = offset + LOAD_CHUNK >= EVENTS ? `bench-${endMs}-last` : `bench-${endMs}-${i}`;
      loadMs += (await timed(() => fresh.loadSegment({ id, path: file })))[1];
      fs.rmSync(file);
    }
  } finally {
    c.closeSync();
    db.closeSync();
    await fresh.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return `loaded ${n(EVENTS)} events into ClickHouse as ${Math.ceil(EVENTS / LOAD_CHUNK)} segments of ${n(LOAD_CHUNK)} rows (loadSegment: parse, one INSERT each): ${(loadMs / 1000).toFixed(1)} s, ${n(EVENTS / (loadMs / 1000))} rows/s (export from DuckDB ${(exportMs / 1000).toFixed(1)} s, not counted)`;
}

async function hourlyCountFigure(duckFile: string, endMs: number, url: string): Promise<string> {
  const q = { projectId: 1, fromMs: endMs - DAYS * DAY, toMs: endMs, grainMs: HOUR, measure: 'events' as const, limit: 10 };
  const duck = await DuckDbEventStore.open({ file: duckFile });
  const ch = await ClickHouseEventStore.open({ url });
  const out: string[] = [];
  try {
    for (const [name, store] of [
      ['DuckDB', duck],
      ['ClickHouse', ch],
    ] as const) {
      for (const [label, query] of [
        ['all events', q],
        ['one event', { ...q, event: 'Event 3' }],
        ['distinct users by country', { ...q, measure: 'users' as const, breakdown: { column: 'country' as const }, limit: 5 }],
      ] as const) {
        const rows = await store.timeseries(query); // warm
        const times: number[] = [];
        for (let i = 0; i < RUNS; i++) times.push((await timed(() => store.timeseries(query)))[1]);
        out.push(
          `  ${name.padEnd(10)} ${label.padEnd(26)} median ${ms(median(times)).padStart(8)}, min ${ms(Math.min(...times)).padStart(8)} (${rows.length} rows)`,
        );
      }
    }
  } finally {
    await duck.close();
    await ch.close();
  }
  return `hourly counts over ${DAYS} days (2,160 buckets) of ${n(EVENTS * 0.9)} events of project 1 (of ${n(EVENTS)}), ${RUNS} runs after a warm-up:\n${out.join('\n')}`;
}

// ---- 3. a collection cycle of 200 metrics (bench/metric-definitions.ts) ----

async function cycleFigure(endMs: number, url: string): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-cycle-'));
  const config = loadConfig(
    {},
    { dataDir: dir, logLevel: 'silent', demo: 'false', metricsBackfillDays: DAYS, eventsUrl: url, worker: 'false' },
  );
  const ctx = await createAppContext(config, pino({ level: 'silent' }));
  try {
    const project: Project = await ctx.projects.create({ slug: 'bench' });
    if (project.id !== 1) throw new Error('the generated data belongs to project id 1');
    for (const d of definitions()) await ctx.catalog.create(project, d);
    await ctx.meta.db.deleteFrom('jobs').execute();
    const times: number[] = [];
    let queries = 0;
    let failures = 0;
    for (let i = 0; i <= RUNS; i++) {
      await ctx.meta.db
        .updateTable('metrics')
        .set({ history_from: endMs - DAYS * DAY, collected_until: endMs - HOUR })
        .where('project_id', '=', project.id)
        .execute();
      const q0 = ctx.events.queryCount;
      const [r, t] = await timed(() => ctx.catalog.collection.runCycle(project, '1h', endMs));
      if (i > 0) times.push(t); // the first run warms up
      queries = ctx.events.queryCount - q0;
      failures = (r as { failures?: unknown[] }).failures?.length ?? 0;
    }
    return `collection cycle of 200 hourly metrics on ClickHouse (110 event counts, 30 unique users/sessions, 20 ratios, 10 per user, 30 aggregations; 10 with a breakdown, top 5), ${RUNS} runs:
  median ${ms(median(times))}, min ${ms(Math.min(...times))}; event-store queries per cycle: ${queries}; failures: ${failures}`;
  } finally {
    await ctx.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const figures: string[] = [];
console.log(`ClickHouse at ${CH}; ${os.cpus().length} CPUs`);
if (process.env.SKIP_INGEST !== '1') {
  figures.push(await ingestFigure());
  console.log(figures.at(-1));
}
// ONLY_INGEST=1: the first figure alone (the 10M-event data set takes minutes to generate and load)
if (process.env.ONLY_INGEST !== '1') {
  const { endMs, duckFile } = await ensureData();
  const dataUrl = chUrl('vigil_bench_10m');
  figures.push(await loadClickHouse(duckFile, endMs, dataUrl));
  console.log(figures.at(-1));
  figures.push(await hourlyCountFigure(duckFile, endMs, dataUrl));
  console.log(figures.at(-1));
  figures.push(await cycleFigure(endMs, dataUrl));
  console.log(figures.at(-1));
}
