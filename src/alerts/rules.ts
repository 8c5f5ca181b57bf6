/**
 * Alert rules as data: the spec (validated field by field, so a 400 names what is wrong), and the
 * pure decisions made with it — does an incident match, is its scope in cooldown, when is the next
 * digest due. Nothing here touches storage or the clock.
 */
import { Cron } from 'croner';
import { badRequest } from '../errors.js';
import { formatDistinct } from '../format/number.js';
import { SEVERITIES, SEVERITY_RANK, severityFromInput, type Severity } from '../detect/severity.js';
import type { SignalScope } from '../signals/store.js';

export const SCOPE_KINDS = ['anomaly', 'threshold', 'schema', 'distribution'] as const;
export type ScopeKind = (typeof SCOPE_KINDS)[number];
export const DIRECTIONS = ['up', 'down', 'any'] as const;
export type RuleDirection = (typeof DIRECTIONS)[number];

/** A day: an incident of a scope alerted once is not announced again for that long (the default). */
export const DEFAULT_COOLDOWN_MINUTES = 24 * 60;
/** A week: a longer cooldown is more likely a mistake than a policy (mute the rule instead). */
const MAX_COOLDOWN_MINUTES = 7 * 24 * 60;
/** Repeats more often than every 5 minutes page people faster than they can act. */
const MIN_REPEAT_MINUTES = 5;
const MAX_REPEAT_MINUTES = 7 * 24 * 60;
/** One rule fans out to at most this many destinations (each a delivery per event). */
const MAX_DESTINATIONS = 20;
const MAX_NAMES = 100;

export interface RuleFilters {
  /** empty: every kind */
  scopes: ScopeKind[];
  /** the incident's metric has one of these tags, or one of these names (empty both: any incident) */
  metricTags: string[];
  metricNames: string[];
  direction: RuleDirection;
  minSeverity: Severity;
  /** |% change| of the root signal against its expected value; items without an expected value pass */
  minPercentChange: number | null;
  /** |actual − expected| of the root signal; items without an expected value pass */
  minAbsoluteChange: number | null;
}

/** What alert_rules.spec holds. */
export interface AlertRuleSpec {
  filters: RuleFilters;
  destinationIds: number[];
  cooldownMinutes: number;
  /** while the incident stays open and unacknowledged, say it again this often; null: never */
  repeatEveryMinutes: number | null;
  notifyOnResolve: boolean;
  /** one message per period listing the incidents opened in it, instead of one per incident */
  digest: { cron: string } | null;
}

/** The settings a client sends (all optional but destinationIds on create). */
export type RuleSpecInput = Record<string, unknown>;

export const DEFAULT_FILTERS: RuleFilters = {
  scopes: [],
  metricTags: [],
  metricNames: [],
  direction: 'any',
  minSeverity: 'info',
  minPercentChange: null,
  minAbsoluteChange: null,
};

// ---- validation ----

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function knownKeys(obj: Record<string, unknown>, allowed: readonly string[], prefix: string) {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k))
      throw badRequest(`unknown setting "${prefix}${k}" (known: ${allowed.join(', ')})`, { field: `${prefix}${k}` });
  }
}

function oneOf<T extends string>(v: unknown, values: readonly T[], field: string): T {
  if (typeof v !== 'string' || !values.includes(v as T)) throw badRequest(`${field} must be one of ${values.join(', ')}`, { field });
  return v as T;
}

/** info, warning, critical; an incident's former minor, significant, major are read as those for one release */
function severityFilter(v: unknown, field: string): Severity {
  const severity = severityFromInput(v);
  if (!severity) throw badRequest(`${field} must be one of ${SEVERITIES.join(', ')}`, { field });
  return severity;
}

function stringList(v: unknown, field: string): string[] {
  if (!Array.isArray(v) || v.length > MAX_NAMES || v.some((s) => typeof s !== 'string' || s.length === 0 || s.length > 200)) {
    throw badRequest(`${field} must be a list of at most ${MAX_NAMES} non-empty names`, { field });
  }
  return [...new Set(v as string[])];
}

function nonNegative(v: unknown, field: string): number | null {
  if (v === null) return null;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw badRequest(`${field} must be a number ≥ 0, or null`, { field });
  return v;
}

function minutes(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw badRequest(`${field} must be a whole number of minutes from ${min} to ${max}`, { field });
  return v;
}

