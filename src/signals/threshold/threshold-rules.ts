/**
 * Threshold rules on metrics: their storage, their API operations, and their live evaluation after
 * every collection. A rule is evaluated forward only: each run continues the saved ThresholdState
 * from `evaluated_until` over the buckets that have settled since, so every bucket is evaluated
 * once and a breach or recovery is one signal (scope `threshold`, scope key `rule:<id>`), stored
 * idempotently per (rule, bucket).
 */
import type { Selectable } from 'kysely';
import {
  evaluateThreshold,
  validateRule,
  type Condition,
  type ThresholdEvent,
  type ThresholdRule,
  type ThresholdState,
} from '../../detect/threshold.js';
import { VigilError, badRequest, notFound } from '../../errors.js';
import type { Project } from '../../projects/service.js';
import type { Metric, MetricService } from '../../metrics/service.js';
import type { MetaDb, ThresholdRuleTable } from '../../storage/meta/db.js';
import { INTERVAL_MS, bucketFloor, type Interval } from '../../time/index.js';
import type { SignalService } from '../service.js';
import type { ProjectDetection } from '../settings.js';
import type { SignalInput } from '../store.js';

/** a metric's rules are few and read on every collection: a bound keeps that cheap */
export const MAX_RULES_PER_METRIC = 20;
/** a rule that fell further behind than this (paused metric, long outage) restarts from here */
const MAX_EVALUATE_BUCKETS = 50_000;

