/**
 * What a threshold rule means outside its evaluation: a rule as a request gives it, the buckets it
 * looks back on and waits for, and its breaches and recoveries as signals (the backtest shares these).
 */
import { validateRule, type Condition, type ThresholdEvent, type ThresholdRule } from '../../detect/threshold.js';
import { badRequest } from '../../errors.js';
import type { Metric } from '../../metrics/service.js';
import { bucketFloor, type Interval } from '../../time/index.js';
import type { SignalInput } from '../store.js';
import type { ThresholdRuleRecord } from './threshold-rule-store.js';

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
