/**
 * Backtests: what the live detector (and, when given, a threshold rule) would have fired over a
 * window of a metric's stored series, or of a draft definition computed on the fly, without
 * storing anything. The same code as live detection decides: the detector reads the same history
 * before the window (5 cycles of the longest period), holds the same settling buckets, and the
 * rule starts from the buckets before the window, so a backtest agrees with the signals live
 * detection stored for that window.
 */
import { scoreSeries, type ScoredPoint, type ValueKind } from '../../detect/anomaly.js';
import { episodes } from '../../detect/episodes.js';
import { clampToRange, type ValueRange } from '../../detect/value-range.js';
import { evaluateThreshold, type ThresholdRule } from '../../detect/threshold.js';
import { badRequest } from '../../errors.js';
import type { Project } from '../../projects/service.js';
import type { MetricService } from '../../metrics/service.js';
import type { DetectionSettings, PreviewMetric } from '../../metrics/schemas.js';
import { INTERVAL_MS, bucketFloor, bucketStarts, formatBucket, type Interval } from '../../time/index.js';
import type { SignalService } from '../service.js';
import { detectorOptions, historyBuckets, severityOf } from '../anomaly/episodes.js';
import type { ResolvedDetection } from '../settings.js';
import { eventCondition, lookBack, parseRule, settledUntil } from '../threshold/rule-signals.js';

/** the most buckets a backtest window may hold (the history read before it comes on top) */
export const MAX_BACKTEST_BUCKETS = 5000;

export interface BacktestOptions {
  fromMs: number;
  toMs: number;
  sensitivity?: DetectionSettings['sensitivity'];
  minExpected?: number;
  /** a threshold rule to evaluate too (validated here: a bad one is a 400 naming its field) */
  rule?: unknown;
}

/** A draft definition (as the metric form previews it) and the backtest's options. */
export type DraftBacktestOptions = Omit<PreviewMetric, 'buckets'> & BacktestOptions;

export interface BacktestPoint {
  bucket: string;
  /** null: a gap (not collected, or a fraction without a value) */
  value: number | null;
  expected: number | null;
  lower: number | null;
  upper: number | null;
  z: number | null;
  score: number;
  isAnomaly: boolean;
}

export interface BacktestSignal {
  scope: 'metric' | 'threshold';
  bucket: string;
  endBucket: string;
  kind: string;
  direction: 'up' | 'down' | null;
  severity: string;
  /** the peak's z; null for a rule's breach or recovery */
  z: number | null;
  value: number;
  /** a rule's compared value (the value, or its % change) */
  compared: number | null;
}

export interface BacktestResult {
  interval: Interval;
  timeZone: string;
  valueKind: ValueKind;
  threshold: number;
  minExpected: number;
  from: string;
  to: string;
  buckets: string[];
  points: BacktestPoint[];
  signals: BacktestSignal[];
  count: number;
}

/** A series to backtest: bucket starts (history, then the window) and their values. */
interface Series {
  interval: Interval;
  valueKind: ValueKind;
  /** the expected values and bands reported stay within it */
  range: ValueRange;
  starts: number[];
  values: (number | null)[];
  /** per bucket, the number of samples behind the value (null: not known) */
  samples: (number | null)[];
  /** index of the first bucket the detector reads (the live detector's history starts there) */
  detectFrom: number;
  /** index of the window's first bucket */
  windowFrom: number;
}

export interface BacktestDeps {
  catalog: MetricService;
  signals: SignalService;
  now?: () => number;
}

export class BacktestService {
  private now: () => number;

