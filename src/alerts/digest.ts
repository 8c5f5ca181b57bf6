/**
 * Digest rules: instead of one alert per incident, one message per cron period (in the project's
 * time zone) listing the matching incidents opened in it. A period with none sends nothing. Periods
 * missed while Vigil was down fold into one digest. Pure: the service reads and writes.
 */
import type { Incident } from '../incidents/types.js';
import type { Signal } from '../signals/store.js';
import type { AlertRule } from './rule-store.js';
import { digestDue, matchRule, type AlertRuleSpec, type MatchTarget } from './rules.js';

export interface DigestCandidate {
  incident: Incident;
  signals: Signal[];
  target: MatchTarget;
}

export interface DigestPeriod {
  /** incidents opened in [from, to) */
  from: number;
  to: number;
}

/** The period a digest rule owes at `now`, or null when its next run has not come yet. The first starts when the rule was made. */
export function duePeriod(rule: Pick<AlertRule, 'spec' | 'digestUntil' | 'createdAt'>, timeZone: string, now: number): DigestPeriod | null {
  if (!rule.spec.digest) return null;
  const from = rule.digestUntil ?? rule.createdAt;
  const to = digestDue(rule.spec.digest.cron, timeZone, from, now);
  return to === null ? null : { from, to };
}

/**
 * The incidents a digest lists: opened in the period, matching the rule's filters, not muted, and
 * not history a backfill opened already over (resolved the moment it opened); oldest first.
 */
export function digestEntries(
  spec: Pick<AlertRuleSpec, 'filters'>,
  candidates: DigestCandidate[],
  period: DigestPeriod,
  now: number,
): DigestCandidate[] {
  return candidates
    .filter((c) => c.incident.openedAt >= period.from && c.incident.openedAt < period.to)
    .filter((c) => !(c.incident.resolvedAt !== null && c.incident.resolvedAt <= c.incident.openedAt))
    .filter((c) => !(c.incident.mutedUntil !== null && c.incident.mutedUntil > now))
    .filter((c) => matchRule(spec.filters, c.target).matches)
    .sort((a, b) => a.incident.openedAt - b.incident.openedAt || a.incident.id - b.incident.id);
}
