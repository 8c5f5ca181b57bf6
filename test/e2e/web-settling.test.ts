/**
 * The settling time in the app: Settings shows what is in force for events and for pushed
 * measurements and where it comes from; a metric's detection form sets its own, shows the one in
 * force beside the field, and shows the server's message for a value out of range.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { browserSkip, launchBrowser } from '../helpers/browser.js';
import { screenshot, signIn, watchErrors } from './web-helpers.js';

const PASSWORD = 'correct horse battery staple';

describe('web app: settling time', { skip: browserSkip() }, () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  before(async () => {
    t = await startTestApp({ config: { signinRateLimit: 1000 } });
    const owner = await t.ctx.users.create({ email: 'ada@example.com', password: PASSWORD, name: 'Ada' });
    await t.ctx.memberships.grant(t.project.id, owner.id, 'owner');
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    errors = watchErrors(page);
    await signIn(page, `${t.url}/`, 'ada@example.com', PASSWORD);
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  test('Settings: the settling time in force and its source, before and after a project default', async () => {
    await page.goto(`${t.url}/p/shop/settings?tab=detection`);
    const form = page.getByRole('form', { name: 'Detection defaults' });
    const inForce = form.getByTestId('settling-in-force');
    await inForce.filter({ hasText: 'pushed measurements 0 min (pushed measurements)' }).waitFor();
    assert.match(await inForce.innerText(), /events 120 min \(fixed default/);
    await form.getByLabel('Settling time (minutes)').fill('10');
    await form.getByRole('button', { name: 'Save' }).click();
    await inForce.filter({ hasText: 'events 10 min (project default)' }).waitFor();
    await screenshot(page, 'settling-settings');
    await t.ctx.signals.setProjectDetection(t.project.id, {});
  });

  test("a gauge metric's detection form: 0 min from pushed measurements, then its own, and a plain message out of range", async () => {
    const metric = await t.ctx.catalog.create(t.project, {
      name: 'api_latency',
      kind: 'gauge',
      interval: '5m',
      definition: { service: 'api', metric: 'latency_ms', aggregate: 'avg' },
    });
    await page.goto(`${t.url}/p/shop/monitors?metric=${metric.id}`);
    const detection = page.getByRole('form', { name: 'Anomaly detection' });
    await detection.getByText('In force: 0 min (pushed measurements)').waitFor();
    await detection.getByLabel('Settling (minutes)').fill('99999');
    await detection.getByRole('button', { name: 'Save detection' }).click();
    await detection
      .locator('.field', { has: page.getByLabel('Settling (minutes)') })
      .locator('.field-error')
      .waitFor();
    await detection.getByLabel('Settling (minutes)').fill('15');
    await detection.getByRole('button', { name: 'Save detection' }).click();
    await detection.getByText('In force: 15 min (set on metric)').waitFor();
    assert.deepEqual((await t.ctx.catalog.get(t.project, metric.id)).detection, { settlingMinutes: 15 });
    await screenshot(page, 'settling-metric');
    assert.deepEqual(errors, []);
  });
});
