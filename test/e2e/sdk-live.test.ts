/**
 * A customer's page with the SDK, and the Live page of the web app open beside it: what the
 * visitor does shows up in Live as it happens (issue 8: "a page with the SDK whose events appear
 * in Live").
 */
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { browserSkip, launchBrowser } from '../helpers/browser.js';
import { sdkSnippet } from '../../src/web/sdk-route.js';
import { screenshot, watchErrors, signIn } from './web-helpers.js';

const EMAIL = 'lena@example.com';
const PASSWORD = 'correct horse battery staple';

describe('SDK events in the Live view', { skip: browserSkip() }, () => {
  let t: TestApp;
  let site: http.Server;
  let siteUrl: string;
  let browser: Browser;

  before(async () => {
    t = await startTestApp();
    const owner = await t.ctx.users.create({ email: EMAIL, password: PASSWORD, name: 'Lena', isAdmin: true });
    await t.ctx.memberships.grant(t.project.id, owner.id, 'owner');
    // the customer's shop, on another origin than Vigil's
    site = http.createServer((_req, res) => {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title>
${sdkSnippet(t.url, t.writeKey)}
</head><body><h1>Shop</h1><button id="buy">Buy</button>
<script>document.getElementById('buy').addEventListener('click', () => { vigil.track('Clicked Buy', { sku: 'tea-42' }); vigil.flush(); });</script>
</body></html>`);
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    siteUrl = `http://127.0.0.1:${(site.address() as { port: number }).port}`;
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await new Promise((resolve) => site?.close(resolve));
    await t?.close();
  });

  test('a page view and a click on the shop appear in Live while it is open', async () => {
    const live = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    const errors = watchErrors(live);
    await signIn(live, `${t.url}/`, EMAIL, PASSWORD);
    await live.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Live', exact: true }).click();
    // connected and empty: the stream is open before the visitor arrives
    await live.getByText('Waiting for events…').waitFor();
    const table = live.getByRole('table', { name: 'Live events' });

    const shop = await browser.newPage();
    await shop.goto(siteUrl + '/');
    await shop.getByRole('button', { name: 'Buy' }).click();

    await table.getByText('Clicked Buy').waitFor({ timeout: 15_000 });
    const rows = table.getByRole('row');
    assert.ok((await rows.filter({ hasText: 'Clicked Buy' }).count()) >= 1);
    assert.ok((await rows.filter({ hasText: /page/i }).count()) >= 1, 'the page view is there too');
    await screenshot(live, 'sdk-live');
    assert.deepEqual(errors, []);
  });
});
