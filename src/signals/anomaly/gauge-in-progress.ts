/**
 * Anomalies of pushed measurements on the bucket still in progress. A gauge's measurements cannot
 * come late, so waiting for its bucket to end only delays the alert: at each scheduler tick, a
 * gauge metric that settles in 0 minutes has the value of its bucket so far compared with the band
 * the detector expects for that bucket. Only a deviation at least twice the threshold (what makes
 * a signal critical) fires this early: a bucket so far may rest on a single measurement, noisier
 * than the whole bucket the band is made for. The signal is anchored at the bucket, as the normal
 * run's would be, which takes its place once the bucket is scored whole.
 *
 * The band comes from the public scorer only: the series with a placeholder appended (the scorer
 * is causal: the last point's `expected`, `lower` and `upper` use earlier buckets only), computed
 * once per metric and bucket.
 */
import { PERIODS, scoreSeries } from '../../detect/anomaly.js';
import type { Project } from '../../projects/service.js';
import type { Metric, MetricService } from '../../metrics/service.js';
import { INTERVAL_MS, bucketFloor } from '../../time/index.js';
import type { SignalService } from '../service.js';
import { MAX_DETECT_BUCKETS, historyBuckets } from './episodes.js';
import type { SignalInput } from '../store.js';

/** the deviation a bucket in progress needs, in multiples of the threshold */
export const IN_PROGRESS_Z_MULTIPLE = 2;

interface Band {
  bucket: number;
  expected: number;
  lower: number;
  upper: number;
  threshold: number;
}

/** How far `value` is outside the band, in the detector's z (0 inside it); the band's half-widths are threshold × spread. */
export function zAgainstBand(value: number, b: Pick<Band, 'expected' | 'lower' | 'upper' | 'threshold'>): number {
  if (value > b.expected && b.upper > b.expected) return ((value - b.expected) / (b.upper - b.expected)) * b.threshold;
  if (value < b.expected && b.expected > b.lower) return ((value - b.expected) / (b.expected - b.lower)) * b.threshold;
  return 0;
}

export interface GaugeInProgressDeps {
  catalog: MetricService;
  signals: SignalService;
  log: { warn(obj: object, msg: string): void };
  now: () => number;
}

export class GaugeInProgressDetector {
  private bands = new Map<number, Band | null>();
  /** what each cached band was computed for: `${bucket}:${collectedUntil}` */
  private bandKeys = new Map<number, string>();
  /** `${metric}:${bucket}` raised by this process: not rewritten at every tick */
  private raised = new Set<string>();

  constructor(private deps: GaugeInProgressDeps) {}

  /** Checks every active gauge of the project that settles in 0 minutes; returns the signals raised. */
  async check(project: Project): Promise<number> {
    const gauges = (await this.deps.catalog.active(project)).filter((m) => m.kind === 'gauge' && m.collectedUntil !== null);
    if (!gauges.length) return 0;
    const defaults = await this.deps.signals.projectDetection(project.id);
    let raised = 0;
    for (const m of gauges) {
      try {
        const settings = await this.deps.signals.resolve(project.id, m, defaults);
        if (!settings.enabled || settings.settlingMinutes > 0) continue;
        const soFar = await this.deps.catalog.gaugeSoFar(project, m);
        // the band follows the stored series; the bucket just ended may not be collected yet (its
        // collection is queued in the same tick): then it is a gap the band is scored across
        if (!soFar || m.collectedUntil! < soFar.bucket - INTERVAL_MS[m.interval] || this.raised.has(`${m.id}:${soFar.bucket}`)) continue;
        const band = await this.band(project, m, soFar.bucket, settings);
        if (!band) continue;
        const z = zAgainstBand(soFar.value, band);
        if (Math.abs(z) < IN_PROGRESS_Z_MULTIPLE * band.threshold) continue;
        this.raised.add(`${m.id}:${soFar.bucket}`);
        await this.deps.signals.upsert(project.id, [inProgressSignal(m, soFar, band, z, settings.minExpected)]);
        raised++;
      } catch (err) {
        this.deps.log.warn(
          { projectId: project.id, metricId: m.id, error: err instanceof Error ? err.message : String(err) },
          'detection on the bucket in progress failed',
        );
      }
    }
    // forget buckets that have ended
    const current = new Set(gauges.map((m) => `${m.id}:${bucketFloor(project.timeZone, m.interval, this.deps.now())}`));
    for (const key of this.raised) if (!current.has(key)) this.raised.delete(key);
    return raised;
  }

  /** The band the detector expects for `bucket`, from the stored series before it; once per metric and bucket. */
  private async band(project: Project, m: Metric, bucket: number, s: Awaited<ReturnType<SignalService['resolve']>>): Promise<Band | null> {
    const key = `${bucket}:${m.collectedUntil}`;
    if (this.bandKeys.get(m.id) === key) return this.bands.get(m.id) ?? null;
    const step = INTERVAL_MS[m.interval];
    const readFrom = Math.max(
      m.historyFrom ?? bucket,
      bucket - MAX_DETECT_BUCKETS * step,
      bucketFloor(project.timeZone, m.interval, bucket - historyBuckets(m.interval) * step),
    );
    const series = await this.deps.catalog.totalSeries(project, m, readFrom, bucket);
    // a number, not null: the scorer skips gaps (the placeholder's value does not enter its own band)
    const points = scoreSeries(series.values.concat([0]), {
      periods: PERIODS[m.interval],
      valueKind: series.valueKind,
      sensitivity: s.sensitivity,
      minSamples: s.minExpected,
    });
    const last = points[points.length - 1];
    const band =
      last.index !== series.values.length || last.expected === null || last.lower === null || last.upper === null
        ? null
        : { bucket, expected: last.expected, lower: last.lower, upper: last.upper, threshold: s.threshold };
    this.bands.set(m.id, band);
    this.bandKeys.set(m.id, key);
    return band;
  }
}

function inProgressSignal(m: Metric, soFar: { bucket: number; value: number }, band: Band, z: number, minExpected: number): SignalInput {
  return {
    scope: 'metric',
    scopeKey: `metric:${m.id}`,
    metricId: m.id,
    bucket: soFar.bucket,
    endBucket: soFar.bucket,
    kind: z > 0 ? 'spike' : 'drop',
    direction: z > 0 ? 'up' : 'down',
    value: soFar.value,
    expected: band.expected,
    lower: band.lower,
    upper: band.upper,
    z,
    score: 1,
    severity: 'critical',
    details: {
      inProgress: true,
      interval: m.interval,
      threshold: band.threshold,
      minExpected,
      why: `the ${m.interval} bucket so far is ${Math.abs(z).toFixed(1)} spreads ${z > 0 ? 'above' : 'below'} what was expected`,
    },
  };
}
