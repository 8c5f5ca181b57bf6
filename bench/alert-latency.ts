// Alert latency (issue 17, part 4): minutes from the start of a problem to the alert at a loopback
// webhook, through the whole app (ingest, scheduler tick, detection, incident, delivery) on a clock
// the bench moves, at default settings:
//  1. a threshold breach on pushed measurements (a 5m gauge, a 10 s scheduler tick);
//  2. the demo's payments outage (Order Completed at ~10 % from 13:00), found by early outage
//     detection on the hour in progress, at the demo's own volume (scale 1, ~5 orders an hour at
//     13:00) and at 10 and 30 times it; only the demo's Order Completed events are ingested (the other
//     events do not take part in this detection, and generating them is what costs);
//     and the same outage in checkout-api's pushed latency (the demo catalog's 1h gauge), found
//     on the bucket in progress;
//  3. a spike (4x an event's hourly volume) through normal event-volume detection, with events
//     arriving 5 minutes late (the settling time then observed) and 1-minute ticks.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { createAppContext, type AppContext } from '../src/app-context.js';
import { demoIncidents, generateDemoTraffic } from '../src/demo/traffic.js';
import { generateDemoMeasurements } from '../src/demo/measurements.js';
import { DEMO_METRICS } from '../src/demo/catalog.js';
import type { Project } from '../src/projects/service.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** a fixed day, so every run sees the same data */
const BASE = Date.UTC(2026, 10, 20);
const SECRET = 'bench-secret-0123456789';

function receiver() {
  const received: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push(body);
      res.end('ok');
    });
  });
  return new Promise<{ url: string; received: string[]; close(): void }>((resolve) => {
    server.listen(0, '127.0.0.1', () =>
      resolve({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, received, close: () => server.close() }),
    );
  });
}

interface App {
  ctx: AppContext;
  project: Project;
  clock: { now: number };
  /** one scheduler tick at the clock, then the worker until nothing is due */
  tick(): Promise<void>;
  alerted(): boolean;
  /** the alert rule, made once the history is in (so the history's own signals do not count) */
  ruleFor(): Promise<unknown>;
}

