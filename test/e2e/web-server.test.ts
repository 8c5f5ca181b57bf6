/**
 * The server's side of the web app over real HTTP: the built app at / with its SPA fallback and
 * cache rules, the live stream (server-sent events) and the tracking plan.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { basic, getJson, postJson, startTestApp, tempDir, type TestApp } from '../helpers/app.js';
import { webRoutes } from '../../src/web/static.js';
import { LiveFeed } from '../../src/analytics/live.js';
import { CONTENT_SECURITY_POLICY } from '../../src/http/security.js';
import Fastify from 'fastify';

/** Reads server-sent events from a fetch body: `next(name)` resolves with the next event of that name. */
function sseReader(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const frames: { event: string; data: string }[] = [];
  const comments: string[] = [];
  const pump = async () => {
    const { value, done } = await reader.read();
    if (done) throw new Error('the stream ended');
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message',
        data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) comments.push(line);
        else if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data += line.slice(6);
      }
      if (data) frames.push({ event, data });
    }
  };
  return {
    comments,
    async next(name: string, timeoutMs = 5000): Promise<unknown> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const i = frames.findIndex((f) => f.event === name);
        if (i >= 0) return JSON.parse(frames.splice(i, 1)[0].data);
        if (Date.now() > deadline) throw new Error(`no "${name}" event within ${timeoutMs} ms`);
        await pump();
      }
    },
    async waitFor(check: () => boolean, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (!check()) {
        if (Date.now() > deadline) throw new Error('timed out');
        await pump();
      }
    },
    cancel: () => reader.cancel(),
  };
}

