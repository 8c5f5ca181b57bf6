/**
 * The browser SDK in real Chromium: a site on another origin installs the snippet, which loads
 * /sdk.js from Vigil; its calls, SPA page views and the pagehide beacon end up in the event API.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import { getJson, startTestApp, type TestApp } from '../helpers/app.js';
import { browserSkip, launchBrowser } from '../helpers/browser.js';
import { sdkSnippet } from '../../src/web/sdk-route.js';

const SCREENSHOT = path.join('test-results', 'sdk.png');

interface ApiEvent {
  messageId: string;
  type: string;
  event: string;
  userId: string | null;
  anonymousId: string | null;
  sessionId: string | null;
  timestamp: string;
  properties: Record<string, unknown>;
  context: Record<string, any>;
  pagePath: string | null;
  platform: string | null;
  browser: string | null;
}

/** The customer's site: a shop page with the snippet (and a call made before sdk.js has loaded). */
function sitePage(vigilUrl: string, writeKey: string) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Shop: home</title>
${sdkSnippet(vigilUrl, writeKey)}
<script>vigil.track('Landing Viewed', { campaign: 'spring' });</script>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; color: #1f2328; }
  code { background: #f0f2f4; padding: 0 .3rem; border-radius: 4px; } li { font-family: ui-monospace, monospace; }
</style>
</head>
<body>
<h1>Shop</h1>
<p id="status">loading vigil.js…</p>
<ol id="log"></ol>
<script>
  const log = (text) => { const li = document.createElement('li'); li.textContent = text; document.getElementById('log').append(li); };
  const wait = setInterval(() => {
    if (Array.isArray(window.vigil)) return;
    clearInterval(wait);
    document.getElementById('status').innerHTML = 'vigil.js loaded from <code>${vigilUrl}</code>; anonymousId <code>' + localStorage.getItem('vigil_aid') + '</code>';
  }, 20);
  window.shopLog = log;
</script>
</body>
</html>`;
}

describe('browser SDK', { skip: browserSkip() }, () => {
  let t: TestApp;
  let site: http.Server;
  let siteUrl: string;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  before(async () => {
    t = await startTestApp();
    site = http.createServer((req, res) => {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(req.url === '/bye' ? '<!doctype html><title>Bye</title><p>Left the shop.</p>' : sitePage(t.url, t.writeKey));
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    // another port: another origin than Vigil's
    siteUrl = `http://127.0.0.1:${(site.address() as { port: number }).port}`;
    browser = await launchBrowser();
    page = await browser.newPage();
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
  });
  after(async () => {
    await browser?.close();
    await new Promise((resolve) => site?.close(resolve));
    await t?.close();
  });

  test('GET /sdk.js: JavaScript for any origin, cached, gzipped, with an ETag', async () => {
    const res = await fetch(t.url + '/sdk.js', { headers: { origin: 'https://shop.example', 'accept-encoding': 'identity' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.equal(res.headers.get('cross-origin-resource-policy'), 'cross-origin');
    assert.match(res.headers.get('cache-control') ?? '', /^public, max-age=3600/);
    const code = await res.text();
    assert.match(code, /vigil\.js/);
    assert.ok(code.length < 10_000);
    const etag = res.headers.get('etag')!;
    assert.ok(etag);
    const again = await fetch(t.url + '/sdk.js', { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
    // node's fetch asks for gzip and decodes it; a raw request shows the encoding
    const gz = await new Promise<{ encoding?: string; body: Buffer }>((resolve, reject) => {
      http
        .get(t.url + '/sdk.js', { headers: { 'accept-encoding': 'gzip, br' } }, (r) => {
          const chunks: Buffer[] = [];
          r.on('data', (c) => chunks.push(c)).on('end', () =>
            resolve({ encoding: r.headers['content-encoding'], body: Buffer.concat(chunks) }),
          );
        })
        .on('error', reject);
    });
    assert.equal(gz.encoding, 'gzip');
    assert.equal(zlib.gunzipSync(gz.body).toString(), code);
    assert.ok(gz.body.length <= 5 * 1024, `sdk.js is ${gz.body.length} bytes gzipped`);
  });

  test('a cross-origin site sends its calls, SPA page views and a last event by beacon', async () => {
    await page.goto(siteUrl + '/home');
    await page.waitForFunction(() => !Array.isArray((window as any).vigil));
    await page.getByText('vigil.js loaded from').waitFor();
    // the ingest API answers this origin: the page can read the status (CORS), with no preflight needed
    const status = await page.evaluate(
      async ([url, writeKey]) => (await fetch(url + '/v1/batch', { method: 'POST', body: JSON.stringify({ writeKey, batch: [] }) })).status,
      [t.url, t.writeKey],
    );
    assert.equal(status, 200);

    await page.evaluate(async () => {
      const w = window as any;
      w.vigil.identify('user-42', { email: 'ada@example.com', plan: 'pro' });
      w.vigil.track('Signed Up', { plan: 'pro' });
      history.pushState({}, '', '/pricing');
      w.shopLog('pushState /pricing');
      // the same path with another query string: not a new page
      history.replaceState({}, '', '/pricing?period=yearly');
      w.shopLog('replaceState /pricing?period=yearly');
      history.pushState({}, '', '/checkout');
      w.shopLog('pushState /checkout');
      await new Promise<void>((resolve) => {
        addEventListener('popstate', () => resolve(), { once: true });
        history.back();
      });
      w.shopLog('back: ' + location.pathname + location.search);
      await w.vigil.flush();
    });
    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    // from here on fetch never answers: the last event can only arrive by the pagehide beacon,
    // which notes what it sent in sessionStorage (Playwright does not report beacons sent at unload)
    await page.evaluate(() => {
      window.fetch = () => new Promise(() => {});
      const sendBeacon = navigator.sendBeacon.bind(navigator);
      navigator.sendBeacon = (url, data) => {
        sessionStorage.setItem('beacons', (sessionStorage.getItem('beacons') ?? '') + String(data));
        return sendBeacon(url, data);
      };
      (window as any).vigil.track('Checkout Abandoned', { step: 'payment' });
    });
    await page.goto(siteUrl + '/bye');
    const beaconed = await page.evaluate(() => sessionStorage.getItem('beacons') ?? '');
    assert.match(beaconed, /"writeKey":"[^"]+"/, 'the write key is in the beacon body');
    assert.match(beaconed, /Checkout Abandoned/);

    const events = await eventsUntil(t, (es) => es.some((e) => e.event === 'Checkout Abandoned'));
    assert.deepEqual(errors, [], 'no CORS or script errors on the site');

    const tracks = (name: string) => events.filter((e) => e.event === name);
    const pages = events.filter((e) => e.type === 'page');
    assert.deepEqual(
      events.map((e) => (e.type === 'page' ? `page ${e.pagePath}` : e.event)).sort(),
      ['$identify', 'Checkout Abandoned', 'Landing Viewed', 'Signed Up', 'page /checkout', 'page /home', 'page /pricing', 'page /pricing'],
      'the call queued before sdk.js loaded, and one page view per route (not for replaceState on the same path)',
    );

    // one visitor, one session, one library
    assert.equal(new Set(events.map((e) => e.anonymousId)).size, 1);
    assert.match(events[0].anonymousId ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(new Set(events.map((e) => e.sessionId)).size, 1);
    assert.match(events[0].sessionId ?? '', /^[0-9a-f-]{36}$/);
    for (const e of events) {
      assert.equal(e.context.library.name, 'vigil.js');
      assert.match(e.context.userAgent, /Chrome/);
      assert.equal(e.platform, 'web');
      assert.ok(e.browser);
    }

    // identify links the anonymous visitor to the user: later events carry the userId
    const [identify] = tracks('$identify');
    assert.equal(identify.userId, 'user-42');
    assert.equal(identify.anonymousId, events[0].anonymousId);
    assert.deepEqual(identify.properties, { email: 'ada@example.com', plan: 'pro' });
    assert.equal(tracks('Landing Viewed')[0].userId, null);
    assert.deepEqual(tracks('Landing Viewed')[0].properties, { campaign: 'spring' });
    assert.equal(tracks('Signed Up')[0].userId, 'user-42');
    assert.equal(tracks('Checkout Abandoned')[0].userId, 'user-42');
    assert.deepEqual(tracks('Checkout Abandoned')[0].properties, { step: 'payment' });
    assert.equal(tracks('Checkout Abandoned')[0].context.page.path, '/pricing');

    // page views: the URL, the title, and the previous route as the referrer
    const home = pages.find((p) => p.pagePath === '/home')!;
    assert.equal(home.userId, null);
    assert.equal(home.properties.url, siteUrl + '/home');
    assert.equal(home.properties.title, 'Shop: home');
    const checkout = pages.find((p) => p.pagePath === '/checkout')!;
    assert.equal(checkout.userId, 'user-42');
    assert.equal(checkout.properties.referrer, siteUrl + '/pricing');
    const back = pages.filter((p) => p.pagePath === '/pricing').find((p) => p.properties.search === '?period=yearly');
    assert.ok(back, 'the page view after history.back() has the replaced URL');
    assert.equal(back.properties.referrer, siteUrl + '/checkout');
    assert.equal(back.context.page.url, siteUrl + '/pricing?period=yearly');
  });
});

/** The project's events once `done` holds for them (ingest is durable; the store may lag until a flush). */
async function eventsUntil(t: TestApp, done: (events: ApiEvent[]) => boolean): Promise<ApiEvent[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    await t.ctx.flush();
    const res = await getJson(`${t.url}/api/projects/${t.project.slug}/events?limit=100`, t.readKey);
    assert.equal(res.status, 200);
    const events = res.body.events as ApiEvent[];
    if (done(events)) return events;
    if (Date.now() > deadline) assert.fail(`the events did not arrive: ${JSON.stringify(events.map((e) => e.event))}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
