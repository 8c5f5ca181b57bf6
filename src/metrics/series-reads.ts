/**
 * Reading a metric's values: the series endpoint's buckets and breakdowns, the total series
 * detection scores, a gauge's bucket in progress, and unsaved definitions computed on the fly
 * (the form's preview, backtests).
 */
import { MAX_BUCKETS } from '../time/window.js';
import { naturalRange } from '../detect/value-range.js';
import { badRequest } from '../errors.js';
import type { Project } from '../projects/service.js';
import { NONE_KEY, OTHER_KEY } from '../storage/events/event-store.js';
import { INTERVAL_MS, bucketStarts, formatBucket, nextBucket, type Interval } from '../time/index.js';
import { latestEnd, bucketsBefore } from './collection.js';
import { computeMetrics, type CollectorDeps, type Values } from './collector.js';
import { compileMetric, parseBody, seriesShape, type CompiledMetric } from './compile.js';
import { checkBody } from './definition-checks.js';
import { iso } from './metric-api.js';
import type { PreviewMetric, SeriesMark } from './schemas.js';
import { TOTAL, type Metric, type MetricStore } from './store.js';

const DEFAULT_PREVIEW_BUCKETS = 24;

const label = (key: string) => (key === OTHER_KEY ? 'other' : key === NONE_KEY ? '(none)' : key);
type Series = { key: string; label: string; values: Values; samples?: Values };

/**
 * A count reads 0, from 0 samples, in a collected bucket without a stored value (`collected(i)`);
 * anything else stays as stored.
 */
function fillCounts(compiled: CompiledMetric, starts: number[], s: { values: Values; samples: Values }, collected: (i: number) => boolean) {
  if (compiled.valueKind !== 'count') return s;
  const empty = starts.map((_, i) => s.values[i] === null && collected(i));
  return { values: s.values.map((v, i) => (empty[i] ? 0 : v)), samples: s.samples.map((n, i) => (empty[i] ? 0 : n)) };
}

/** Series sorted by their sum, largest first, "other" last. */
function sortSeries(series: Series[]): Series[] {
  const sum = (v: Values) => v.reduce<number>((a, b) => a + (b ?? 0), 0);
  return series.sort(
    (a, b) => Number(a.key === OTHER_KEY) - Number(b.key === OTHER_KEY) || sum(b.values) - sum(a.values) || a.key.localeCompare(b.key),
  );
}

export interface MetricSeriesDeps extends CollectorDeps {
  /** Marks drawn on a metric's series (signals), overlapping [fromMs, toMs). */
  marksFor?: (metricId: number, fromMs: number, toMs: number) => Promise<SeriesMark[]>;
}

export class MetricSeriesReads {
  constructor(
    private store: MetricStore,
    private deps: MetricSeriesDeps,
    private now: () => number,
  ) {}

  private bucketsOf(project: Project, interval: Interval, fromMs: number, toMs: number): number[] {
    const estimate = Math.ceil((toMs - fromMs) / INTERVAL_MS[interval]);
    if (estimate > MAX_BUCKETS + 2)
      throw badRequest(
        `that window holds about ${estimate} ${interval} buckets; at most ${MAX_BUCKETS} are allowed, choose a shorter window`,
        { field: 'from' },
      );
    return bucketStarts(project.timeZone, interval, fromMs, toMs);
  }

