import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Analytics } from '@segment/analytics-node';
import { startTestApp, getJson, type TestApp } from '../helpers/app.js';

/** Every stored event of the project, through the API (keyset pages of 1,000). */
async function allEvents(t: TestApp): Promise<any[]> {
  const out: any[] = [];
  let cursor: string | null = null;
  do {
    const q: string = `limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page = await getJson(`${t.url}/api/projects/${t.project.slug}/events?${q}`, t.readKey);
    assert.equal(page.status, 200, JSON.stringify(page.body));
    out.push(...page.body.events);
    cursor = page.body.nextCursor;
  } while (cursor);
  return out;
}

/** What Vigil stores as an event's properties, per call type (see ingest/enrich.ts). */
function expectedProperties(m: any): Record<string, unknown> {
  switch (m.type) {
    case 'identify':
      return m.traits ?? {};
    case 'group':
      return { ...(m.traits ?? {}), groupId: m.groupId };
    case 'alias':
      return { previousId: m.previousId };
    case 'page':
    case 'screen':
      return m.name === undefined ? (m.properties ?? {}) : { ...(m.properties ?? {}), name: m.name };
    default:
      return m.properties ?? {};
  }
}

const EVENT_NAME: Record<string, string> = { page: '$page', screen: '$screen', identify: '$identify', group: '$group', alias: '$alias' };

test('@segment/analytics-node: 250 calls of every type are all stored once, with their types, names, ids and properties', async () => {
  const t = await startTestApp();
  const analytics = new Analytics({ writeKey: t.writeKey, host: t.url, flushAt: 20, flushInterval: 100, maxRetries: 3 });
  const errors: unknown[] = [];
  const statuses: number[] = [];
  /** every message the client put on the wire, by messageId (a retry sends the same ids again) */
  const sent = new Map<string, any>();
  let requests = 0;
  analytics.on('error', (err) => errors.push(err));
  analytics.on('http_request', (r) => {
    requests++;
    for (const m of JSON.parse(r.body).batch) sent.set(m.messageId, m);
  });
  analytics.on('http_response', (r) => statuses.push(r.status));
  const delivered = new Set<string>();
  for (const type of ['track', 'identify', 'page', 'group', 'alias', 'screen'] as const)
    analytics.on(type, (ctx) => delivered.add(ctx.event.messageId!));

  try {
    const base = Date.UTC(2026, 0, 15, 12, 0, 0);
    const calls = 250;
    for (let i = 0; i < calls; i++) {
      const userId = `user-${i % 17}`;
      const timestamp = new Date(base + i * 60_000);
      switch (i % 10) {
        case 0:
          analytics.identify({ userId, traits: { email: `u${i % 17}@example.com`, plan: i % 20 ? 'free' : 'pro', seq: i }, timestamp });
          break;
        case 1:
          analytics.page({
            userId,
            category: 'Docs',
            name: 'Getting Started',
            properties: { path: '/docs/start', url: 'https://example.com/docs/start', referrer: 'https://www.google.com/', seq: i },
            timestamp,
          });
          break;
        case 2:
          analytics.group({
            userId,
            groupId: `org-${i % 5}`,
            traits: { name: `Org ${i % 5}`, employees: 10 * (i % 5), seq: i },
            timestamp,
          });
          break;
        case 3:
          analytics.alias({ userId, previousId: `anon-${i}`, timestamp });
          break;
        case 4:
          analytics.screen({ anonymousId: `anon-${i}`, name: 'Home', properties: { seq: i, variant: 'b' }, timestamp });
          break;
        case 5:
          analytics.track({
            anonymousId: `anon-${i}`,
            event: 'Product Viewed',
            properties: { seq: i, sku: `sku-${i}`, price: 9.99, tags: ['a', 'b'], nested: { deep: { x: i } } },
            timestamp,
          });
          break;
        default:
          analytics.track({
            userId,
            event: i % 2 ? 'Order Completed' : 'Signed Up',
            properties: { seq: i, revenue: i * 1.5, currency: 'EUR', ok: true, none: null },
            timestamp,
          });
      }
    }
    await analytics.closeAndFlush({ timeout: 30_000 });

    assert.deepEqual(errors, [], 'the client saw no errors');
    assert.ok(statuses.length > 0 && statuses.every((s) => s === 200), `every batch was answered 200: ${JSON.stringify(statuses)}`);
    assert.equal(sent.size, calls, 'the client sent one message per call');
    assert.ok(requests >= Math.ceil(calls / 20), `the client batched: ${requests} requests`);
    assert.equal(delivered.size, calls, 'the client reports every call as delivered');

    await t.ctx.flush();
    const stored = await allEvents(t);
    assert.equal(stored.length, calls, 'every event is stored, none twice');
    const byId = new Map(stored.map((e) => [e.messageId, e]));
    assert.equal(byId.size, calls, 'no messageId is stored twice');
    assert.deepEqual([...byId.keys()].sort(), [...sent.keys()].sort(), 'the stored messageIds are the ones the client assigned');

    const typeCounts: Record<string, number> = {};
    for (const [id, m] of sent) {
      const e = byId.get(id);
      typeCounts[m.type] = (typeCounts[m.type] ?? 0) + 1;
      assert.equal(e.type, m.type, `type of ${id}`);
      assert.equal(e.event, m.type === 'track' ? m.event : EVENT_NAME[m.type], `event name of ${id}`);
      assert.equal(e.userId, m.userId ?? null, `userId of ${id}`);
      assert.equal(e.anonymousId, m.anonymousId ?? null, `anonymousId of ${id}`);
      assert.equal(e.distinctId, m.userId ?? m.anonymousId, `distinctId of ${id}`);
      assert.deepEqual(e.properties, expectedProperties(m), `properties of ${id} (${m.type})`);
      // Segment's clock-skew correction shifts the client's time by the send latency only
      const skew = Date.parse(e.timestamp) - Date.parse(m.timestamp);
      assert.ok(skew >= 0 && skew < 10_000, `timestamp of ${id}: sent ${m.timestamp}, stored ${e.timestamp}`);
      assert.equal(e.context.library?.name, '@segment/analytics-node', `context.library of ${id}`);
      if (m.type === 'page') assert.equal(e.pagePath, '/docs/start');
      if (m.type === 'page') assert.equal(e.referrerHost, 'google.com');
    }
    assert.deepEqual(typeCounts, { identify: 25, page: 25, group: 25, alias: 25, screen: 25, track: 125 });
    // the typed values survived the trip (numbers, booleans, null, arrays, nested objects)
    const viewed = stored.find((e) => e.event === 'Product Viewed' && e.properties.seq === 5);
    assert.deepEqual(viewed.properties, { seq: 5, sku: 'sku-5', price: 9.99, tags: ['a', 'b'], nested: { deep: { x: 5 } } });
    const order = stored.find((e) => e.properties.seq === 7);
    assert.deepEqual(order.properties, { seq: 7, revenue: 10.5, currency: 'EUR', ok: true, none: null });
    assert.equal(order.event, 'Order Completed');
    assert.equal(order.userId, 'user-7');

    // identify traits reach the user profile
    const traits = await t.ctx.events.userTraits(t.project.id, 'user-0');
    assert.equal(traits?.email, 'u0@example.com');
  } finally {
    await analytics.closeAndFlush({ timeout: 1000 }).catch(() => undefined);
    await t.close();
  }
});

test('@segment/analytics-node: a resend of the same messageIds (a client retry) is stored once', async () => {
  const t = await startTestApp();
  try {
    const errors: unknown[] = [];
    for (let round = 0; round < 2; round++) {
      const analytics = new Analytics({ writeKey: t.writeKey, host: t.url, flushAt: 20, flushInterval: 100 });
      analytics.on('error', (err) => errors.push(err));
      for (let i = 0; i < 30; i++) analytics.track({ userId: 'u1', event: 'Retried', messageId: `retry-${i}`, properties: { i } });
      await analytics.closeAndFlush({ timeout: 10_000 });
    }
    assert.deepEqual(errors, []);
    await t.ctx.flush();
    const stored = await allEvents(t);
    assert.equal(stored.length, 30);
    assert.deepEqual(stored.map((e) => e.messageId).sort(), Array.from({ length: 30 }, (_, i) => `retry-${i}`).sort());
  } finally {
    await t.close();
  }
});
