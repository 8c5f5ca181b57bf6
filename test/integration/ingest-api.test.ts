import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import zlib from 'node:zlib';
import { pino } from 'pino';
import { Analytics } from '@segment/analytics-node';
import { createAppContext } from '../../src/app-context.js';
import { loadConfig } from '../../src/config.js';
import { buildServer } from '../../src/server.js';
import type { EventRow } from '../../src/storage/events/event-store.js';
import { basic, getJson, postJson, startTestApp, tempDir, type TestApp, send } from '../helpers/app.js';

const CHROME_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';

/** A fresh id per call, so tests sharing one app never see each other's events. */
const uid = (prefix = 'u') => `${prefix}-${crypto.randomUUID()}`;

/** The stored rows of one distinct id (newest first), after everything acknowledged is loaded. */
async function storedFor(t: TestApp, userId: string, projectId = t.project.id): Promise<EventRow[]> {
  await t.ctx.flush();
  return t.ctx.events.listEvents({ projectId, userId, limit: 10_000 });
}

/** Asserts the error shape every 4xx has, and returns its code and details. */
function errorOf(r: { status: number; body: any }, status: number) {
  assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${JSON.stringify(r.body)}`);
  assert.deepEqual(Object.keys(r.body), ['error']);
  assert.deepEqual(Object.keys(r.body.error).sort(), ['code', 'details', 'message']);
  assert.equal(typeof r.body.error.code, 'string');
  assert.equal(typeof r.body.error.message, 'string');
  assert.ok(r.body.error.message.length > 0);
  return r.body.error as { code: string; message: string; details: any };
}

describe('ingest: every endpoint stores an event of its type', () => {
  let t: TestApp;
  before(async () => (t = await startTestApp()));
  after(() => t.close());

  const bodies: Record<string, Record<string, unknown>> = {
    track: { event: 'Clicked' },
    page: { name: 'Home' },
    screen: { name: 'Feed' },
    identify: { traits: { plan: 'pro' } },
    group: { groupId: 'acme' },
    alias: { previousId: 'anon-before' },
  };
  const events: Record<string, string> = {
    track: 'Clicked',
    page: '$page',
    screen: '$screen',
    identify: '$identify',
    group: '$group',
    alias: '$alias',
  };

  for (const [type, extra] of Object.entries(bodies)) {
    for (const path of [`/v1/${type}`, `/v1/${type[0]}`]) {
      test(`POST ${path} stores a ${type} event, read back over the API`, async () => {
        const userId = uid();
        const r = await postJson(t.url + path, { userId, ...extra }, basic(t.writeKey));
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.deepEqual(r.body, { success: true });
        await t.ctx.flush();
        const list = await getJson(`${t.url}/api/projects/shop/events?user=${encodeURIComponent(userId)}`, t.readKey);
        assert.equal(list.status, 200);
        assert.equal(list.body.events.length, 1);
        assert.equal(list.body.events[0].type, type);
        assert.equal(list.body.events[0].event, events[type]);
        assert.equal(list.body.events[0].userId, userId);
      });
    }
  }

  for (const path of ['/v1/batch', '/v1/b', '/v1/import']) {
    test(`POST ${path} stores every type in one batch`, async () => {
      const userId = uid();
      const batch = Object.entries(bodies).map(([type, extra]) => ({ type, userId, ...extra }));
      const r = await postJson(t.url + path, { batch }, basic(t.writeKey));
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(r.body, { success: true });
      const rows = await storedFor(t, userId);
      assert.deepEqual(rows.map((row) => row.type).sort(), ['alias', 'group', 'identify', 'page', 'screen', 'track']);
      assert.deepEqual(rows.map((row) => row.event).sort(), Object.values(events).sort());
    });
  }

  test('an unknown path under /v1 is a 404 in the error shape', async () => {
    const code = errorOf(await postJson(`${t.url}/v1/tracks`, { userId: 'u', event: 'E' }, basic(t.writeKey)), 404).code;
    assert.equal(code, 'VIGIL_ERR_NOT_FOUND');
  });
});

describe('ingest: body encodings', () => {
  let t: TestApp;
  before(async () => (t = await startTestApp()));
  after(() => t.close());

  const track = (userId: string) => JSON.stringify({ userId, event: 'Encoded', properties: { text: 'grüße 🎉' } });

  for (const [label, headers] of [
    ['application/json', { 'content-type': 'application/json' }],
    ['application/json; charset=utf-8', { 'content-type': 'application/json; charset=utf-8' }],
    ['text/plain (analytics.js)', { 'content-type': 'text/plain' }],
  ] as const) {
    test(`a body sent as ${label} is stored`, async () => {
      const userId = uid();
      const r = await send(`${t.url}/v1/track`, track(userId), { ...headers, ...basic(t.writeKey) });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const [row] = await storedFor(t, userId);
      assert.equal(row.event, 'Encoded');
      assert.deepEqual(row.properties, { text: 'grüße 🎉' });
    });
  }

  test('a body with no content-type at all (sendBeacon) is stored', async () => {
    const userId = uid();
    const r = await send(`${t.url}/v1/track`, Buffer.from(track(userId)), basic(t.writeKey));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal((await storedFor(t, userId)).length, 1);
  });

  test('a gzip-compressed event is stored', async () => {
    const userId = uid();
    const r = await send(`${t.url}/v1/track`, zlib.gzipSync(track(userId)), {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
      ...basic(t.writeKey),
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const [row] = await storedFor(t, userId);
    assert.deepEqual(row.properties, { text: 'grüße 🎉' });
  });

  test('Content-Encoding is matched without regard to case, and x-gzip is gzip', async () => {
    const userId = uid();
    for (const encoding of ['GZIP', 'x-gzip']) {
      const r = await send(`${t.url}/v1/track`, zlib.gzipSync(track(userId)), {
        'content-type': 'application/json',
        'content-encoding': encoding,
        ...basic(t.writeKey),
      });
      assert.equal(r.status, 200, `${encoding}: ${JSON.stringify(r.body)}`);
    }
    assert.equal((await storedFor(t, userId)).length, 2);
  });

  test('a gzip-compressed batch is stored', async () => {
    const userId = uid();
    const body = JSON.stringify({
      batch: Array.from({ length: 50 }, (_, i) => ({ type: 'track', userId, event: 'Zipped', properties: { i } })),
    });
    const r = await send(`${t.url}/v1/batch`, zlib.gzipSync(body), {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
      ...basic(t.writeKey),
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const rows = await storedFor(t, userId);
    assert.equal(rows.length, 50);
    assert.deepEqual(
      rows.map((row) => row.properties.i).sort((a, b) => Number(a) - Number(b)),
      Array.from({ length: 50 }, (_, i) => i),
    );
  });

  test('a corrupt gzip body is a 400, not a 500, and stores nothing', async () => {
    const userId = uid();
    const zipped = zlib.gzipSync(track(userId));
    const corrupt = Buffer.concat([zipped.subarray(0, 10), Buffer.from('this is not deflate data at all'), zipped.subarray(10)]);
    const r = await send(`${t.url}/v1/track`, corrupt, {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
      ...basic(t.writeKey),
    });
    const err = errorOf(r, 400);
    assert.equal(err.code, 'VIGIL_ERR_BAD_REQUEST');
    assert.match(err.message, /gzip/, 'the message says what was wrong with the body');
    assert.equal((await storedFor(t, userId)).length, 0);
  });

  test('a body labelled gzip that is plain JSON, or a truncated gzip body, is a 400', async () => {
    const headers = { 'content-type': 'application/json', 'content-encoding': 'gzip', ...basic(t.writeKey) };
    assert.match(errorOf(await send(`${t.url}/v1/track`, track(uid()), headers), 400).message, /gzip/);
    const zipped = zlib.gzipSync(track(uid()));
    assert.match(errorOf(await send(`${t.url}/v1/track`, zipped.subarray(0, zipped.length - 6), headers), 400).message, /gzip/);
  });

  test('an unsupported Content-Encoding is a 415', async () => {
    const r = await send(`${t.url}/v1/track`, track(uid()), {
      'content-type': 'application/json',
      'content-encoding': 'br',
      ...basic(t.writeKey),
    });
    assert.equal(errorOf(r, 415).code, 'VIGIL_ERR_UNSUPPORTED_MEDIA_TYPE');
  });

  test('a small gzip body that inflates past the batch limit is a 413 (zip bomb)', async () => {
    const huge = JSON.stringify({ batch: [{ type: 'track', userId: 'bomb', event: 'E', properties: { pad: 'x'.repeat(600 * 1024) } }] });
    const zipped = zlib.gzipSync(huge);
    assert.ok(zipped.length < 10 * 1024);
    const r = await send(`${t.url}/v1/batch`, zipped, {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
      ...basic(t.writeKey),
    });
    assert.equal(errorOf(r, 413).code, 'VIGIL_ERR_PAYLOAD_TOO_LARGE');
  });
});

describe('ingest: authentication', () => {
  let t: TestApp;
  before(async () => (t = await startTestApp()));
  after(() => t.close());

  const event = (userId: string) => ({ userId, event: 'Authed' });

  test('the write key as the Basic user name with an empty password', async () => {
    const userId = uid();
    assert.equal(
      (await postJson(`${t.url}/v1/track`, event(userId), { authorization: 'Basic ' + Buffer.from(`${t.writeKey}:`).toString('base64') }))
        .status,
      200,
    );
    assert.equal((await storedFor(t, userId)).length, 1);
  });

  test('writeKey in the body of a single call and of a batch', async () => {
    const userId = uid();
    assert.equal((await postJson(`${t.url}/v1/track`, { ...event(userId), writeKey: t.writeKey })).status, 200);
    assert.equal((await postJson(`${t.url}/v1/batch`, { writeKey: t.writeKey, batch: [{ type: 'track', ...event(userId) }] })).status, 200);
    assert.equal((await storedFor(t, userId)).length, 2);
  });

  test('Authorization: Bearer', async () => {
    const userId = uid();
    assert.equal((await postJson(`${t.url}/v1/track`, event(userId), { authorization: `Bearer ${t.writeKey}` })).status, 200);
    assert.equal((await storedFor(t, userId)).length, 1);
  });

  test('X-API-Key', async () => {
    const userId = uid();
    assert.equal((await postJson(`${t.url}/v1/track`, event(userId), { 'x-api-key': t.writeKey })).status, 200);
    assert.equal((await storedFor(t, userId)).length, 1);
  });

  test('no key → 401 in the error shape, nothing stored', async () => {
    const userId = uid();
    const err = errorOf(await postJson(`${t.url}/v1/track`, event(userId)), 401);
    assert.equal(err.code, 'VIGIL_ERR_UNAUTHORIZED');
    assert.equal(err.details, null);
    assert.equal((await storedFor(t, userId)).length, 0);
  });

  test('a Basic header with an empty user name counts as no key → 401', async () => {
    const err = errorOf(
      await postJson(`${t.url}/v1/track`, event(uid()), { authorization: 'Basic ' + Buffer.from(':').toString('base64') }),
      401,
    );
    assert.equal(err.code, 'VIGIL_ERR_UNAUTHORIZED');
  });

  test('an unknown key → 401, whichever way it is sent', async () => {
    const userId = uid();
    const unknown = 'vk_' + crypto.randomBytes(24).toString('base64url');
    for (const headers of [basic(unknown), { authorization: `Bearer ${unknown}` }, { 'x-api-key': unknown }]) {
      assert.equal(errorOf(await postJson(`${t.url}/v1/track`, event(userId), headers), 401).code, 'VIGIL_ERR_UNAUTHORIZED');
    }
    assert.equal(
      errorOf(await postJson(`${t.url}/v1/batch`, { writeKey: unknown, batch: [{ type: 'track', ...event(userId) }] }), 401).code,
      'VIGIL_ERR_UNAUTHORIZED',
    );
    assert.equal((await storedFor(t, userId)).length, 0);
  });

  test('a key that worked is refused once revoked', async () => {
    const { key, secret } = await t.ctx.apiKeys.create({ projectId: t.project.id, scopes: ['ingest'] });
    const userId = uid();
    assert.equal((await postJson(`${t.url}/v1/track`, event(userId), basic(secret))).status, 200);
    await t.ctx.apiKeys.revoke(key.id);
    const err = errorOf(await postJson(`${t.url}/v1/track`, event(userId), basic(secret)), 401);
    assert.equal(err.code, 'VIGIL_ERR_UNAUTHORIZED');
    assert.equal((await storedFor(t, userId)).length, 1);
  });

  test('an expired key → 401', async () => {
    const { secret } = await t.ctx.apiKeys.create({ projectId: t.project.id, scopes: ['ingest'], expiresAt: Date.now() - 1000 });
    assert.equal(errorOf(await postJson(`${t.url}/v1/track`, event(uid()), basic(secret)), 401).code, 'VIGIL_ERR_UNAUTHORIZED');
  });

  test('a read-only key → 403 on ingest, nothing stored', async () => {
    const userId = uid();
    const err = errorOf(await postJson(`${t.url}/v1/track`, event(userId), basic(t.readKey)), 403);
    assert.equal(err.code, 'VIGIL_ERR_FORBIDDEN');
    assert.match(err.message, /ingest/);
    assert.equal((await storedFor(t, userId)).length, 0);
  });

  test('the write key cannot read events', async () => {
    const r = await getJson(`${t.url}/api/projects/shop/events`, t.writeKey);
    assert.equal(errorOf(r, 403).code, 'VIGIL_ERR_FORBIDDEN');
  });
});

describe('ingest: spec rules', () => {
  let t: TestApp;
  before(async () => (t = await startTestApp()));
  after(() => t.close());

  /** Posts one message and returns rejected[0] of the 400. */
  async function rejection(path: string, body: unknown) {
    const err = errorOf(await postJson(t.url + path, body, basic(t.writeKey)), 400);
    assert.equal(err.code, 'VIGIL_ERR_INVALID_EVENTS');
    assert.equal(err.details.accepted, 0);
    assert.equal(err.details.rejected.length, 1);
    return err.details.rejected[0];
  }

  test('no userId and no anonymousId → 400, rejected[0] names userId', async () => {
    const r = await rejection('/v1/track', { event: 'E', properties: { a: 1 } });
    assert.equal(r.index, 0);
    assert.equal(r.field, 'userId');
    assert.equal(r.reason, 'missing_identity');
    assert.match(r.message, /userId or anonymousId/);
  });

  test('track without event → field event', async () => {
    assert.equal((await rejection('/v1/track', { userId: uid() })).field, 'event');
  });

  test('group without groupId → field groupId', async () => {
    assert.equal((await rejection('/v1/group', { userId: uid(), traits: { name: 'Acme' } })).field, 'groupId');
  });

  test('alias without previousId → field previousId', async () => {
    assert.equal((await rejection('/v1/alias', { userId: uid() })).field, 'previousId');
  });

  test('a batch item with a bad type → field type', async () => {
    const r = await rejection('/v1/batch', { batch: [{ type: 'click', userId: uid() }] });
    assert.deepEqual([r.index, r.field, r.reason], [0, 'type', 'invalid_type']);
  });

  test('an invalid timestamp string → field timestamp', async () => {
    assert.equal((await rejection('/v1/track', { userId: uid(), event: 'E', timestamp: 'last tuesday' })).field, 'timestamp');
  });

  test('properties that are not an object → field properties', async () => {
    assert.equal((await rejection('/v1/track', { userId: uid(), event: 'E', properties: ['a', 'b'] })).field, 'properties');
    assert.equal((await rejection('/v1/page', { userId: uid(), properties: 'home' })).field, 'properties');
  });

  test('a rejected single call stores nothing', async () => {
    const userId = uid();
    await rejection('/v1/track', { userId, event: 'E', properties: 5 });
    assert.equal((await storedFor(t, userId)).length, 0);
  });

  test('a batch of 3 valid and 2 invalid: 400 listing the 2, and the 3 are stored', async () => {
    const userId = uid();
    const batch = [
      { type: 'track', userId, event: 'Valid 0', messageId: uid('m') },
      { type: 'track', userId }, // no event
      { type: 'page', userId, name: 'Valid 2' },
      { type: 'group', userId }, // no groupId
      { type: 'identify', userId, traits: { ok: true } },
    ];
    const r = await postJson(`${t.url}/v1/batch`, { batch }, basic(t.writeKey));
    const err = errorOf(r, 400);
    assert.equal(err.code, 'VIGIL_ERR_INVALID_EVENTS');
    assert.equal(err.details.accepted, 3);
    assert.equal(err.details.duplicates, 0);
    assert.deepEqual(
      err.details.rejected.map((x: any) => [x.index, x.field, x.reason]),
      [
        [1, 'event', 'missing_event'],
        [3, 'groupId', 'missing_group_id'],
      ],
    );
    assert.match(err.message, /2 event\(s\) rejected/);
    const rows = await storedFor(t, userId);
    assert.deepEqual(rows.map((row) => row.event).sort(), ['$identify', '$page', 'Valid 0']);
  });

  test('retrying that whole batch after fixing nothing stores nothing twice', async () => {
    const userId = uid();
    const batch = [
      { type: 'track', userId, event: 'A', messageId: uid('m') },
      { type: 'track', userId, event: 'B', messageId: uid('m') },
      { type: 'track', userId, messageId: uid('m') },
    ];
    const first = errorOf(await postJson(`${t.url}/v1/batch`, { batch }, basic(t.writeKey)), 400);
    assert.equal(first.details.accepted, 2);
    const second = errorOf(await postJson(`${t.url}/v1/batch`, { batch }, basic(t.writeKey)), 400);
    assert.equal(second.details.accepted, 0);
    assert.equal(second.details.duplicates, 2);
    assert.equal((await storedFor(t, userId)).length, 2);
  });

  test('a rejected event does not use up its messageId: the corrected event is stored', async () => {
    const userId = uid();
    const messageId = uid('m');
    errorOf(await postJson(`${t.url}/v1/track`, { userId, messageId }, basic(t.writeKey)), 400);
    assert.equal((await postJson(`${t.url}/v1/track`, { userId, messageId, event: 'Fixed' }, basic(t.writeKey))).status, 200);
    const rows = await storedFor(t, userId);
    assert.deepEqual(
      rows.map((row) => [row.message_id, row.event]),
      [[messageId, 'Fixed']],
    );
  });

  test('the batch context merges into each item; the item wins on conflicts', async () => {
    const userId = uid();
    const context = { locale: 'en-US', app: { version: '2.0.1' }, library: { name: 'analytics-ios', version: '4.1' } };
    const batch = [
      { type: 'track', userId, event: 'Own Context', context: { locale: 'de-DE', screen: { width: 390 } } },
      { type: 'track', userId, event: 'Batch Context' },
    ];
    assert.equal((await postJson(`${t.url}/v1/batch`, { batch, context }, basic(t.writeKey))).status, 200);
    const rows = await storedFor(t, userId);
    const own = rows.find((row) => row.event === 'Own Context')!;
    const plain = rows.find((row) => row.event === 'Batch Context')!;
    assert.deepEqual(own.context, {
      locale: 'de-DE',
      app: { version: '2.0.1' },
      library: { name: 'analytics-ios', version: '4.1' },
      screen: { width: 390 },
    });
    assert.deepEqual(plain.context, context);
    for (const row of [own, plain]) {
      assert.equal(row.app_version, '2.0.1');
      assert.equal(row.platform, 'ios');
    }
  });

  test('a batch context that is not an object → 400 on field context', async () => {
    const err = errorOf(
      await postJson(`${t.url}/v1/batch`, { batch: [{ type: 'track', userId: 'u', event: 'E' }], context: 'web' }, basic(t.writeKey)),
      400,
    );
    assert.equal(err.details.field, 'context');
  });
});

describe('ingest: limits and malformed bodies', () => {
  let t: TestApp;
  before(async () => (t = await startTestApp()));
  after(() => t.close());

  test('a batch body over 500 KB → 413', async () => {
    const userId = uid();
    const batch = Array.from({ length: 30 }, () => ({ type: 'track', userId, event: 'Big', properties: { pad: 'x'.repeat(20 * 1024) } }));
    const body = JSON.stringify({ batch });
    assert.ok(body.length > 500 * 1024);
    const err = errorOf(await postJson(`${t.url}/v1/batch`, body, basic(t.writeKey)), 413);
    assert.equal(err.code, 'VIGIL_ERR_PAYLOAD_TOO_LARGE');
    assert.equal((await storedFor(t, userId)).length, 0);
  });

  test('a batch just under 500 KB is accepted', async () => {
    const userId = uid();
    const batch = Array.from({ length: 24 }, () => ({ type: 'track', userId, event: 'Big', properties: { pad: 'x'.repeat(20 * 1024) } }));
    const body = JSON.stringify({ batch });
    assert.ok(body.length < 500 * 1024 && body.length > 480 * 1024);
    assert.equal((await postJson(`${t.url}/v1/batch`, body, basic(t.writeKey))).status, 200);
    assert.equal((await storedFor(t, userId)).length, 24);
  });

  test('a batch of 2,501 tiny events → 413 on field batch, none stored; 2,500 are accepted', async () => {
    const userId = uid();
    const tiny = { type: 'track', userId, event: 'T' };
    const over = errorOf(await postJson(`${t.url}/v1/batch`, { batch: Array(2501).fill(tiny) }, basic(t.writeKey)), 413);
    assert.equal(over.code, 'VIGIL_ERR_PAYLOAD_TOO_LARGE');
    assert.equal(over.details.field, 'batch');
    assert.equal((await storedFor(t, userId)).length, 0);
    assert.equal((await postJson(`${t.url}/v1/batch`, { batch: Array(2500).fill(tiny) }, basic(t.writeKey))).status, 200);
    assert.equal((await storedFor(t, userId)).length, 2500);
  });

  test('a single /v1/track over 32 KB → 413', async () => {
    const userId = uid();
    const err = errorOf(
      await postJson(`${t.url}/v1/track`, { userId, event: 'Big', properties: { pad: 'x'.repeat(33 * 1024) } }, basic(t.writeKey)),
      413,
    );
    assert.equal(err.code, 'VIGIL_ERR_PAYLOAD_TOO_LARGE');
    assert.equal((await storedFor(t, userId)).length, 0);
  });

  test('an event over 32 KB inside a batch is rejected as too_large; the others are stored', async () => {
    const userId = uid();
    const batch = [
      { type: 'track', userId, event: 'Small 0' },
      { type: 'track', userId, event: 'Huge', properties: { pad: 'x'.repeat(40 * 1024) } },
      { type: 'track', userId, event: 'Small 2' },
    ];
    const err = errorOf(await postJson(`${t.url}/v1/batch`, { batch }, basic(t.writeKey)), 400);
    assert.equal(err.details.accepted, 2);
    assert.deepEqual(
      err.details.rejected.map((x: any) => [x.index, x.reason]),
      [[1, 'too_large']],
    );
    assert.deepEqual((await storedFor(t, userId)).map((row) => row.event).sort(), ['Small 0', 'Small 2']);
  });

  test('the 32 KB event limit counts bytes, not characters', async () => {
    const userId = uid();
    // 12,000 euro signs: 12,000 characters but 36,000 bytes of UTF-8
    const batch = [
      { type: 'track', userId, event: 'Wide', properties: { text: '€'.repeat(12_000) } },
      { type: 'track', userId, event: 'Narrow' },
    ];
    const err = errorOf(await postJson(`${t.url}/v1/batch`, { batch }, basic(t.writeKey)), 400);
    assert.deepEqual(
      err.details.rejected.map((x: any) => [x.index, x.reason]),
      [[0, 'too_large']],
    );
    assert.deepEqual(
      (await storedFor(t, userId)).map((row) => row.event),
      ['Narrow'],
    );
  });

  test('bad JSON → 400 VIGIL_ERR_INVALID_JSON', async () => {
    for (const path of ['/v1/track', '/v1/batch']) {
      const err = errorOf(await postJson(t.url + path, '{"userId": "u", "event": ', basic(t.writeKey)), 400);
      assert.equal(err.code, 'VIGIL_ERR_INVALID_JSON');
    }
  });

  test('a body of [] on /v1/track → 400', async () => {
    const err = errorOf(await postJson(`${t.url}/v1/track`, '[]', basic(t.writeKey)), 400);
    assert.equal(err.code, 'VIGIL_ERR_BAD_REQUEST');
  });

  for (const body of ['"text"', '42', 'null']) {
    test(`a body of ${body} on /v1/track → 400`, async () => {
      errorOf(await postJson(`${t.url}/v1/track`, body, basic(t.writeKey)), 400);
    });
  }

  test('an empty body → 400', async () => {
    errorOf(await send(`${t.url}/v1/track`, '', { 'content-type': 'application/json', ...basic(t.writeKey) }), 400);
    errorOf(await send(`${t.url}/v1/batch`, Buffer.alloc(0), basic(t.writeKey)), 400);
  });

  for (const body of [{}, { batch: { type: 'track' } }, { batch: 'events' }, [{ type: 'track', userId: 'u', event: 'E' }]]) {
    test(`a batch body of ${JSON.stringify(body)} → 400 on field batch`, async () => {
      const err = errorOf(await postJson(`${t.url}/v1/batch`, body, basic(t.writeKey)), 400);
      assert.equal(err.code, 'VIGIL_ERR_BAD_REQUEST');
      assert.equal(err.details.field, 'batch');
    });
  }

  test('an empty batch is a success that stores nothing', async () => {
    assert.deepEqual((await postJson(`${t.url}/v1/batch`, { batch: [] }, basic(t.writeKey))).body, { success: true });
  });

  test('a batch item that is not an object is rejected by index', async () => {
    const userId = uid();
    const err = errorOf(
      await postJson(`${t.url}/v1/batch`, { batch: ['track', { type: 'track', userId, event: 'E' }, null] }, basic(t.writeKey)),
      400,
    );
    assert.deepEqual(
      err.details.rejected.map((x: any) => [x.index, x.reason]),
      [
        [0, 'not_an_object'],
        [2, 'not_an_object'],
      ],
    );
    assert.equal((await storedFor(t, userId)).length, 1);
  });
});

describe('ingest: deduplication by messageId', () => {
  let t: TestApp;
  before(async () => (t = await startTestApp()));
  after(() => t.close());

  test('the same messageId in two requests is stored once; both are answered 200', async () => {
    const userId = uid();
    const messageId = uid('m');
    for (let i = 0; i < 2; i++) {
      const r = await postJson(`${t.url}/v1/track`, { userId, messageId, event: 'Once', properties: { attempt: i } }, basic(t.writeKey));
      assert.deepEqual([r.status, r.body], [200, { success: true }]);
    }
    const rows = await storedFor(t, userId);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].message_id, messageId);
    assert.deepEqual(rows[0].properties, { attempt: 0 }, 'the first copy is the one kept');
  });

  test('the same messageId after a flush (already in the store) is still stored once', async () => {
    const userId = uid();
    const messageId = uid('m');
    await postJson(`${t.url}/v1/track`, { userId, messageId, event: 'Once' }, basic(t.writeKey));
    assert.equal((await storedFor(t, userId)).length, 1);
    await postJson(`${t.url}/v1/track`, { userId, messageId, event: 'Once' }, basic(t.writeKey));
    assert.equal((await storedFor(t, userId)).length, 1);
  });

  test('the same messageId twice inside one batch is stored once', async () => {
    const userId = uid();
    const messageId = uid('m');
    const batch = [
      { type: 'track', userId, messageId, event: 'Twice' },
      { type: 'track', userId, messageId, event: 'Twice' },
      { type: 'track', userId, messageId: uid('m'), event: 'Other' },
    ];
    const r = await postJson(`${t.url}/v1/batch`, { batch }, basic(t.writeKey));
    assert.deepEqual([r.status, r.body], [200, { success: true }]);
    assert.deepEqual((await storedFor(t, userId)).map((row) => row.event).sort(), ['Other', 'Twice']);
  });

  test('the same messageId in five concurrent requests is stored once', async () => {
    const userId = uid();
    const messageId = uid('m');
    const results = await Promise.all(
      Array.from({ length: 5 }, () => postJson(`${t.url}/v1/track`, { userId, messageId, event: 'Race' }, basic(t.writeKey))),
    );
    assert.deepEqual(
      results.map((r) => r.status),
      [200, 200, 200, 200, 200],
    );
    assert.equal((await storedFor(t, userId)).length, 1);
  });

  test('events without a messageId are never deduplicated (each gets its own id)', async () => {
    const userId = uid();
    for (let i = 0; i < 3; i++) await postJson(`${t.url}/v1/track`, { userId, event: 'No Id' }, basic(t.writeKey));
    const rows = await storedFor(t, userId);
    assert.equal(rows.length, 3);
    assert.equal(new Set(rows.map((row) => row.message_id)).size, 3);
  });

  test('a messageId stored before a restart is still a duplicate after it', async () => {
    const dataDir = tempDir();
    const config = loadConfig({}, { dataDir, port: 0, host: '127.0.0.1', logLevel: 'silent', demo: 'false', ingestFlushMs: 200 });
    const run = async () => {
      const ctx = await createAppContext(config, pino({ level: 'silent' }));
      const app = await buildServer(ctx);
      await app.listen({ port: 0, host: '127.0.0.1' });
      const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
      return { ctx, url, stop: async () => (await app.close(), await ctx.close()) };
    };
    try {
      const first = await run();
      const project = await first.ctx.projects.create({ slug: 'shop' });
      const { secret } = await first.ctx.apiKeys.create({ projectId: project.id, scopes: ['ingest'] });
      assert.equal(
        (await postJson(`${first.url}/v1/track`, { userId: 'u', messageId: 'before-restart', event: 'E' }, basic(secret))).status,
        200,
      );
      await first.stop();

      const second = await run();
      try {
        assert.deepEqual(
          (await postJson(`${second.url}/v1/track`, { userId: 'u', messageId: 'before-restart', event: 'E' }, basic(secret))).body,
          { success: true },
        );
        assert.equal(
          (await postJson(`${second.url}/v1/track`, { userId: 'u', messageId: 'after-restart', event: 'E' }, basic(secret))).status,
          200,
        );
        await second.ctx.flush();
        const rows = await second.ctx.events.listEvents({ projectId: project.id, userId: 'u', limit: 10 });
        assert.deepEqual(rows.map((row) => row.message_id).sort(), ['after-restart', 'before-restart']);
      } finally {
        await second.stop();
      }
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('the same messageId in two projects is stored in both', async () => {
    const other = await t.ctx.projects.create({ slug: 'blog', name: 'Blog' });
    const otherKey = (await t.ctx.apiKeys.create({ projectId: other.id, scopes: ['ingest'] })).secret;
    const userId = uid();
    const messageId = uid('m');
    assert.equal((await postJson(`${t.url}/v1/track`, { userId, messageId, event: 'Shared' }, basic(t.writeKey))).status, 200);
    assert.equal((await postJson(`${t.url}/v1/track`, { userId, messageId, event: 'Shared' }, basic(otherKey))).status, 200);
    const here = await storedFor(t, userId);
    const there = await storedFor(t, userId, other.id);
    assert.deepEqual([here.length, there.length], [1, 1]);
    assert.equal(here[0].project_id, t.project.id);
    assert.equal(there[0].project_id, other.id);
  });
});

describe('ingest: timestamps', () => {
  let t: TestApp;
  before(async () => (t = await startTestApp()));
  after(() => t.close());

  test('a client clock one hour fast: the stored timestamp is receivedAt minus the 10 s the event waited', async () => {
    const userId = uid();
    const clientNow = Date.now() + 3600_000;
    const body = {
      userId,
      event: 'Skewed',
      originalTimestamp: new Date(clientNow).toISOString(),
      sentAt: new Date(clientNow + 10_000).toISOString(),
    };
    const before = Date.now();
    assert.equal((await postJson(`${t.url}/v1/track`, body, basic(t.writeKey))).status, 200);
    const [row] = await storedFor(t, userId);
    assert.ok(row.received_at >= before - 1000 && row.received_at <= Date.now() + 1000, 'receivedAt is the server time');
    assert.ok(
      Math.abs(row.timestamp - (row.received_at - 10_000)) <= 2000,
      `timestamp ${new Date(row.timestamp).toISOString()} vs receivedAt ${new Date(row.received_at).toISOString()}`,
    );
  });

  test('the batch sentAt corrects every item in the batch', async () => {
    const userId = uid();
    const clientNow = Date.now() - 86_400_000; // clock a day slow
    const batch = [
      { type: 'track', userId, event: 'A', originalTimestamp: new Date(clientNow - 30_000).toISOString() },
      { type: 'track', userId, event: 'B', originalTimestamp: new Date(clientNow - 5_000).toISOString() },
    ];
    assert.equal(
      (await postJson(`${t.url}/v1/batch`, { batch, sentAt: new Date(clientNow).toISOString() }, basic(t.writeKey))).status,
      200,
    );
    const rows = await storedFor(t, userId);
    const byEvent = Object.fromEntries(rows.map((row) => [row.event, row]));
    assert.ok(Math.abs(byEvent.A.timestamp - (byEvent.A.received_at - 30_000)) <= 2000);
    assert.ok(Math.abs(byEvent.B.timestamp - (byEvent.B.received_at - 5_000)) <= 2000);
  });

  test('a timestamp without sentAt is kept exactly as given', async () => {
    const userId = uid();
    assert.equal(
      (await postJson(`${t.url}/v1/track`, { userId, event: 'Historic', timestamp: '2024-03-01T12:34:56.789Z' }, basic(t.writeKey))).status,
      200,
    );
    const [row] = await storedFor(t, userId);
    assert.equal(new Date(row.timestamp).toISOString(), '2024-03-01T12:34:56.789Z');
    const list = await getJson(`${t.url}/api/projects/shop/events?user=${userId}`, t.readKey);
    assert.equal(list.body.events[0].timestamp, '2024-03-01T12:34:56.789Z');
  });

  test('no time at all: the event is stamped with the receive time', async () => {
    const userId = uid();
    await postJson(`${t.url}/v1/track`, { userId, event: 'Now' }, basic(t.writeKey));
    const [row] = await storedFor(t, userId);
    assert.equal(row.timestamp, row.received_at);
    assert.ok(Math.abs(row.received_at - Date.now()) < 60_000);
  });
});

describe('ingest: enrichment', () => {
  let t: TestApp;
  before(async () => (t = await startTestApp()));
  after(() => t.close());

  const IP_A = '203.0.113.77';
  const IP_B = '198.51.100.23';

  test('the client IP is never stored; an ip_hash is', async () => {
    const userId = uid();
    const r = await postJson(
      `${t.url}/v1/track`,
      { userId, event: 'Private', context: { ip: IP_A, userAgent: CHROME_WINDOWS, locale: 'en-GB' } },
      basic(t.writeKey),
    );
    assert.equal(r.status, 200);
    const [row] = await storedFor(t, userId);
    assert.equal('ip' in row.context, false);
    assert.deepEqual(row.context, { userAgent: CHROME_WINDOWS, locale: 'en-GB' });
    for (const value of Object.values(row)) {
      assert.ok(!JSON.stringify(value).includes(IP_A), 'no column holds the IP');
      assert.ok(!JSON.stringify(value).includes('127.0.0.1'), 'no column holds the request IP');
    }
    assert.match(row.ip_hash ?? '', /^[0-9a-f]{32}$/);
    const api = await getJson(`${t.url}/api/projects/shop/events?user=${userId}`, t.readKey);
    assert.ok(!JSON.stringify(api.body).includes(IP_A));
  });

  test('an IP in the batch context is not stored either', async () => {
    const userId = uid();
    const r = await postJson(
      `${t.url}/v1/batch`,
      { context: { ip: IP_B, locale: 'fr' }, batch: [{ type: 'track', userId, event: 'Private' }] },
      basic(t.writeKey),
    );
    assert.equal(r.status, 200);
    const [row] = await storedFor(t, userId);
    assert.deepEqual(row.context, { locale: 'fr' });
    assert.ok(!JSON.stringify(row).includes(IP_B));
    assert.ok(row.ip_hash);
  });

  test('the ip_hash is equal for the same IP and agent on one day, and differs for another IP or agent', async () => {
    const userId = uid();
    const batch = [
      { type: 'track', userId, event: 'A1', context: { ip: IP_A, userAgent: CHROME_WINDOWS } },
      { type: 'track', userId, event: 'B', context: { ip: IP_B, userAgent: CHROME_WINDOWS } },
      { type: 'track', userId, event: 'A-iphone', context: { ip: IP_A, userAgent: IPHONE } },
    ];
    assert.equal((await postJson(`${t.url}/v1/batch`, { batch }, basic(t.writeKey))).status, 200);
    // the same visitor again, in a separate request
    assert.equal(
      (await postJson(`${t.url}/v1/track`, { userId, event: 'A2', context: { ip: IP_A, userAgent: CHROME_WINDOWS } }, basic(t.writeKey)))
        .status,
      200,
    );
    const hash = Object.fromEntries((await storedFor(t, userId)).map((row) => [row.event, row.ip_hash]));
    assert.ok(hash.A1);
    assert.equal(hash.A2, hash.A1);
    assert.notEqual(hash.B, hash.A1);
    assert.notEqual(hash['A-iphone'], hash.A1);
  });

  test('without context.ip the connection IP is hashed; an untrusted X-Forwarded-For is ignored', async () => {
    const userId = uid();
    await postJson(
      `${t.url}/v1/track`,
      { userId, event: 'One', context: { userAgent: CHROME_WINDOWS } },
      { ...basic(t.writeKey), 'x-forwarded-for': '192.0.2.1' },
    );
    await postJson(
      `${t.url}/v1/track`,
      { userId, event: 'Two', context: { userAgent: CHROME_WINDOWS } },
      { ...basic(t.writeKey), 'x-forwarded-for': '192.0.2.2' },
    );
    const rows = await storedFor(t, userId);
    assert.equal(rows.length, 2);
    assert.ok(rows[0].ip_hash);
    assert.equal(rows[0].ip_hash, rows[1].ip_hash);
  });

  test('the same IP and agent in another project hash differently', async () => {
    const other = await t.ctx.projects.create({ slug: 'docs' });
    const otherKey = (await t.ctx.apiKeys.create({ projectId: other.id, scopes: ['ingest'] })).secret;
    const userId = uid();
    const body = { userId, event: 'Cross', context: { ip: IP_A, userAgent: CHROME_WINDOWS } };
    await postJson(`${t.url}/v1/track`, body, basic(t.writeKey));
    await postJson(`${t.url}/v1/track`, body, basic(otherKey));
    const [here] = await storedFor(t, userId);
    const [there] = await storedFor(t, userId, other.id);
    assert.notEqual(here.ip_hash, there.ip_hash);
  });

  test('a Chrome on Windows agent in context.userAgent: Chrome, Windows, desktop', async () => {
    const userId = uid();
    await postJson(`${t.url}/v1/track`, { userId, event: 'UA', context: { userAgent: CHROME_WINDOWS } }, basic(t.writeKey));
    const list = await (async () => {
      await t.ctx.flush();
      return getJson(`${t.url}/api/projects/shop/events?user=${userId}`, t.readKey);
    })();
    const e = list.body.events[0];
    assert.deepEqual([e.browser, e.os, e.deviceType], ['Chrome', 'Windows', 'desktop']);
  });

  test('an iPhone agent: mobile', async () => {
    const userId = uid();
    await postJson(`${t.url}/v1/track`, { userId, event: 'UA', context: { userAgent: IPHONE } }, basic(t.writeKey));
    const [row] = await storedFor(t, userId);
    assert.equal(row.device_type, 'mobile');
    assert.equal(row.os, 'iOS');
  });

  test("a browser request's own User-Agent is used when context has none", async () => {
    const userId = uid();
    await postJson(
      `${t.url}/v1/track`,
      { userId, event: 'UA' },
      { ...basic(t.writeKey), origin: 'https://shop.example', 'user-agent': IPHONE },
    );
    const [row] = await storedFor(t, userId);
    assert.equal(row.device_type, 'mobile');
  });

  test('a page call fills pagePath and referrerHost from its properties, www. stripped', async () => {
    const userId = uid();
    await postJson(
      `${t.url}/v1/page`,
      {
        userId,
        name: 'Pricing',
        properties: { path: '/pricing', url: 'https://shop.example/pricing?ref=x', referrer: 'https://www.google.com/search?q=vigil' },
      },
      basic(t.writeKey),
    );
    await t.ctx.flush();
    const e = (await getJson(`${t.url}/api/projects/shop/events?user=${userId}`, t.readKey)).body.events[0];
    assert.equal(e.pagePath, '/pricing');
    assert.equal(e.referrerHost, 'google.com');
    assert.equal(e.properties.name, 'Pricing');
  });

  test('a page call with only context.page (as analytics.js sends) fills pagePath and referrerHost', async () => {
    const userId = uid();
    const page = { url: 'https://shop.example/blog/launch?utm_source=x', referrer: 'https://www.news.example/front', title: 'Launch' };
    await postJson(`${t.url}/v1/page`, { userId, context: { page } }, basic(t.writeKey));
    const [row] = await storedFor(t, userId);
    assert.equal(row.page_path, '/blog/launch');
    assert.equal(row.referrer_host, 'news.example');
  });

  test('a track call takes its page from context.page', async () => {
    const userId = uid();
    await postJson(
      `${t.url}/v1/track`,
      { userId, event: 'Added', context: { page: { path: '/cart', referrer: 'https://www.bing.com/' } } },
      basic(t.writeKey),
    );
    const [row] = await storedFor(t, userId);
    assert.deepEqual([row.page_path, row.referrer_host], ['/cart', 'bing.com']);
  });

  test('context.location.country → country', async () => {
    const userId = uid();
    await postJson(
      `${t.url}/v1/track`,
      { userId, event: 'Geo', context: { location: { country: 'DE', city: 'Berlin' } } },
      basic(t.writeKey),
    );
    const [row] = await storedFor(t, userId);
    assert.equal(row.country, 'DE');
  });

  test('CF-IPCountry is ignored when the proxy is not trusted', async () => {
    const userId = uid();
    await postJson(`${t.url}/v1/track`, { userId, event: 'Geo' }, { ...basic(t.writeKey), 'cf-ipcountry': 'FR' });
    const [row] = await storedFor(t, userId);
    assert.equal(row.country, null);
  });

  test('events of one visitor close together share a session id', async () => {
    const userId = uid();
    const base = Date.now() - 3600_000;
    const at = (min: number) => new Date(base + min * 60_000).toISOString();
    const batch = [0, 10, 20, 90].map((min) => ({ type: 'track', userId, event: `At ${min}`, timestamp: at(min) }));
    await postJson(`${t.url}/v1/batch`, { batch }, basic(t.writeKey));
    const session = Object.fromEntries((await storedFor(t, userId)).map((row) => [row.event, row.session_id]));
    assert.ok(session['At 0']);
    assert.equal(session['At 10'], session['At 0']);
    assert.equal(session['At 20'], session['At 0']);
    assert.notEqual(session['At 90'], session['At 0'], 'an hour of inactivity starts a new session');
  });
});

describe('ingest: behind a trusted proxy', () => {
  let t: TestApp;
  before(async () => (t = await startTestApp({ config: { trustProxy: 'true' } })));
  after(() => t.close());

  test('CF-IPCountry fills the country; context.location still wins', async () => {
    const userId = uid();
    await postJson(`${t.url}/v1/track`, { userId, event: 'Header' }, { ...basic(t.writeKey), 'cf-ipcountry': 'FR' });
    await postJson(
      `${t.url}/v1/track`,
      { userId, event: 'Context', context: { location: { country: 'JP' } } },
      { ...basic(t.writeKey), 'cf-ipcountry': 'FR' },
    );
    const country = Object.fromEntries((await storedFor(t, userId)).map((row) => [row.event, row.country]));
    assert.deepEqual(country, { Header: 'FR', Context: 'JP' });
  });

  test('the X-Forwarded-For address is the one hashed, and it is not stored', async () => {
    const userId = uid();
    const from = (ip: string, event: string) =>
      postJson(
        `${t.url}/v1/track`,
        { userId, event, context: { userAgent: CHROME_WINDOWS } },
        { ...basic(t.writeKey), 'x-forwarded-for': ip },
      );
    await from('192.0.2.10', 'A1');
    await from('192.0.2.10', 'A2');
    await from('192.0.2.99', 'B');
    const rows = await storedFor(t, userId);
    const hash = Object.fromEntries(rows.map((row) => [row.event, row.ip_hash]));
    assert.equal(hash.A1, hash.A2);
    assert.notEqual(hash.A1, hash.B);
    assert.ok(!JSON.stringify(rows).includes('192.0.2.'));
  });
});

describe('ingest: identify traits', () => {
  let t: TestApp;
  before(async () => (t = await startTestApp()));
  after(() => t.close());

  test('traits of two identify calls in different segments are merged', async () => {
    assert.equal((await postJson(`${t.url}/v1/identify`, { userId: 'u', traits: { a: 1 } }, basic(t.writeKey))).status, 200);
    await t.ctx.flush();
    assert.deepEqual(await t.ctx.events.userTraits(t.project.id, 'u'), { a: 1 });
    assert.equal((await postJson(`${t.url}/v1/identify`, { userId: 'u', traits: { b: 2 } }, basic(t.writeKey))).status, 200);
    await t.ctx.flush();
    assert.deepEqual(await t.ctx.events.userTraits(t.project.id, 'u'), { a: 1, b: 2 });
  });

  test('a later identify overwrites a trait set earlier (separate segments)', async () => {
    const userId = uid();
    await postJson(`${t.url}/v1/identify`, { userId, traits: { plan: 'free', email: 'x@example.com' } }, basic(t.writeKey));
    await t.ctx.flush();
    await postJson(`${t.url}/v1/identify`, { userId, traits: { plan: 'pro' } }, basic(t.writeKey));
    await t.ctx.flush();
    assert.deepEqual(await t.ctx.events.userTraits(t.project.id, userId), { plan: 'pro', email: 'x@example.com' });
  });

  test('within one segment the later identify wins a conflicting trait', async () => {
    const userId = uid();
    const base = Date.now() - 60_000;
    const batch = [
      { type: 'identify', userId, traits: { plan: 'pro' }, timestamp: new Date(base + 1000).toISOString() },
      { type: 'identify', userId, traits: { plan: 'free' }, timestamp: new Date(base).toISOString() },
    ];
    assert.equal((await postJson(`${t.url}/v1/batch`, { batch }, basic(t.writeKey))).status, 200);
    await t.ctx.flush();
    assert.equal((await t.ctx.events.userTraits(t.project.id, userId))?.plan, 'pro');
  });

  test('within one segment the traits of two identify calls are merged', async () => {
    const userId = uid();
    const base = Date.now() - 60_000;
    const batch = [
      { type: 'identify', userId, traits: { a: 1 }, timestamp: new Date(base).toISOString() },
      { type: 'identify', userId, traits: { b: 2 }, timestamp: new Date(base + 1000).toISOString() },
    ];
    assert.equal((await postJson(`${t.url}/v1/batch`, { batch }, basic(t.writeKey))).status, 200);
    await t.ctx.flush();
    assert.deepEqual(await t.ctx.events.userTraits(t.project.id, userId), { a: 1, b: 2 });
  });

  test('an identify with an older timestamp loaded later does not overwrite newer traits', async () => {
    const userId = uid();
    await postJson(`${t.url}/v1/identify`, { userId, traits: { plan: 'pro' } }, basic(t.writeKey));
    await t.ctx.flush();
    await postJson(
      `${t.url}/v1/identify`,
      { userId, traits: { plan: 'free' }, timestamp: new Date(Date.now() - 86_400_000).toISOString() },
      basic(t.writeKey),
    );
    await t.ctx.flush();
    assert.equal((await t.ctx.events.userTraits(t.project.id, userId))?.plan, 'pro');
  });

  test('anonymous identify calls leave no user traits', async () => {
    const anonymousId = uid('anon');
    await postJson(`${t.url}/v1/identify`, { anonymousId, traits: { plan: 'free' } }, basic(t.writeKey));
    await t.ctx.flush();
    assert.equal(await t.ctx.events.userTraits(t.project.id, anonymousId), null);
  });
});

describe('ingest: CORS, metrics and a real Segment client', () => {
  let t: TestApp;
  before(async () => (t = await startTestApp()));
  after(() => t.close());

  test('a preflight OPTIONS /v1/batch with an Origin answers 204 and allows it', async () => {
    const res = await fetch(`${t.url}/v1/batch`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://shop.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,authorization',
      },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), 'https://shop.example');
    assert.match(res.headers.get('access-control-allow-methods') ?? '', /POST/);
    const allowed = (res.headers.get('access-control-allow-headers') ?? '').toLowerCase();
    for (const h of ['content-type', 'authorization', 'content-encoding']) assert.ok(allowed.includes(h), `${h} in ${allowed}`);
  });

  test('a POST from a browser origin carries access-control-allow-origin, also on errors', async () => {
    const ok = await postJson(
      `${t.url}/v1/track`,
      { userId: uid(), event: 'Cors' },
      { ...basic(t.writeKey), origin: 'https://shop.example' },
    );
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('access-control-allow-origin'), 'https://shop.example');
    const denied = await postJson(`${t.url}/v1/track`, { userId: uid(), event: 'Cors' }, { origin: 'https://shop.example' });
    assert.equal(denied.status, 401);
    assert.equal(denied.headers.get('access-control-allow-origin'), 'https://shop.example', 'the browser can read the 401');
  });

  test('@segment/analytics-node delivers track, identify and page calls', async () => {
    const userId = uid();
    const analytics = new Analytics({ writeKey: t.writeKey, host: t.url, flushInterval: 50, maxRetries: 0 });
    analytics.identify({ userId, traits: { name: 'Ada' } });
    analytics.track({ userId, event: 'Order Completed', properties: { total: 9.5 } });
    analytics.page({ userId, name: 'Checkout', properties: { path: '/checkout' } });
    await analytics.closeAndFlush({ timeout: 5000 });
    const rows = await storedFor(t, userId);
    assert.deepEqual(rows.map((row) => row.event).sort(), ['$identify', '$page', 'Order Completed']);
    const track = rows.find((row) => row.type === 'track')!;
    assert.deepEqual(track.properties, { total: 9.5 });
    assert.equal(track.platform, 'server');
    assert.ok(Math.abs(track.timestamp - track.received_at) < 5000);
    assert.equal(rows.find((row) => row.type === 'page')!.page_path, '/checkout');
    assert.deepEqual(await t.ctx.events.userTraits(t.project.id, userId), { name: 'Ada' });
  });

  test('GET /metrics counts accepted events and rejections by reason', async () => {
    await postJson(`${t.url}/v1/track`, { userId: uid(), event: 'Counted' }, basic(t.writeKey));
    await postJson(`${t.url}/v1/track`, { userId: uid() }, basic(t.writeKey));
    const res = await fetch(`${t.url}/metrics`);
    assert.equal(res.status, 200);
    const text = await res.text();
    const value = (line: RegExp) => {
      const m = line.exec(text);
      assert.ok(m, `${line} in /metrics`);
      return Number(m[1]);
    };
    assert.ok(value(/^vigil_events_accepted_total (\d+)$/m) >= 1);
    assert.ok(value(/^vigil_events_rejected_total\{reason="missing_event"\} (\d+)$/m) >= 1);
  });
});