  constructor(private deps: BacktestDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** A saved metric over its stored values. */
  async metric(project: Project, metricId: number, o: BacktestOptions): Promise<BacktestResult> {
    const m = await this.deps.catalog.get(project, metricId);
    const rule = o.rule === undefined ? undefined : parseRule(o.rule);
    const window = windowStarts(project, m.interval, o);
    const settings = await this.settings(project, m.kind, { ...m.detection, ...overrides(o) });
    // like live detection: never before the metric's history (a bucket not collected is no 0)
    const { detectFromMs, readFrom } = readRange(project, m.interval, m.historyFrom ?? window[0], window[0], rule);
    const read = await this.deps.catalog.totalSeries(project, m, readFrom, o.toMs);
    const series = seriesOf(m.interval, read, detectFromMs, window[0]);
    return this.run(project, series, settings, rule, o.toMs);
  }

  /** A draft definition, computed from the events (or measurements) over the window and its history. */
  async draft(project: Project, o: DraftBacktestOptions): Promise<BacktestResult> {
    const interval = o.interval ?? '1h';
    const rule = o.rule === undefined ? undefined : parseRule(o.rule);
    const window = windowStarts(project, interval, o);
    const settings = await this.settings(project, o.kind, overrides(o));
    // the history it would have if it were saved now (from the default backfill on): a count
    // before the event existed is no 0 to compare with
    const historyFrom = Math.min(window[0], this.deps.catalog.backfillFrom(project, interval));
    const { detectFromMs, readFrom } = readRange(project, interval, historyFrom, window[0], rule);
    const computed = await this.deps.catalog.computeSeries(
      project,
      { kind: o.kind, definition: o.definition, interval },
      { fromMs: readFrom, toMs: o.toMs },
    );
    const series = seriesOf(interval, computed, detectFromMs, window[0]);
    return this.run(project, series, settings, rule, o.toMs);
  }

  private settings(project: Project, kind: string, d: DetectionSettings): Promise<ResolvedDetection> {
    return this.deps.signals.resolve(project.id, { kind, detection: d });
  }

  private run(project: Project, s: Series, settings: ResolvedDetection, rule: ThresholdRule | undefined, toMs: number): BacktestResult {
    const { timeZone } = project;
    const fmt = (ms: number) => formatBucket(timeZone, s.interval, ms);
    const settled = settledUntil(timeZone, s.interval, this.now(), settings.settlingMinutes);

    // the detector, over the history live detection reads and the window
    const detectStarts = s.starts.slice(s.detectFrom);
    const held = detectStarts.filter((b) => b >= settled).length;
    const detected = { starts: detectStarts, valueKind: s.valueKind, samples: s.samples.slice(s.detectFrom) };
    const scored = scoreSeries(s.values.slice(s.detectFrom), detectorOptions(detected, s.interval, settings, held, timeZone));
    const byBucket = new Map<number, ScoredPoint>(scored.map((p) => [detectStarts[p.index], p]));
    const windowStarts = s.starts.slice(s.windowFrom);
    const points = windowStarts.map((b, i): BacktestPoint => {
      const p = byBucket.get(b);
      const value = s.values[s.windowFrom + i];
      return p
        ? {
            bucket: fmt(b),
            value: p.value,
            expected: clampToRange(p.expected, s.range),
            lower: clampToRange(p.lower, s.range),
            upper: clampToRange(p.upper, s.range),
            z: p.expected === null ? null : p.z,
            score: p.score,
            isAnomaly: p.isAnomaly,
          }
        : { bucket: fmt(b), value, expected: null, lower: null, upper: null, z: null, score: 0, isAnomaly: false };
    });
    const first = windowStarts[0];
    const signals: (BacktestSignal & { at: number })[] = episodes(scored, s.valueKind)
      .filter((e) => detectStarts[e.start] >= first && detectStarts[e.start] < toMs)
      .map((e) => ({
        at: detectStarts[e.start],
        scope: 'metric',
        bucket: fmt(detectStarts[e.start]),
        endBucket: fmt(detectStarts[e.end]),
        kind: e.kind,
        direction: e.direction === 'spike' ? 'up' : 'down',
        severity: severityOf(e, settings.threshold),
        z: e.peak.z,
        value: e.peak.value,
        compared: null,
      }));

    // the rule, over the window's settled buckets, comparing with the buckets before the window
    if (rule) {
      const until = windowStarts.filter((b) => b < settled).length;
      const history = s.values.slice(0, s.windowFrom);
      const { events } = evaluateThreshold(s.values.slice(s.windowFrom, s.windowFrom + until), rule, { breached: false, run: 0, history });
      for (const e of events) {
        const b = windowStarts[e.index];
        signals.push({
          at: b,
          scope: 'threshold',
          bucket: fmt(b),
          endBucket: fmt(b),
          kind: e.kind,
          direction: eventCondition(rule, e).direction,
          severity: e.severity,
          z: null,
          value: e.value ?? 0,
          compared: e.compared,
        });
      }
    }
    signals.sort((a, b) => a.at - b.at || a.scope.localeCompare(b.scope));
    return {
      interval: s.interval,
      timeZone,
      valueKind: s.valueKind,
      threshold: settings.threshold,
      minExpected: settings.minExpected,
      from: fmt(first),
      to: new Date(toMs).toISOString(),
      buckets: windowStarts.map(fmt),
      points,
      signals: signals.map(({ at: _at, ...x }) => x),
      count: signals.length,
    };
  }
}

function overrides(o: BacktestOptions): DetectionSettings {
  return {
    ...(o.sensitivity !== undefined && { sensitivity: o.sensitivity }),
    ...(o.minExpected !== undefined && { minExpected: o.minExpected }),
  };
}

/**
 * Where the detector starts (the history live detection reads before a window, never before the
 * series' own history) and where the read starts (the rule's look-back may reach further).
 */
function readRange(project: Project, interval: Interval, historyFrom: number, windowFrom: number, rule: ThresholdRule | undefined) {
  const back = (n: number) => bucketFloor(project.timeZone, interval, windowFrom - n * INTERVAL_MS[interval]);
  const detectFromMs = Math.max(historyFrom, back(historyBuckets(interval)));
  const readFrom = Math.min(windowFrom, detectFromMs, Math.max(historyFrom, back(rule ? lookBack(rule) : 0)));
  return { detectFromMs, readFrom };
}

/** The window's buckets: at least one, at most MAX_BACKTEST_BUCKETS. */
function windowStarts(project: Project, interval: Interval, o: { fromMs: number; toMs: number }): number[] {
  if (!(o.fromMs < o.toMs)) throw badRequest('"from" must be before "to"', { field: 'from' });
  const estimate = Math.ceil((o.toMs - o.fromMs) / INTERVAL_MS[interval]);
  const tooMany = (n: number | string) =>
    badRequest(`that window holds ${n} ${interval} buckets; a backtest covers at most ${MAX_BACKTEST_BUCKETS}, choose a shorter window`, {
      field: 'from',
    });
  if (estimate > MAX_BACKTEST_BUCKETS + 2) throw tooMany(`about ${estimate}`);
  const starts = bucketStarts(project.timeZone, interval, o.fromMs, o.toMs);
  if (starts.length > MAX_BACKTEST_BUCKETS) throw tooMany(starts.length);
  return starts;
}

function seriesOf(
  interval: Interval,
  read: Pick<Series, 'valueKind' | 'starts' | 'values' | 'samples' | 'range'>,
  detectFromMs: number,
  windowFromMs: number,
): Series {
  const at = (ms: number) => {
    const i = read.starts.findIndex((s) => s >= ms);
    return i < 0 ? read.starts.length : i;
  };
  return {
    interval,
    valueKind: read.valueKind,
    starts: read.starts,
    values: read.values,
    samples: read.samples,
    range: read.range,
    detectFrom: at(detectFromMs),
    windowFrom: at(windowFromMs),
  };
}
