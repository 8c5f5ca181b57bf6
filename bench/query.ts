// Query speed on 10 million stored events: the hourly series of one event over 30 days, through
// the HTTP API and as the same SQL run directly in DuckDB, in one run; then the 30-day tracking plan
// (cold: every day profiled; warm: the stored daily profiles and today's partial day). Prints its figures.
import fs from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { createAppContext } from '../src/app-context.js';
import { buildServer } from '../src/server.js';
import { trackingPlan } from '../src/tracking-plan/tracking-plan.js';
import { RUNNING_DAY_TTL_MS } from '../src/signals/drift/running-day-profile.js';
import { timeseriesSql } from '../src/storage/events/duckdb-sql.js';
import type { DuckDbEventStore } from '../src/storage/events/duckdb.js';
import { bucketFloor, sqlGrainMs } from '../src/time/index.js';
import { generateEvents } from './bench-data.js';

const EVENTS = Number(process.env.EVENTS ?? 10_000_000);
const RUNS = Number(process.env.RUNS ?? 30);
const DATA_DIR = path.resolve(process.env.BENCH_DATA_DIR ?? 'bench/.data/query-10m');
const DAY = 86_400_000;
const END = Date.UTC(2026, 10, 1);

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], p95: s[Math.floor(s.length * 0.95)], min: s[0] };
};

const config = loadConfig(process.env, { dataDir: DATA_DIR, logLevel: 'silent', demo: 'false' });
if (!fs.existsSync(config.eventsFile)) await generateEvents(config.eventsFile, { events: EVENTS, days: 30, endMs: END });
// the data ends at END: the clock stands 14 hours into its last day, so that day is still running
const NOW = END - 10 * 3_600_000;
let clock = NOW;
const ctx = await createAppContext(config, pino({ level: 'silent' }), { now: () => clock });
const app = await buildServer(ctx);
try {
  const project = (await ctx.projects.findBySlug('bench')) ?? (await ctx.projects.create({ slug: 'bench' }));
  if (project.id !== 1) throw new Error('the generated data belongs to project id 1');
  const key = (await ctx.apiKeys.create({ projectId: project.id, scopes: ['read'] })).secret;
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const from = new Date(END - 30 * DAY).toISOString();
  const to = new Date(END).toISOString();
  const event = 'Event 1';
  const apiUrl = `${url}/api/projects/bench/timeseries?event=${encodeURIComponent(event)}&interval=1h&from=${from}&to=${to}`;

  const fromMs = bucketFloor('UTC', '1h', END - 30 * DAY);
  const sql = timeseriesSql({
    projectId: 1,
    event,
    fromMs,
    toMs: END,
    grainMs: sqlGrainMs('UTC', '1h', fromMs, END),
    measure: 'events',
    limit: 10,
  });
  const store = ctx.events as DuckDbEventStore;

  const api: number[] = [],
    direct: number[] = [];
  let total = 0;
  for (let i = 0; i < RUNS + 3; i++) {
    // alternate the two so both see the same cache state
    let t = performance.now();
    const res = await fetch(apiUrl, { headers: { authorization: `Bearer ${key}` } });
    const body = (await res.json()) as { series: { total: number }[]; buckets: string[] };
    if (!res.ok) throw new Error(JSON.stringify(body));
    const apiMs = performance.now() - t;
    t = performance.now();
    await store.rawQuery(sql.sql, sql.params);
    const directMs = performance.now() - t;
    if (i >= 3) {
      api.push(apiMs);
      direct.push(directMs);
    }
    total = body.series[0].total;
  }
  const a = stats(api),
    d = stats(direct);
  console.log(
    `events stored: ${EVENTS.toLocaleString('en')}; series "${event}" hourly over 30 days: ${total.toLocaleString('en')} events in 720 buckets`,
  );
  console.log(
    `API  /timeseries (HTTP on loopback): median ${a.median.toFixed(1)} ms, p95 ${a.p95.toFixed(1)} ms, min ${a.min.toFixed(1)} ms over ${RUNS} runs`,
  );
  console.log(
    `same SQL directly in DuckDB:        median ${d.median.toFixed(1)} ms, p95 ${d.p95.toFixed(1)} ms, min ${d.min.toFixed(1)} ms`,
  );
  console.log(`ratio API / direct (medians): ${(a.median / d.median).toFixed(2)}`);

  // the tracking plan reads the drift check's daily profiles: forget them for a cold first call
  await ctx.meta.db.deleteFrom('event_profiles').where('project_id', '=', project.id).execute();
  let t = performance.now();
  const plan = await trackingPlan(ctx, project, 30, NOW);
  const coldMs = performance.now() - t;
  const timed = async (advanceMs: number) => {
    const xs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      clock += advanceMs;
      t = performance.now();
      await trackingPlan(ctx, project, 30, clock);
      xs.push(performance.now() - t);
    }
    return stats(xs);
  };
  // within a minute the running day's profile is reused; past it, that day is profiled again
  const warm = await timed(1_000);
  const refresh = await timed(RUNNING_DAY_TTL_MS);
  const planEvents = plan.events.reduce((n, e) => n + e.count, 0);
  console.log(`tracking plan, 30 days (${plan.events.length} events, ${planEvents.toLocaleString('en')} occurrences):`);
  console.log(`  cold (every day profiled, 29 stored): ${coldMs.toFixed(0)} ms`);
  console.log(`  warm (29 stored profiles, today's profile reused): median ${warm.median.toFixed(1)} ms, p95 ${warm.p95.toFixed(1)} ms`);
  console.log(
    `  once a minute (today's partial day profiled again): median ${refresh.median.toFixed(1)} ms, p95 ${refresh.p95.toFixed(1)} ms`,
  );
} finally {
  await app.close();
  await ctx.close();
}