  /**
   * Every bucket of the window with the stored values. A count-shaped metric reads 0 in a collected
   * bucket without value; anything not collected yet (or a fraction's gap) is null.
   */
  async series(project: Project, m: Metric, q: { fromMs: number; toMs: number; breakdown?: string }) {
    const compiled = compileMetric(parseBody(m.kind, m.definition));
    if (q.breakdown !== undefined && !compiled.breakdowns.includes(q.breakdown)) {
      throw badRequest(
        `metric "${m.name}" has no breakdown "${q.breakdown}"${compiled.breakdowns.length ? `; it has: ${compiled.breakdowns.join(', ')}` : ''}`,
        { field: 'breakdown' },
      );
    }
    const starts = this.bucketsOf(project, m.interval, q.fromMs, q.toMs);
    const rows = starts.length ? await this.store.values(m.id, q.breakdown ?? TOTAL, starts[0], q.toMs) : [];
    const index = new Map(starts.map((s, i) => [s, i]));
    const collected = (s: number) => m.historyFrom !== null && m.collectedUntil !== null && s >= m.historyFrom && s < m.collectedUntil;
    const empty = () => ({ values: new Array(starts.length).fill(null) as Values, samples: new Array(starts.length).fill(null) as Values });
    const byKey = new Map<string, { values: Values; samples: Values }>();
    for (const r of rows) {
      const i = index.get(r.bucket);
      if (i === undefined) continue;
      let s = byKey.get(r.key);
      if (!s) byKey.set(r.key, (s = empty()));
      s.values[i] = r.value;
      s.samples[i] = r.samples;
    }
    if (q.breakdown === undefined) {
      const total = byKey.get(TOTAL) ?? empty();
      byKey.clear();
      byKey.set(
        'total',
        fillCounts(compiled, starts, total, (i) => collected(starts[i])),
      );
    }
    const series = sortSeries(
      [...byKey].map(([key, s]) => ({ key, label: key === 'total' && q.breakdown === undefined ? 'total' : label(key), ...s })),
    );
    const marks = starts.length && this.deps.marksFor ? await this.deps.marksFor(m.id, starts[0], q.toMs) : [];
    return {
      metric: { id: m.id, name: m.name, unit: m.unit, valueKind: compiled.valueKind, interval: m.interval },
      timeZone: project.timeZone,
      from: starts.length ? formatBucket(project.timeZone, m.interval, starts[0]) : new Date(q.fromMs).toISOString(),
      to: new Date(q.toMs).toISOString(),
      buckets: starts.map((s) => formatBucket(project.timeZone, m.interval, s)),
      breakdown: q.breakdown ?? null,
      series,
      collectedUntil: iso(m.collectedUntil),
      signals: marks.map((s) => ({
        ...s,
        bucket: formatBucket(project.timeZone, m.interval, s.bucket),
        endBucket: formatBucket(project.timeZone, m.interval, s.endBucket),
      })),
    };
  }

  /**
   * A gauge's value in the bucket still in progress, from the measurements pushed so far (null:
   * not a gauge, or nothing pushed yet). Pushed values cannot come late, so threshold rules may act
   * on it at once instead of waiting for the bucket to end and be collected.
   */
  async gaugeSoFar(project: Project, m: Metric): Promise<{ bucket: number; value: number } | null> {
    const since = await this.gaugeSince(project, m, latestEnd(project, m.interval, this.now()));
    const value = since?.values[since.values.length - 1];
    return since && value !== null && value !== undefined ? { bucket: since.starts[since.starts.length - 1], value } : null;
  }

  /**
   * A gauge's values from the bucket starting at `fromMs` to the one in progress, from the
   * measurements (null: not a gauge); a bucket without any is null.
   */
  async gaugeSince(project: Project, m: Metric, fromMs: number): Promise<{ starts: number[]; values: (number | null)[] } | null> {
    if (m.kind !== 'gauge') return null;
    const current = latestEnd(project, m.interval, this.now());
    const { starts, r } = await this.computeDraft(project, compileMetric(parseBody(m.kind, m.definition)), m.interval, {
      fromMs: Math.min(fromMs, current),
      toMs: nextBucket(project.timeZone, m.interval, current),
    });
    return { starts, values: r.total };
  }