describe('the web app at /', () => {
  let t: TestApp;
  before(async () => (t = await startTestApp()));
  after(() => t?.close());

  test('/ and any page a browser navigates to get index.html, not cached', async () => {
    for (const url of ['/', '/p/shop/overview', '/sign-in', '/setup']) {
      const r = await fetch(t.url + url, { headers: { accept: 'text/html,application/xhtml+xml' } });
      assert.equal(r.status, 200, url);
      assert.match(r.headers.get('content-type') ?? '', /text\/html/);
      assert.equal(r.headers.get('cache-control'), 'no-cache', url);
      assert.equal(r.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY, url);
      assert.match(await r.text(), /<div id="root">/);
    }
  });

  test('hashed assets are cached for a year and gzipped; each script the page loads is served', async () => {
    const html = await (await fetch(t.url + '/')).text();
    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
    assert.ok(
      assets.some((a) => a.endsWith('.js')),
      'index.html loads a script from /assets/',
    );
    assert.ok(
      !/<script>(?!<\/script>)/.test(html) && !/<script(?![^>]*\bsrc=)[^>]*>[^<]/.test(html),
      'no inline script (the CSP forbids it)',
    );
    for (const a of assets) {
      const r = await fetch(t.url + a, { headers: { 'accept-encoding': 'gzip' } });
      assert.equal(r.status, 200, a);
      assert.equal(r.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      if (a.endsWith('.js')) assert.match(r.headers.get('content-type') ?? '', /text\/javascript/);
      await r.arrayBuffer();
    }
    // undici decodes gzip itself; the header says it was sent compressed
    const js = assets.find((a) => a.endsWith('.js'))!;
    const r = await fetch(t.url + js, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(r.headers.get('content-encoding'), 'gzip');
    assert.match(r.headers.get('vary') ?? '', /Accept-Encoding/);
  });

  test('API paths, missing files and non-browser requests keep the JSON 404', async () => {
    for (const [url, accept] of [
      ['/api/nope', 'text/html'],
      ['/v1/nope', 'text/html'],
      ['/assets/missing.js', 'text/html'],
      ['/favicon.png', 'text/html'],
      ['/nope', '*/*'],
    ]) {
      const r = await fetch(t.url + url, { headers: { accept } });
      assert.equal(r.status, 404, url);
      const body = (await r.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'VIGIL_ERR_NOT_FOUND', url);
      assert.equal(body.error.message, `no route GET ${url}`);
    }
  });

  test('a path that climbs out of the build folder is refused; without a build, pages say how to build it (503)', async () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'web'));
    fs.writeFileSync(path.join(dir, 'secret.txt'), 'not for the web');
    const app = Fastify();
    await app.register(webRoutes, { dir: path.join(dir, 'web') });
    for (const url of ['/..%2fsecret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt']) {
      const r = await app.inject({ url, headers: { accept: 'text/html' } });
      assert.equal(r.statusCode, 404, url);
      assert.doesNotMatch(r.body, /not for the web/);
    }
    const r = await app.inject({ url: '/p/shop/overview', headers: { accept: 'text/html' } });
    assert.equal(r.statusCode, 503);
    assert.match(r.body, /npm run build/);
    await app.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('live stream', () => {
  let t: TestApp;
  before(async () => (t = await startTestApp()));
  after(() => t?.close());

  const track = (body: Record<string, unknown>) => postJson(`${t.url}/v1/track`, body, basic(t.writeKey));

  test('streams newly ingested events of the project, filtered by event and user', async () => {
    const all = await fetch(`${t.url}/api/projects/shop/live`, { headers: { authorization: `Bearer ${t.readKey}` } });
    assert.equal(all.status, 200);
    assert.match(all.headers.get('content-type') ?? '', /text\/event-stream/);
    assert.equal(all.headers.get('cache-control'), 'no-cache, no-transform');
    const byUser = await fetch(`${t.url}/api/projects/shop/live?user=u2`, { headers: { authorization: `Bearer ${t.readKey}` } });
    const byEvent = await fetch(`${t.url}/api/projects/shop/live?event=${encodeURIComponent('Order Completed')}`, {
      headers: { authorization: `Bearer ${t.readKey}` },
    });
    const [a, u, e] = [sseReader(all.body!), sseReader(byUser.body!), sseReader(byEvent.body!)];
    assert.deepEqual(await a.next('ready'), { project: 'shop', filter: {} });
    assert.deepEqual(await u.next('ready'), { project: 'shop', filter: { user: 'u2' } });
    await e.next('ready');
    assert.equal(t.ctx.live.subscribers, 3);

    assert.equal((await track({ userId: 'u1', event: 'Signed Up', properties: { plan: 'pro' } })).status, 200);
    assert.equal((await track({ userId: 'u2', event: 'Order Completed', properties: { total: 12 } })).status, 200);
    const first = (await a.next('events')) as { event: string; userId: string; properties: Record<string, unknown> }[];
    assert.equal(first[0].event, 'Signed Up');
    assert.deepEqual(first[0].properties, { plan: 'pro' });
    const second = (await a.next('events')) as { event: string }[];
    assert.equal(second[0].event, 'Order Completed');
    assert.deepEqual(
      ((await u.next('events')) as { userId: string }[]).map((x) => x.userId),
      ['u2'],
    );
    assert.deepEqual(
      ((await e.next('events')) as { event: string }[]).map((x) => x.event),
      ['Order Completed'],
    );

    // closing a connection unsubscribes it
    await Promise.all([a.cancel(), u.cancel(), e.cancel()]);
    for (let i = 0; i < 50 && t.ctx.live.subscribers > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(t.ctx.live.subscribers, 0);
  });

  test("another project's events are not sent; a bad filter is a 400; no credentials a 401", async () => {
    const other = await t.ctx.projects.create({ slug: 'other' });
    const otherKey = (await t.ctx.apiKeys.create({ projectId: other.id, scopes: ['ingest'] })).secret;
    const res = await fetch(`${t.url}/api/projects/shop/live`, { headers: { authorization: `Bearer ${t.readKey}` } });
    const s = sseReader(res.body!);
    await s.next('ready');
    await postJson(`${t.url}/v1/track`, { userId: 'x', event: 'Elsewhere' }, basic(otherKey));
    await track({ userId: 'u3', event: 'Here' });
    assert.deepEqual(
      ((await s.next('events')) as { event: string }[]).map((x) => x.event),
      ['Here'],
    );
    await s.cancel();
    assert.equal((await getJson(`${t.url}/api/projects/shop/live?colour=red`, t.readKey)).status, 400);
    assert.equal((await fetch(`${t.url}/api/projects/shop/live`)).status, 401);
  });

  test('heartbeats keep the stream alive; closing the app ends open streams', async () => {
    const local = await startTestApp();
    try {
      // the route with a short heartbeat, on an app of its own
      const app = Fastify();
      app.decorateRequest('project', undefined);
      app.addHook('onRequest', async (request) => {
        request.project = local.project;
      });
      const { liveRoutes } = await import('../../src/analytics/live.js');
      await app.register(liveRoutes, { live: local.ctx.live, heartbeatMs: 50 });
      await app.listen({ port: 0, host: '127.0.0.1' });
      const res = await fetch(`http://127.0.0.1:${(app.server.address() as { port: number }).port}/api/projects/shop/live`);
      const s = sseReader(res.body!);
      await s.next('ready');
      await s.waitFor(() => s.comments.some((c) => c.startsWith(': heartbeat')));
      const closed = app.close();
      await assert.rejects(
        s.waitFor(() => false, 5000),
        /the stream ended/,
      );
      await closed;
    } finally {
      await local.close();
    }
  });
});

describe('LiveFeed', () => {
  const row = (event: string, userId: string) =>
    JSON.stringify({
      project_id: 1,
      message_id: `m-${event}-${userId}`,
      type: 'track',
      event,
      anonymous_id: null,
      user_id: userId,
      distinct_id: userId,
      session_id: null,
      timestamp: 0,
      received_at: 0,
      properties: {},
      context: {},
      page_path: null,
      referrer_host: null,
      app_version: null,
      platform: null,
      os: null,
      browser: null,
      device_type: null,
      country: null,
      ip_hash: 'h',
    });

  test("delivers to the project's matching subscribers only, and survives a throwing one", () => {
    const feed = new LiveFeed();
    const got: string[] = [];
    const off = feed.subscribe(1, { user: 'a' }, (events) => got.push(...events.map((e) => `${e.event}/${e.userId}`)));
    feed.subscribe(1, {}, () => {
      throw new Error('broken connection');
    });
    feed.subscribe(2, {}, () => got.push('other project'));
    feed.publish(1, [row('A', 'a'), row('B', 'b'), row('C', 'a')]);
    assert.deepEqual(got, ['A/a', 'C/a']);
    off();
    feed.publish(1, [row('D', 'a')]);
    assert.deepEqual(got, ['A/a', 'C/a']);
    assert.equal(feed.subscribers, 2);
  });

  test('no subscriber: nothing is parsed (a bad line does not matter)', () => {
    const feed = new LiveFeed();
    assert.doesNotThrow(() => feed.publish(1, ['{not json']));
    feed.subscribe(1, {}, () => assert.fail('a bad line is not delivered'));
    assert.doesNotThrow(() => feed.publish(1, ['{not json']));
  });
});

describe('tracking plan', () => {
  let t: TestApp;
  before(async () => (t = await startTestApp()));
  after(() => t?.close());

  test('lists events with their properties, types, volumes, days seen and drift marks', async () => {
    const day = 86_400_000;
    const today = Math.floor(Date.now() / day) * day;
    const batch = [
      ...[0, 1, 2].map((i) => ({
        type: 'track',
        userId: `u${i}`,
        event: 'Order Completed',
        messageId: `o${i}`,
        timestamp: new Date(today - 2 * day + i * 1000).toISOString(),
        properties: { total: 10 + i, currency: 'EUR' },
      })),
      {
        type: 'track',
        userId: 'u9',
        event: 'Order Completed',
        messageId: 'o9',
        timestamp: new Date(today + 1000).toISOString(),
        properties: { total: '12', currency: 'EUR', coupon: 'X' },
      },
      { type: 'track', userId: 'u1', event: 'Signed Up', messageId: 's1', timestamp: new Date(today - 5 * day).toISOString() },
    ];
    assert.equal((await postJson(`${t.url}/v1/batch`, { batch }, basic(t.writeKey))).status, 200);
    await t.ctx.flush();
    await t.ctx.signals.upsert(t.project.id, [
      {
        scope: 'schema',
        scopeKey: 'schema:Order Completed:coupon:new_property',
        metricId: null,
        bucket: today - day,
        endBucket: today - day,
        kind: 'new_property',
        direction: null,
        value: 1,
        expected: null,
        lower: null,
        upper: null,
        z: 0,
        score: 1,
        severity: 'info',
        details: { event: 'Order Completed', property: 'coupon', detail: 'new property coupon' },
      },
    ]);
    const r = await getJson(`${t.url}/api/projects/shop/tracking-plan?days=7`, t.readKey);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.days.length, 7);
    const [order, signup] = r.body.events;
    assert.equal(order.event, 'Order Completed');
    assert.equal(order.count, 4);
    assert.equal(
      order.daily.reduce((a: number, b: number) => a + b, 0),
      4,
    );
    assert.equal(order.firstSeen, new Date(today - 2 * day).toISOString());
    assert.equal(order.lastSeen, new Date(today).toISOString());
    const props = Object.fromEntries(order.properties.map((p: { name: string }) => [p.name, p]));
    assert.deepEqual(props.total.types, { number: 3, string: 1 });
    assert.equal(props.total.type, 'number');
    assert.equal(props.currency.coverage, 1);
    assert.deepEqual(props.currency.values, [{ value: 'EUR', count: 4 }]);
    assert.equal(props.coupon.coverage, 0.25);
    assert.deepEqual(
      props.coupon.drift.map((m: { kind: string }) => m.kind),
      ['new_property'],
    );
    assert.equal(order.drift.length, 1);
    assert.equal(signup.event, 'Signed Up');
    assert.deepEqual(signup.properties, []);
    assert.equal((await getJson(`${t.url}/api/projects/shop/tracking-plan?days=365`, t.readKey)).status, 400);
  });
});