function parseFilters(v: unknown, base: RuleFilters): RuleFilters {
  if (v === undefined) return base;
  if (!isObject(v)) throw badRequest('filters must be an object', { field: 'filters' });
  knownKeys(v, Object.keys(DEFAULT_FILTERS), 'filters.');
  const f = { ...base };
  if (v.scopes !== undefined) {
    if (!Array.isArray(v.scopes))
      throw badRequest(`filters.scopes must be a list of ${SCOPE_KINDS.join(', ')}`, { field: 'filters.scopes' });
    f.scopes = [...new Set(v.scopes.map((s) => oneOf(s, SCOPE_KINDS, 'filters.scopes')))];
  }
  if (v.metricTags !== undefined) f.metricTags = stringList(v.metricTags, 'filters.metricTags');
  if (v.metricNames !== undefined) f.metricNames = stringList(v.metricNames, 'filters.metricNames');
  if (v.direction !== undefined) f.direction = oneOf(v.direction, DIRECTIONS, 'filters.direction');
  if (v.minSeverity !== undefined) f.minSeverity = severityFilter(v.minSeverity, 'filters.minSeverity');
  if (v.minPercentChange !== undefined) f.minPercentChange = nonNegative(v.minPercentChange, 'filters.minPercentChange');
  if (v.minAbsoluteChange !== undefined) f.minAbsoluteChange = nonNegative(v.minAbsoluteChange, 'filters.minAbsoluteChange');
  return f;
}

/** Throws a 400 naming the field when the cron expression is not one croner accepts. */
export function checkCron(expr: unknown, timeZone: string, field = 'digest.cron'): string {
  if (typeof expr !== 'string' || expr.trim() === '' || expr.length > 100)
    throw badRequest(`${field} must be a cron expression such as "0 9 * * 1-5"`, { field });
  try {
    const next = new Cron(expr, { timezone: timeZone, paused: true }).nextRun();
    if (!next) throw new Error('it never runs');
  } catch (err) {
    throw badRequest(`${field} "${expr}" is not a usable cron expression: ${err instanceof Error ? err.message : String(err)}`, { field });
  }
  return expr.trim();
}

export const SPEC_FIELDS: readonly string[] = [
  'filters',
  'destinationIds',
  'cooldownMinutes',
  'repeatEveryMinutes',
  'notifyOnResolve',
  'digest',
];

/**
 * A spec from a client's settings, on top of `base` (an update) or the defaults (a create).
 * Destination ids are checked for shape here; that they belong to the project is the store's check.
 */
export function parseRuleSpec(input: RuleSpecInput, timeZone: string, base?: AlertRuleSpec): AlertRuleSpec {
  knownKeys(input, SPEC_FIELDS, '');
  const spec: AlertRuleSpec = base
    ? structuredClone(base)
    : {
        filters: DEFAULT_FILTERS,
        destinationIds: [],
        cooldownMinutes: DEFAULT_COOLDOWN_MINUTES,
        repeatEveryMinutes: null,
        notifyOnResolve: true,
        digest: null,
      };
  spec.filters = parseFilters(input.filters, spec.filters);
  if (input.destinationIds !== undefined || !base) {
    const ids = input.destinationIds;
    if (
      !Array.isArray(ids) ||
      ids.length === 0 ||
      ids.length > MAX_DESTINATIONS ||
      ids.some((id) => !Number.isInteger(id) || (id as number) < 1)
    ) {
      throw badRequest(`destinationIds must list 1 to ${MAX_DESTINATIONS} destination ids`, { field: 'destinationIds' });
    }
    spec.destinationIds = [...new Set(ids as number[])];
  }
  if (input.cooldownMinutes !== undefined)
    spec.cooldownMinutes = minutes(input.cooldownMinutes, 'cooldownMinutes', 0, MAX_COOLDOWN_MINUTES);
  if (input.repeatEveryMinutes !== undefined) {
    spec.repeatEveryMinutes =
      input.repeatEveryMinutes === null
        ? null
        : minutes(input.repeatEveryMinutes, 'repeatEveryMinutes', MIN_REPEAT_MINUTES, MAX_REPEAT_MINUTES);
  }
  if (input.notifyOnResolve !== undefined) {
    if (typeof input.notifyOnResolve !== 'boolean') throw badRequest('notifyOnResolve must be true or false', { field: 'notifyOnResolve' });
    spec.notifyOnResolve = input.notifyOnResolve;
  }
  if (input.digest !== undefined) {
    if (input.digest === null) spec.digest = null;
    else {
      if (!isObject(input.digest)) throw badRequest('digest must be { cron } or null', { field: 'digest' });
      knownKeys(input.digest, ['cron'], 'digest.');
      spec.digest = { cron: checkCron(input.digest.cron, timeZone) };
    }
  }
  if (spec.digest && spec.repeatEveryMinutes !== null) {
    throw badRequest('a digest rule sends one message per period; it cannot also repeat per incident (set repeatEveryMinutes to null)', {
      field: 'repeatEveryMinutes',
    });
  }
  return spec;
}

// ---- matching ----

