// Alerting figures (issue 6), on the demo project with a clock the bench moves:
//  1. noise: what each of a few typical alert rules would have sent over the demo's 30 days
//     (the rule simulator, over the incidents detection opened while the demo was seeded);
//  2. latency: a payments outage (no Order Completed) starts at 13:00; the scheduler ticks every
//     minute (simulated); how long after the end of the outage's first hour the alert leaves, with
//     the project's settling time at 0 and at the default 2 hours, and the wall time of the tick
//     that sent it (collection, detection, incident, delivery).
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { createAppContext, type AppContext } from '../src/app-context.js';
import { seedDemo } from '../src/demo/seed.js';
import { generateDemoTraffic } from '../src/demo/traffic.js';
import type { Project } from '../src/projects/service.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** 13:00 UTC on a fixed day, so every run sees the same data */
const T = Date.UTC(2026, 10, 20, 13);
const OUTAGE_HOURS = 4;
const TICK_MS = MINUTE;

function receiver() {
  const received: number[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received.push(performance.now());
      res.end('ok');
    });
  });
  return new Promise<{ url: string; received: number[]; close(): void }>((resolve) => {
    server.listen(0, '127.0.0.1', () =>
      resolve({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, received, close: () => server.close() }),
    );
  });
}

async function ingestHours(ctx: AppContext, project: Project, from: number, to: number) {
  const batch = [];
  for (const e of generateDemoTraffic({ endMs: to, days: 30 + (to - T) / DAY })) {
    const ms = Date.parse(e.timestamp);
    if (ms >= from && ms < to && (e.event !== 'Order Completed' || ms >= T + OUTAGE_HOURS * HOUR)) batch.push(e);
  }
  for (let i = 0; i < batch.length; i += 2000)
    await ctx.ingest.ingest(project.id, batch.slice(i, i + 2000), undefined, {}, { receivedAt: Date.now(), ip: '' });
  await ctx.flush();
}

async function withDemo<T>(fn: (ctx: AppContext, project: Project, clock: { now: number }) => Promise<T>): Promise<T> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-alerts-'));
  const clock = { now: T };
  const config = loadConfig(
    {},
    { dataDir, port: 0, host: '127.0.0.1', logLevel: 'silent', demo: 'false', ingestFlushMs: 200, alertsAllowPrivateUrls: 'true' },
  );
  const ctx = await createAppContext(config, pino({ level: 'silent' }), { now: () => clock.now });
  try {
    const { project } = await seedDemo(ctx, { endMs: T });
    return await fn(ctx, project, clock);
  } finally {
    await ctx.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

const RULES = [
  ['every anomaly', { scopes: ['anomaly'] }],
  ['warning or worse', { scopes: ['anomaly', 'threshold'], minSeverity: 'warning' }],
  ['critical only', { scopes: ['anomaly', 'threshold'], minSeverity: 'critical' }],
  ['revenue-tagged metrics', { scopes: ['anomaly'], metricTags: ['revenue'] }],
  ['drops of 30 % or more', { scopes: ['anomaly'], direction: 'down', minPercentChange: 30 }],
  ['schema and distribution drift', { scopes: ['schema', 'distribution'] }],
] as const;

async function noise() {
  return withDemo(async (ctx, project, clock) => {
    clock.now = T + 10 * MINUTE;
    const hook = await receiver();
    try {
      const dest = await ctx.alerts.createDestination(project, {
        name: 'noise',
        kind: 'webhook',
        config: { url: hook.url },
        secrets: { secret: 'bench-secret-0123456789' },
      });
      const opened = await ctx.incidents.openedBetween(project, T - 30 * DAY, T, 'started');
      const byScope = new Map<string, number>();
      for (const { incident } of opened) byScope.set(incident.scopeKey, (byScope.get(incident.scopeKey) ?? 0) + 1);
      const rows: [string, number, number, Record<string, number>][] = [];
      for (const [name, filters] of RULES) {
        const sim = await ctx.alerts.simulate(project, { input: { name, filters, destinationIds: [dest.id] } }, 30);
        rows.push([name, sim.total, sim.matched, sim.byEvent]);
      }
      return { incidents: opened.length, byScope, rows };
    } finally {
      hook.close();
    }
  });
}

async function latency(settlingMinutes: number) {
  return withDemo(async (ctx, project, clock) => {
    await ctx.signals.setProjectDetection(project.id, { ...(await ctx.signals.projectDetection(project.id)), settlingMinutes });
    const hook = await receiver();
    try {
      const dest = await ctx.alerts.createDestination(project, {
        name: 'latency',
        kind: 'webhook',
        config: { url: hook.url },
        secrets: { secret: 'bench-secret-0123456789' },
      });
      await ctx.alerts.createRule(project, { name: 'every anomaly', filters: { scopes: ['anomaly'] }, destinationIds: [dest.id] });
      await ingestHours(ctx, project, T, T + 8 * HOUR);
      const firstBucketEnd = T + HOUR;
      for (clock.now = firstBucketEnd; clock.now < T + 8 * HOUR; clock.now += TICK_MS) {
        const started = performance.now();
        await ctx.runSchedulerTick();
        while (await ctx.worker.runOnce()) {
          // until nothing is due
        }
        if (hook.received.length) return { afterBucketEndMin: (clock.now - firstBucketEnd) / MINUTE, tickMs: hook.received[0] - started };
      }
      return null;
    } finally {
      hook.close();
    }
  });
}

const n = await noise();
const fast = await latency(0);
const settled = await latency(120);
const show = (r: { afterBucketEndMin: number; tickMs: number } | null) =>
  r
    ? `${r.afterBucketEndMin} min of simulated time after the end of the outage's first hour (1-minute ticks), + ${r.tickMs.toFixed(0)} ms for the tick that sent it`
    : 'no alert';
console.log(`
==== bench:alerts ====
noise: the demo's 30 days opened ${n.incidents} incidents, by root scope: ${[...n.byScope]
  .sort((a, b) => b[1] - a[1])
  .map(([k, v]) => `${k} ${v}`)
  .join(', ')}
what each rule would have sent (rule simulator, 24 h cooldown per scope):
${n.rows.map(([name, total, matched, byEvent]) => `  ${name.padEnd(30)} ${String(total).padStart(3)} alerts (${JSON.stringify(byEvent)}; ${matched} incidents matched)`).join('\n')}
latency, payments outage at 13:00 (no Order Completed for ${OUTAGE_HOURS} h):
  settling 0:      ${show(fast)}
  settling 2 h:    ${show(settled)}
`);
