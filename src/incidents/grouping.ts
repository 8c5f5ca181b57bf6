/**
 * The pure kernels of incidents: a signal's identity, severity and title, whether two signals are
 * related (a metric defined on an event, two metrics sharing an event, or two series that moved
 * together), the grouping window, auto-resolution and the false-positive notch. No storage here:
 * the service reads what these need and writes what they decide.
 */
import { PERIODS } from '../detect/anomaly.js';
import { formatDistinct, formatNumber } from '../format/number.js';
import type { Signal } from '../signals/store.js';
import { INTERVAL_MS, INTERVALS, type Interval } from '../time/index.js';
import type { IncidentSeverity } from './types.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** healthy buckets after the last flagged one that resolve an incident (issue 6: default 3) */
export const AUTO_RESOLVE_BUCKETS = 3;
/** a signal joins an open incident whose buckets it comes within this many buckets of ... */
export const GROUP_WINDOW_BUCKETS = 2;
/** ... or within this much time, whichever is longer (a 5m metric's 2 buckets are too short to group on) */
export const GROUP_WINDOW_MIN_MS = 2 * HOUR;
/** seasonal differences correlated at least this much moved together (the 0.8) */
export const CORRELATION_MIN = 0.8;
/**
 * Two series that left their bands within one bucket of each other need less: the shared onset is
 * evidence already, the correlation (its negative, when they went opposite ways) only has to confirm it
 */
export const CO_MOVING_MIN_R = 0.6;
/** the recent window correlated: two days of hours */
export const CORRELATION_BUCKETS = 48;
/**
 * for two series that left their bands together, the window is the day up to their ends: the
 * shared onset is what is checked, and a quiet second day would only dilute it (a payments
 * outage's few orders an hour against its latency)
 */
export const CO_MOVING_BUCKETS = 24;
/** fewer paired points than this say nothing about correlation */
export const MIN_CORRELATION_POINTS = 12;
/** a false positive raises a custom sensitivity one |z| at a time up to here: bounded, so a metric never goes deaf */
export const MAX_FALSE_POSITIVE_Z = 8;
/** percent change (as a fraction) and |z| multiples of the threshold that make an anomaly incident critical or a warning */
const CRITICAL_CHANGE = 0.5,
  WARNING_CHANGE = 0.2;
const CRITICAL_Z_MULTIPLE = 3,
  WARNING_Z_MULTIPLE = 2;
/** the detector's default threshold (medium), for a signal that does not say its own */
const DEFAULT_THRESHOLD = 4;

/** What one open incident is per: the bucket is not part of it. */
export interface Identity {
  scopeKey: string;
  /** a breakdown value, '' for a total */
  breakdown: string;
  direction: 'up' | 'down' | null;
}

export function identityOf(s: Pick<Signal, 'scopeKey' | 'direction' | 'details'>): Identity {
  const b = s.details.breakdown;
  return { scopeKey: s.scopeKey, breakdown: typeof b === 'string' ? b : '', direction: s.direction };
}

/** A threshold rule's recovery: resolves its rule's open incident. */
export function isRecovery(s: Pick<Signal, 'scope' | 'kind'>): boolean {
  return s.scope === 'threshold' && s.kind === 'recovery';
}

/** info signals (recoveries, new events) are worth knowing, not acting on: they never open an incident. */
export function opensIncident(s: Pick<Signal, 'severity' | 'scope' | 'kind'>): boolean {
  return s.severity !== 'info' && !isRecovery(s);
}

/** The bucket size of a signal's series (epoch ms), or null when it does not say. */
export function stepOf(s: Pick<Signal, 'scope' | 'details'>): number | null {
  const interval = s.details.interval;
  if (typeof interval === 'string' && (INTERVALS as readonly string[]).includes(interval)) return INTERVAL_MS[interval as Interval];
  if (s.scope === 'event' || s.scope === 'volume') return HOUR;
  if (s.scope === 'schema' || s.scope === 'distribution') return DAY;
  return null;
}

/** The peak's change against the expected value as a fraction (-0.43: 43 % below), null without a usable expectation. */
export function percentChange(s: Pick<Signal, 'value' | 'expected'>): number | null {
  if (s.expected === null || s.expected === 0 || !Number.isFinite(s.expected)) return null;
  return (s.value - s.expected) / Math.abs(s.expected);
}