/** A fresh app on a clock the bench moves, a project, and a webhook destination for an alert rule on `scopes`. */
async function withApp<T>(start: number, scopes: string[], fn: (app: App) => Promise<T>): Promise<T> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-latency-'));
  const clock = { now: start };
  const config = loadConfig(
    {},
    { dataDir, port: 0, host: '127.0.0.1', logLevel: 'silent', demo: 'false', ingestFlushMs: 200, alertsAllowPrivateUrls: 'true' },
  );
  const ctx = await createAppContext(config, pino({ level: 'silent' }), { now: () => clock.now });
  const hook = await receiver();
  try {
    const project = await ctx.projects.create({ slug: 'bench', name: 'Bench', timeZone: 'UTC' });
    const dest = await ctx.alerts.createDestination(project, {
      name: 'hook',
      kind: 'webhook',
      config: { url: hook.url },
      secrets: { secret: SECRET },
    });
    const tick = async () => {
      await ctx.runSchedulerTick();
      while (await ctx.worker.runOnce()) {
        // until nothing is due
      }
    };
    return await fn({
      ctx,
      project,
      clock,
      tick,
      alerted: () => hook.received.length > 0,
      ruleFor: () => ctx.alerts.createRule(project, { name: 'bench', filters: { scopes }, destinationIds: [dest.id] }),
    });
  } finally {
    hook.close();
    await ctx.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Ticks every `step` from `from` until an alert arrives or `until`; minutes from `start` to the alert, or null. */
async function ticksUntilAlert(app: App, from: number, until: number, step: number, start: number): Promise<number | null> {
  for (app.clock.now = from; app.clock.now < until; app.clock.now += step) {
    await app.tick();
    if (app.alerted()) return (app.clock.now - start) / MINUTE;
  }
  return null;
}

async function thresholdBreach(): Promise<number | null> {
  const T = BASE + 13 * HOUR;
  return withApp(T, ['threshold'], async (app) => {
    const { ctx, project } = app;
    const point = (ts: number, value: number) => ({ service: 'checkout-api', metric: 'latency_ms', value, ts, tags: {} });
    await ctx.measurements.insert(
      project.id,
      Array.from({ length: 180 }, (_, i) => point(T - 3 * HOUR + i * MINUTE, 100 + (i % 7))),
      T,
    );
    const metric = await ctx.catalog.create(project, {
      name: 'checkout_latency',
      kind: 'gauge',
      interval: '5m',
      definition: { service: 'checkout-api', metric: 'latency_ms', aggregate: 'max' },
    });
    await app.tick();
    await ctx.thresholdRules.create(project, metric.id, {
      name: 'slow checkout',
      rule: { condition: { operator: '>', value: 500 }, severity: 'critical' },
    });
    await app.ruleFor();
    app.clock.now = T + 5 * MINUTE + 10 * SECOND;
    await app.tick();
    const breach = T + 7 * MINUTE + 30 * SECOND;
    await ctx.measurements.insert(project.id, [point(breach, 900)], breach);
    return ticksUntilAlert(app, breach + 10 * SECOND, breach + HOUR, 10 * SECOND, breach);
  });
}

async function paymentsOutage(scale: number): Promise<{ minutes: number | null; perHour: number }> {
  // the demo's "checkout drop" falls 4 days before its end, at 13:00 UTC (default seed)
  const endMs = BASE + DAY;
  const days = 12;
  const drop = demoIncidents({ endMs, days, scale }).find((i) => i.name === 'checkout drop')!;
  const orders = [...generateDemoTraffic({ endMs, days, scale })].filter(
    (e) => e.event === 'Order Completed' && Date.parse(e.timestamp) < drop.startMs + HOUR,
  );
  const perHour = orders.filter((e) => {
    const t = Date.parse(e.timestamp);
    return t >= drop.startMs - 7 * DAY && t < drop.startMs - 7 * DAY + HOUR;
  }).length;
  return withApp(drop.startMs - HOUR, ['anomaly'], async (app) => {
    for (let i = 0; i < orders.length; i += 2000)
      await app.ctx.ingest.ingest(app.project.id, orders.slice(i, i + 2000), undefined, {}, { receivedAt: drop.startMs, ip: '' });
    await app.ctx.flush();
    app.clock.now = drop.startMs - 5 * MINUTE;
    await app.tick();
    await app.ruleFor();
    return { minutes: await ticksUntilAlert(app, drop.startMs - 4 * MINUTE, drop.startMs + HOUR, MINUTE, drop.startMs), perHour };
  });
}

/** The same outage seen in checkout-api's pushed latency (the demo catalog's 1h gauge), measurements pushed live every 5 minutes. */
async function paymentsLatency(): Promise<number | null> {
  const endMs = BASE + DAY;
  const days = 12;
  const drop = demoIncidents({ endMs, days }).find((i) => i.name === 'checkout drop')!;
  const points = generateDemoMeasurements({ endMs, days }).filter((p) => p.service === 'checkout-api' && p.ts < drop.startMs + HOUR);
  const start = drop.startMs - HOUR;
  return withApp(start, ['anomaly'], async (app) => {
    const { ctx, project } = app;
    await ctx.measurements.insert(
      project.id,
      points.filter((p) => p.ts < start),
      start,
    );
    await ctx.catalog.create(project, DEMO_METRICS.find((m) => m.name === 'checkout_api_latency')!);
    await app.tick();
    await app.ruleFor();
    for (app.clock.now = start; app.clock.now < drop.startMs + HOUR; app.clock.now += MINUTE) {
      const due = points.filter((p) => p.ts >= app.clock.now - MINUTE && p.ts < app.clock.now);
      if (due.length) await ctx.measurements.insert(project.id, due, app.clock.now);
      await app.tick();
      if (app.alerted()) return (app.clock.now - drop.startMs) / MINUTE;
    }
    return null;
  });
}

async function spike(): Promise<{ minutes: number | null; settling: string }> {
  const S = BASE + 14 * HOUR;
  return withApp(S - 4 * DAY, ['anomaly'], async (app) => {
    const { ctx, project } = app;
    // 4 days of 200 Search events an hour, 800 in the hour from S; each 5 minutes' events arrive at its end (5 minutes late at most)
    let n = 0;
    for (let from = S - 4 * DAY; from < S + HOUR; from += 5 * MINUTE) {
      const count = Math.round(((from >= S ? 800 : 200) * 5) / 60);
      const batch = Array.from({ length: count }, (_, j) => ({
        type: 'track',
        event: 'Search',
        userId: `u${j % 40}`,
        messageId: `s-${++n}`,
        timestamp: new Date(from + Math.floor(((j + 0.5) * 5 * MINUTE) / count)).toISOString(),
      }));
      await ctx.ingest.ingest(project.id, batch, undefined, {}, { receivedAt: from + 5 * MINUTE, ip: '' });
    }
    await ctx.flush();
    app.clock.now = S - 2 * MINUTE;
    await app.tick();
    await app.ruleFor();
    const settling = await ctx.signals.resolve(project.id, null);
    const minutes = await ticksUntilAlert(app, S, S + 4 * HOUR, MINUTE, S);
    return { minutes, settling: `${settling.settlingMinutes} min (${settling.settlingSource})` };
  });
}

const show = (m: number | null, unit = 'min') =>
  m === null ? 'no alert' : unit === 's' ? `${(m * 60).toFixed(0)} s` : `${m.toFixed(1)} min`;
const breach = await thresholdBreach();
const demo1 = await paymentsOutage(1);
const demo10 = await paymentsOutage(10);
const demo30 = await paymentsOutage(30);
const latency = await paymentsLatency();
const s = await spike();
console.log(`
==== bench:alert-latency ====
threshold breach on pushed measurements (5m gauge, 10 s ticks):   ${show(breach, 's')} after the breaching measurement
demo payments outage, Order Completed at ~10 % from 13:00 (early outage detection, 1-minute ticks):
  demo volume (scale 1, ${demo1.perHour} orders in that hour a week before): ${show(demo1.minutes)}${demo1.minutes === null ? ' within the hour (too few events to tell from chance)' : ''}
  10x volume (scale 10, ${demo10.perHour} orders):                   ${show(demo10.minutes)} after the start
  30x volume (scale 30, ${demo30.perHour} orders):                  ${show(demo30.minutes)} after the start
demo payments outage seen in checkout-api latency (the demo's 1h gauge, 5-minute pushes, 1-minute ticks): ${show(latency)} after the start
spike 4x through hourly event-volume detection (settling ${s.settling}): ${show(s.minutes)} after the spike's start
`);
