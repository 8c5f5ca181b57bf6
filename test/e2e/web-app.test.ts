/**
 * The web app in a real browser on the demo data: sign-in, the project switcher, Overview, Live
 * (an event ingested during the test appears), the events explorer (an event's JSON) and the
 * tracking plan. Each page is saved as a screenshot under test-results/.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { basic, postJson, startTestApp, type TestApp } from '../helpers/app.js';
import { browserSkip, launchBrowser } from '../helpers/browser.js';
import { seedDemo } from '../../src/demo/seed.js';
import { screenshot, watchErrors } from './web-helpers.js';

const EMAIL = 'olive@example.com';
const PASSWORD = 'correct horse battery staple';
const DAY = 86_400_000;

describe('web app on the demo', { skip: browserSkip() }, () => {
  let t: TestApp;
  let demo: Awaited<ReturnType<typeof seedDemo>>;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  before(async () => {
    t = await startTestApp();
    demo = await seedDemo(t.ctx, { days: 30 });
    const owner = await t.ctx.users.create({ email: EMAIL, password: PASSWORD, name: 'Olive', isAdmin: true });
    await t.ctx.memberships.grant(t.project.id, owner.id, 'owner');
    await t.ctx.memberships.grant(demo.project.id, owner.id, 'owner');
    // a schema change, as the daily drift check records it, for the tracking plan to mark
    const yesterday = Math.floor(Date.now() / DAY) * DAY - DAY;
    await t.ctx.signals.upsert(demo.project.id, [
      {
        scope: 'schema',
        scopeKey: 'schema:Order Completed:coupon:new_property',
        metricId: null,
        bucket: yesterday,
        endBucket: yesterday,
        kind: 'new_property',
        direction: null,
        value: 3,
        expected: null,
        lower: null,
        upper: null,
        z: 0,
        score: 1,
        severity: 'info',
        details: { event: 'Order Completed', property: 'coupon', detail: 'Order Completed has a new property coupon' },
      },
    ]);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    errors = watchErrors(page);
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  const track = (body: Record<string, unknown>) => postJson(`${t.url}/v1/track`, body, basic(demo.writeKey));
  const nav = (name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });

  test("sign-in: a wrong password shows the server's message; the right one opens the app", async () => {
    await page.goto(t.url + '/');
    await page.getByRole('heading', { name: 'Sign in to Vigil' }).waitFor();
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Password').fill('not the password at all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'the email or the password is wrong' }).waitFor();
    await screenshot(page, 'sign-in');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText(`Signed in as ${EMAIL}`).waitFor();
    assert.match(new URL(page.url()).pathname, /^\/p\/(shop|demo)\/overview$/);
  });

  test("the project switcher lists the user's projects and opens the same page in the one chosen", async () => {
    const switcher = page.getByRole('combobox', { name: 'Project' });
    assert.deepEqual((await switcher.locator('option').allTextContents()).sort(), ['Demo shop', 'Shop']);
    await switcher.selectOption({ label: 'Shop' });
    await page.waitForURL(/\/p\/shop\/overview$/);
    await switcher.selectOption({ label: 'Demo shop' });
    await page.waitForURL(/\/p\/demo\/overview$/);
  });

  test('overview of the demo: totals against the previous period, the events chart, top events, pages, referrers, open incidents', async () => {
    await page.goto(t.url + '/p/demo/overview');
    const events = page.getByRole('region', { name: 'Events' }).first();
    await events.locator('.stat-value').filter({ hasNotText: '–' }).waitFor();
    assert.match(await events.locator('.stat-change').innerText(), /[+−±]\d+(\.\d)?%|n\/a/);
    for (const name of ['Users', 'Sessions'])
      assert.match(await page.getByRole('region', { name }).locator('.stat-value').innerText(), /\d/);
    await page.getByRole('img', { name: 'Events over time' }).locator('canvas').waitFor();
    const topEvents = page.getByRole('table', { name: 'Top events' });
    await topEvents.getByRole('link', { name: 'Order Completed' }).waitFor();
    await page.getByRole('table', { name: 'Top pages' }).getByText('/pricing').waitFor();
    await page.getByRole('table', { name: 'Top referrers' }).locator('tbody tr').first().waitFor();
    // the demo's incidents, or the empty state: either way the list has loaded
    await page
      .locator('section', { has: page.getByRole('heading', { name: 'Open incidents' }) })
      .locator('table, .state-empty')
      .first()
      .waitFor();
    await screenshot(page, 'overview');
  });

  test('the last project is remembered: / opens it', async () => {
    await page.goto(t.url + '/');
    await page.waitForURL(/\/p\/demo\/overview$/);
  });

  test('live: an event ingested now appears; pause holds new ones; the user filter applies', async () => {
    await nav('Live').click();
    await page.getByText('● Connected').waitFor();
    assert.equal((await track({ userId: 'live-user', event: 'Live Test', properties: { step: 1 } })).status, 200);
    const table = page.getByRole('table', { name: 'Live events' });
    await table.getByText('Live Test').waitFor();
    await table.getByRole('row').filter({ hasText: 'Live Test' }).click();
    const json = page.getByLabel('Event JSON');
    await json.getByText('"step": 1').waitFor();
    await screenshot(page, 'live');

    await page.getByRole('button', { name: 'Pause' }).click();
    await track({ userId: 'live-user', event: 'While Paused' });
    await page.getByRole('button', { name: 'Resume (1 new)' }).waitFor();
    assert.equal(await table.getByText('While Paused').count(), 0);
    await page.getByRole('button', { name: /^Resume/ }).click();
    await table.getByText('While Paused').waitFor();

    await page.getByLabel('User').fill('someone-else');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/user=someone-else/);
    await page.getByText('● Connected').waitFor();
    await track({ userId: 'live-user', event: 'Not Theirs' });
    await track({ userId: 'someone-else', event: 'Theirs' });
    await table.getByText('Theirs', { exact: true }).waitFor();
    assert.equal(await table.getByText('Not Theirs').count(), 0);
  });

  test("events explorer: filter by event, open an event's full JSON", async () => {
    await t.ctx.flush();
    await nav('Events').click();
    await page.getByRole('table', { name: 'Events' }).locator('tbody tr').first().waitFor();
    await page.getByLabel('Event', { exact: true }).fill('Live Test');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/event=Live\+Test|event=Live%20Test/);
    const rows = page.getByRole('table', { name: 'Events' }).locator('tbody tr');
    await rows.filter({ hasText: 'Live Test' }).first().waitFor();
    assert.equal(await rows.count(), 1);
    await rows.first().click();
    const json = page.getByLabel('Event JSON');
    await json.getByText('"userId": "live-user"').waitFor();
    assert.match(await json.innerText(), /"messageId": "[^"]+"/);
    await screenshot(page, 'events');
  });

  test('tracking plan: events with volumes, properties and types, and the drift mark', async () => {
    await nav('Tracking plan').click();
    const table = page.getByRole('table', { name: 'Tracking plan' });
    const order = table.getByRole('row').filter({ hasText: 'Order Completed' }).first();
    await order.waitFor();
    await order.getByText('new property').waitFor();
    await order.click();
    const props = page.getByRole('table', { name: 'Properties of Order Completed' });
    await props.locator('tbody tr').first().waitFor();
    assert.ok((await props.locator('tbody tr').count()) > 0);
    await screenshot(page, 'tracking-plan');
    assert.deepEqual(errors, []);
  });
});
