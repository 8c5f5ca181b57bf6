/**
 * The Incidents pages in a real browser on the demo: the list with its filters and bulk
 * acknowledge; an incident's page with the chart of its metric, its signals, a 409 when someone
 * else acted first, mute (with the server's message next to the field), assign, comment and
 * resolve, each on the timeline. Open incidents are made deterministically: a signal on a demo
 * metric, upserted through the signals service (as the detectors do), opens one.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { browserSkip, launchBrowser } from '../helpers/browser.js';
import { seedDemo } from '../../src/demo/seed.js';
import type { SignalInput } from '../../src/signals/store.js';
import { screenshot, watchErrors, signIn } from './web-helpers.js';

const EMAIL = 'ines@example.com';
const PASSWORD = 'correct horse battery staple';
const HOUR = 3_600_000;

describe('web app: incidents', { skip: browserSkip() }, () => {
  let t: TestApp;
  let demo: Awaited<ReturnType<typeof seedDemo>>;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  /** the incident the detail page works on, and one for the bulk action */
  let spikeId: number;
  let latencyId: number;
  let spikeTitle: string;
  let latencyTitle: string;

  /** A fresh open incident on a demo metric: a signal two hours ago (auto-resolve needs three healthy buckets after it). */
  async function openIncident(metricName: string, over: Partial<SignalInput>) {
    const metric = await t.ctx.catalog.byName(demo.project, metricName);
    const bucket = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;
    await t.ctx.signals.upsert(demo.project.id, [
      {
        scope: 'metric',
        scopeKey: `metric:${metric.id}`,
        metricId: metric.id,
        bucket,
        endBucket: bucket,
        kind: 'spike',
        direction: 'up',
        value: 480,
        expected: 120,
        lower: 90,
        upper: 150,
        z: 9,
        score: 0.7,
        severity: 'critical',
        details: { interval: '1h', threshold: 4 },
        ...over,
      },
    ]);
    const page = await t.ctx.incidents.list(demo.project, { status: 'open', metricId: metric.id, limit: 10 });
    const incident = page.incidents.find((i) => i.lastBucket >= bucket);
    assert.ok(incident, `an open incident on ${metricName}`);
    return incident;
  }

  before(async () => {
    t = await startTestApp();
    demo = await seedDemo(t.ctx, { days: 14 });
    const owner = await t.ctx.users.create({ email: EMAIL, password: PASSWORD, name: 'Ines', isAdmin: true });
    await t.ctx.memberships.grant(demo.project.id, owner.id, 'owner');
    const spike = await openIncident('signups', {});
    spikeId = spike.id;
    spikeTitle = spike.title;
    const latency = await openIncident('checkout_api_latency', { value: 900, expected: 300, lower: 250, upper: 350 });
    latencyId = latency.id;
    latencyTitle = latency.title;
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    errors = watchErrors(page);
    await signIn(page, t.url + '/sign-in', EMAIL, PASSWORD);
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  const incidentsTable = () => page.getByRole('table', { name: 'Incidents' });
  const rowOf = (title: string) =>
    incidentsTable()
      .getByRole('row')
      .filter({ has: page.getByRole('link', { name: title, exact: true }) });

  test('the list: 30-day figures, filtered to open ones, and a bulk acknowledge', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Incidents', exact: true }).click();
    await page.getByText('Incidents (30 days)').waitFor();
    // the demo's history holds resolved incidents; with "open" only ours are left
    await incidentsTable().locator('tbody tr').first().waitFor();
    await page.getByLabel('Status').selectOption('open');
    await page.waitForURL(/status=open/);
    await rowOf(spikeTitle).waitFor();
    await rowOf(latencyTitle).waitFor();
    for (const status of await incidentsTable()
      .locator('tbody tr .badge')
      .filter({ hasText: /^(open|acknowledged|resolved)$/ })
      .allInnerTexts()) {
      assert.notEqual(status, 'resolved');
    }
    await screenshot(page, 'incidents');
    // the noisiest scopes of 30 days: our two metrics have an incident each, the demo's history more
    const noisiest = page.getByRole('table', { name: 'Noisiest scopes' });
    await noisiest.getByRole('row').nth(1).waitFor();
    assert.ok((await noisiest.getByRole('row').count()) >= 3, await noisiest.innerText());
    await page
      .getByText('No threshold rule opened an incident in the last 30 days.')
      .or(page.getByRole('table', { name: 'Most triggered rules' }))
      .first()
      .waitFor();

    await rowOf(latencyTitle).getByRole('checkbox').check();
    await page.getByRole('heading', { name: '1 selected' }).waitFor();
    await page.getByRole('button', { name: 'Acknowledge selected' }).click();
    // no longer open: it leaves the filtered list, and shows among the acknowledged ones
    await rowOf(latencyTitle).waitFor({ state: 'detached' });
    await page.getByLabel('Status').selectOption('acknowledged');
    await rowOf(latencyTitle).getByText('acknowledged', { exact: true }).waitFor();
    assert.equal((await t.ctx.incidents.byId(demo.project.id, latencyId))?.status, 'acknowledged');
    assert.equal((await t.ctx.incidents.byId(demo.project.id, spikeId))?.status, 'open', 'only the selected one');

    await page.getByLabel('Severity').selectOption('info');
    await page.getByText('No incidents match these filters.').or(incidentsTable()).first().waitFor();
  });

  test('an incident: chart, signals; a 409 when someone acted first is shown and the page catches up', async () => {
    await t.ctx.incidents.recordAlertSent(spikeId, {
      deliveryId: 1,
      event: 'opened',
      ruleName: 'on-call',
      destination: 'ops webhook',
      kind: 'webhook',
    });
    await page.goto(`${t.url}/p/demo/incidents/${spikeId}`);
    await page.getByRole('heading', { name: spikeTitle }).waitFor();
    await page
      .getByRole('img', { name: /around the incident/ })
      .locator('canvas')
      .waitFor();
    const signals = page.getByRole('table', { name: 'Signals' });
    await signals.getByRole('row').filter({ hasText: 'root' }).filter({ hasText: 'spike' }).waitFor();
    assert.match(await signals.innerText(), /480 \(expected 120, 90–150\)/);
    // the alert that went out, in words (it said "sent a opened alert")
    await page
      .getByRole('list', { name: 'Timeline' })
      .getByText('sent an “incident opened” alert to ops webhook (webhook) by rule “on-call”')
      .waitFor();

    // someone else acknowledges it meanwhile: the button still shows here, and the server says no
    await t.ctx.incidents.act(demo.project, [spikeId], { action: 'acknowledge' }, { userId: null, label: 'ops-bot' });
    await page.getByRole('button', { name: 'Acknowledge' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: `incident ${spikeId} is already acknowledged` })
      .waitFor();
    await page.getByRole('button', { name: 'Acknowledge' }).waitFor({ state: 'detached' });
    await page.getByRole('list', { name: 'Timeline' }).getByText('ops-bot').waitFor();
  });

  test('mute (a bad time is refused next to the field), assign, comment, resolve: all on the timeline', async () => {
    const timeline = page.getByRole('list', { name: 'Timeline' });
    const mute = page.getByRole('form', { name: 'Mute' });
    await mute.getByLabel(/Mute until/).fill('next tuesday');
    await mute.getByRole('button', { name: 'Mute' }).click();
    await mute.locator('.field-error').filter({ hasText: 'until is not a time' }).waitFor();
    await mute.getByLabel(/Mute until/).fill('+2h');
    await mute.getByRole('button', { name: 'Mute' }).click();
    await page.getByRole('button', { name: 'Unmute' }).waitFor();
    await timeline.getByText(/muted it until/).waitFor();

    await page.getByLabel('Assignee').selectOption({ label: 'Ines (owner)' });
    await timeline.getByText('assigned it to').waitFor();

    // comments are Markdown, rendered safely: raw HTML stays text, links open apart from the app
    await page
      .getByRole('textbox', { name: 'Comment' })
      .fill(
        '**Sign-ups tripled**: the [newsletter](https://example.com/nl) went out early.\n\n- checking with marketing\n\n<img src=x onerror="window.__xss=1"> [click](javascript:window.__xss=2)',
      );
    await page.getByRole('button', { name: 'Add comment' }).click();
    const comment = timeline.locator('li .markdown').filter({ hasText: 'went out early' });
    await comment.waitFor();
    assert.equal(await comment.locator('strong').innerText(), 'Sign-ups tripled');
    const link = comment.getByRole('link', { name: 'newsletter' });
    assert.equal(await link.getAttribute('href'), 'https://example.com/nl');
    assert.equal(await link.getAttribute('rel'), 'noopener noreferrer nofollow');
    assert.equal(await comment.locator('li').innerText(), 'checking with marketing');
    assert.equal(await comment.locator('img').count(), 0, 'raw HTML is not rendered');
    assert.match(await comment.innerText(), /<img src=x onerror="window.__xss=1">/);
    assert.equal(await comment.getByRole('link', { name: 'click' }).count(), 0, 'a javascript: link is not made');
    assert.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined);
    assert.equal(await page.getByRole('textbox', { name: 'Comment' }).inputValue(), '', 'the form is cleared');

    await page.getByRole('button', { name: 'Resolve' }).click();
    await timeline
      .locator('li')
      .filter({ hasText: 'changed the status from acknowledged to resolved' })
      .filter({ hasText: 'Ines' })
      .waitFor();
    await page.getByRole('button', { name: 'Reopen' }).waitFor();
    assert.ok(await page.locator('.page-header').getByText('resolved by hand').isVisible());

    const entries = await timeline.locator('li').allInnerTexts();
    const order = ['opened the incident', 'ops-bot', 'muted it until', 'assigned it to', 'commented', 'to resolved'].map((text) =>
      entries.findIndex((e) => e.includes(text)),
    );
    assert.ok(
      order.every((i) => i >= 0),
      `every step is on the timeline: ${JSON.stringify(entries)}`,
    );
    assert.deepEqual(
      [...order].sort((a, b) => a - b),
      order,
      'oldest first',
    );
    const stored = await t.ctx.incidents.byId(demo.project.id, spikeId);
    assert.equal(stored?.status, 'resolved');
    assert.equal(stored?.resolution, 'manual');
    await screenshot(page, 'incident');
  });

  test('false positive and its undo', async () => {
    await page.getByRole('button', { name: 'False positive' }).click();
    await page.getByRole('button', { name: 'Undo false positive' }).waitFor();
    await page.getByRole('list', { name: 'Timeline' }).getByText('marked it a false positive').waitFor();
    await page.getByRole('button', { name: 'Undo false positive' }).click();
    await page.getByRole('list', { name: 'Timeline' }).getByText('undid the false positive').waitFor();
    await page.getByRole('button', { name: 'Reopen' }).waitFor();
    assert.deepEqual(errors, []);
  });

  test('a viewer sees the incident and its timeline, with the actions disabled, and may comment', async () => {
    const viewer = await t.ctx.users.create({ email: 'val@example.com', password: PASSWORD, name: 'Val' });
    await t.ctx.memberships.grant(demo.project.id, viewer.id, 'viewer');
    const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
    try {
      const other = await context.newPage();
      const otherErrors = watchErrors(other);
      await other.goto(`${t.url}/p/demo/incidents/${latencyId}`);
      await other.getByLabel('Email').fill('val@example.com');
      await other.getByLabel('Password').fill(PASSWORD);
      await other.getByRole('button', { name: 'Sign in' }).click();
      await other.getByRole('heading', { name: latencyTitle }).waitFor();
      for (const name of ['Resolve', 'False positive'])
        assert.ok(await other.getByRole('button', { name, exact: true }).isDisabled(), `${name} is disabled`);
      assert.ok(await other.getByLabel('Assignee').isDisabled());
      await other.getByRole('list', { name: 'Timeline' }).getByText('changed the status from open to').waitFor();
      await other.getByRole('textbox', { name: 'Comment' }).fill('Seen from support: _three_ tickets about slow pages.');
      await other.getByRole('button', { name: 'Add comment' }).click();
      const said = other.getByRole('list', { name: 'Timeline' }).locator('li').filter({ hasText: 'tickets about slow pages' });
      await said.waitFor();
      assert.match(await said.innerText(), /^Val commented/);
      assert.equal(await said.locator('em').innerText(), 'three');
      assert.deepEqual(otherErrors, []);
    } finally {
      await context.close();
    }
  });
});
