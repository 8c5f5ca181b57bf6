/**
 * Threshold rules on metrics: their API operations and their live evaluation after
 * every collection. A rule is evaluated forward only: each run continues the saved ThresholdState
 * from `evaluated_until` over the buckets that have settled since, so every bucket is evaluated
 * once and a breach or recovery is one signal (scope `threshold`, scope key `rule:<id>`), stored
 * idempotently per (rule, bucket).
 */
import { evaluateThreshold } from '../../detect/threshold.js';
import { VigilError, notFound } from '../../errors.js';
import type { Project } from '../../projects/service.js';
import type { Metric, MetricService } from '../../metrics/service.js';
import type { MetaDb } from '../../meta-db.js';
import { INTERVAL_MS, bucketFloor } from '../../time/index.js';
import type { SignalService } from '../service.js';
import type { ProjectDetection } from '../settings.js';
import { lookBack, parseRule, ruleSignal, settledUntil } from './rule-signals.js';
import { ThresholdRuleStore, type ThresholdRuleRecord } from './threshold-rule-store.js';

/** a metric's rules are few and read on every collection: a bound keeps that cheap */
export const MAX_RULES_PER_METRIC = 20;
/** a rule that fell further behind than this (paused metric, long outage) restarts from here */
const MAX_EVALUATE_BUCKETS = 50_000;

export interface CreateRuleInput {
  name: string;
  rule: unknown;
  enabled?: boolean;
}
export type UpdateRuleInput = Partial<CreateRuleInput>;

export interface ThresholdRuleServiceDeps {
  db: MetaDb;
  catalog: MetricService;
  signals: SignalService;
  log: { warn(obj: object, msg: string): void };
  now?: () => number;
}

export class ThresholdRuleService {
  readonly store: ThresholdRuleStore;
  private now: () => number;

  constructor(private deps: ThresholdRuleServiceDeps) {
    this.store = new ThresholdRuleStore(deps.db);
    this.now = deps.now ?? Date.now;
  }

  async list(project: Project, metricId: number): Promise<ThresholdRuleRecord[]> {
    const m = await this.deps.catalog.get(project, metricId);
    return this.store.list(m.id);
  }

  /** Every threshold rule of the project, whichever metric it watches. */
  async listProject(project: Project): Promise<ThresholdRuleRecord[]> {
    return this.store.listProject(project.id);
  }

  async get(project: Project, metricId: number, ruleId: number): Promise<ThresholdRuleRecord> {
    const m = await this.deps.catalog.get(project, metricId);
    const r = await this.store.get(m.id, ruleId);
    if (!r) throw notFound(`rule ${ruleId} of metric ${metricId}`);
    return r;
  }

  private async assertNameFree(metricId: number, name: string, except?: number) {
    const existing = await this.store.byName(metricId, name);
    if (existing && existing.id !== except)
      throw new VigilError('VIGIL_ERR_CONFLICT', `this metric already has a rule named "${name}"`, { field: 'name' });
  }

  async create(project: Project, metricId: number, input: CreateRuleInput): Promise<ThresholdRuleRecord> {
    const m = await this.deps.catalog.get(project, metricId);
    const rule = parseRule(input.rule);
    await this.assertNameFree(m.id, input.name);
    if ((await this.store.count(m.id)) >= MAX_RULES_PER_METRIC) {
      throw new VigilError(
        'VIGIL_ERR_CONFLICT',
        `metric "${m.name}" already has ${MAX_RULES_PER_METRIC} rules, the most a metric may have; delete one first`,
      );
    }
    return this.store.insert(project.id, m.id, { name: input.name, rule, enabled: input.enabled ?? true }, this.now());
  }

  /**
   * A changed rule, or a paused rule enabled again, starts afresh from the next collection: it
   * neither keeps a state decided under other terms nor fires for the time it was paused.
   */
  async update(project: Project, metricId: number, ruleId: number, patch: UpdateRuleInput): Promise<ThresholdRuleRecord> {
    const existing = await this.get(project, metricId, ruleId);
    const rule = patch.rule === undefined ? undefined : parseRule(patch.rule);
    if (patch.name !== undefined) await this.assertNameFree(existing.metricId, patch.name, existing.id);
    const ruleChanged = rule !== undefined && JSON.stringify(rule) !== JSON.stringify(existing.rule);
    const reEnabled = patch.enabled === true && !existing.enabled;
    return this.store.update(existing.id, { name: patch.name, rule, enabled: patch.enabled }, ruleChanged || reEnabled, this.now());
  }

  /** The rule goes; the signals it raised stay (they are history, and incidents may point at them). */
  async remove(project: Project, metricId: number, ruleId: number): Promise<ThresholdRuleRecord> {
    const existing = await this.get(project, metricId, ruleId);
    await this.store.delete(existing.id);
    return existing;
  }

  /**
   * Evaluation after a collection of `window` (app-context calls this from the catalog's
   * `onCollected` hook, next to anomaly detection): every enabled rule of the metrics collected.
   * A rule that fails is logged and the others go on.
   */
  async evaluateCollected(project: Project, metrics: Metric[], window: { fromMs: number; toMs: number }) {
    const started = performance.now();
    const rules = await this.store.enabledFor(
      project.id,
      metrics.map((m) => m.id),
    );
    let evaluated = 0,
      signals = 0,
      failed = 0;
    if (rules.length) {
      const defaults = await this.deps.signals.projectDetection(project.id);
      const byId = new Map(metrics.map((m) => [m.id, m]));
      for (const r of rules) {
        try {
          const n = await this.evaluate(project, byId.get(r.metricId)!, r, window, defaults);
          if (n !== null) evaluated++;
          signals += n ?? 0;
        } catch (err) {
          failed++;
          this.deps.log.warn(
            { projectId: project.id, metricId: r.metricId, ruleId: r.id, error: err instanceof Error ? err.message : String(err) },
            'threshold rule evaluation failed',
          );
        }
      }
    }
    return { rules: evaluated, signals, failed, ms: performance.now() - started };
  }

