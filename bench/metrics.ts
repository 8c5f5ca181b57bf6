// Metric collection on 10 million stored events over 90 days: one full collection cycle of 200
// active hourly metrics (time, event-store queries, values written, and where the time goes), the
// 90-day backfill rate of one metric, the catalog list with 90 days of values per metric, and the
// time anomaly detection adds to a cycle of the 200 metrics.
// Prints its figures.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { createAppContext } from '../src/app-context.js';
import type { Project } from '../src/projects/service.js';
import type { CreateMetric } from '../src/metrics/schemas.js';
import type { Metric } from '../src/metrics/store.js';
import { TOTAL } from '../src/metrics/store.js';
import { toCompute } from '../src/metrics/collection.js';
import { compileMetric, parseBody } from '../src/metrics/compile.js';
import { computeMetrics, type MetricToCompute } from '../src/metrics/collector.js';
import { metricScanSql } from '../src/storage/events/duckdb-metric-sql.js';
import type { MetricScanQuery } from '../src/storage/events/event-store.js';
import type { DuckDbEventStore } from '../src/storage/events/duckdb.js';
import { generateEvents } from './bench-data.js';
import { definitions } from './metric-definitions.js';
import { historyBuckets } from '../src/signals/anomaly/episodes.js';

const EVENTS = Number(process.env.EVENTS ?? 10_000_000);
const DAYS = 90;
const RUNS = Number(process.env.RUNS ?? 5);
const LIST_RUNS = Number(process.env.LIST_RUNS ?? 20);
const PROFILE = process.env.PROFILE === '1';
const DATA_DIR = path.resolve(process.env.BENCH_DATA_DIR ?? 'bench/.data/metrics-10m-90d');
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** stored data whose end is older than this is generated again, so the backfill window has data */
const MAX_DATA_AGE = 6 * HOUR;

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], p95: s[Math.min(s.length - 1, Math.floor(s.length * 0.95))], min: s[0] };
};
const ms = (x: number) => `${x.toFixed(x < 10 ? 2 : x < 100 ? 1 : 0)} ms`;
const n = (x: number) => x.toLocaleString('en');
const rm = (file: string) => fs.rmSync(file, { force: true, recursive: true });
async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const r = await fn();
  return [r, performance.now() - t];
}

// ---- data: 10M events over the 90 days before the current hour (regenerated when stale) ----

const config = loadConfig(process.env, { dataDir: DATA_DIR, logLevel: 'silent', demo: 'false', metricsBackfillDays: DAYS });
const markerFile = path.join(DATA_DIR, 'data.json');
type Marker = { events: number; days: number; endMs: number };
const marker: Marker | null = fs.existsSync(markerFile) ? JSON.parse(fs.readFileSync(markerFile, 'utf8')) : null;
const hourNow = Math.floor(Date.now() / HOUR) * HOUR;
let data: Marker;
if (
  marker &&
  marker.events === EVENTS &&
  marker.days === DAYS &&
  hourNow - marker.endMs <= MAX_DATA_AGE &&
  fs.existsSync(config.eventsFile)
) {
  data = marker;
} else {
  rm(markerFile);
  rm(config.eventsFile);
  rm(`${config.eventsFile}.wal`);
  data = { events: EVENTS, days: DAYS, endMs: hourNow };
  await generateEvents(config.eventsFile, data);
  fs.writeFileSync(markerFile, JSON.stringify(data));
}
// the metadata is built again on every run: project id 1, no metrics or values from a run before
for (const suffix of ['', '-wal', '-shm']) rm(`${config.metaFile}${suffix}`);
rm(config.walDir);

/**
 * The cycle runs up to the end of the generated data (an hour boundary at most MAX_DATA_AGE ago),
 * so its buckets hold events as in steady state.
 */
const until = data.endMs;

// ---- 200 active hourly metrics (bench/metric-definitions.ts) ----

const hasBreakdown = (m: Metric) => ((m.definition as { breakdowns?: string[] }).breakdowns ?? []).length > 0;

