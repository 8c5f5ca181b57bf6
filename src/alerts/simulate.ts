/**
 * "What would this rule have sent over the last N days": the project's incidents of that period run
 * through the rule's filters, cooldown, repeats, resolves and digest schedule, as the live path
 * would have. Counts alerts per rule (each destination would get each one). Pure: sends nothing.
 *
 * What it cannot know: mutes that were in force back then, and sends that failed; it assumes every
 * alert got through (which starts the cooldown). Incidents a backfill opened already over
 * ("historical": resolved the moment they opened) are placed where they happened — opened at their
 * first bucket, resolved at their last — since that is when a live Vigil would have alerted.
 */
import { Cron } from 'croner';
import { DateTime } from 'luxon';
import type { Incident } from '../incidents/types.js';
import { inCooldown, matchRule, type AlertRuleSpec, type MatchTarget } from './rules.js';

export interface SimulationCandidate {
  incident: Incident;
  target: MatchTarget;
}

export interface SimulatedAlert {
  event: 'opened' | 'repeat' | 'resolved' | 'digest';
  /** ISO 8601 */
  at: string;
  /** the incident (a digest: the first it lists) */
  incidentId: number;
  title: string;
  scopeKey: string;
  /** a digest: how many incidents it lists */
  incidents?: number;
}

export interface SimulationResult {
  from: string;
  to: string;
  /** incidents opened in the window */
  incidents: number;
  /** of those, the ones the rule's filters match */
  matched: number;
  /** matched incidents not announced because their scope was in cooldown */
  suppressedByCooldown: number;
  /** why the others did not match, and how many each */
  filteredOut: Record<string, number>;
  total: number;
  byEvent: Record<string, number>;
  /** every day of the window in the project's time zone, oldest first */
  perDay: { day: string; alerts: number }[];
  alerts: SimulatedAlert[];
}

const MINUTE = 60_000;
/** the reasons are keyed by their first words ("severity info is below critical" → "severity") */
const reasonKey = (reason: string) => reason.split(' ')[0];

/** When an incident opened, was acknowledged and resolved, as a live Vigil would have seen it. */
export function effectiveTimes(i: Incident): Pick<Incident, 'openedAt' | 'acknowledgedAt' | 'resolvedAt'> {
  const historical = i.resolvedAt !== null && i.resolvedAt <= i.openedAt;
  return historical ? { openedAt: i.startedBucket, acknowledgedAt: null, resolvedAt: Math.max(i.startedBucket, i.lastBucket) } : i;
}

export function simulateRule(
  spec: AlertRuleSpec,
  candidates: SimulationCandidate[],
  window: { from: number; to: number; timeZone: string },
): SimulationResult {
  const { from, to, timeZone } = window;
  const inWindow = candidates
    .map((c) => ({ ...c, incident: { ...c.incident, ...effectiveTimes(c.incident) } }))
    .filter((c) => c.incident.openedAt >= from && c.incident.openedAt < to)
    .sort((a, b) => a.incident.openedAt - b.incident.openedAt || a.incident.id - b.incident.id);
  const filteredOut: Record<string, number> = {};
  const matched: SimulationCandidate[] = [];
  for (const c of inWindow) {
    const m = matchRule(spec.filters, c.target);
    if (m.matches) matched.push(c);
    else filteredOut[reasonKey(m.reason)] = (filteredOut[reasonKey(m.reason)] ?? 0) + 1;
  }
  const alerts: SimulatedAlert[] = [];
  let suppressedByCooldown = 0;
  if (spec.digest) alerts.push(...digests(spec.digest.cron, timeZone, matched, from, to));
  else {
    const lastSent = new Map<string, number>();
    for (const { incident: i } of matched) {
      const scope = `${i.scopeKey}|${i.breakdown}|${i.direction ?? ''}`;
      if (inCooldown(spec, lastSent.get(scope) ?? null, i.openedAt)) {
        suppressedByCooldown++;
        continue;
      }
      const base = { incidentId: i.id, title: i.title, scopeKey: i.scopeKey };
      alerts.push({ ...base, event: 'opened', at: iso(i.openedAt) });
      let last = i.openedAt;
      if (spec.repeatEveryMinutes !== null) {
        const stop = Math.min(i.acknowledgedAt ?? Infinity, i.resolvedAt ?? Infinity, to);
        for (let t = i.openedAt + spec.repeatEveryMinutes * MINUTE; t < stop; t += spec.repeatEveryMinutes * MINUTE) {
          alerts.push({ ...base, event: 'repeat', at: iso(t) });
          last = t;
        }
      }
      lastSent.set(scope, last);
      if (spec.notifyOnResolve && i.resolvedAt !== null && i.resolvedAt < to)
        alerts.push({ ...base, event: 'resolved', at: iso(i.resolvedAt) });
    }
  }
  alerts.sort((a, b) => a.at.localeCompare(b.at));
  const byEvent: Record<string, number> = {};
  for (const a of alerts) byEvent[a.event] = (byEvent[a.event] ?? 0) + 1;
  return {
    from: iso(from),
    to: iso(to),
    incidents: inWindow.length,
    matched: matched.length,
    suppressedByCooldown,
    filteredOut,
    total: alerts.length,
    byEvent,
    perDay: perDay(alerts, from, to, timeZone),
    alerts,
  };
}

/** One digest per cron period that saw a matching incident open, sent at the period's end (if it came before `to`). */
function digests(cron: string, timeZone: string, matched: SimulationCandidate[], from: number, to: number): SimulatedAlert[] {
  const job = new Cron(cron, { timezone: timeZone, paused: true });
  const out: SimulatedAlert[] = [];
  let i = 0;
  while (i < matched.length) {
    // the period an incident falls in ends at the first run after it opened (empty periods are skipped)
    const next = job.nextRun(new Date(Math.max(from, matched[i].incident.openedAt)));
    if (!next || next.getTime() > to) break;
    const end = next.getTime();
    const listed: SimulationCandidate[] = [];
    while (i < matched.length && matched[i].incident.openedAt < end) listed.push(matched[i++]);
    const first = listed[0].incident;
    out.push({
      event: 'digest',
      at: iso(end),
      incidentId: first.id,
      title: first.title,
      scopeKey: first.scopeKey,
      incidents: listed.length,
    });
  }
  return out;
}

function perDay(alerts: SimulatedAlert[], from: number, to: number, timeZone: string) {
  const counts = new Map<string, number>();
  for (let d = DateTime.fromMillis(from, { zone: timeZone }).startOf('day'); d.toMillis() < to; d = d.plus({ days: 1 }))
    counts.set(d.toISODate()!, 0);
  for (const a of alerts) {
    const day = DateTime.fromISO(a.at, { zone: timeZone }).toISODate()!;
    counts.set(day, (counts.get(day) ?? 0) + 1);
  }
  return [...counts.entries()].map(([day, n]) => ({ day, alerts: n }));
}

const iso = (ms: number) => new Date(ms).toISOString();
