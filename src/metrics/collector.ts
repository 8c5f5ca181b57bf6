/**
 * Computes metric values for a window of buckets. Every scan-kind metric of the call becomes
 * columns of ONE event-store query (plus one more when a breakdown of distinct counts, averages or
 * percentiles needs its "other" from the rows); sql metrics run their statement each; gauges read
 * measurements. Nothing is stored here (see store.ts).
 */
import type { Dimension, EventStore, MetricScanRow } from '../storage/events/event-store.js';
import { OTHER_KEY } from '../storage/events/event-store.js';
import type { Project } from '../projects/service.js';
import { slotsFor, type Interval, type Slots } from '../time/index.js';
import type { MeasurementStore } from '../ingest/measurement-store.js';
import { gaugeBuckets } from '../ingest/measurement-store.js';
import type { CompiledMetric, GaugePlan, ScanPlan, SqlPlan } from './compile.js';

export type Values = (number | null)[];

export interface ComputedMetric {
  metricId: number;
  /** one value per bucket of the window (null: a gap) */
  total: Values;
  /** per bucket, the number of samples behind the total (compile.ts, "Samples"; null: not known) */
  samples: Values;
  /** per breakdown dimension, the kept keys (top N per bucket, and OTHER_KEY) with their values and samples */
  breakdowns: KeyedSeries[];
}

export interface KeyedSeries {
  dimension: string;
  key: string;
  values: Values;
  samples: Values;
}

export interface MetricToCompute {
  id: number;
  compiled: CompiledMetric;
}

export interface CollectorDeps {
  events: EventStore;
  measurements: MeasurementStore;
  sqlTimeoutMs: number;
  sqlMaxRows: number;
}

/** Keys a sql metric keeps per bucket: its values need not add up, so there is no "other". */
const SQL_BREAKDOWN_KEYS = 20;

/**
 * Values of every metric for the buckets of `window`. The event scan failing fails the call; a sql
 * or gauge metric failing is reported in `failures` and left out of `results`.
 */
export async function computeMetrics(
  deps: CollectorDeps,
  project: Project,
  interval: Interval,
  window: { fromMs: number; toMs: number },
  metrics: MetricToCompute[],
): Promise<{ starts: number[]; results: ComputedMetric[]; failures: { metricId: number; error: Error }[] }> {
  // one slot per bucket, so distinct counts and percentiles are exact
  const slots = slotsFor(project.timeZone, interval, window.fromMs, window.toMs, false);
  const results = new Map<number, ComputedMetric>();
  const scans = metrics.filter((m): m is MetricToCompute & { compiled: { plan: ScanPlan } } => m.compiled.plan.type === 'scan');
  if (scans.length) for (const r of await scanAll(deps.events, project, window, slots, scans)) results.set(r.metricId, r);
  const failures: { metricId: number; error: Error }[] = [];
  await Promise.all(
    metrics.map(async (m) => {
      const plan = m.compiled.plan;
      try {
        if (plan.type === 'sql') results.set(m.id, await runSql(deps, project, window, slots, m.id, plan));
        if (plan.type === 'gauge') results.set(m.id, await readGauge(deps.measurements, project, window, slots, m.id, plan));
      } catch (error) {
        failures.push({ metricId: m.id, error: error as Error });
      }
    }),
  );
  const ordered = metrics.flatMap((m) => {
    const r = results.get(m.id);
    if (!r) return [];
    if (m.compiled.valueKind === 'count') r.total = r.total.map((v) => v ?? 0);
    return [r];
  });
  return { starts: slots.starts, results: ordered, failures };
}

const emptyValues = (n: number): Values => new Array(n).fill(null);

/** Per key, its values and samples (null where the key has no value). */
type KeySeries = Map<string, { values: Values; samples: Values }>;