export interface ThresholdRuleRecord {
  id: number;
  projectId: number;
  metricId: number;
  name: string;
  rule: ThresholdRule;
  enabled: boolean;
  /** after the last bucket evaluated; null before the first evaluation (or after a change) */
  state: ThresholdState | null;
  /** buckets before this have been evaluated (epoch ms) */
  evaluatedUntil: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface CreateRuleInput {
  name: string;
  rule: unknown;
  enabled?: boolean;
}
export type UpdateRuleInput = Partial<CreateRuleInput>;

/** A rule from a request: validateRule's complaint becomes a 400 naming the field (`rule.condition.operator`). */
export function parseRule(raw: unknown, field = 'rule'): ThresholdRule {
  try {
    return validateRule(raw);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // validateRule's messages start with the field they are about ("condition.value must be ...")
    const first = message.split(' ')[0];
    const path = first === 'rule' ? field : `${field}.${first}`;
    throw badRequest(`${field}: ${message}`, { field: path });
  }
}

/** The buckets a rule compares with before the one being evaluated (its longest % change look-back). */
export function lookBack(rule: ThresholdRule): number {
  return Math.max(rule.condition.changeOverPeriod ?? 0, rule.recovery?.changeOverPeriod ?? 0);
}

/**
 * Start of the first bucket still settling at `now`: a bucket is held until the settling time has
 * passed since it ended (2 hours hold 2 buckets at 1h, 8 at 15m, 1 at 1d; 0 minutes none), as
 * anomaly detection holds them.
 */
export function settledUntil(timeZone: string, interval: Interval, now: number, settlingMinutes: number): number {
  return bucketFloor(timeZone, interval, now - settlingMinutes * 60_000);
}

const directionOf = (c: Condition): 'up' | 'down' | null =>
  c.operator.startsWith('>') ? 'up' : c.operator.startsWith('<') ? 'down' : null;

/** The condition an event was decided on, and the way the value moved to meet it. */
export function eventCondition(
  rule: ThresholdRule,
  e: Pick<ThresholdEvent, 'kind'>,
): { condition: Condition; direction: 'up' | 'down' | null } {
  if (e.kind === 'breach') return { condition: rule.condition, direction: directionOf(rule.condition) };
  if (rule.recovery) return { condition: rule.recovery, direction: directionOf(rule.recovery) };
  // the condition stopped holding: the value moved back the other way
  const d = directionOf(rule.condition);
  return { condition: rule.condition, direction: d === 'up' ? 'down' : d === 'down' ? 'up' : null };
}

/** A breach or recovery as a signal: anchored (and ending) at its bucket; no z, the compared value in details. */
export function ruleSignal(
  metric: Pick<Metric, 'id' | 'interval'>,
  r: Pick<ThresholdRuleRecord, 'id' | 'name' | 'rule'>,
  bucket: number,
  e: ThresholdEvent,
): SignalInput {
  const { condition, direction } = eventCondition(r.rule, e);
  return {
    scope: 'threshold',
    scopeKey: `rule:${r.id}`,
    metricId: metric.id,
    bucket,
    endBucket: bucket,
    kind: e.kind,
    direction,
    value: e.value ?? 0,
    expected: null,
    lower: null,
    upper: null,
    z: 0,
    // a breach is certain, not a probability: 1; a recovery ends one: 0
    score: e.kind === 'breach' ? 1 : 0,
    severity: e.severity,
    details: { ruleId: r.id, ruleName: r.name, compared: e.compared, condition, interval: metric.interval },
  };
}

// ---- storage ----

type Row = Selectable<ThresholdRuleTable>;

function toRecord(r: Row): ThresholdRuleRecord {
  return {
    id: Number(r.id),
    projectId: Number(r.project_id),
    metricId: Number(r.metric_id),
    name: r.name,
    rule: JSON.parse(r.rule) as ThresholdRule,
    enabled: Boolean(Number(r.enabled)),
    state: r.state === null ? null : (JSON.parse(r.state) as ThresholdState),
    evaluatedUntil: r.evaluated_until === null ? null : Number(r.evaluated_until),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

/** The threshold_rules table. Only this module's service calls it. */
export class ThresholdRuleStore {
  constructor(private db: MetaDb) {}

  async list(metricId: number): Promise<ThresholdRuleRecord[]> {
    return (await this.db.selectFrom('threshold_rules').selectAll().where('metric_id', '=', metricId).orderBy('id').execute()).map(
      toRecord,
    );
  }

  /** Every rule of the project, by metric. */
  async listProject(projectId: number): Promise<ThresholdRuleRecord[]> {
    return (
      await this.db
        .selectFrom('threshold_rules')
        .selectAll()
        .where('project_id', '=', projectId)
        .orderBy('metric_id')
        .orderBy('id')
        .execute()
    ).map(toRecord);
  }

  async get(metricId: number, id: number): Promise<ThresholdRuleRecord | undefined> {
    const row = await this.db
      .selectFrom('threshold_rules')
      .selectAll()
      .where('metric_id', '=', metricId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toRecord(row);
  }

  async byName(metricId: number, name: string): Promise<ThresholdRuleRecord | undefined> {
    const row = await this.db
      .selectFrom('threshold_rules')
      .selectAll()
      .where('metric_id', '=', metricId)
      .where('name', '=', name)
      .executeTakeFirst();
    return row && toRecord(row);
  }

  async count(metricId: number): Promise<number> {
    const row = await this.db
      .selectFrom('threshold_rules')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('metric_id', '=', metricId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** The enabled rules of these metrics. */
  async enabledFor(projectId: number, metricIds: number[]): Promise<ThresholdRuleRecord[]> {
    if (!metricIds.length) return [];
    const rows = await this.db
      .selectFrom('threshold_rules')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('metric_id', 'in', metricIds)
      .where('enabled', '=', 1)
      .orderBy('id')
      .execute();
    return rows.map(toRecord);
  }

  async insert(
    projectId: number,
    metricId: number,
    f: { name: string; rule: ThresholdRule; enabled: boolean },
    now: number,
  ): Promise<ThresholdRuleRecord> {
    const row = await this.db
      .insertInto('threshold_rules')
      .values({
        project_id: projectId,
        metric_id: metricId,
        name: f.name,
        rule: JSON.stringify(f.rule),
        enabled: f.enabled ? 1 : 0,
        state: null,
        evaluated_until: null,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toRecord(row);
  }

  /** Changes the fields given; `reset` forgets where evaluation stood (a new rule, or re-enabled). */
  async update(
    id: number,
    f: { name?: string; rule?: ThresholdRule; enabled?: boolean },
    reset: boolean,
    now: number,
  ): Promise<ThresholdRuleRecord> {
    const row = await this.db
      .updateTable('threshold_rules')
      .set({
        ...(f.name !== undefined && { name: f.name }),
        ...(f.rule !== undefined && { rule: JSON.stringify(f.rule) }),
        ...(f.enabled !== undefined && { enabled: f.enabled ? 1 : 0 }),
        ...(reset && { state: null, evaluated_until: null }),
        updated_at: now,
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return toRecord(row);
  }

  async delete(id: number): Promise<void> {
    await this.db.deleteFrom('threshold_rules').where('id', '=', id).execute();
  }

  /**
   * Saves where evaluation stands, unless the rule changed meanwhile (edited, or evaluated by a
   * concurrent collection): compare-and-set on the rule and the previous position.
   */
  async saveProgress(r: ThresholdRuleRecord, state: ThresholdState | null, evaluatedUntil: number): Promise<boolean> {
    let q = this.db
      .updateTable('threshold_rules')
      .set({ state: state === null ? null : JSON.stringify(state), evaluated_until: evaluatedUntil })
      .where('id', '=', r.id)
      .where('rule', '=', JSON.stringify(r.rule));
    q = r.evaluatedUntil === null ? q.where('evaluated_until', 'is', null) : q.where('evaluated_until', '=', r.evaluatedUntil);
    const res = await q.executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }
}

// ---- service ----

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
      const defaults = await this.deps.signals.store.projectDetection(project.id);
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
    const defaults = await this.deps.signals.store.projectDetection(project.id);
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
