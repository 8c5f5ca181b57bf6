/**
 * Builds the AlertMessage a delivery stores: from an incident and its signals (opened, repeat,
 * reopened, resolved), from a period's incidents (digest), or a fixed sample (test). Pure: names
 * and the app's origin come in as arguments; the pages' paths come from http/app-links.ts.
 */
import type { Incident } from '../incidents/types.js';
import type { Signal } from '../signals/store.js';
import { incidentPageUrl, metricPageUrl } from '../http/app-links.js';
import { MAX_ITEMS_SHOWN, formatUtc, itemLine } from './destinations/render.js';
import { percentDelta, type AlertEvent, type AlertItem, type AlertMessage } from './message.js';
import { explainSignal } from '../signals/explain.js';

export interface MessageProject {
  id: number;
  slug: string;
  name: string;
}
export interface MetricInfo {
  name: string;
  displayName: string;
  tags: string[];
  unit?: string;
}

export interface ComposeContext {
  project: MessageProject;
  rule: { id: number; name: string } | null;
  /** metric names for labels and tag filters, by metric id */
  metrics: Map<number, MetricInfo>;
  /** where people open the web app, without a trailing slash (AppLinks.origin) */
  origin: string;
  now: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Stable per incident: PagerDuty's dedup_key, Jira's label and Linear's lookup key. */
export const incidentDedupKey = (projectId: number, incidentId: number) => `vigil-${projectId}-incident-${incidentId}`;

const incidentLink = (c: Pick<ComposeContext, 'origin' | 'project'>, incidentId: number) =>
  incidentPageUrl(c.origin, c.project.slug, incidentId);

/** What a person recognises: the metric's name, the event, the threshold rule (and its metric). */
export function labelOf(s: Pick<Signal, 'scope' | 'scopeKey' | 'metricId' | 'details'>, metrics: Map<number, MetricInfo>): string {
  const metric = s.metricId === null ? undefined : metrics.get(s.metricId);
  const metricName = metric?.displayName || metric?.name;
  const rest = s.scopeKey.slice(s.scopeKey.indexOf(':') + 1);
  switch (s.scope) {
    case 'metric':
      return metricName ?? s.scopeKey;
    case 'threshold': {
      const ruleName = typeof s.details.ruleName === 'string' ? s.details.ruleName : s.scopeKey;
      return metricName ? `${ruleName} (${metricName})` : ruleName;
    }
    case 'event':
      return `event ${rest}`;
    case 'volume':
      return 'project event volume';
    case 'schema':
      return `schema of ${rest}`;
    case 'distribution':
      return `distribution of ${rest}`;
  }
}

export function itemOf(s: Signal, c: ComposeContext): AlertItem {
  const delta = s.expected === null ? null : s.value - s.expected;
  const link = s.metricId === null ? null : metricPageUrl(c.origin, c.project.slug, s.metricId);
  const label = labelOf(s, c.metrics);
  return {
    scopeKey: s.scopeKey,
    kind: s.kind,
    label,
    direction: s.direction,
    bucket: iso(s.bucket),
    actual: s.value,
    expected: s.expected,
    delta,
    percentDelta: percentDelta(s.value, s.expected),
    severity: s.severity,
    link,
    explanation: explainSignal(s, {
      label: s.scope === 'metric' ? label : undefined,
      unit: s.metricId === null ? undefined : c.metrics.get(s.metricId)?.unit,
    }).sentence,
  };
}

type IncidentEvent = Exclude<AlertEvent, 'digest' | 'test'>;
const HEADLINE: Record<IncidentEvent, string> = {
  opened: 'Incident opened',
  reopened: 'Incident reopened',
  repeat: 'Still open',
  resolved: 'Resolved',
};

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The text's first line, what the title does not say: "Severity: critical · started 2026-05-01 10:00 UTC · 2 signals" */
function leadLine(incident: Incident, signals: number, extra: string[] = []): string {
  return [`Severity: ${incident.severity}`, `started ${formatUtc(incident.startedBucket)}`, plural(signals, 'signal'), ...extra].join(
    ' · ',
  );
}

/** The text after its lead: one line per item (the first MAX_ITEMS_SHOWN, the rest counted). */
function itemLines(items: AlertItem[]): string[] {
  const more = items.length - MAX_ITEMS_SHOWN;
  return [
    ...items.slice(0, MAX_ITEMS_SHOWN).flatMap((i) => [`• ${itemLine(i)}`, ...(i.explanation ? [`  ${i.explanation}`] : [])]),
    ...(more > 0 ? [`… and ${more} more`] : []),
  ];
}

/** An opened, reopened, repeat or resolved message about one incident; its signals root first. */
export function incidentMessage(event: IncidentEvent, incident: Incident, signals: Signal[], c: ComposeContext): AlertMessage {
  const items = signals.map((s) => itemOf(s, c));
  const title = `[${c.project.name}] ${HEADLINE[event]}: ${incident.title}`;
  const resolved = event === 'resolved' && incident.resolvedAt !== null ? [`resolved ${formatUtc(incident.resolvedAt)}`] : [];
  const url = incidentLink(c, incident.id);
  const lines = [leadLine(incident, items.length, resolved), ...itemLines(items), url];
  return {
    event,
    project: c.project,
    rule: c.rule,
    incident: {
      id: incident.id,
      title: incident.title,
      status: incident.status,
      severity: incident.severity,
      startedAt: iso(incident.startedBucket),
      dedupKey: incidentDedupKey(incident.projectId, incident.id),
      url,
    },
    items,
    title,
    text: lines.join('\n'),
    createdAt: iso(c.now),
  };
}

/** A digest: one item per incident opened in [from, to), its root signal's numbers. */
export function digestMessage(
  entries: { incident: Incident; root: Signal | undefined }[],
  period: { from: number; to: number },
  c: ComposeContext,
): AlertMessage {
  const items: AlertItem[] = entries.map(({ incident, root }) => {
    const base = root
      ? itemOf(root, c)
      : {
          scopeKey: incident.scopeKey,
          kind: 'incident',
          label: incident.title,
          direction: incident.direction,
          bucket: iso(incident.startedBucket),
          actual: 0,
          expected: null,
          delta: null,
          percentDelta: null,
          severity: incident.severity,
          link: null,
        };
    return { ...base, label: incident.title, severity: incident.severity, link: incidentLink(c, incident.id) };
  });
  const title = `[${c.project.name}] Digest: ${plural(items.length, 'incident')} opened since ${formatUtc(period.from)}`;
  const lines = [
    `${plural(items.length, 'incident')} opened from ${formatUtc(period.from)} to ${formatUtc(period.to)}`,
    ...itemLines(items),
  ];
  return { event: 'digest', project: c.project, rule: c.rule, incident: null, items, title, text: lines.join('\n'), createdAt: iso(c.now) };
}

/** "Send test": a sample item so a receiver sees every field filled in. */
export function testMessage(project: MessageProject, now: number): AlertMessage {
  const item: AlertItem = {
    scopeKey: 'test',
    kind: 'test',
    label: 'Vigil test alert',
    direction: 'down',
    bucket: iso(now - 3_600_000),
    actual: 80,
    expected: 100,
    delta: -20,
    percentDelta: -20,
    severity: 'info',
    link: null,
  };
  return {
    event: 'test',
    project,
    rule: null,
    incident: null,
    items: [item],
    title: `[${project.name}] Test alert from Vigil`,
    text: 'This is a test message from Vigil: this destination is set up correctly.',
    createdAt: iso(now),
  };
}

/** A repeat of an alert already sent: its items as they were, the incident as it is now. */
export function asRepeat(sent: AlertMessage, incident: Incident, n: number, now: number): AlertMessage {
  const title = `[${sent.project.name}] ${HEADLINE.repeat} (reminder ${n}): ${incident.title}`;
  const [, ...rest] = sent.text.split('\n');
  return {
    ...sent,
    event: 'repeat',
    incident: sent.incident && { ...sent.incident, title: incident.title, status: incident.status, severity: incident.severity },
    title,
    text: [leadLine(incident, sent.items.length, [`reminder ${n}`]), ...rest].join('\n'),
    createdAt: iso(now),
  };
}
