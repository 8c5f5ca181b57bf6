// Demo noise: how many signals the demo project's normal rhythm gives. Seeds the demo as the
// integration tests do (30 days ending 2026-11-20, the demo's own detection settings), then scores
// every starter-catalog metric's total series and every watched event's hourly volume over the 30
// days with the live detector (detectEpisodes, as metric detection runs it), and prints the
// signals per metric, those inside the demo's injected incidents apart. Prints its figures.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { createAppContext } from '../src/app-context.js';
import { seedDemo } from '../src/demo/seed.js';
import { DEMO_METRICS } from '../src/demo/catalog.js';
import { detectEpisodes } from '../src/signals/service.js';
import { resolveDetection } from '../src/signals/settings.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** the fixed end of the integration tests' demo (test/integration/drift.test.ts), so every run sees the same data */
const END = Date.UTC(2026, 10, 20);
const DAYS = 30;

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-demo-noise-'));
try {
  const config = loadConfig({}, { dataDir, port: 0, host: '127.0.0.1', logLevel: 'silent', demo: 'false', ingestFlushMs: 200 });
  const ctx = await createAppContext(config, pino({ level: 'silent' }));
  const t0 = performance.now();
  const demo = await seedDemo(ctx, { days: DAYS, endMs: END });
  const seedSeconds = (performance.now() - t0) / 1000;
  const { project, incidents } = demo;
  const settings = resolveDetection({}, await ctx.signals.projectDetection(project.id));
  const start = END - DAYS * DAY;
  const inIncident = (ms: number) => incidents.some((i) => ms >= i.startMs - HOUR && ms < i.endMs);
  const rows: [string, number, number, string][] = [];
  const scored: Record<string, unknown> = {};
  let total = 0;
  for (const { name } of DEMO_METRICS) {
    const metric = await ctx.catalog.byName(project, name);
    const series = await ctx.catalog.totalSeries(project, metric, start, END);
    scored[name] = { interval: metric.interval, settings: resolveDetection(metric.detection, await ctx.signals.projectDetection(project.id)), ...series };
    const found = detectEpisodes(series, metric.interval, resolveDetection(metric.detection, await ctx.signals.projectDetection(project.id)), { timeZone: project.timeZone, until: END, since: start, now: END + DAY });
    const outside = found.filter((e) => !inIncident(series.starts[e.start]));
    const kinds = new Map<string, number>();
    for (const e of outside) kinds.set(e.kind, (kinds.get(e.kind) ?? 0) + 1);
    rows.push([name, outside.length, found.length - outside.length, [...kinds].map(([k, n]) => `${k} ${n}`).join(', ')]);
    total += outside.length;
  }
  // event volume as the demo seed ran it (its signals are stored)
  const events = await ctx.signals.list(project, { scope: 'event', fromMs: start, toMs: END, limit: 500 });
  const eventOutside = events.signals.filter((s) => !inIncident(s.bucket));
  await ctx.close();
  // the series scored, for a closer look
  fs.mkdirSync('bench/.data', { recursive: true });
  fs.writeFileSync('bench/.data/demo-noise-series.json', JSON.stringify({ start, end: END, incidents, metrics: scored }));
  console.log(`
==== bench:demo-noise ====
demo seeded in ${seedSeconds.toFixed(1)} s: ${demo.events} events over ${DAYS} days, detection ${JSON.stringify(settings)}
metric signals outside the injected incidents (inside in brackets):
${rows.map(([n, out, inside, kinds]) => `  ${n.padEnd(22)} ${String(out).padStart(4)}  (${inside})  ${kinds}`).join('\n')}
  ${'all metrics'.padEnd(22)} ${String(total).padStart(4)}
event-volume signals: ${eventOutside.length} outside the incidents, ${events.signals.length - eventOutside.length} inside
`);
} finally {
  fs.rmSync(dataDir, { recursive: true, force: true });
}
