import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { CONTENT_SECURITY_POLICY } from '../../src/http/security.js';
import { basic, postJson, startTestApp, type TestApp } from '../helpers/app.js';

const APP_ORIGIN = 'https://app.example.com';
const FOREIGN_ORIGIN = 'https://evil.example.net';

/** The headers every answer carries, whatever its route or status. */
function assertSecurityHeaders(headers: Headers, what: string) {
  assert.equal(headers.get('x-content-type-options'), 'nosniff', what);
  assert.equal(headers.get('referrer-policy'), 'strict-origin-when-cross-origin', what);
  assert.equal(headers.get('x-frame-options'), 'DENY', what);
  const csp = headers.get('content-security-policy') ?? '';
  assert.equal(csp, CONTENT_SECURITY_POLICY, what);
  assert.match(csp, /frame-ancestors 'none'/, what);
  assert.match(csp, /script-src 'self'(;|$)/, what);
}

/** Asserts the error shape every 4xx has, and returns it. */
function errorOf(r: { status: number; body: any }, status: number) {
  assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${JSON.stringify(r.body)}`);
  assert.deepEqual(Object.keys(r.body), ['error']);
  assert.deepEqual(Object.keys(r.body.error).sort(), ['code', 'details', 'message']);
  return r.body.error as { code: string; message: string; details: any };
}

async function fetchJson(url: string, init: RequestInit = {}) {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON (204, HTML): keep the text
  }
  return { status: res.status, headers: res.headers, body };
}

describe('security headers', () => {
  let t: TestApp;
  before(async () => (t = await startTestApp({ config: { corsOrigins: APP_ORIGIN } })));
  after(() => t.close());

  test('API answers, /health, errors and 404s all carry them', async () => {
    const ingest = await postJson(`${t.url}/v1/track`, { userId: 'u', event: 'E' }, basic(t.writeKey));
    assert.equal(ingest.status, 200);
    assertSecurityHeaders(ingest.headers, 'ingest');
    const spec = await fetchJson(`${t.url}/api/docs/json`);
    assert.equal(spec.status, 200);
    assertSecurityHeaders(spec.headers, 'OpenAPI document');
    const events = await fetchJson(`${t.url}/api/projects/shop/events`, { headers: { authorization: `Bearer ${t.readKey}` } });
    assert.equal(events.status, 200, JSON.stringify(events.body));
    assertSecurityHeaders(events.headers, 'events API');
    const signedOut = await fetchJson(`${t.url}/api/projects/shop/events`);
    errorOf(signedOut, 401);
    assertSecurityHeaders(signedOut.headers, 'events API, 401');
    const health = await fetchJson(`${t.url}/health`);
    assert.equal(health.status, 200);
    assertSecurityHeaders(health.headers, '/health');
    const unauthorized = await postJson(`${t.url}/v1/track`, { userId: 'u', event: 'E' });
    errorOf(unauthorized, 401);
    assertSecurityHeaders(unauthorized.headers, '401');
    const invalid = await postJson(`${t.url}/v1/track`, '{not json', basic(t.writeKey));
    errorOf(invalid, 400);
    assertSecurityHeaders(invalid.headers, '400');
    const missing = await fetchJson(`${t.url}/api/no-such-route`);
    errorOf(missing, 404);
    assertSecurityHeaders(missing.headers, '404');
  });

  test('no HSTS over plain HTTP, and X-Forwarded-Proto is ignored when the proxy is not trusted', async () => {
    assert.equal((await fetch(`${t.url}/health`)).headers.get('strict-transport-security'), null);
    const forwarded = await fetch(`${t.url}/health`, { headers: { 'x-forwarded-proto': 'https' } });
    assert.equal(forwarded.headers.get('strict-transport-security'), null);
  });

  for (const docs of ['/api/docs', '/api/docs/']) {
    test(`the Swagger UI page (${docs}) loads, with every script and stylesheet it references, under the CSP`, async () => {
      const page = await fetch(t.url + docs);
      assert.equal(page.status, 200);
      assertSecurityHeaders(page.headers, docs);
      const html = await page.text();
      assert.match(html, /<div id="swagger-ui">/);
      // script-src 'self' forbids inline scripts: every <script> must load a file
      const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
      assert.ok(scripts.length >= 3, html);
      for (const [, attrs, body] of scripts) {
        assert.match(attrs, /\bsrc="/, `inline script: ${body}`);
        assert.equal(body.trim(), '', 'a script with src has no inline body');
      }
      assert.doesNotMatch(html, /\son[a-z]+=/i, 'no inline event handlers');
      const assets = [...html.matchAll(/(?:src|href)="([^"]+\.(?:js|css))"/g)].map((m) => new URL(m[1], page.url).href);
      assert.ok(
        assets.some((a) => a.endsWith('/swagger-ui-bundle.js')),
        assets.join(' '),
      );
      assert.ok(
        assets.some((a) => a.endsWith('/swagger-initializer.js')),
        assets.join(' '),
      );
      assert.ok(
        assets.some((a) => a.endsWith('.css')),
        assets.join(' '),
      );
      for (const asset of assets) {
        assert.ok(asset.startsWith(t.url + '/api/docs/static/'), `${asset} is not served by Vigil`);
        const res = await fetch(asset);
        assert.equal(res.status, 200, asset);
        assert.match(res.headers.get('content-type') ?? '', asset.endsWith('.js') ? /javascript/ : /css/, asset);
        assert.ok((await res.arrayBuffer()).byteLength > 0, asset);
      }
      // the initializer fetches the OpenAPI document from the same origin (connect-src 'self')
      const spec = await fetchJson(`${t.url}/api/docs/json`);
      assert.equal(spec.status, 200);
      assert.equal(typeof spec.body.openapi, 'string');
    });
  }
});

describe('HSTS behind a trusted proxy', () => {
  let t: TestApp;
  before(async () => (t = await startTestApp({ config: { trustProxy: 'true' } })));
  after(() => t.close());

  test('is sent when the proxy says the request came over TLS, not otherwise', async () => {
    const tls = await fetch(`${t.url}/health`, { headers: { 'x-forwarded-proto': 'https' } });
    assert.equal(tls.headers.get('strict-transport-security'), 'max-age=31536000; includeSubDomains');
    const errorOverTls = await fetch(`${t.url}/api/no-such-route`, { headers: { 'x-forwarded-proto': 'https' } });
    assert.equal(errorOverTls.status, 404);
    assert.equal(errorOverTls.headers.get('strict-transport-security'), 'max-age=31536000; includeSubDomains');
    const plain = await fetch(`${t.url}/health`, { headers: { 'x-forwarded-proto': 'http' } });
    assert.equal(plain.headers.get('strict-transport-security'), null);
    assert.equal((await fetch(`${t.url}/health`)).headers.get('strict-transport-security'), null);
  });
});

describe('CORS', () => {
  let t: TestApp;
  before(async () => (t = await startTestApp({ config: { corsOrigins: APP_ORIGIN } })));
  after(() => t.close());

  const eventsUrl = () => `${t.url}/api/projects/shop/events`;

  test('a request from a configured origin may read the answer, with credentials', async () => {
    for (const url of [`${t.url}/api/docs/json`, eventsUrl(), `${t.url}/health`]) {
      const r = await fetch(url, { headers: { origin: APP_ORIGIN, authorization: `Bearer ${t.readKey}` } });
      assert.equal(r.headers.get('access-control-allow-origin'), APP_ORIGIN, url);
      assert.equal(r.headers.get('access-control-allow-credentials'), 'true', url);
      assert.match(r.headers.get('vary') ?? '', /\bOrigin\b/, url);
    }
    // an error answer too, so the page can show what went wrong
    const denied = await fetch(eventsUrl(), { headers: { origin: APP_ORIGIN } });
    assert.equal(denied.status, 401);
    assert.equal(denied.headers.get('access-control-allow-origin'), APP_ORIGIN);
    const missing = await fetch(`${t.url}/api/no-such-route`, { headers: { origin: APP_ORIGIN } });
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get('access-control-allow-origin'), APP_ORIGIN);
  });

  test('a preflight from a configured origin is answered 204 with what may be sent', async () => {
    const r = await fetch(eventsUrl(), {
      method: 'OPTIONS',
      headers: {
        origin: APP_ORIGIN,
        'access-control-request-method': 'PATCH',
        'access-control-request-headers': 'content-type, x-csrf-token',
      },
    });
    assert.equal(r.status, 204);
    assert.equal(r.headers.get('access-control-allow-origin'), APP_ORIGIN);
    assert.equal(r.headers.get('access-control-allow-credentials'), 'true');
    assert.equal(r.headers.get('access-control-allow-methods'), 'GET, POST, PATCH, PUT, DELETE, OPTIONS');
    assert.equal(r.headers.get('access-control-allow-headers'), 'Content-Type, Authorization, X-API-Key, X-CSRF-Token');
    assert.equal(r.headers.get('access-control-max-age'), '600');
    assert.match(r.headers.get('vary') ?? '', /\bOrigin\b/);
    assertSecurityHeaders(r.headers, 'preflight');
  });

  test('a request from another origin gets no CORS headers (the browser keeps the answer from the page)', async () => {
    const r = await fetch(`${t.url}/api/docs/json`, { headers: { origin: FOREIGN_ORIGIN, authorization: `Bearer ${t.readKey}` } });
    assert.equal(r.status, 200, 'the request itself is answered: CORS only tells the browser whether the page may read it');
    assert.equal(r.headers.get('access-control-allow-origin'), null);
    assert.equal(r.headers.get('access-control-allow-credentials'), null);
    assert.match(r.headers.get('vary') ?? '', /\bOrigin\b/, 'a cache must not serve this answer to another origin');
    // nor does an origin that only starts like an allowed one
    const lookalike = await fetch(eventsUrl(), { headers: { origin: `${APP_ORIGIN}.evil.example.net` } });
    assert.equal(lookalike.headers.get('access-control-allow-origin'), null);
  });

  test('a preflight from another origin is a 403 naming VIGIL_CORS_ORIGINS', async () => {
    const r = await fetchJson(eventsUrl(), {
      method: 'OPTIONS',
      headers: { origin: FOREIGN_ORIGIN, 'access-control-request-method': 'DELETE' },
    });
    const err = errorOf(r, 403);
    assert.equal(err.code, 'VIGIL_ERR_FORBIDDEN');
    assert.match(err.message, /VIGIL_CORS_ORIGINS/);
    assert.ok(err.message.includes(FOREIGN_ORIGIN), err.message);
    assert.deepEqual(err.details, { origin: FOREIGN_ORIGIN });
    assert.equal(r.headers.get('access-control-allow-origin'), null);
    assert.equal(r.headers.get('access-control-allow-methods'), null);
  });

  test('ingest still answers any origin: preflight and batch', async () => {
    const pre = await fetch(`${t.url}/v1/batch`, {
      method: 'OPTIONS',
      headers: { origin: FOREIGN_ORIGIN, 'access-control-request-method': 'POST' },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), FOREIGN_ORIGIN);
    assert.equal(pre.headers.get('access-control-allow-credentials'), null, 'ingest never takes cookies');
    const userId = `u-${crypto.randomUUID()}`;
    const r = await postJson(
      `${t.url}/v1/batch`,
      { batch: [{ type: 'track', userId, event: 'Clicked' }] },
      { ...basic(t.writeKey), origin: FOREIGN_ORIGIN },
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.headers.get('access-control-allow-origin'), FOREIGN_ORIGIN);
    await t.ctx.flush();
    assert.equal((await t.ctx.events.listEvents({ projectId: t.project.id, userId, limit: 10 })).length, 1);
  });
});

describe('CORS with * (development)', () => {
  let t: TestApp;
  before(async () => (t = await startTestApp({ config: { corsOrigins: '*' } })));
  after(() => t.close());

  test('any origin is allowed, and echoed (a credentialed answer cannot say *)', async () => {
    const r = await fetch(`${t.url}/health`, { headers: { origin: FOREIGN_ORIGIN } });
    assert.equal(r.headers.get('access-control-allow-origin'), FOREIGN_ORIGIN);
    const pre = await fetch(`${t.url}/api/projects/shop/events`, {
      method: 'OPTIONS',
      headers: { origin: FOREIGN_ORIGIN, 'access-control-request-method': 'GET' },
    });
    assert.equal(pre.status, 204);
  });
});

describe('ingest rate limit per key', () => {
  let t: TestApp;
  before(async () => (t = await startTestApp({ config: { ingestRateLimit: 5 } })));
  after(() => t.close());

  /** Sends from `key` until it is refused. */
  async function drain(key: string) {
    for (let i = 0; i < 100; i++) {
      const r = await postJson(`${t.url}/v1/track`, { userId: 'drain', event: 'Drain' }, basic(key));
      if (r.status === 429) return;
      assert.equal(r.status, 200, JSON.stringify(r.body));
    }
    assert.fail('the key was never refused');
  }

  test('a burst from one key gets 429 with Retry-After; refused events are not stored; another key is unaffected', async () => {
    const key = (await t.ctx.apiKeys.create({ projectId: t.project.id, scopes: ['ingest'] })).secret;
    const other = (await t.ctx.apiKeys.create({ projectId: t.project.id, scopes: ['ingest'] })).secret;
    // 5 per second over a 10 s bucket: a burst of 50 passes, the rest of 80 at once are refused
    const sent = Array.from({ length: 80 }, (_, i) => ({
      userId: `burst-${crypto.randomUUID()}`,
      path: i % 2 ? '/v1/batch' : '/v1/track',
    }));
    const started = performance.now();
    const answers = await Promise.all(
      sent.map(({ userId, path }) =>
        postJson(
          t.url + path,
          path === '/v1/batch' ? { batch: [{ type: 'track', userId, event: 'Burst' }] } : { userId, event: 'Burst' },
          basic(key),
        ),
      ),
    );
    const ok = sent.filter((_, i) => answers[i].status === 200).map((s) => s.userId);
    const refused = answers.filter((a) => a.status === 429);
    assert.equal(ok.length + refused.length, sent.length, JSON.stringify(answers.find((a) => a.status !== 200 && a.status !== 429)?.body));
    // the bucket refills one request every 200 ms while the burst is under way (slower on a busy machine)
    const refills = Math.ceil((performance.now() - started) / 200) + 1;
    assert.ok(ok.length >= 50 && ok.length <= 50 + refills, `passed ${ok.length} (at most ${50 + refills})`);
    assert.ok(refused.length >= 30 - refills, `refused ${refused.length}`);
    for (const r of refused) {
      const err = errorOf(r, 429);
      assert.equal(err.code, 'VIGIL_ERR_RATE_LIMITED');
      assert.match(err.message, /this API key sent more than 5 requests per second; retry in 1 s/);
      assert.deepEqual(err.details, { retryAfterSeconds: 1 });
      assert.equal(r.headers.get('retry-after'), '1');
    }

    // a key in the body is charged too, and measurements draw on the same allowance (the bucket
    // refills one request every 200 ms, so each check comes right after emptying it again)
    // (a few at once: one may slip through if a refill lands between the drain and the check)
    await drain(key);
    const inBody = await Promise.all(
      [1, 2, 3].map(() =>
        postJson(`${t.url}/v1/batch`, { writeKey: key, batch: [{ type: 'track', userId: 'body-key', event: 'Refused' }] }),
      ),
    );
    assert.ok(
      inBody.some((r) => r.status === 429),
      JSON.stringify(inBody.map((r) => r.status)),
    );
    await drain(key);
    const measurements = await Promise.all(
      [1, 2, 3].map(() => postJson(`${t.url}/v1/measurements`, [{ service: 'api', metric: 'queue.depth', value: 1 }], basic(key))),
    );
    const measurement = measurements.find((r) => r.status === 429);
    assert.ok(measurement, JSON.stringify(measurements.map((r) => r.status)));
    assert.equal(measurement.headers.get('retry-after'), '1');

    const fresh = await postJson(`${t.url}/v1/track`, { userId: 'other-key-user', event: 'Fine' }, basic(other));
    assert.equal(fresh.status, 200, 'another key of the same project has its own allowance');

    await t.ctx.flush();
    const stored = await t.ctx.events.listEvents({ projectId: t.project.id, event: 'Burst', limit: 10_000 });
    assert.deepEqual(stored.map((e) => e.user_id).sort(), [...ok].sort(), 'exactly the acknowledged events are stored');
    assert.equal((await t.ctx.events.listEvents({ projectId: t.project.id, userId: 'other-key-user', limit: 10 })).length, 1);
    assert.equal(
      (await t.ctx.events.listEvents({ projectId: t.project.id, event: 'Refused', limit: 10 })).length,
      inBody.filter((r) => r.status === 200).length,
      'a refused request stored nothing',
    );

    // the bucket refills: after Retry-After one more request passes
    await new Promise((r) => setTimeout(r, 1100));
    const later = await postJson(`${t.url}/v1/track`, { userId: 'later', event: 'Later' }, basic(key));
    assert.equal(later.status, 200, JSON.stringify(later.body));
  });
});
