/**
 * Builds the AlertMessage a delivery stores: from an incident and its signals (opened, repeat,
 * reopened, resolved), from a period's incidents (digest), or a fixed sample (test). Pure: names
 * and the app's origin come in as arguments; the pages' paths come from web/app-links.ts.
 */
import type { Incident, IncidentSeverity } from '../incidents/types.js';
import type { Severity, Signal } from '../signals/store.js';
import { incidentPageUrl, metricPageUrl } from '../web/app-links.js';
import { percentDelta, type AlertEvent, type AlertItem, type AlertMessage } from './message.js';

export interface MessageProject { id: number; slug: string; name: string }
export interface MetricInfo { name: string; displayName: string; tags: string[] }

export interface ComposeContext {
  project: MessageProject;
  rule: { id: number; name: string } | null;
  /** metric names for labels and tag filters, by metric id */
  metrics: Map<number, MetricInfo>;
  /** where people open the web app, without a trailing slash (AppLinks.origin) */
  origin: string;
  now: number;
}

const SIGNAL_SEVERITY: Record<Severity, IncidentSeverity> = { info: 'minor', warning: 'significant', critical: 'major' };
const iso = (ms: number) => new Date(ms).toISOString();

/** Stable per incident: PagerDuty's dedup_key, Jira's label and Linear's lookup key. */
export const incidentDedupKey = (projectId: number, incidentId: number) => `vigil-${projectId}-incident-${incidentId}`;

const incidentLink = (c: Pick<ComposeContext, 'origin' | 'project'>, incidentId: number) => incidentPageUrl(c.origin, c.project.slug, incidentId);

/** What a person recognises: the metric's name, the event, the threshold rule (and its metric). */
export function labelOf(s: Pick<Signal, 'scope' | 'scopeKey' | 'metricId' | 'details'>, metrics: Map<number, MetricInfo>): string {
  const metric = s.metricId === null ? undefined : metrics.get(s.metricId);
  const metricName = metric?.displayName || metric?.name;
  const rest = s.scopeKey.slice(s.scopeKey.indexOf(':') + 1);
  switch (s.scope) {
    case 'metric': return metricName ?? s.scopeKey;
    case 'threshold': {
      const ruleName = typeof s.details.ruleName === 'string' ? s.details.ruleName : s.scopeKey;
      return metricName ? `${metricName}: ${ruleName}` : ruleName;
    }
    case 'event': return `event ${rest}`;
    case 'schema': return `schema of ${rest}`;
    case 'distribution': return `distribution of ${rest}`;
  }
}

export function itemOf(s: Signal, c: ComposeContext): AlertItem {
  const delta = s.expected === null ? null : s.value - s.expected;
  const link = s.metricId === null ? null : metricPageUrl(c.origin, c.project.slug, s.metricId);
  return {
    scopeKey: s.scopeKey, kind: s.kind, label: labelOf(s, c.metrics), direction: s.direction, bucket: iso(s.bucket),
    actual: s.value, expected: s.expected, delta, percentDelta: percentDelta(s.value, s.expected), severity: SIGNAL_SEVERITY[s.severity], link,
  };
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2));

function itemLine(i: AlertItem): string {
  const change = i.percentDelta === null ? '' : ` (${i.percentDelta >= 0 ? '+' : ''}${i.percentDelta.toFixed(1)} %)`;
  const expected = i.expected === null ? '' : `, expected ${fmt(i.expected)}`;
  return `• ${i.label}: ${i.kind} — ${fmt(i.actual)}${expected}${change} at ${i.bucket}`;
}

type IncidentEvent = Exclude<AlertEvent, 'digest' | 'test'>;
const HEADLINE: Record<IncidentEvent, string> = { opened: 'Incident opened', reopened: 'Incident reopened', repeat: 'Still open', resolved: 'Resolved' };

/** An opened, reopened, repeat or resolved message about one incident; its signals root first. */
export function incidentMessage(event: IncidentEvent, incident: Incident, signals: Signal[], c: ComposeContext): AlertMessage {
  const items = signals.map((s) => itemOf(s, c));
  const title = `[${c.project.name}] ${HEADLINE[event]}: ${incident.title}`;
  const lines = [
    `${HEADLINE[event]} (${incident.severity}): ${incident.title}`,
    ...items.slice(0, 10).map(itemLine),
    ...(items.length > 10 ? [`… and ${items.length - 10} more`] : []),
  ];
  const url = incidentLink(c, incident.id);
  lines.push(url);
  return {
    event, project: c.project, rule: c.rule,
    incident: {
      id: incident.id, title: incident.title, status: incident.status, severity: incident.severity, startedAt: iso(incident.startedBucket),
      dedupKey: incidentDedupKey(incident.projectId, incident.id), url,
    },
    items, title, text: lines.join('\n'), createdAt: iso(c.now),
  };
}

/** A digest: one item per incident opened in [from, to), its root signal's numbers. */
export function digestMessage(entries: { incident: Incident; root: Signal | undefined }[], period: { from: number; to: number }, c: ComposeContext): AlertMessage {
  const items: AlertItem[] = entries.map(({ incident, root }) => {
    const base = root ? itemOf(root, c) : {
      scopeKey: incident.scopeKey, kind: 'incident', label: incident.title, direction: incident.direction, bucket: iso(incident.startedBucket),
      actual: 0, expected: null, delta: null, percentDelta: null, severity: incident.severity, link: null,
    };
    return { ...base, label: incident.title, severity: incident.severity, link: incidentLink(c, incident.id) };
  });
  const title = `[${c.project.name}] ${items.length} incident${items.length === 1 ? '' : 's'} since ${iso(period.from)}`;
  const lines = [`Digest of ${c.rule?.name ?? 'alerts'}: ${items.length} incident${items.length === 1 ? '' : 's'} opened from ${iso(period.from)} to ${iso(period.to)}`, ...items.map(itemLine)];
  return { event: 'digest', project: c.project, rule: c.rule, incident: null, items, title, text: lines.join('\n'), createdAt: iso(c.now) };
}

/** "Send test": a sample item so a receiver sees every field filled in. */
export function testMessage(project: MessageProject, now: number): AlertMessage {
  const item: AlertItem = {
    scopeKey: 'test', kind: 'test', label: 'Vigil test alert', direction: 'down', bucket: iso(now - 3_600_000),
    actual: 80, expected: 100, delta: -20, percentDelta: -20, severity: 'minor', link: null,
  };
  return {
    event: 'test', project, rule: null, incident: null, items: [item],
    title: `[${project.name}] Test alert from Vigil`,
    text: 'This is a test message from Vigil: this destination is set up correctly.', createdAt: iso(now),
  };
}

/** A repeat of an alert already sent: its items as they were, the incident as it is now. */
export function asRepeat(sent: AlertMessage, incident: Incident, n: number, now: number): AlertMessage {
  const title = `[${sent.project.name}] ${HEADLINE.repeat} (${n}): ${incident.title}`;
  const [, ...rest] = sent.text.split('\n');
  return {
    ...sent,
    event: 'repeat',
    incident: sent.incident && { ...sent.incident, title: incident.title, status: incident.status, severity: incident.severity },
    title,
    text: [`${HEADLINE.repeat} (${incident.severity}, reminder ${n}): ${incident.title}`, ...rest].join('\n'),
    createdAt: iso(now),
  };
}