/** What a rule looks at in an incident: its root signal's kind, size and metric. */
export interface MatchTarget {
  scopeKind: ScopeKind;
  direction: 'up' | 'down' | null;
  severity: Severity;
  metric: { name: string; tags: string[] } | null;
  /** root signal: actual − expected, and that as % of expected; null when there is no expected value */
  absoluteChange: number | null;
  percentChange: number | null;
}

export type MatchResult = { matches: true } | { matches: false; reason: string };

const SCOPE_KIND_OF: Record<SignalScope, ScopeKind> = {
  metric: 'anomaly',
  event: 'anomaly',
  volume: 'anomaly',
  threshold: 'threshold',
  schema: 'schema',
  distribution: 'distribution',
};
const KEY_PREFIX_KIND: Record<string, ScopeKind> = {
  metric: 'anomaly',
  event: 'anomaly',
  volume: 'anomaly',
  rule: 'threshold',
  schema: 'schema',
  distribution: 'distribution',
};

/** The rule kind of a signal scope, or of an incident scope key (`metric:12`, `rule:3`, ...) when no signal is at hand. */
export function scopeKindOf(scope: SignalScope | undefined, scopeKey: string): ScopeKind {
  if (scope) return SCOPE_KIND_OF[scope];
  return KEY_PREFIX_KIND[scopeKey.split(':')[0]] ?? 'anomaly';
}

export function matchRule(f: RuleFilters, t: MatchTarget): MatchResult {
  if (f.scopes.length > 0 && !f.scopes.includes(t.scopeKind))
    return { matches: false, reason: `kind ${t.scopeKind} is not one of ${f.scopes.join(', ')}` };
  if (f.metricTags.length > 0 || f.metricNames.length > 0) {
    if (!t.metric) return { matches: false, reason: 'the rule is limited to metrics, and this incident has none' };
    const byTag = t.metric.tags.some((tag) => f.metricTags.includes(tag));
    const byName = f.metricNames.includes(t.metric.name);
    if (!byTag && !byName) return { matches: false, reason: `metric ${t.metric.name} has none of the rule's tags or names` };
  }
  if (f.direction !== 'any' && t.direction !== f.direction)
    return { matches: false, reason: `direction ${t.direction ?? 'none'} is not ${f.direction}` };
  if (SEVERITY_RANK[t.severity] < SEVERITY_RANK[f.minSeverity])
    return { matches: false, reason: `severity ${t.severity} is below ${f.minSeverity}` };
  if (f.minPercentChange !== null && t.percentChange !== null && Math.abs(t.percentChange) < f.minPercentChange) {
    return { matches: false, reason: `|% change| ${Math.abs(t.percentChange).toFixed(1)} is below ${f.minPercentChange}` };
  }
  if (f.minAbsoluteChange !== null && t.absoluteChange !== null && Math.abs(t.absoluteChange) < f.minAbsoluteChange) {
    const [change, least] = formatDistinct([Math.abs(t.absoluteChange), f.minAbsoluteChange]);
    return { matches: false, reason: `|change| ${change} is below ${least}` };
  }
  return { matches: true };
}

// ---- cooldown, repeats, digests ----

/** Whether an 'opened' alert for a scope last sent at `lastSentAt` must wait at `now`. */
export function inCooldown(spec: Pick<AlertRuleSpec, 'cooldownMinutes'>, lastSentAt: number | null, now: number): boolean {
  return lastSentAt !== null && now - lastSentAt < spec.cooldownMinutes * 60_000;
}

/**
 * The repeat number due at `now` for an alert first sent at `firstSentAt` (1 for the first repeat),
 * or 0 when none is due yet. Numbered from the first send, so every scheduler computes the same
 * number and the idempotency key of a repeat is the same wherever it is made.
 */
export function repeatDue(repeatEveryMinutes: number, firstSentAt: number, lastSentAt: number, now: number): number {
  const every = repeatEveryMinutes * 60_000;
  if (now - lastSentAt < every) return 0;
  return Math.floor((now - firstSentAt) / every);
}

/** Most runs walked when catching up on a digest (a minutely cron after a week down): older periods fold into one. */
const MAX_CATCH_UP_RUNS = 20_000;

/**
 * The end of the digest period due at `now`: the latest cron run in (since, now], or null when none
 * is due. Missed periods fold into one digest rather than a burst of them.
 */
export function digestDue(cron: string, timeZone: string, since: number, now: number): number | null {
  const job = new Cron(cron, { timezone: timeZone, paused: true });
  let due: number | null = null;
  let from = new Date(since);
  for (let i = 0; i < MAX_CATCH_UP_RUNS; i++) {
    const next = job.nextRun(from);
    if (!next || next.getTime() > now) break;
    due = next.getTime();
    from = next;
  }
  return due;
}
