import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { correctedTimestamp, toEventRow, type Enrichers, type RequestInfo } from '../../src/ingest/enrich.js';
import type { SegmentMessage } from '../../src/ingest/segment-spec.js';

const RECEIVED = Date.UTC(2026, 2, 10, 12, 0, 0);
const CHROME_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';

function msg(m: Partial<SegmentMessage>): SegmentMessage {
  return { type: 'track', event: 'E', userId: 'u1', properties: {}, traits: {}, context: {}, ...m };
}

/** Enrichers that record their inputs, so the test sees what toEventRow asked for. */
function recordingEnrichers() {
  const hashed: { projectId: number; ip: string; ua: string }[] = [];
  const sessions: { projectId: number; distinctId: string; timestamp: number }[] = [];
  const e: Enrichers = {
    hashIp: (projectId, ip, ua) => {
      hashed.push({ projectId, ip, ua });
      return `hash#${hashed.length}`;
    },
    sessionFor: (projectId, distinctId, timestamp) => {
      sessions.push({ projectId, distinctId, timestamp });
      return 'session-from-tracker';
    },
    newMessageId: () => 'generated-id',
  };
  return { e, hashed, sessions };
}

const req = (extra: Partial<RequestInfo> = {}): RequestInfo => ({ receivedAt: RECEIVED, ip: '10.1.2.3', ...extra });

describe('correctedTimestamp', () => {
  test('no client time: the receive time', () => {
    assert.equal(correctedTimestamp(msg({}), RECEIVED), RECEIVED);
  });

  test('a timestamp without sentAt is kept as given (historical imports)', () => {
    const ts = Date.UTC(2024, 0, 1);
    assert.equal(correctedTimestamp(msg({ timestamp: ts }), RECEIVED), ts);
  });

  test('a client clock one hour fast: the event lands 10 s before receipt, not an hour in the future', () => {
    const fast = RECEIVED + 3600_000;
    assert.equal(correctedTimestamp(msg({ originalTimestamp: fast, sentAt: fast + 10_000 }), RECEIVED), RECEIVED - 10_000);
  });

  test('a client clock 2 days slow is corrected the same way', () => {
    const slow = RECEIVED - 2 * 86_400_000;
    assert.equal(correctedTimestamp(msg({ originalTimestamp: slow - 60_000, sentAt: slow }), RECEIVED), RECEIVED - 60_000);
  });

  test('originalTimestamp is preferred over timestamp for the correction', () => {
    const t = RECEIVED + 5000;
    assert.equal(correctedTimestamp(msg({ timestamp: t - 999_999, originalTimestamp: t - 3000, sentAt: t }), RECEIVED), RECEIVED - 3000);
  });

  test('with sentAt but only timestamp, timestamp is the client time that gets corrected', () => {
    assert.equal(correctedTimestamp(msg({ timestamp: 1000, sentAt: 4000 }), RECEIVED), RECEIVED - 3000);
  });

  test('sentAt alone changes nothing', () => {
    assert.equal(correctedTimestamp(msg({ sentAt: RECEIVED + 777 }), RECEIVED), RECEIVED);
  });
});