function thresholdOf(s: Pick<Signal, 'details'>): number {
  const t = s.details.threshold;
  return typeof t === 'number' && t > 0 ? t : DEFAULT_THRESHOLD;
}

/**
 * A threshold rule's (and a drift detector's) incident takes the signal's severity; an anomaly's
 * comes from its size: an outage, a change of half the expected value or a |z| three times the
 * threshold is critical; a fifth or twice the threshold a warning; else info.
 */
export function severityOfSignal(
  s: Pick<Signal, 'scope' | 'kind' | 'severity' | 'value' | 'expected' | 'z' | 'details'>,
): IncidentSeverity {
  if (s.scope !== 'metric' && s.scope !== 'event' && s.scope !== 'volume') return s.severity;
  if (s.kind === 'outage') return 'critical';
  const change = Math.abs(percentChange(s) ?? 0);
  const z = Math.abs(s.z) / thresholdOf(s);
  if (change >= CRITICAL_CHANGE || z >= CRITICAL_Z_MULTIPLE) return 'critical';
  if (change >= WARNING_CHANGE || z >= WARNING_Z_MULTIPLE) return 'warning';
  return 'info';
}

/** The event an event-volume (or distribution / schema) signal is about. */
export function eventOfSignal(s: Pick<Signal, 'scope' | 'scopeKey' | 'details'>): string | null {
  if (typeof s.details.event === 'string') return s.details.event;
  if (s.scope === 'event') return s.scopeKey.slice('event:'.length);
  return null;
}

/** "checkout_conversion dropped 43% below expected", "event signup volume outage", 'rule "orders above 100" breached: orders > 100 (was 130)'. */
export function titleOf(
  s: Pick<Signal, 'scope' | 'scopeKey' | 'kind' | 'direction' | 'value' | 'expected' | 'details'>,
  metricName?: string,
): string {
  const title = (() => {
    if (s.scope === 'threshold') {
      const rule = typeof s.details.ruleName === 'string' ? s.details.ruleName : s.scopeKey;
      const c = s.details.condition as { operator?: string; value?: number; changeOverPeriod?: number } | undefined;
      const what = c?.changeOverPeriod ? `${metricName ?? 'metric'} % change over ${c.changeOverPeriod} buckets` : (metricName ?? 'metric');
      const compared = typeof s.details.compared === 'number' ? s.details.compared : s.value;
      if (typeof c?.value !== 'number') return `rule "${rule}" breached (was ${formatNumber(compared)})`;
      // the threshold and the value with the digits that tell them apart: "> 0.0115 (was 0.0118)"
      const [line, was] = formatDistinct([c.value, compared]);
      return `rule "${rule}" breached: ${what} ${c.operator} ${line} (was ${was})`;
    }
    if (s.scope === 'schema') return `schema change: ${s.kind.replace(/_/g, ' ')} (${s.scopeKey.slice('schema:'.length)})`;
    if (s.scope === 'distribution') return `distribution of ${s.scopeKey.slice('distribution:'.length).replace(':', '.')} drifted`;
    const subject =
      s.scope === 'event' ? `event ${eventOfSignal(s)} volume` : s.scope === 'volume' ? 'project event volume' : (metricName ?? s.scopeKey);
    if (s.kind === 'outage') return `${subject} outage`;
    const change = percentChange(s);
    if (change === null) return `${subject} ${s.kind.replace(/_/g, ' ')}`;
    const pct = Math.round(Math.abs(change) * 100);
    const verb = s.kind === 'level_shift' ? 'shifted' : change < 0 ? 'dropped' : 'rose';
    return `${subject} ${verb} ${pct}% ${change < 0 ? 'below' : 'above'} expected`;
  })();
  return title.length > 500 ? `${title.slice(0, 499)}…` : title;
}

/**
 * The events a metric is defined on (event, ratio, per_user, aggregation); none for sql and
 * gauge metrics, or a body over all events (that would relate everything).
 */