  /**
   * The total series of [fromMs, toMs) as the series endpoint gives it (a count reads 0 in a
   * collected bucket without value; not collected, or a fraction's gap, is null), for detection.
   */
  async totalSeries(project: Project, m: Metric, fromMs: number, toMs: number) {
    const compiled = compileMetric(parseBody(m.kind, m.definition));
    const valueKind = compiled.detectAs;
    const starts = bucketStarts(project.timeZone, m.interval, fromMs, toMs);
    let values: Values = new Array(starts.length).fill(null);
    let samples: Values = new Array(starts.length).fill(null);
    if (!starts.length) return { starts, values, samples, valueKind, range: naturalRange(seriesShape(m.kind, compiled), values) };
    const index = new Map(starts.map((s, i) => [s, i]));
    for (const r of await this.store.values(m.id, TOTAL, starts[0], toMs)) {
      const i = r.key === TOTAL ? index.get(r.bucket) : undefined;
      if (i !== undefined) [values[i], samples[i]] = [r.value, r.samples];
    }
    if (m.historyFrom !== null && m.collectedUntil !== null) {
      ({ values, samples } = fillCounts(
        compiled,
        starts,
        { values, samples },
        (i) => starts[i] >= m.historyFrom! && starts[i] < m.collectedUntil!,
      ));
    }
    return { starts, values, samples, valueKind, range: naturalRange(seriesShape(m.kind, compiled), values) };
  }

  /** Computes an unsaved definition over the last complete buckets, for the form's live preview. */
  async preview(project: Project, input: PreviewMetric) {
    const compiled = await checkBody(this.deps.events, input.kind, input.definition);
    const interval = input.interval ?? '1h';
    const toMs = latestEnd(project, interval, this.now());
    const fromMs = bucketsBefore(project, interval, toMs, input.buckets ?? DEFAULT_PREVIEW_BUCKETS);
    const { starts, r } = await this.computeDraft(project, compiled, interval, { fromMs, toMs });
    const breakdown = compiled.breakdowns[0] ?? null;
    const keyed = sortSeries(
      r.breakdowns.filter((b) => b.dimension === breakdown).map((b) => ({ key: b.key, label: label(b.key), values: b.values })),
    );
    return {
      interval,
      timeZone: project.timeZone,
      valueKind: compiled.valueKind,
      buckets: starts.map((s) => formatBucket(project.timeZone, interval, s)),
      total: r.total,
      breakdown,
      series: keyed,
    };
  }

  private async computeDraft(project: Project, compiled: CompiledMetric, interval: Interval, window: { fromMs: number; toMs: number }) {
    const { starts, results, failures } = await computeMetrics(this.deps, project, interval, window, [{ id: 0, compiled }]);
    if (failures.length) throw failures[0].error;
    return { starts, r: results[0] };
  }

  /**
   * An unsaved definition's total series over the buckets of [fromMs, toMs), computed as preview
   * does, for backtests: complete buckets only (the current one and later ones are null, as a
   * saved metric's not-yet-collected buckets are).
   */
  async computeSeries(project: Project, input: Omit<PreviewMetric, 'buckets'>, window: { fromMs: number; toMs: number }) {
    const compiled = await checkBody(this.deps.events, input.kind, input.definition);
    const interval = input.interval ?? '1h';
    const starts = bucketStarts(project.timeZone, interval, window.fromMs, window.toMs);
    const values: Values = new Array(starts.length).fill(null);
    const samples: Values = new Array(starts.length).fill(null);
    const toMs = Math.min(window.toMs, latestEnd(project, interval, this.now()));
    if (starts.length && starts[0] < toMs) {
      const computed = await this.computeDraft(project, compiled, interval, { fromMs: starts[0], toMs });
      const index = new Map(starts.map((s, i) => [s, i]));
      computed.starts.forEach((s, j) => {
        const i = index.get(s);
        if (i !== undefined) [values[i], samples[i]] = [computed.r.total[j], computed.r.samples[j]];
      });
    }
    return {
      interval,
      valueKind: compiled.detectAs,
      starts,
      values,
      samples,
      range: naturalRange(seriesShape(input.kind, compiled), values),
    };
  }
}