describe('toEventRow', () => {
  test('a track call: ids, names, times and the generated message id', () => {
    const { e, sessions } = recordingEnrichers();
    const row = toEventRow(msg({ event: 'Order Completed', userId: 'u1', anonymousId: 'a1', properties: { total: 12.5 } }), 9, req(), e);
    assert.equal(row.project_id, 9);
    assert.equal(row.message_id, 'generated-id');
    assert.equal(row.type, 'track');
    assert.equal(row.event, 'Order Completed');
    assert.equal(row.user_id, 'u1');
    assert.equal(row.anonymous_id, 'a1');
    assert.equal(row.distinct_id, 'u1');
    assert.equal(row.timestamp, RECEIVED);
    assert.equal(row.received_at, RECEIVED);
    assert.deepEqual(row.properties, { total: 12.5 });
    assert.equal(row.session_id, 'session-from-tracker');
    assert.deepEqual(sessions, [{ projectId: 9, distinctId: 'u1', timestamp: RECEIVED }]);
  });

  test('a given messageId is kept; the distinct id falls back to anonymousId', () => {
    const { e } = recordingEnrichers();
    const row = toEventRow(msg({ messageId: 'm-1', userId: undefined, anonymousId: 'anon-9' }), 1, req(), e);
    assert.equal(row.message_id, 'm-1');
    assert.equal(row.distinct_id, 'anon-9');
    assert.equal(row.user_id, null);
  });

  test('non-track calls get reserved event names and their own properties', () => {
    const { e } = recordingEnrichers();
    const row = (m: Partial<SegmentMessage>) => toEventRow(msg({ event: undefined, ...m }), 1, req(), e);
    assert.equal(row({ type: 'page' }).event, '$page');
    assert.equal(row({ type: 'screen' }).event, '$screen');
    const identify = row({ type: 'identify', traits: { plan: 'pro' }, properties: { ignored: true } });
    assert.equal(identify.event, '$identify');
    assert.deepEqual(identify.properties, { plan: 'pro' });
    const group = row({ type: 'group', groupId: 'acme', traits: { seats: 5 } });
    assert.equal(group.event, '$group');
    assert.deepEqual(group.properties, { seats: 5, groupId: 'acme' });
    const alias = row({ type: 'alias', previousId: 'anon-1' });
    assert.equal(alias.event, '$alias');
    assert.deepEqual(alias.properties, { previousId: 'anon-1' });
    assert.deepEqual(row({ type: 'page', name: 'Pricing', properties: { path: '/p' } }).properties, { path: '/p', name: 'Pricing' });
  });

  test('context.ip is removed from the stored context and used for the hash instead of the request IP', () => {
    const { e, hashed } = recordingEnrichers();
    const row = toEventRow(msg({ context: { ip: '203.0.113.5', userAgent: CHROME_WINDOWS, locale: 'en' } }), 4, req(), e);
    assert.deepEqual(row.context, { userAgent: CHROME_WINDOWS, locale: 'en' });
    assert.deepEqual(hashed, [{ projectId: 4, ip: '203.0.113.5', ua: CHROME_WINDOWS }]);
    assert.equal(row.ip_hash, 'hash#1');
    assert.ok(!JSON.stringify(row).includes('203.0.113.5'), 'the IP appears nowhere in the row');
    assert.ok(!JSON.stringify(row).includes('10.1.2.3'), 'nor does the request IP');
  });

  test('without context.ip the request IP is hashed; without any IP there is no hash', () => {
    const one = recordingEnrichers();
    toEventRow(msg({}), 1, req({ browserUserAgent: IPHONE }), one.e);
    assert.deepEqual(one.hashed, [{ projectId: 1, ip: '10.1.2.3', ua: IPHONE }]);
    const none = recordingEnrichers();
    assert.equal(toEventRow(msg({}), 1, req({ ip: '' }), none.e).ip_hash, null);
    assert.equal(none.hashed.length, 0);
  });

  test('a Chrome on Windows agent: browser, OS, desktop, platform web', () => {
    const { e } = recordingEnrichers();
    const row = toEventRow(msg({ context: { userAgent: CHROME_WINDOWS } }), 1, req(), e);
    assert.equal(row.browser, 'Chrome');
    assert.equal(row.os, 'Windows');
    assert.equal(row.device_type, 'desktop');
    assert.equal(row.platform, 'web');
  });

  test("an iPhone agent is mobile; the request's agent is used when context has none", () => {
    const { e } = recordingEnrichers();
    const row = toEventRow(msg({}), 1, req({ browserUserAgent: IPHONE }), e);
    assert.equal(row.device_type, 'mobile');
    assert.equal(row.os, 'iOS');
    assert.equal(row.browser, 'Mobile Safari');
  });

  test('explicit context fields win over the parsed agent', () => {
    const { e } = recordingEnrichers();
    const row = toEventRow(
      msg({ context: { userAgent: CHROME_WINDOWS, os: { name: 'ChromeOS' }, device: { type: 'tablet' }, platform: 'kiosk' } }),
      1,
      req(),
      e,
    );
    assert.equal(row.os, 'ChromeOS');
    assert.equal(row.device_type, 'tablet');
    assert.equal(row.platform, 'kiosk');
    assert.equal(row.browser, 'Chrome');
  });

  test('a page call takes path and referrer host from its properties, www. stripped', () => {
    const { e } = recordingEnrichers();
    const row = toEventRow(
      msg({
        type: 'page',
        properties: { path: '/pricing', url: 'https://shop.example/other', referrer: 'https://www.google.com/search?q=x' },
      }),
      1,
      req(),
      e,
    );
    assert.equal(row.page_path, '/pricing');
    assert.equal(row.referrer_host, 'google.com');
  });

  test('a page call without a path takes it from the URL', () => {
    const { e } = recordingEnrichers();
    assert.equal(toEventRow(msg({ type: 'page', properties: { url: 'https://shop.example/a/b?c=1' } }), 1, req(), e).page_path, '/a/b');
  });

  test('a page call with only context.page (url and referrer) fills both columns', () => {
    const { e } = recordingEnrichers();
    const row = toEventRow(
      msg({ type: 'page', context: { page: { url: 'https://shop.example/docs/start?x=1', referrer: 'https://www.news.example/item' } } }),
      1,
      req(),
      e,
    );
    assert.equal(row.page_path, '/docs/start');
    assert.equal(row.referrer_host, 'news.example');
  });

  test('a track call takes the page from context.page, not from its properties', () => {
    const { e } = recordingEnrichers();
    const row = toEventRow(
      msg({
        properties: { path: '/not-a-page', referrer: 'https://x.example' },
        context: { page: { path: '/cart', referrer: 'https://www.bing.com/' } },
      }),
      1,
      req(),
      e,
    );
    assert.equal(row.page_path, '/cart');
    assert.equal(row.referrer_host, 'bing.com');
  });

  test('a referrer that is not a URL, or empty, gives no host', () => {
    const { e } = recordingEnrichers();
    assert.equal(toEventRow(msg({ type: 'page', properties: { referrer: 'not a url' } }), 1, req(), e).referrer_host, null);
    assert.equal(toEventRow(msg({ type: 'page', properties: { referrer: '' } }), 1, req(), e).referrer_host, null);
  });

  test('country from context.location, else from the trusted proxy header', () => {
    const { e } = recordingEnrichers();
    assert.equal(toEventRow(msg({ context: { location: { country: 'DE' } } }), 1, req({ country: 'FR' }), e).country, 'DE');
    assert.equal(toEventRow(msg({}), 1, req({ country: 'FR' }), e).country, 'FR');
    assert.equal(toEventRow(msg({}), 1, req(), e).country, null);
  });

  test('app version and platform from the library name', () => {
    const { e } = recordingEnrichers();
    const lib = (name: string) => toEventRow(msg({ context: { library: { name } } }), 1, req(), e).platform;
    assert.equal(lib('analytics.js'), 'web');
    assert.equal(lib('analytics-ios'), 'ios');
    assert.equal(lib('analytics-android'), 'android');
    assert.equal(lib('analytics-react-native'), 'mobile');
    assert.equal(lib('@segment/analytics-node'), 'server');
    assert.equal(toEventRow(msg({ context: { app: { version: '3.1.4' } } }), 1, req(), e).app_version, '3.1.4');
  });

  test('a session id from the client is kept and the tracker is not asked', () => {
    const { e, sessions } = recordingEnrichers();
    assert.equal(toEventRow(msg({ context: { sessionId: 'client-s1' } }), 1, req(), e).session_id, 'client-s1');
    assert.equal(toEventRow(msg({ context: { session: { id: 'client-s2' } } }), 1, req(), e).session_id, 'client-s2');
    assert.equal(sessions.length, 0);
  });

  test('the corrected timestamp is stored, and sessions are keyed by it', () => {
    const { e, sessions } = recordingEnrichers();
    const fast = RECEIVED + 3600_000;
    const row = toEventRow(msg({ originalTimestamp: fast, sentAt: fast + 10_000 }), 1, req(), e);
    assert.equal(row.timestamp, RECEIVED - 10_000);
    assert.equal(sessions[0].timestamp, RECEIVED - 10_000);
  });
});
