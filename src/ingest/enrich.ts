import type { EventRow } from '../storage/events/event-store.js';
import type { SegmentMessage } from './segment-spec.js';
import { parseUserAgent } from './user-agent.js';

/** What the server knows about the request an event came in. */
export interface RequestInfo {
  receivedAt: number;
  ip: string;
  /** the request's User-Agent header, used only for browser requests (they carry an Origin) */
  browserUserAgent?: string;
  /** country from a trusted proxy header (CF-IPCountry), if any */
  country?: string;
}

export interface Enrichers {
  hashIp(projectId: number, ip: string, userAgent: string): string;
  sessionFor(projectId: number, distinctId: string, timestamp: number): string;
  newMessageId(): string;
}

type Obj = Record<string, unknown>;
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : null);
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});

/** Non-track calls get a reserved event name so every call can be counted and charted. */
const EVENT_NAME = { page: '$page', screen: '$screen', identify: '$identify', group: '$group', alias: '$alias' } as const;

const PLATFORM_BY_LIBRARY: [RegExp, string][] = [
  [/analytics\.js|analytics-next|browser/i, 'web'],
  [/ios|swift/i, 'ios'],
  [/android|kotlin/i, 'android'],
  [/react-native|flutter/i, 'mobile'],
  [/node|python|ruby|go|java|php|\.net|csharp|http/i, 'server'],
];

/**
 * Segment's clock-skew correction: the client's clock may be wrong, but the difference between
 * its event time and its send time is right, so timestamp = receivedAt - (sentAt - originalTimestamp).
 */
export function correctedTimestamp(m: SegmentMessage, receivedAt: number): number {
  const clientTime = m.originalTimestamp ?? m.timestamp;
  if (clientTime === undefined) return receivedAt;
  if (m.sentAt === undefined) return clientTime;
  return receivedAt - (m.sentAt - clientTime);
}

function hostOf(url: string | null): string | null {
  if (!url) return null;
  try {
    return new URL(url).hostname.replace(/^www\./, '') || null;
  } catch {
    return null;
  }
}

function pathOf(url: string | null): string | null {
  if (!url) return null;
  try {
    return new URL(url).pathname;
  } catch {
    return null;
  }
}

function propertiesOf(m: SegmentMessage): Obj {
  switch (m.type) {
    case 'identify':
      return m.traits;
    case 'group':
      return { ...m.traits, groupId: m.groupId };
    case 'alias':
      return { previousId: m.previousId };
    case 'page':
    case 'screen':
      return m.name === undefined ? m.properties : { ...m.properties, name: m.name };
    default:
      return m.properties;
  }
}

export function toEventRow(m: SegmentMessage, projectId: number, req: RequestInfo, e: Enrichers): EventRow {
  const { ip: clientIp, ...context } = m.context;
  const page = obj(context.page);
  const properties = propertiesOf(m);
  const userAgent = str(context.userAgent) ?? req.browserUserAgent ?? null;
  const agent = userAgent ? parseUserAgent(userAgent) : null;
  const distinctId = (m.userId ?? m.anonymousId) as string;
  const timestamp = correctedTimestamp(m, req.receivedAt);
  const isPage = m.type === 'page';
  const library = str(obj(context.library).name);
  const ip = str(clientIp) ?? req.ip;
  return {
    project_id: projectId,
    message_id: m.messageId ?? e.newMessageId(),
    type: m.type,
    event: m.type === 'track' ? (m.event as string) : EVENT_NAME[m.type],
    anonymous_id: m.anonymousId ?? null,
    user_id: m.userId ?? null,
    distinct_id: distinctId,
    session_id: str(context.sessionId) ?? str(obj(context.session).id) ?? e.sessionFor(projectId, distinctId, timestamp),
    timestamp,
    received_at: req.receivedAt,
    properties,
    context,
    page_path: (isPage ? str(properties.path) : null) ?? str(page.path) ?? pathOf((isPage ? str(properties.url) : null) ?? str(page.url)),
    referrer_host: hostOf((isPage ? str(properties.referrer) : null) ?? str(page.referrer)),
    app_version: str(obj(context.app).version),
    platform:
      str(context.platform) ??
      (library ? (PLATFORM_BY_LIBRARY.find(([re]) => re.test(library))?.[1] ?? null) : null) ??
      (agent?.browser ? 'web' : null),
    os: str(obj(context.os).name) ?? agent?.os ?? null,
    browser: agent?.browser ?? null,
    device_type: str(obj(context.device).type) ?? agent?.deviceType ?? null,
    country: str(obj(context.location).country) ?? req.country ?? null,
    ip_hash: ip ? e.hashIp(projectId, ip, userAgent ?? '') : null,
  };
}