export function eventsOfMetric(kind: string, definition: unknown): string[] {
  const d = (definition && typeof definition === 'object' ? definition : {}) as Record<string, unknown>;
  const eventOf = (o: unknown) => {
    const e = o && typeof o === 'object' ? (o as Record<string, unknown>).event : undefined;
    return typeof e === 'string' && e ? [e] : [];
  };
  switch (kind) {
    case 'event':
    case 'per_user':
    case 'aggregation':
      return eventOf(d);
    case 'ratio':
      return [...new Set([...eventOf(d.numerator), ...eventOf(d.denominator)])];
    default:
      return [];
  }
}

/** What relating a signal to another needs: its scope, its metric, the events behind it. */
export interface SignalFacts {
  scopeKey: string;
  metricId: number | null;
  events: string[];
}

/**
 * Related by definition: two scopes of one metric (a rule's breach and the metric's anomaly), a
 * metric defined on an event and that event's volume, or two metrics sharing an event. A scope is
 * never related to itself (its signals go by identity).
 */
export function relatedByDefinition(a: SignalFacts, b: SignalFacts): boolean {
  if (a.scopeKey === b.scopeKey) return false;
  if (a.metricId !== null && a.metricId === b.metricId) return true;
  return a.events.some((e) => b.events.includes(e));
}

/** Pearson's r over the positions where both have a value; null with too few points or no variance. */
export function pearson(xs: (number | null)[], ys: (number | null)[], minPoints = MIN_CORRELATION_POINTS): number | null {
  const px: number[] = [],
    py: number[] = [];
  for (let i = 0; i < Math.min(xs.length, ys.length); i++) {
    const x = xs[i],
      y = ys[i];
    if (x === null || y === null || !Number.isFinite(x) || !Number.isFinite(y)) continue;
    px.push(x);
    py.push(y);
  }
  const n = px.length;
  if (n < minPoints) return null;
  const mx = px.reduce((a, b) => a + b, 0) / n,
    my = py.reduce((a, b) => a + b, 0) / n;
  let sxy = 0,
    sxx = 0,
    syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (px[i] - mx) * (py[i] - my);
    sxx += (px[i] - mx) ** 2;
    syy += (py[i] - my) ** 2;
  }
  if (sxx === 0 || syy === 0) return null;
  return sxy / Math.sqrt(sxx * syy);
}

/** The seasonal lag of an interval (a day of buckets; 1 for weeks): differences at it remove the daily rhythm. */
export function seasonalLag(interval: Interval): number {
  return PERIODS[interval]?.[0] ?? 1;
}

/** x[t] − x[t − lag] for the last `length` points (null where either is missing). */
export function seasonalDiff(values: (number | null)[], lag: number, length = values.length - lag): (number | null)[] {
  const out: (number | null)[] = [];
  for (let t = Math.max(lag, values.length - length); t < values.length; t++) {
    const a = values[t],
      b = values[t - lag];
    out.push(a === null || b === null ? null : a - b);
  }
  return out;
}

/**
 * Whether two series of one interval moved together in their recent window: the Pearson
 * correlation of their seasonal differences (so a shared daily rhythm alone does not count, a
 * drop in the same buckets does). Each series holds `lag` buckets before the window.
 */
export function movedTogether(a: (number | null)[], b: (number | null)[], lag: number): { r: number | null; together: boolean } {
  const r = pearson(seasonalDiff(a, lag), seasonalDiff(b, lag));
  return { r, together: r !== null && r >= CORRELATION_MIN };
}

/** Whether a bucket falls within the grouping window around an incident's buckets. */
export function withinWindow(incident: { startedBucket: number; lastBucket: number }, bucket: number, stepMs: number): boolean {
  const margin = Math.max(GROUP_WINDOW_BUCKETS * stepMs, GROUP_WINDOW_MIN_MS);
  return bucket >= incident.startedBucket - margin && bucket <= incident.lastBucket + margin;
}

/**
 * Two signals that left their bands within one bucket of each other (of the coarser of their two
 * intervals), either way: the onset that co-moving series share. Opposite ways count too (a
 * payments outage: orders down, checkout latency up); the correlation must then be negative.
 */
