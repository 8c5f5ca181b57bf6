/**
 * The Metrics and Monitors pages in a real browser on the demo data: the catalog; a metric
 * (event count) defined through the form, its live preview drawn with data, the server's messages
 * next to their fields, saved; its page (the series with the expected band, the forecast, the
 * signals) after "Collect now"; a backtest at another sensitivity; a threshold rule added on the
 * Monitors page (a bad value first, whose message shows next to its field) and listed; detection
 * sensitivity saved. Each page is saved as a screenshot under test-results/.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { browserSkip, launchBrowser } from '../helpers/browser.js';
import { seedDemo } from '../../src/demo/seed.js';
import { screenshot, watchErrors, signIn } from './web-helpers.js';

const EMAIL = 'mina@example.com';
const PASSWORD = 'correct horse battery staple';

describe('metrics and monitors pages on the demo', { skip: browserSkip() }, () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let metricUrl = '';

  before(async () => {
    t = await startTestApp();
    const demo = await seedDemo(t.ctx, { days: 30 });
    const owner = await t.ctx.users.create({ email: EMAIL, password: PASSWORD, name: 'Mina', isAdmin: true });
    await t.ctx.memberships.grant(demo.project.id, owner.id, 'owner');
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1360, height: 1000 } });
    errors = watchErrors(page);
    await signIn(page, t.url + '/p/demo/metrics', EMAIL, PASSWORD);
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  /** The field (label, control, message) whose control has this label. */
  const field = (label: string) => page.locator('.field', { has: page.getByLabel(label, { exact: true }) });

  test('the catalog lists the demo metrics with latest values, changes and sparklines; the status filter applies', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Metrics', exact: true }).click();
    const table = page.getByRole('table', { name: 'Metrics' });
    const signups = table.getByRole('row').filter({ hasText: 'Sign-ups' });
    await signups.waitFor();
    assert.equal(await table.locator('tbody tr').count(), 7, 'one metric of every kind');
    assert.match(await signups.locator('td').nth(1).innerText(), /\d/, 'a latest value');
    assert.match(await signups.locator('td').nth(2).innerText(), /%|n\/a/);
    assert.equal(await signups.locator('svg.sparkline polyline').count(), 1);
    await screenshot(page, 'metrics');
    await page.getByRole('group', { name: 'Status' }).getByRole('button', { name: 'draft' }).click();
    await page.waitForURL(/status=draft/);
    await page.getByText('No draft metrics.').waitFor();
    await page.getByRole('group', { name: 'Status' }).getByRole('button', { name: 'All' }).click();
  });

  test("a metric defined through the form: the preview draws its data, the server's messages show next to their fields, it saves", async () => {
    await page.getByRole('button', { name: 'New metric' }).click();
    await page.waitForURL(/\/metrics\/new$/);
    // another kind: an sql metric's preview (the form's default statement counts orders)
    await page.getByRole('group', { name: 'Kind' }).getByRole('button', { name: 'SQL' }).click();
    await page.getByLabel('SQL').waitFor();
    await page
      .getByTestId('preview-summary')
      .filter({ hasText: /mean [1-9]/ })
      .waitFor();
    await page.getByRole('group', { name: 'Kind' }).getByRole('button', { name: 'Event count' }).click();
    await page.getByLabel('Event', { exact: true }).fill('Order Completed');
    await page.getByLabel('Display name').fill('Orders (e2e)');
    assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), 'orders_e2e', 'the name follows the display name');
    const preview = page.getByRole('img', { name: 'Preview of the metric' });
    await preview.locator('canvas').waitFor();
    await page
      .getByTestId('preview-summary')
      .filter({ hasText: /sum [1-9]/ })
      .waitFor();

    // a filter the server refuses: its message under the filter, from the live preview
    await page.getByRole('button', { name: 'Add filter' }).click();
    await page.getByLabel('Filters 1 property').fill('revenue');
    await page.getByLabel('Filters 1 operator').selectOption('gt');
    await page.getByLabel('Filters 1 value').fill('lots');
    await page.locator('.filter-row-wrap .field-error').filter({ hasText: 'needs a number' }).waitFor();
    await page.getByLabel('Filters 1 value').fill('10');
    await page.locator('.filter-row-wrap .field-error').waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Remove filters 1' }).click();

    // a bad name: the server's message next to the Name field
    await page.getByLabel('Name', { exact: true }).fill('Orders E2E');
    await page.getByRole('button', { name: 'Save as active' }).click();
    await field('Name')
      .locator('.field-error')
      .filter({ hasText: /pattern|lowercase|must match/ })
      .waitFor();
    await page.getByTestId('preview-summary').filter({ hasNotText: 'updating' }).waitFor({ timeout: 5000 });
    await screenshot(page, 'metric-form');
    await page.getByLabel('Name', { exact: true }).fill('orders_e2e');
    await page.getByRole('button', { name: 'Save as active' }).click();
    await page.waitForURL(/\/p\/demo\/metrics\/\d+$/);
    metricUrl = page.url();
    await page.getByRole('heading', { name: /Orders \(e2e\)/ }).waitFor();
    // its edit form holds what was saved
    await page.getByRole('link', { name: 'Edit', exact: true }).click();
    await page.waitForURL(/\/metrics\/\d+\/edit$/);
    assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), 'orders_e2e');
    assert.equal(await page.getByLabel('Event', { exact: true }).inputValue(), 'Order Completed');
    // a changed description is no new definition: the version (and so the history) stays
    const project = (await t.ctx.projects.findBySlug('demo'))!;
    const id = Number(/metrics\/(\d+)/.exec(metricUrl)![1]);
    const version = (await t.ctx.catalog.get(project, id)).version;
    await page.getByLabel('Description').fill('Completed orders, defined in the browser test.');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.waitForURL(metricUrl);
    await page.getByText('Completed orders, defined in the browser test.').waitFor();
    assert.equal((await t.ctx.catalog.get(project, id)).version, version);
  });

  test('the metric page after "Collect now": the series with the expected band, the forecast and the signals; a backtest at another sensitivity', async () => {
    await page.getByRole('button', { name: 'Collect now' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /Collected \d+ buckets/ })
      .waitFor();
    const chart = page.getByRole('img', { name: 'Orders (e2e) over time' });
    await chart.locator('canvas').waitFor();
    await page.locator('.chart-legend').filter({ hasText: 'Shaded: the expected range' }).waitFor();
    await page
      .locator('.chart-legend')
      .filter({ hasText: /Dashed: the forecast of the next \d+ buckets/ })
      .waitFor();
    const legend = await chart.locator('.u-legend').innerText();
    assert.match(legend, /expected/, 'the band is a chart series');
    assert.match(legend, /forecast/);
    // the demo's payments outage (4 days ago) is in the 7-day window
    // (the signals are read again once the collection's detection is done: wait for them)
    // (this wait timed out now and then in full runs and could not be reproduced alone: on failure it
    // says whether detection stored no signals or the page did not show them)
    await page
      .locator('.chart-legend')
      .filter({ hasText: /signals detection raised \([1-9]\d* in this window\)/ })
      .waitFor()
      .catch(async (e) => {
        const id = Number(metricUrl.split('/').pop());
        const sigs = await t.ctx.meta.db.selectFrom('signals').selectAll().where('metric_id', '=', id).execute();
        console.log(
          'the legend says',
          JSON.stringify(await page.locator('.chart-legend').allInnerTexts()),
          `; ${sigs.length} signals of the metric are stored:`,
          JSON.stringify(sigs).slice(0, 800),
        );
        throw e;
      });
    await screenshot(page, 'metric');

    const backtest = page.getByRole('form', { name: 'Backtest' });
    await backtest.getByLabel('Sensitivity').selectOption('high');
    await backtest.getByRole('button', { name: 'Run backtest' }).click();
    await backtest.getByText('they are the blue marks on the chart').waitFor();
    const count = Number((await backtest.getByTestId('backtest-count').innerText()).match(/^(\d+)/)?.[1]);
    assert.ok(count >= 1, `would have fired: ${count}`);
    assert.equal(await backtest.getByRole('table', { name: 'Backtest signals' }).locator('tbody tr').count(), count);
    await page.locator('.chart-legend').filter({ hasText: 'Blue marks' }).waitFor();

    // a custom |z| out of range: the server's message next to it
    await backtest.getByLabel('Sensitivity').selectOption('custom');
    await backtest.getByLabel('|z| threshold').fill('0.5');
    await backtest.getByRole('button', { name: 'Run backtest' }).click();
    await backtest
      .locator('.field', { has: page.getByLabel('|z| threshold') })
      .locator('.field-error')
      .waitFor();
    await screenshot(page, 'metric-backtest');
  });

  test("monitors: a bad rule shows the server's message next to the field; a good one is listed; detection sensitivity saves", async () => {
    await page.goto(metricUrl);
    await page.locator('.page-actions').getByRole('link', { name: 'Monitors', exact: true }).click();
    await page.waitForURL(/\/monitors\?metric=\d+$/);
    await page.getByText('No threshold rules on this metric').waitFor();
    await page.getByRole('button', { name: 'New rule' }).click();
    const form = page.getByRole('form', { name: 'New threshold rule' });
    await form.getByLabel('Rule name').fill('orders too low');
    await form.getByLabel('Condition: operator').selectOption('<');
    await form.getByLabel('Condition: value').fill('5');
    await form.getByLabel('For buckets').fill('0');
    await form.getByRole('button', { name: 'Add rule' }).click();
    await form
      .locator('.field', { has: page.getByLabel('For buckets') })
      .locator('.field-error')
      .filter({ hasText: 'forBuckets must be an integer from 1' })
      .waitFor();
    await screenshot(page, 'monitors-error');
    await form.getByLabel('For buckets').fill('2');
    await form.getByRole('button', { name: 'Add rule' }).click();
    const row = page.getByRole('table', { name: 'Threshold rules' }).getByRole('row').filter({ hasText: 'orders too low' });
    await row.waitFor();
    assert.match(await row.innerText(), /value < 5 for 2 buckets/);
    assert.match(await row.innerText(), /warning/);
    // the project's list of every rule has it too, named with its metric; the metric's name chooses it
    const everyRule = page.getByRole('table', { name: 'Every rule of the project' }).getByRole('row').filter({ hasText: 'orders too low' });
    await everyRule.waitFor();
    assert.match(await everyRule.innerText(), /value < 5 for 2 buckets/);
    const metricSelect = page.getByLabel('Metric', { exact: true });
    const ruleMetric = await metricSelect.inputValue();
    const another = (await metricSelect.locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value))).find(
      (v) => v !== ruleMetric,
    )!;
    await metricSelect.selectOption(another);
    await page.waitForURL(new RegExp(`metric=${another}$`));
    await everyRule.getByRole('button').click();
    await page.waitForURL(new RegExp(`metric=${ruleMetric}$`));
    await page.getByRole('table', { name: 'Threshold rules' }).getByRole('row').filter({ hasText: 'orders too low' }).waitFor();

    const detection = page.getByRole('form', { name: 'Anomaly detection' });
    await detection.getByLabel('Sensitivity').selectOption('custom');
    await detection.getByLabel('|z| threshold').fill('0.5');
    await detection.getByRole('button', { name: 'Save detection' }).click();
    await detection
      .locator('.field', { has: page.getByLabel('|z| threshold') })
      .locator('.field-error')
      .waitFor();
    await detection.getByLabel('Sensitivity').selectOption('high');
    await detection.getByRole('button', { name: 'Save detection' }).click();
    await detection.getByText('Saved.').waitFor();
    const id = Number(/metrics\/(\d+)/.exec(metricUrl)![1]);
    const project = (await t.ctx.projects.findBySlug('demo'))!;
    assert.deepEqual((await t.ctx.catalog.get(project, id)).detection, { sensitivity: 'high' });
    await screenshot(page, 'monitors');
    assert.deepEqual(errors, []);
  });
});
