/**
 * Issue 16, item 4: GET /api/projects/:slug/export. What was ingested comes back as Segment
 * NDJSON, streamed (chunked, no length known up front), oldest first; `from`/`to` cut a half-open
 * window; a read key or a viewer may export, an ingest key may not; bad times are a 400 that says
 * what is accepted.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { basic, send, startTestApp, type TestApp } from '../helpers/app.js';

const MINUTE = 60_000;
const START = Date.parse('2026-03-01T00:00:00Z');

/** 300 messages, a minute apart from START, of four call types. */
const MESSAGES = Array.from({ length: 300 }, (_, i) => {
  const base = {
    messageId: `exp-${i}`,
    userId: `user-${i % 13}`,
    timestamp: new Date(START + i * MINUTE).toISOString(),
    context: { library: { name: 'analytics-node', version: '1' } },
  };
  if (i % 4 === 0) return { ...base, type: 'page', name: 'Pricing', properties: { path: '/pricing', i } };
  if (i % 4 === 1) return { ...base, type: 'identify', traits: { plan: i % 2 ? 'pro' : 'free' } };
  return {
    ...base,
    type: 'track',
    event: i % 4 === 2 ? 'Order Completed' : 'Signed Up',
    properties: { i, items: [{ sku: `s${i}`, qty: 1 }] },
  };
});

/** What a user compares between a message sent and the one exported. */
const essence = (m: Record<string, any>) => ({
  messageId: m.messageId,
  type: m.type,
  event: m.event,
  name: m.name,
  userId: m.userId,
  properties: m.properties,
  traits: m.traits,
  timestamp: new Date(m.timestamp).toISOString(),
});

describe('GET /api/projects/:slug/export', () => {
  let t: TestApp;
  let viewerCookie: string;

  const exportOf = (query: string, headers: Record<string, string> = { authorization: `Bearer ${t.readKey}` }) =>
    fetch(`${t.url}/api/projects/shop/export${query}`, { headers });
  const lines = (text: string) =>
    text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, any>);

  before(async () => {
    t = await startTestApp();
    const r = await send(`${t.url}/v1/batch`, JSON.stringify({ batch: MESSAGES }), {
      'content-type': 'application/json',
      ...basic(t.writeKey),
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await t.ctx.flush();
    const viewer = await t.ctx.users.create({ email: 'vic@example.com', password: 'correct horse battery staple', name: 'Vic' });
    await t.ctx.memberships.grant(t.project.id, viewer.id, 'viewer');
    viewerCookie = `vigil_session=${(await t.ctx.sessions.create(viewer.id)).token}`;
  });
  after(() => t?.close());

  test('streams every ingested event as Segment NDJSON, oldest first, with a read key', async () => {
    const res = await exportOf('');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/x-ndjson/);
    assert.equal(res.headers.get('content-length'), null, 'streamed: no length known before the last row');
    assert.equal(res.headers.get('transfer-encoding'), 'chunked');
    const exported = lines(await res.text());
    assert.deepEqual(exported.map(essence), MESSAGES.map(essence));
  });

  test('from and to cut the window [from, to)', async () => {
    const from = new Date(START + 100 * MINUTE).toISOString();
    const to = new Date(START + 150 * MINUTE).toISOString();
    const res = await exportOf(`?from=${from}&to=${to}`);
    assert.equal(res.status, 200);
    assert.deepEqual(
      lines(await res.text()).map((m) => m.messageId),
      MESSAGES.slice(100, 150).map((m) => m.messageId),
    );
    const day = await exportOf('?from=2026-03-01&to=2026-03-01T02:00:00%2B01:00');
    assert.deepEqual(
      lines(await day.text()).map((m) => m.messageId),
      MESSAGES.slice(0, 60).map((m) => m.messageId),
      'a date, and a time with an offset',
    );
    const none = await exportOf('?from=2030-01-01T00:00:00Z');
    assert.equal(none.status, 200);
    assert.equal(await none.text(), '');
  });

  test('a viewer may export; an ingest key and nobody may not', async () => {
    const byViewer = await exportOf('?to=2026-03-01T00:10:00Z', { cookie: viewerCookie });
    assert.equal(byViewer.status, 200);
    assert.equal(lines(await byViewer.text()).length, 10);
    const byIngestKey = await exportOf('', { authorization: `Bearer ${t.writeKey}` });
    assert.equal(byIngestKey.status, 403);
    assert.equal((await exportOf('', {})).status, 401);
  });

  test('bad times are a 400 that says what is accepted, on the field', async () => {
    const cases: [string, string, RegExp][] = [
      [
        '?from=yesterday',
        'from',
        /from "yesterday" is not a time: give an ISO 8601 date, or a date and time with its zone, such as 2026-05-01/,
      ],
      ['?to=2026-02-30', 'to', /to "2026-02-30" is not a time/],
      ['?from=2026-03-01T10:00:00', 'from', /with its zone/],
      ['?from=1700000000000', 'from', /is not a time/],
      ['?from=2026-03-02&to=2026-03-01', 'from', /from \(2026-03-02\) must be before to \(2026-03-01\)/],
    ];
    for (const [query, field, message] of cases) {
      const res = await exportOf(query);
      const body = (await res.json()) as { error: { code: string; message: string; details: { field: string } } };
      assert.equal(res.status, 400, query);
      assert.equal(body.error.code, 'VIGIL_ERR_BAD_REQUEST');
      assert.match(body.error.message, message, query);
      assert.equal(body.error.details.field, field, query);
    }
  });
});