// long because it builds the one scan that computes every metric of a collection cycle
async function scanAll(
  events: EventStore,
  project: Project,
  window: { fromMs: number; toMs: number },
  slots: Slots,
  metrics: (MetricToCompute & { compiled: { plan: ScanPlan } })[],
): Promise<ComputedMetric[]> {
  const dimensions: Dimension[] = [];
  const dimensionIndex = new Map<string, number>();
  let offset = 0;
  const offsets = metrics.map((m) => {
    const o = offset;
    offset += m.compiled.plan.columns.length;
    return o;
  });
  const columns = metrics.flatMap((m) => {
    for (const b of m.compiled.plan.breakdowns) {
      if (!dimensionIndex.has(b.name)) {
        dimensionIndex.set(b.name, dimensions.length);
        dimensions.push(b.dimension);
      }
    }
    return m.compiled.plan.columns;
  });
  // a breakdown key counts for a metric only if some of the metric's own rows have it (the scan
  // groups every row it reads by key): a count of those rows, unless the metric is that count
  const presence = metrics.map((m, i) => {
    const plan = m.compiled.plan;
    if (!plan.breakdowns.length) return -1;
    const [first] = plan.columns;
    if (first.aggregate.fn === 'events') return offsets[i];
    columns.push({ event: first.event, filters: first.filters, aggregate: { fn: 'events' } });
    return columns.length - 1;
  });
  const breakdownColumns = dimensions.map(() => [] as number[]);
  metrics.forEach((m, i) => {
    const plan = m.compiled.plan;
    for (const b of plan.breakdowns) {
      const wanted = breakdownColumns[dimensionIndex.get(b.name)!];
      for (let c = 0; c < plan.columns.length; c++) wanted.push(offsets[i] + c);
      if (presence[i] >= offsets[i] + plan.columns.length) wanted.push(presence[i]);
    }
  });
  const rows = await events.metricScan({
    projectId: project.id,
    fromMs: window.fromMs,
    toMs: window.toMs,
    ...slots.spec,
    columns,
    breakdowns: dimensions,
    breakdownColumns,
  });

  const n = slots.starts.length;
  const totals: (MetricScanRow | undefined)[] = new Array(n).fill(undefined);
  const slotOfBucket: number[] = new Array(n).fill(NaN);
  // per dimension, per bucket: the rows of each key
  const byDimension = dimensions.map(() => Array.from({ length: n }, () => [] as MetricScanRow[]));
  for (const r of rows) {
    const b = slots.bucketOf(r.slotMs);
    if (b < 0) continue;
    slotOfBucket[b] = r.slotMs;
    if (r.dimension < 0) totals[b] = r;
    else byDimension[r.dimension][b].push(r);
  }

  const followUps: FollowUp[] = [];
  const results = metrics.map((m, i) => {
    const plan = m.compiled.plan;
    const own = (r: MetricScanRow | undefined) => (r ? r.values.slice(offsets[i], offsets[i] + plan.columns.length) : undefined);
    const total = totals.map((r) => {
      const v = own(r);
      return v ? plan.combine(v) : null;
    });
    // a bucket without rows has no samples
    const samples = totals.map((r) => own(r)?.[plan.samplesColumn] ?? 0);
    const breakdowns = plan.breakdowns.map((b) => {
      const perBucket = byDimension[dimensionIndex.get(b.name)!].map((rs) =>
        rs.filter((r) => (r.values[presence[i]] ?? 0) > 0).map((r) => ({ key: r.key ?? '', columns: own(r)! })),
      );
      const { series, pending } = topKeys(plan, perBucket, totals.map(own));
      if (pending.length) followUps.push({ plan, dimension: b.dimension, series, pending });
      return { name: b.name, series };
    });
    return { metricId: m.id, total, samples, breakdowns };
  });
  if (followUps.length) await computeOthers(events, project, window, slots, slotOfBucket, followUps);
  return results.map((r) => ({ ...r, breakdowns: r.breakdowns.flatMap((b) => keyed(b.name, b.series)) }));
}

/** A breakdown whose "other" needs the rows themselves (distinct counts, averages, percentiles). */
interface FollowUp {
  plan: ScanPlan;
  dimension: Dimension;
  series: KeySeries;
  /** buckets with keys beyond the top N, and the top keys to leave out */
  pending: { bucket: number; top: string[] }[];
}

/** One more scan for every such "other": the metric's columns over the rows outside each bucket's top keys. */
async function computeOthers(
  events: EventStore,
  project: Project,
  window: { fromMs: number; toMs: number },
  slots: Slots,
  slotOfBucket: number[],
  followUps: FollowUp[],
) {
  const columns = followUps.flatMap((f) =>
    f.plan.columns.map((c) => ({
      ...c,
      exclude: { dimension: f.dimension, slots: f.pending.map((p) => ({ slotMs: slotOfBucket[p.bucket], keys: p.top })) },
    })),
  );
  const rows = await events.metricScan({
    projectId: project.id,
    fromMs: window.fromMs,
    toMs: window.toMs,
    ...slots.spec,
    columns,
    breakdowns: [],
  });
  const byBucket = new Map(rows.map((r) => [slots.bucketOf(r.slotMs), r.values]));
  let offset = 0;
  for (const f of followUps) {
    const width = f.plan.columns.length;
    for (const { bucket } of f.pending) {
      const values = byBucket.get(bucket)?.slice(offset, offset + width);
      const other = values ? f.plan.combine(values) : null;
      if (other !== null) setValue(f.series, OTHER_KEY, bucket, other, values![f.plan.samplesColumn], slots.starts.length);
    }
    offset += width;
  }
}

