/**
 * Live detection of metrics, run after every collection (app-context passes the signal service's
 * `detectCollected` to the metrics catalog as its `onCollected` hook): it reads the metric's total
 * series with enough history for the seasonal baseline, scores it with the pure detector and
 * upserts the episodes that touch the window just collected.
 */
import type { Project } from '../../projects/service.js';
import type { Metric, MetricService } from '../../metrics/service.js';
import { INTERVAL_MS, bucketFloor } from '../../time/index.js';
import type { SignalService } from '../service.js';
import type { ProjectDetection } from '../settings.js';
import { MAX_DETECT_BUCKETS, detectEpisodes, episodeSignal, heldBuckets, historyBuckets } from './episodes.js';

export interface DetectResult {
  /** episodes that touch the window (inserted, updated, or seen again unchanged) */
  episodes: number;
  inserted: number;
  updated: number;
  skipped?: string;
}

export interface MetricDetectionDeps {
  catalog: Pick<MetricService, 'totalSeries'>;
  signals: Pick<SignalService, 'resolve' | 'upsert' | 'projectDetection'>;
  log: { warn(obj: object, msg: string): void };
  now: () => number;
}

export class MetricDetection {
  constructor(private deps: MetricDetectionDeps) {}

  /**
   * Detection after a collection of `window`: every active metric with detection enabled. A metric
   * that fails is logged and the others go on.
   */
  async detectCollected(project: Project, metrics: Metric[], window: { fromMs: number; toMs: number }) {
    const started = performance.now();
    const defaults = await this.deps.signals.projectDetection(project.id);
    let detected = 0,
      signals = 0,
      failed = 0;
    for (const m of metrics) {
      if (m.status !== 'active') continue;
      try {
        const r = await this.detect(project, m, { until: window.toMs, since: window.fromMs }, defaults);
        if (!r.skipped) detected++;
        signals += r.episodes;
      } catch (err) {
        failed++;
        this.deps.log.warn(
          { projectId: project.id, metricId: m.id, error: err instanceof Error ? err.message : String(err) },
          'metric detection failed',
        );
      }
    }
    return { metrics: detected, signals, failed, ms: performance.now() - started };
  }

  /**
   * Scores a metric's total series up to `until` and upserts the episodes that reach `since` or
   * later (default: every episode of the history read), less the settling buckets: those held
   * back by an earlier run fire now.
   */
  detectMetric(project: Project, metric: Metric, opts: { until: number; since?: number }): Promise<DetectResult> {
    return this.detect(project, metric, opts, undefined);
  }

  private async detect(
    project: Project,
    metric: Metric,
    opts: { until: number; since?: number },
    defaults: ProjectDetection | undefined,
  ): Promise<DetectResult> {
    const settings = await this.deps.signals.resolve(project.id, metric, defaults);
    const none = (skipped: string): DetectResult => ({ episodes: 0, inserted: 0, updated: 0, skipped });
    if (!settings.enabled) return none('detection is disabled');
    if (metric.historyFrom === null || metric.collectedUntil === null) return none('not collected yet');
    const step = INTERVAL_MS[metric.interval];
    const until = Math.min(opts.until, metric.collectedUntil);
    const since = Math.max(metric.historyFrom, Math.min(opts.since ?? metric.historyFrom, until));
    const readFrom = Math.max(
      metric.historyFrom,
      until - MAX_DETECT_BUCKETS * step,
      bucketFloor(project.timeZone, metric.interval, since - historyBuckets(metric.interval) * step),
    );
    if (readFrom >= until) return none('nothing collected before "until"');
    const series = await this.deps.catalog.totalSeries(project, metric, readFrom, until);
    const found = detectEpisodes(series, metric.interval, settings, { timeZone: project.timeZone, until, since, now: this.deps.now() });
    const target = { scope: 'metric' as const, scopeKey: `metric:${metric.id}`, metricId: metric.id };
    const covered = {
      scopeKey: target.scopeKey,
      until: until - heldBuckets(settings, metric.interval, { timeZone: project.timeZone, until, now: this.deps.now() }) * step,
      stepMs: step,
    };
    const r = await this.deps.signals.upsert(
      project.id,
      found.map((e) => episodeSignal(target, series, e, settings, metric.interval)),
      [covered],
    );
    return { episodes: found.length, ...r };
  }
}
