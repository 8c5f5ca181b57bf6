/**
 * PagerDuty Events API v2: "trigger" for opened / repeat / test and "resolve" for resolved, both
 * with dedup_key = the incident's dedup key, so PagerDuty keeps one alert per Vigil incident.
 * Digests are not sent (they are summaries, not pages).
 */
import { badRequest } from '../../errors.js';
import type { AlertMessage } from '../message.js';
import { SKIPPED, baseUrl, optionalHttpUrl, optionalString, postJson, requireString } from './common.js';
import { itemFigures, itemKind, itemPercent, safeLink } from './render.js';
import type { DestinationDriver } from './types.js';

const DEFAULT_BASE = 'https://events.pagerduty.com';
const SUMMARY_MAX = 1024;

/**
 * Vigil severity → PagerDuty severity (critical, error, warning, info). A warning is sent as error:
 * PagerDuty's "urgency by severity" pages error and critical at high urgency, and a Vigil warning
 * (a rule's warning, an anomaly a fifth off) is meant to be looked at now.
 */
export const PAGERDUTY_SEVERITY: Record<string, 'critical' | 'error' | 'warning' | 'info'> = {
  info: 'info',
  warning: 'error',
  critical: 'critical',
};

export function pagerDutyEvent(message: AlertMessage, routingKey: string, dedupKey: string, source: string) {
  if (message.event === 'resolved') return { routing_key: routingKey, event_action: 'resolve' as const, dedup_key: dedupKey };
  const severity = message.event === 'test' ? 'info' : (PAGERDUTY_SEVERITY[message.incident?.severity ?? ''] ?? 'error');
  const summary = message.title.length > SUMMARY_MAX ? `${message.title.slice(0, SUMMARY_MAX - 1)}…` : message.title;
  const links = [
    ...(safeLink(message.incident?.url) ? [{ href: message.incident!.url!, text: 'Vigil incident' }] : []),
    ...message.items
      .filter((i) => safeLink(i.link))
      .slice(0, 5)
      .map((i) => ({ href: i.link!, text: i.label })),
  ];
  return {
    routing_key: routingKey,
    event_action: 'trigger' as const,
    dedup_key: dedupKey,
    payload: {
      summary,
      source,
      severity,
      timestamp: message.incident?.startedAt ?? message.createdAt,
      component: message.items[0]?.label,
      group: message.project.slug,
      class: message.items[0]?.kind,
      custom_details: {
        event: message.event,
        project: message.project.name,
        rule: message.rule?.name ?? null,
        text: message.text,
        items: message.items.map((i) => ({
          label: i.label,
          value: itemFigures(i),
          kind: itemKind(i),
          actual: i.actual,
          expected: i.expected,
          percentDelta: itemPercent(i),
          bucket: i.bucket,
          explanation: i.explanation ?? null,
        })),
      },
    },
    links,
    client: 'Vigil',
    ...(safeLink(message.incident?.url) ? { client_url: message.incident!.url! } : {}),
  };
}

export const pagerDutyDriver: DestinationDriver = {
  kind: 'pagerduty',
  secretFields: ['routingKey'],
  validate(config, secrets) {
    const key = requireString(secrets, 'routingKey', 'secrets', 100);
    if (!/^[A-Za-z0-9]{20,64}$/.test(key))
      throw badRequest('secrets.routingKey must be an Events API v2 integration key (32 letters and digits)', {
        field: 'secrets.routingKey',
      });
    optionalHttpUrl(config, 'baseUrl');
    optionalString(config, 'source', 'config', 255);
  },
  targets(config) {
    // the service's own endpoint is public: only a base URL the user set is checked when saving
    return config.baseUrl ? [{ field: 'config.baseUrl', url: String(config.baseUrl) }] : [];
  },
  async send(destination, message, ctx) {
    if (message.event === 'digest') return SKIPPED;
    // a test has no incident: resolve it by hand, or let it auto-resolve in PagerDuty
    const dedupKey = message.incident?.dedupKey ?? `vigil-test-${ctx.idempotencyKey}`;
    if (message.event === 'resolved' && !message.incident) return SKIPPED;
    const source = optionalString(destination.config, 'source') ?? `vigil/${message.project.slug}`;
    const event = pagerDutyEvent(message, destination.secrets.routingKey, dedupKey, source);
    const { result } = await postJson(ctx, `${baseUrl(destination.config, 'baseUrl', DEFAULT_BASE)}/v2/enqueue`, event);
    return { ...result, externalId: dedupKey };
  },
};
