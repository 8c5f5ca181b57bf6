/**
 * Threshold rules: a condition on a metric's value (or on its % change against the same bucket
 * one period earlier), held for N consecutive buckets before it fires, with an optional separate
 * recovery condition (hysteresis) so a value hovering at the line does not flap.
 *
 * Pure and strictly causal: the event at bucket i uses values up to i only. `ThresholdState`
 * carries what a later call needs (breached flag, current run, the last `period` values), so
 * live collection can feed new buckets as they arrive and get the same events as one long run.
 * Event indices are positions in the `values` passed to that call.
 */
import { SEVERITIES, type Severity } from './severity.js';

export { SEVERITIES, type Severity };

export const THRESHOLD_OPERATORS = ['>', '>=', '<', '<=', '==', '!='] as const;
export type ThresholdOperator = (typeof THRESHOLD_OPERATORS)[number];

/** Relative tolerance of equality: sums of money or ratios rarely land exactly on the line. */
export const EQUALITY_TOLERANCE = 1e-9;
/** Longest % change look-back: a week of 5-minute buckets (2,016); bounds the state kept per rule. */
export const MAX_CHANGE_PERIOD = 2016;

export interface Condition {
  operator: ThresholdOperator;
  value: number;
  /** compare the % change against the same bucket `period` buckets earlier instead of the value */
  changeOverPeriod?: number;
}

export interface ThresholdRule {
  condition: Condition;
  /** consecutive breaching buckets before it fires (default 1) */
  forBuckets?: number;
  /** when set, the breach ends only when this holds (for `recoverFor` buckets, default 1); else when the condition stops holding */
  recovery?: Condition;
  recoverFor?: number;
  severity: Severity;
}

export interface ThresholdEvent {
  kind: 'breach' | 'recovery';
  /** bucket index in the `values` of this call */
  index: number;
  value: number | null;
  /** the value or the % change that was compared */
  compared: number | null;
  severity: Severity;
}

export interface ThresholdState {
  breached: boolean;
  /** consecutive buckets meeting the condition (while not breached) or the recovery (while breached) */
  run: number;
  /** the last values seen, oldest first, as many as the longest `changeOverPeriod` (null = gap) */
  history: (number | null)[];
}

/** a == b within EQUALITY_TOLERANCE relative to the larger magnitude. */
function nearlyEqual(a: number, b: number): boolean {
  return Math.abs(a - b) <= EQUALITY_TOLERANCE * Math.max(Math.abs(a), Math.abs(b));
}

/** Whether `x` satisfies `op value`; the ordering operators agree with the tolerant equality. */
export function holds(operator: ThresholdOperator, x: number, value: number): boolean {
  const eq = nearlyEqual(x, value);
  switch (operator) {
    case '>':
      return x > value && !eq;
    case '>=':
      return x > value || eq;
    case '<':
      return x < value && !eq;
    case '<=':
      return x < value || eq;
    case '==':
      return eq;
    case '!=':
      return !eq;
  }
}

/** % change of `now` against `past`, signed by direction (|past| in the denominator); null when there is nothing to compare with. */
export function percentChange(now: number | null, past: number | null | undefined): number | null {
  if (now === null || past === null || past === undefined || past === 0) return null;
  return ((now - past) / Math.abs(past)) * 100;
}

export function evaluateThreshold(
  values: (number | null)[],
  rule: ThresholdRule,
  state?: ThresholdState,
): { events: ThresholdEvent[]; state: ThresholdState } {
  const forBuckets = rule.forBuckets ?? 1;
  const recoverFor = rule.recoverFor ?? 1;
  const keep = Math.max(rule.condition.changeOverPeriod ?? 0, rule.recovery?.changeOverPeriod ?? 0);
  const history = state?.history ?? [];
  // Past and present in one array: position history.length + i is bucket i of this call.
  const all = [...history, ...values].map((v) => (v !== null && Number.isFinite(v) ? v : null));
  let breached = state?.breached ?? false;
  let run = state?.run ?? 0;
  const events: ThresholdEvent[] = [];

  const comparedAt = (c: Condition, pos: number): number | null => {
    const v = all[pos];
    if (c.changeOverPeriod === undefined) return v;
    return percentChange(v, pos - c.changeOverPeriod >= 0 ? all[pos - c.changeOverPeriod] : null);
  };

  for (let i = 0; i < values.length; i++) {
    const pos = history.length + i;
    const c = breached ? (rule.recovery ?? rule.condition) : rule.condition;
    const x = comparedAt(c, pos);
    if (x === null) {
      run = 0;
      continue;
    } // a gap (or no % comparison) breaks the run
    const met = holds(c.operator, x, c.value);
    // Not breached: count buckets meeting the condition. Breached: count buckets meeting the
    // recovery, or, without one, buckets where the condition no longer holds.
    const counts = breached && !rule.recovery ? !met : met;
    run = counts ? run + 1 : 0;
    if (run < (breached ? recoverFor : forBuckets)) continue;
    events.push({ kind: breached ? 'recovery' : 'breach', index: i, value: all[pos], compared: x, severity: rule.severity });
    breached = !breached;
    run = 0; // the bucket that switched state does not count towards the next switch
  }
  return { events, state: { breached, run, history: keep > 0 ? all.slice(-keep) : [] } };
}

// ---- validation (the HTTP layer turns these Errors into 400s) ----

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function positiveInt(x: unknown, field: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof x !== 'number' || !Number.isInteger(x) || x < 1 || x > max) {
    throw new Error(`${field} must be an integer from 1 to ${max}`);
  }
  return x;
}

function validateCondition(x: unknown, field: string): Condition {
  if (!isRecord(x)) throw new Error(`${field} must be an object`);
  if (!THRESHOLD_OPERATORS.includes(x.operator as ThresholdOperator)) {
    throw new Error(`${field}.operator must be one of ${THRESHOLD_OPERATORS.join(' ')}`);
  }
  if (typeof x.value !== 'number' || !Number.isFinite(x.value)) throw new Error(`${field}.value must be a finite number`);
  const c: Condition = { operator: x.operator as ThresholdOperator, value: x.value };
  if (x.changeOverPeriod !== undefined) {
    c.changeOverPeriod = positiveInt(x.changeOverPeriod, `${field}.changeOverPeriod`, MAX_CHANGE_PERIOD);
  }
  return c;
}

/** Checks an untrusted rule and returns a clean copy (unknown fields dropped); throws naming the field. */
export function validateRule(rule: unknown): ThresholdRule {
  if (!isRecord(rule)) throw new Error('rule must be an object');
  const condition = validateCondition(rule.condition, 'condition');
  if (!SEVERITIES.includes(rule.severity as Severity)) throw new Error(`severity must be one of ${SEVERITIES.join(' ')}`);
  const out: ThresholdRule = { condition, severity: rule.severity as Severity };
  if (rule.forBuckets !== undefined) out.forBuckets = positiveInt(rule.forBuckets, 'forBuckets');
  if (rule.recovery !== undefined) out.recovery = validateCondition(rule.recovery, 'recovery');
  if (rule.recoverFor !== undefined) out.recoverFor = positiveInt(rule.recoverFor, 'recoverFor');
  return out;
}
