import type { EventRow, EventStore, Measure, Dimension } from '../storage/events/event-store.js';
import { NONE_KEY, OTHER_KEY } from '../storage/events/event-store.js';
import type { Project } from '../projects/service.js';
import { badRequest } from '../errors.js';
import { MAX_BUCKETS, type Window } from '../time/window.js';
import { INTERVAL_MS, bucketStarts, formatBucket, isoTime, slotsFor, type Interval } from '../time/index.js';

export interface SeriesResult {
  interval: Interval;
  timeZone: string;
  measure: Measure;
  from: string;
  to: string;
  buckets: string[];
  series: { key: string; label: string; values: number[]; total: number }[];
}

const label = (key: string) => (key === OTHER_KEY ? 'other' : key === NONE_KEY ? '(none)' : key);

export async function timeseries(
  store: EventStore,
  project: Project,
  q: { event?: string; interval: Interval; window: Window; measure: Measure; breakdown?: Dimension; limit: number },
): Promise<SeriesResult> {
  const tz = project.timeZone;
  const size = INTERVAL_MS[q.interval];
  const tooMany = (n: string | number) =>
    badRequest(
      `that window holds ${n} ${q.interval} buckets; at most ${MAX_BUCKETS} are allowed, choose a larger interval or a shorter window`,
      { field: 'interval' },
    );
  // refuse a huge window before enumerating its buckets (bucketStarts would throw a RangeError)
  const estimate = Math.ceil((q.window.toMs - q.window.fromMs) / size);
  if (estimate > MAX_BUCKETS + 2) throw tooMany(`about ${estimate}`);
  const starts = bucketStarts(tz, q.interval, q.window.fromMs, q.window.toMs);
  if (starts.length > MAX_BUCKETS) throw tooMany(starts.length);
  const fromMs = starts[0];
  // counts add up across finer grains; distinct users or sessions must be counted per bucket
  const slots = slotsFor(tz, q.interval, fromMs, q.window.toMs, q.measure === 'events', starts);
  const rows = await store.timeseries({
    projectId: project.id,
    event: q.event,
    fromMs,
    toMs: q.window.toMs,
    ...slots.spec,
    measure: q.measure,
    breakdown: q.breakdown,
    limit: q.limit,
  });
  const bucketOf = slots.bucketOf;

  const byKey = new Map<string, number[]>();
  // slots arrive sorted; consecutive slots usually share a bucket, so its floor is reused
  let lastSlot = NaN,
    lastBucket = 0;
  for (const r of rows) {
    if (r.slotMs !== lastSlot) {
      lastSlot = r.slotMs;
      lastBucket = bucketOf(r.slotMs);
    }
    if (lastBucket < 0) continue;
    const key = r.key ?? 'total';
    let values = byKey.get(key);
    if (!values) byKey.set(key, (values = new Array(starts.length).fill(0)));
    values[lastBucket] += r.value;
  }
  if (!q.breakdown && !byKey.size) byKey.set('total', new Array(starts.length).fill(0));
  const series = [...byKey].map(([key, values]) => ({ key, label: label(key), values, total: values.reduce((a, b) => a + b, 0) }));
  series.sort((a, b) => Number(a.key === OTHER_KEY) - Number(b.key === OTHER_KEY) || b.total - a.total || a.key.localeCompare(b.key));
  return {
    interval: q.interval,
    timeZone: tz,
    measure: q.measure,
    from: formatBucket(tz, q.interval, fromMs),
    to: new Date(q.window.toMs).toISOString(),
    buckets: starts.map((s) => formatBucket(tz, q.interval, s)),
    series,
  };
}

/** The earliest instant a JavaScript Date can hold; a previous window never starts before it. */
const EARLIEST_MS = -8.64e15;

export async function overview(store: EventStore, project: Project, window: Window) {
  const length = window.toMs - window.fromMs;
  const [current, previous] = await Promise.all([
    store.totals({ projectId: project.id, ...window }),
    store.totals({ projectId: project.id, fromMs: Math.max(window.fromMs - length, EARLIEST_MS), toMs: window.fromMs }),
  ]);
  const change = (c: number, p: number) => (p === 0 ? null : (c - p) / p);
  return {
    from: new Date(window.fromMs).toISOString(),
    to: new Date(window.toMs).toISOString(),
    current,
    previous,
    change: {
      events: change(current.events, previous.events),
      users: change(current.users, previous.users),
      sessions: change(current.sessions, previous.sessions),
    },
  };
}

export function eventForApi(r: EventRow) {
  return {
    messageId: r.message_id,
    type: r.type,
    event: r.event,
    userId: r.user_id,
    anonymousId: r.anonymous_id,
    distinctId: r.distinct_id,
    sessionId: r.session_id,
    timestamp: isoTime(r.timestamp),
    receivedAt: isoTime(r.received_at),
    properties: r.properties,
    context: r.context,
    pagePath: r.page_path,
    referrerHost: r.referrer_host,
    appVersion: r.app_version,
    platform: r.platform,
    os: r.os,
    browser: r.browser,
    deviceType: r.device_type,
    country: r.country,
  };
}

export function encodeCursor(r: EventRow): string {
  return Buffer.from(JSON.stringify([r.timestamp, r.message_id])).toString('base64url');
}

export function decodeCursor(cursor: string): { timestamp: number; messageId: string } {
  try {
    const [timestamp, messageId] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Number.isSafeInteger(timestamp) && typeof messageId === 'string') return { timestamp, messageId };
  } catch {
    // fall through to the error below
  }
  throw badRequest('cursor is not valid; use the nextCursor of a previous page', { field: 'cursor' });
}