  /**
   * Rules on pushed measurements (gauges) that settle in 0 minutes, on the bucket still in
   * progress: the scheduler calls this every tick, so a breach is raised within a tick of the
   * measurement that causes it, not once the bucket has ended and been collected. Tentative: the
   * state is not saved, and the bucket is evaluated again, whole, after its collection (the same
   * breach lands on the same signal, idempotently). Returns the breaches raised.
   */
  async evaluateInProgress(project: Project): Promise<number> {
    const rules = (await this.store.listProject(project.id)).filter((r) => r.enabled && r.evaluatedUntil !== null);
    if (!rules.length) return 0;
    const defaults = await this.deps.signals.projectDetection(project.id);
    const metrics = new Map<number, Promise<Metric>>();
    let raised = 0;
    for (const r of rules) {
      try {
        if (!metrics.has(r.metricId)) metrics.set(r.metricId, this.deps.catalog.get(project, r.metricId));
        const metric = await metrics.get(r.metricId)!;
        if (metric.kind !== 'gauge' || metric.status !== 'active') continue;
        if ((await this.deps.signals.resolve(project.id, metric, defaults)).settlingMinutes > 0) continue;
        // a fresh rule with a look-back needs the buckets before it: the collection gives it those
        const state = r.state ?? (lookBack(r.rule) === 0 ? { breached: false, run: 0, history: [] } : null);
        if (!state) continue;
        // from where the saved state stands: the bucket in progress, and the one just ended when its
        // collection (queued in this same tick) has not run yet
        const step = INTERVAL_MS[metric.interval];
        const current = bucketFloor(project.timeZone, metric.interval, this.now());
        if (r.evaluatedUntil! < current - step) continue;
        const since = await this.deps.catalog.gaugeSince(project, metric, r.evaluatedUntil!);
        if (!since || since.values[since.values.length - 1] === null) continue;
        const breaches = evaluateThreshold(since.values, r.rule, state).events.filter((e) => e.kind === 'breach');
        if (!breaches.length) continue;
        await this.deps.signals.upsert(
          project.id,
          breaches.map((e) => {
            const s = ruleSignal(metric, r, since.starts[e.index], e);
            return { ...s, details: { ...s.details, inProgress: since.starts[e.index] === current } };
          }),
        );
        raised += breaches.length;
      } catch (err) {
        this.deps.log.warn(
          { projectId: project.id, metricId: r.metricId, ruleId: r.id, error: err instanceof Error ? err.message : String(err) },
          'threshold rule evaluation on the bucket in progress failed',
        );
      }
    }
    return raised;
  }

  /**
   * Evaluates one rule over the buckets settled since it last stood (a fresh rule: since the start
   * of the collected window), continuing its state; returns the breaches and recoveries found, or
   * null when there was nothing to evaluate.
   */
  private async evaluate(
    project: Project,
    metric: Metric,
    r: ThresholdRuleRecord,
    window: { fromMs: number; toMs: number },
    defaults: ProjectDetection,
  ): Promise<number | null> {
    if (metric.historyFrom === null || metric.collectedUntil === null) return null;
    const { timeZone } = project;
    const step = INTERVAL_MS[metric.interval];
    const { settlingMinutes } = await this.deps.signals.resolve(project.id, metric, defaults);
    const end = Math.min(metric.collectedUntil, settledUntil(timeZone, metric.interval, this.now(), settlingMinutes));
    let from = Math.max(metric.historyFrom, r.evaluatedUntil ?? Math.min(bucketFloor(timeZone, metric.interval, window.fromMs), end));
    let state = r.evaluatedUntil === null ? null : r.state;
    if (end - from > MAX_EVALUATE_BUCKETS * step) {
      from = bucketFloor(timeZone, metric.interval, end - MAX_EVALUATE_BUCKETS * step);
      state = null;
    }
    if (from > end) return null;
    if (from === end) {
      // nothing settled yet: remember where to start, so the next collection continues from here
      if (r.evaluatedUntil === null) await this.store.saveProgress(r, null, end);
      return null;
    }
    // a rule without a state compares with the buckets before its first one (its % change look-back)
    const readFrom = state ? from : Math.max(metric.historyFrom, bucketFloor(timeZone, metric.interval, from - lookBack(r.rule) * step));
    const { starts, values } = await this.deps.catalog.totalSeries(project, metric, readFrom, end);
    let first = starts.findIndex((s) => s >= from);
    if (first < 0) first = starts.length;
    const result = evaluateThreshold(values.slice(first), r.rule, state ?? { breached: false, run: 0, history: values.slice(0, first) });
    // signals first: a crash before the state is saved only repeats them, idempotently
    await this.deps.signals.upsert(
      project.id,
      result.events.map((e) => ruleSignal(metric, r, starts[first + e.index], e)),
      [{ scopeKey: `rule:${r.id}`, until: end, stepMs: step }],
    );
    await this.store.saveProgress(r, result.state, end);
    return result.events.length;
  }
}