function setValue(series: KeySeries, key: string, bucket: number, value: number | null, samples: number | null, n: number) {
  let s = series.get(key);
  if (!s) series.set(key, (s = { values: emptyValues(n), samples: emptyValues(n) }));
  s.values[bucket] = value;
  s.samples[bucket] = samples;
}

const keyed = (dimension: string, series: KeySeries): KeyedSeries[] => [...series].map(([key, s]) => ({ dimension, key, ...s }));

/**
 * Per bucket, the `limit` keys with the highest values, and "other" when the plan derives it from
 * the per-key values; otherwise the buckets that need it are returned as `pending`.
 */
function topKeys(plan: ScanPlan, perBucket: { key: string; columns: Values }[][], totalColumns: (Values | undefined)[]) {
  const series: KeySeries = new Map();
  const pending: FollowUp['pending'] = [];
  const n = perBucket.length;
  const samplesOf = (columns: Values) => columns[plan.samplesColumn];
  perBucket.forEach((entries, bucket) => {
    const ranked = entries.map((e) => ({ ...e, value: plan.combine(e.columns) })).filter((e) => e.value !== null);
    ranked.sort((a, b) => b.value! - a.value! || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const top = ranked.slice(0, plan.limit);
    const rest = ranked.slice(plan.limit);
    for (const e of top) setValue(series, e.key, bucket, e.value, samplesOf(e.columns), n);
    if (!rest.length) return;
    if (plan.other === 'min' || plan.other === 'max') {
      const pick = plan.other === 'min' ? Math.min : Math.max;
      // the smallest or largest of the rows of every remaining key: all of them are its samples
      const samples = rest.reduce((sum, e) => sum + (samplesOf(e.columns) ?? 0), 0);
      setValue(series, OTHER_KEY, bucket, pick(...rest.map((e) => e.value!)), samples, n);
    } else if (plan.other === 'subtract' && totalColumns[bucket]) {
      const other = totalColumns[bucket]!.map((t, c) => (t === null ? null : t - top.reduce((sum, e) => sum + (e.columns[c] ?? 0), 0)));
      setValue(series, OTHER_KEY, bucket, plan.combine(other), samplesOf(other), n);
    } else if (plan.other === 'rows') {
      pending.push({ bucket, top: top.map((e) => e.key) });
    }
  });
  return { series, pending };
}

async function runSql(
  deps: CollectorDeps,
  project: Project,
  window: { fromMs: number; toMs: number },
  slots: Slots,
  metricId: number,
  plan: SqlPlan,
): Promise<ComputedMetric> {
  const rows = await deps.events.runUserSql({
    projectId: project.id,
    sql: plan.sql,
    fromMs: window.fromMs,
    toMs: window.toMs,
    ...slots.spec,
    timeoutMs: deps.sqlTimeoutMs,
    maxRows: deps.sqlMaxRows,
  });
  const n = slots.starts.length;
  const total = emptyValues(n);
  const samples = emptyValues(n);
  const perBucket: { key: string; value: number; samples: number | null }[][] = Array.from({ length: n }, () => []);
  for (const r of rows) {
    const b = slots.bucketOf(r.bucketMs);
    if (b < 0) continue;
    if (r.breakdown === null) [total[b], samples[b]] = [r.value, r.samples];
    else if (r.value !== null) perBucket[b].push({ key: r.breakdown, value: r.value, samples: r.samples });
  }
  const series: KeySeries = new Map();
  perBucket.forEach((entries, b) => {
    entries.sort((x, y) => y.value - x.value || x.key.localeCompare(y.key));
    for (const e of entries.slice(0, SQL_BREAKDOWN_KEYS)) setValue(series, e.key, b, e.value, e.samples, n);
  });
  return { metricId, total, samples, breakdowns: keyed('breakdown', series) };
}

async function readGauge(
  store: MeasurementStore,
  project: Project,
  window: { fromMs: number; toMs: number },
  slots: Slots,
  metricId: number,
  plan: GaugePlan,
): Promise<ComputedMetric> {
  const points = await store.points({
    projectId: project.id,
    service: plan.service,
    metric: plan.metric,
    fromMs: window.fromMs,
    toMs: window.toMs,
    tags: plan.tags,
  });
  const { values, counts } = gaugeBuckets(points, slots.starts, window.toMs, plan.aggregate);
  return { metricId, total: values, samples: counts, breakdowns: [] };
}