export function startedTogether(
  a: Pick<Signal, 'bucket' | 'direction' | 'scope' | 'details'>,
  b: Pick<Signal, 'bucket' | 'direction' | 'scope' | 'details'>,
): boolean {
  if (a.direction === null || b.direction === null) return false;
  const step = Math.max(stepOf(a) ?? HOUR, stepOf(b) ?? HOUR);
  return Math.abs(a.bucket - b.bucket) <= step;
}

/** The project's total volume is what every event adds to; an event is what its metrics count. */
const CAUSE_RANK: Partial<Record<Signal['scope'], number>> = { volume: 0, event: 1 };
const causeRank = (s: Pick<Signal, 'scope'>) => CAUSE_RANK[s.scope] ?? 2;

/** an event whose relative change is this many times the total's carried the total with it: it is the cause */
export const DRIVES_TOTAL_FACTOR = 2;
/** relative changes this close (a fraction of the larger) are a tie: one series is likely a copy of the other */
export const SAME_CHANGE_TOLERANCE = 0.1;

/** Events an SDK sends on its own ($identify, $page) follow what people do; they are not its cause. */
const isAutomatic = (s: Pick<Signal, 'scope' | 'scopeKey'>) => s.scope === 'event' && s.scopeKey.startsWith('event:$');

/**
 * The order signals are taken in, and which is the root (the likely cause) of a group: the one
 * whose deviation started first; among those that started in the same bucket, the project's total
 * volume (everything dropped at once), then an event's volume, before the metrics computed from
 * them; then the largest relative change (a 6× signup spike before the identify calls it drags
 * along); on a tie (one series a copy of the other: every sign-up sends an $identify), an event
 * people trigger before one an SDK sends on its own; then the older. One exception: an event that
 * moved far more than the total (a spike of one event that lifted the total) goes before it.
 */
type Rooted = Pick<Signal, 'bucket' | 'scope' | 'scopeKey' | 'id' | 'value' | 'expected'>;
export function rootOrder(a: Rooted, b: Rooted): number {
  const change = (s: Pick<Signal, 'value' | 'expected'>) => Math.abs(percentChange(s) ?? 0);
  if (a.bucket !== b.bucket) return a.bucket - b.bucket;
  const drives = (x: typeof a, total: typeof a) =>
    x.scope === 'event' && total.scope === 'volume' && change(x) >= DRIVES_TOTAL_FACTOR * change(total);
  if (drives(a, b)) return -1;
  if (drives(b, a)) return 1;
  const ca = change(a),
    cb = change(b);
  const tie = Math.abs(ca - cb) <= SAME_CHANGE_TOLERANCE * Math.max(ca, cb);
  return causeRank(a) - causeRank(b) || (tie ? 0 : cb - ca) || Number(isAutomatic(a)) - Number(isAutomatic(b)) || cb - ca || a.id - b.id;
}

/** Only threshold rules say themselves when they recover; every other scope resolves on healthy coverage. */
export function resolvesOnCoverage(scopeKey: string): boolean {
  return !scopeKey.startsWith('rule:');
}

/** A coverage key (`metric:3`, or a prefix ending in `*`) covers a scope key. */
export function coverageMatches(coverageKey: string, scopeKey: string): boolean {
  return coverageKey.endsWith('*') ? scopeKey.startsWith(coverageKey.slice(0, -1)) : coverageKey === scopeKey;
}

/** The scoring point from which the `n` buckets after `lastBucket` have all been scored healthy. */
export function healthyFrom(lastBucket: number, stepMs: number, n = AUTO_RESOLVE_BUCKETS): number {
  return lastBucket + (n + 1) * stepMs;
}

export type SensitivitySetting = 'low' | 'medium' | 'high' | number;
const NAMED_Z = { high: 3, medium: 4, low: 5 } as const;

/**
 * One notch less sensitive: high → medium → low, then a custom |z| one higher, up to
 * MAX_FALSE_POSITIVE_Z; null when already there (bounded).
 */
export function raiseSensitivity(current: SensitivitySetting): SensitivitySetting | null {
  if (current === 'high') return 'medium';
  if (current === 'medium') return 'low';
  const z = current === 'low' ? NAMED_Z.low : current;
  if (z >= MAX_FALSE_POSITIVE_Z) return null;
  return Math.min(MAX_FALSE_POSITIVE_Z, z + 1);
}

export function mean(xs: number[]): number | null {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

export function median(xs: number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