const loadBefore = os.loadavg()[0];
const ctx = await createAppContext(config, pino({ level: 'silent' }));
const store = ctx.events as DuckDbEventStore;
try {
  const project: Project = await ctx.projects.create({ slug: 'bench' });
  if (project.id !== 1) throw new Error('the generated data belongs to project id 1');
  const [all] = await timed(async () => {
    const created: Metric[] = [];
    for (const d of definitions()) created.push(await ctx.catalog.create(project, d));
    return created;
  });
  const breakdownMetrics = all.filter(hasBreakdown);
  // the backfills create() queued are not wanted: the metrics are made "collected" below
  await ctx.meta.db.deleteFrom('jobs').execute();
  const kinds = Object.entries(
    all.reduce<Record<string, number>>((acc, m) => {
      acc[m.kind] = (acc[m.kind] ?? 0) + 1;
      return acc;
    }, {}),
  )
    .map(([k, c]) => `${c} ${k}`)
    .join(', ');

  /** Steady state: 90 days collected up to one bucket before `until`, so a cycle has one new bucket plus the look-back. */
  const steadyState = () =>
    ctx.meta.db
      .updateTable('metrics')
      .set({ history_from: until - DAYS * DAY, collected_until: until - HOUR })
      .where('project_id', '=', project.id)
      .execute();
  const valuesIn = async (metricIds: number[], fromMs: number, toMs: number) =>
    Number(
      (
        await ctx.meta.db
          .selectFrom('metric_values')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('metric_id', 'in', metricIds)
          .where('bucket', '>=', fromMs)
          .where('bucket', '<', toMs)
          .executeTakeFirstOrThrow()
      ).n,
    );

  // ---- the collection cycle ----

  type CycleFigures = { metrics: number; buckets: number; failures: number; queries: number; rows: number; cold: number; times: number[] };
  async function cycles(): Promise<CycleFigures> {
    const times: number[] = [];
    let cold = 0,
      queries = 0,
      rows = 0,
      buckets = 0,
      metrics = 0,
      failures = 0;
    for (let i = 0; i <= RUNS; i++) {
      await steadyState();
      const q0 = ctx.events.queryCount;
      const [r, t] = await timed(() => ctx.catalog.collection.runCycle(project, '1h', until));
      queries = ctx.events.queryCount - q0;
      ({ buckets, metrics } = r);
      failures = r.failures.length;
      rows = await valuesIn(
        (await active()).map((m) => m.id),
        until - buckets * HOUR,
        until,
      );
      if (i === 0)
        cold = t; // the first run after opening reads cold pages; reported apart
      else times.push(t);
    }
    return { metrics, buckets, failures, queries, rows, cold, times };
  }

  const active = async () => ctx.catalog.store.list({ projectId: project.id, status: 'active', interval: '1h' });
  const window = { fromMs: until - 3 * HOUR, toMs: until };
  const deps = {
    events: ctx.events,
    measurements: ctx.measurements,
    sqlTimeoutMs: config.metricSqlTimeoutMs,
    sqlMaxRows: config.metricSqlMaxRows,
  };

  /**
   * The event-scan statements the collector runs for these metrics over `w` (computed once, not
   * timed): the first is the shared scan, any further ones are follow-ups.
   */
  async function scansOf(metrics: MetricToCompute[], w: { fromMs: number; toMs: number }) {
    const captured: MetricScanQuery[] = [];
    const metricScan = store.metricScan;
    store.metricScan = (q) => {
      captured.push(q);
      return metricScan.call(store, q);
    };
    try {
      await computeMetrics(deps, project, '1h', w, metrics);
    } finally {
      store.metricScan = metricScan;
    }
    const [main] = captured;
    return { ...metricScanSql(main), columns: main.columns.length, dimensions: main.breakdowns.length, statements: captured.length };
  }
  async function timeSql(q: { sql: string; params: string[] }, runs = RUNS) {
    const times: number[] = [];
    await store.rawQuery(q.sql, q.params); // warm
    for (let i = 0; i < runs; i++) times.push((await timed(() => store.rawQuery(q.sql, q.params)))[1]);
    return stats(times);
  }
  async function explain(label: string, q: { sql: string; params: string[] }) {
    const rows = (await store.rawQuery(`EXPLAIN ANALYZE ${q.sql}`, q.params)) as Record<string, unknown>[];
    console.log(`\n---- EXPLAIN ANALYZE: ${label} ----`);
    for (const r of rows) console.log(String(r.explain_value ?? Object.values(r).at(-1)));
  }

  console.log(`collection cycle: ${all.length} metrics (${kinds}; ${breakdownMetrics.length} with a breakdown), ${RUNS} runs each ...`);
  const full = await cycles();

  // where the cycle's time goes: the scan statement alone, compute (scan + combining in JS), saving the values
  const fullMetrics = await active();
  const fullCompute = fullMetrics.map(toCompute);
  const fullScan = await scansOf(fullCompute, window);
  const noBreakdownCompute = fullMetrics.filter((m) => !hasBreakdown(m)).map(toCompute);
  const noBreakdownScan = await scansOf(noBreakdownCompute, window);
  const onlyBreakdownScan = await scansOf(breakdownMetrics.map(toCompute), window);
  const sqlFull = await timeSql(fullScan);
  const sqlNoBreakdown = await timeSql(noBreakdownScan);
  const sqlOnlyBreakdown = await timeSql(onlyBreakdownScan);
  const computeTimes: number[] = [],
    saveTimes: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    await steadyState();
    const [computed, tc] = await timed(() => computeMetrics(deps, project, '1h', window, fullCompute));
    const [, ts] = await timed(() => ctx.catalog.store.saveValues(fullMetrics, window, computed.starts, computed.results, true));
    computeTimes.push(tc);
    saveTimes.push(ts);
  }
  const compute = stats(computeTimes),
    save = stats(saveTimes);
  if (PROFILE) {
    await explain('cycle scan, all metrics', fullScan);
    await explain('cycle scan, without the breakdown metrics', noBreakdownScan);
  }

  // the same cycle without the breakdown metrics (archived meanwhile)
  for (const m of breakdownMetrics) await ctx.catalog.archive(project, m.id);
  const lean = await cycles();
  for (const m of breakdownMetrics) await ctx.catalog.update(project, m.id, { status: 'active' });

  // ---- backfill: one metric over 90 days ----

  type BackfillFigures = { label: string; buckets: number; chunks: number; queries: number; times: number[]; rows: number };
  const backfills: BackfillFigures[] = [];
  const backfillCases: { label: string; definition: CreateMetric }[] = [
    { label: 'count of "Event 1"', definition: { name: 'bf_count', kind: 'event', definition: { event: 'Event 1' } } },
    {
      label: 'p90 of price ($page)',
      definition: { name: 'bf_p90', kind: 'aggregation', definition: { event: '$page', property: 'price', fn: 'p90' } },
    },
    { label: 'unique users of $page', definition: { name: 'bf_users', kind: 'event', definition: { event: '$page', measure: 'users' } } },
    {
      label: 'count of $page by country',
      definition: { name: 'bf_country', kind: 'event', definition: { event: '$page', breakdowns: ['country'], breakdownLimit: 5 } },
    },
  ];
  const BACKFILL_RUNS = Number(process.env.BACKFILL_RUNS ?? 3);
  console.log(`backfill: one metric over ${DAYS} days, ${BACKFILL_RUNS} runs each ...`);
  for (const c of backfillCases) {
    const m = await ctx.catalog.create(project, { ...c.definition, interval: '1h', status: 'active' });
    await ctx.meta.db.deleteFrom('jobs').execute();
    const f: BackfillFigures = { label: c.label, buckets: 0, chunks: 0, queries: 0, times: [], rows: 0 };
    for (let i = 0; i < BACKFILL_RUNS; i++) {
      let chunks = 0;
      const q0 = ctx.events.queryCount;
      const [r, t] = await timed(() => ctx.catalog.backfill(project, m, { fromMs: until - DAYS * DAY, toMs: until }, () => void chunks++));
      f.times.push(t);
      f.buckets = r.buckets;
      f.chunks = chunks;
      f.queries = ctx.events.queryCount - q0;
    }
    f.rows = Number(
      (
        await ctx.meta.db
          .selectFrom('metric_values')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('metric_id', '=', m.id)
          .executeTakeFirstOrThrow()
      ).n,
    );
    backfills.push(f);
    await ctx.catalog.remove(project, m.id);
  }
  // one 7-day chunk's statement alone, for the count metric
  const countCase = backfillCases[0].definition;
  const bfScan = await timeSql(
    await scansOf([{ id: 0, compiled: compileMetric(parseBody(countCase.kind, countCase.definition)) }], {
      fromMs: until - 7 * DAY,
      toMs: until,
    }),
  );

  // ---- the catalog list with 90 days of values per metric ----

  console.log(`list: ${all.length} metrics with ${DAYS} days of hourly values each (synthetic rows) ...`);
  const BUCKETS = DAYS * 24;
  const from = until - BUCKETS * HOUR;
  let synthetic = 0;
  const [, insertMs] = await timed(() =>
    ctx.meta.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('metric_values').execute();
      type Row = { metric_id: number; dimension: string; key: string; bucket: number; value: number | null };
      let rows: Row[] = [];
      const flush = async () => {
        if (rows.length) await tx.insertInto('metric_values').values(rows).execute();
        synthetic += rows.length;
        rows = [];
      };
      for (const m of all) {
        const keys = hasBreakdown(m) ? ['US', 'DE', 'GB', 'FR', 'IN'] : [];
        for (let b = 0; b < BUCKETS; b++) {
          const bucket = from + b * HOUR;
          const value = 1000 + 500 * Math.sin((2 * Math.PI * b) / 24) + (m.id % 97);
          rows.push({ metric_id: m.id, dimension: TOTAL, key: TOTAL, bucket, value });
          for (const [k, key] of keys.entries()) rows.push({ metric_id: m.id, dimension: 'country', key, bucket, value: value / (k + 2) });
          if (rows.length >= 1000) await flush();
        }
      }
      await flush();
    }),
  );
  await ctx.meta.db
    .updateTable('metrics')
    .set({ history_from: from, collected_until: until })
    .where('project_id', '=', project.id)
    .execute();
  const listTimes: number[] = [],
    totalsTimes: number[] = [];
  let listed = 0,
    sparkline = 0;
  const recent = all.map((m) => ({ id: m.id, since: until - 26 * HOUR }));
  for (let i = 0; i < LIST_RUNS + 2; i++) {
    const [list, tl] = await timed(() => ctx.catalog.list(project));
    const [, tt] = await timed(() => ctx.catalog.store.recentTotals(recent));
    listed = list.length;
    sparkline = list[0].sparkline.length;
    if (i < 2) continue;
    listTimes.push(tl);
    totalsTimes.push(tt);
  }
  const list = stats(listTimes),
    totals = stats(totalsTimes);

  // ---- detection after a cycle: the 200 metrics over the 90 days of (synthetic) values above ----

  console.log(`detection: ${all.length} metrics with ${historyBuckets('1h')} buckets of history each, ${RUNS} runs ...`);
  const detectTimes: number[] = [],
    withDetection: number[] = [],
    withoutDetection: number[] = [];
  let detected = { metrics: 0, signals: 0, failed: 0 };
  for (let i = 0; i <= RUNS; i++) {
    const r = await ctx.signals.detectCollected(project, await active(), window);
    if (i) detectTimes.push(r.ms); // the first run stores the signals; later runs find them again
    detected = r;
  }
  for (let i = 0; i < RUNS; i++) {
    await steadyState();
    withoutDetection.push((await timed(() => ctx.catalog.collection.runCycle(project, '1h', until)))[1]);
    await steadyState();
    withDetection.push((await timed(() => ctx.catalog.runCycle(project, '1h', until)))[1]);
  }
  const detect = stats(detectTimes),
    cycleWith = stats(withDetection),
    cycleWithout = stats(withoutDetection);

  // ---- summary ----

  const cpus = os.cpus();
  const [version] = (await store.rawQuery('SELECT version() AS v')) as { v: string }[];
  const c = stats(full.times),
    l = stats(lean.times);
  const perSecond = (f: BackfillFigures) => f.buckets / (stats(f.times).median / 1000);
  console.log(`
==== bench:metrics ====
machine: ${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.platform()} ${os.release()}; Node ${process.version}, DuckDB ${version.v}
load average (1 min) at the start ${loadBefore.toFixed(2)}, at the end ${os.loadavg()[0].toFixed(2)} (above ${cpus.length} the figures are inflated by other work)
data: ${n(EVENTS)} events over ${DAYS} days up to ${new Date(until).toISOString()} (90% in the measured project, ~${n(Math.round((EVENTS * 0.9) / (DAYS * 24)))} per hour)

collection cycle, ${full.metrics} active metrics at 1h (${kinds}; ${breakdownMetrics.length} with a breakdown, top 5):
  window: ${full.buckets} buckets (1 new + ${full.buckets - 1} look-back); event-store queries per cycle: ${full.queries}; metric_values rows written: ${n(full.rows)}; failures: ${full.failures}
  wall time: median ${ms(c.median)}, min ${ms(c.min)} over ${RUNS} runs (first run after opening: ${ms(full.cold)})
  of which:  scan statement alone (${fullScan.columns} columns, ${fullScan.dimensions} breakdown dimensions, ${n(fullScan.sql.length)} chars of SQL): median ${ms(sqlFull.median)}, min ${ms(sqlFull.min)}
             compute (scan + combining in JS): median ${ms(compute.median)}; saving the values (SQLite): median ${ms(save.median)}
  without the ${breakdownMetrics.length} breakdown metrics (${lean.metrics} metrics): median ${ms(l.median)}, min ${ms(l.min)}; queries ${lean.queries}; rows ${n(lean.rows)}
             scan statement alone (${noBreakdownScan.columns} columns): median ${ms(sqlNoBreakdown.median)}; the ${breakdownMetrics.length} breakdown metrics' statement alone: median ${ms(sqlOnlyBreakdown.median)}
  breakdowns add ${ms(c.median - l.median)} to the cycle (${((c.median / l.median - 1) * 100).toFixed(0)}%)

backfill, one metric over ${DAYS} days at 1h (${BUCKETS} buckets), ${BACKFILL_RUNS} runs:
${backfills
  .map((f) => {
    const s = stats(f.times);
    return `  ${f.label.padEnd(28)} median ${ms(s.median)}, min ${ms(s.min)}: ${n(Math.round(perSecond(f)))} buckets/s; ${f.chunks} chunks, ${f.queries} event-store queries, ${n(f.rows)} values stored`;
  })
  .join('\n')}
  one 7-day chunk's scan statement alone (count): median ${ms(bfScan.median)}

catalog list, ${listed} metrics with ${n(BUCKETS)} hourly values each (${n(synthetic)} metric_values rows, inserted in ${(insertMs / 1000).toFixed(1)} s):
  list(): median ${ms(list.median)}, p95 ${ms(list.p95)}, min ${ms(list.min)} over ${LIST_RUNS} runs (sparkline of ${sparkline} points each)
  its one values query (recentTotals): median ${ms(totals.median)}, min ${ms(totals.min)}

detection after a cycle, ${detected.metrics} active metrics at 1h, ${historyBuckets('1h')} buckets (5 weeks) of history each, ${RUNS} runs:
  detection alone (read, score, upsert; ${detected.signals} episodes touching the window, ${detected.failed} failures): median ${ms(detect.median)}, min ${ms(detect.min)} (${ms(detect.median / Math.max(1, detected.metrics))} per metric)
  cycle with detection: median ${ms(cycleWith.median)}; without: median ${ms(cycleWithout.median)}; detection adds ${ms(cycleWith.median - cycleWithout.median)} (${((cycleWith.median / cycleWithout.median - 1) * 100).toFixed(0)}%)
`);
} finally {
  await ctx.close();
}
