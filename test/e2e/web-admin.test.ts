/**
 * Administration in the app, as the instance admin and a project owner do it: a new project from
 * the sidebar, the detection defaults in Settings, the jobs page with progress and retry, the
 * instance's users (disable, unlock, reset link), and deleting a project from its danger zone.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { browserSkip, launchBrowser } from '../helpers/browser.js';
import { screenshot, signIn, watchErrors } from './web-helpers.js';
import type { DuckDbEventStore } from '../../src/storage/events/duckdb.js';
import type { ClickHouseEventStore } from '../../src/storage/events/clickhouse.js';

const PASSWORD = 'correct horse battery staple';
const VIEWPORT = { width: 1280, height: 900 };

describe('web app: administration', { skip: browserSkip() }, () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  const contexts: BrowserContext[] = [];

  /** Another person's browser. */
  async function otherBrowser(): Promise<Page> {
    const context = await browser.newContext({ viewport: VIEWPORT });
    contexts.push(context);
    return context.newPage();
  }

  before(async () => {
    t = await startTestApp({ config: { signinRateLimit: 1000 } });
    const admin = await t.ctx.users.create({ email: 'ada@example.com', password: PASSWORD, name: 'Ada', isAdmin: true });
    await t.ctx.memberships.grant(t.project.id, admin.id, 'owner');
    const grace = await t.ctx.users.create({ email: 'grace@example.com', password: PASSWORD, name: 'Grace' });
    await t.ctx.memberships.grant(t.project.id, grace.id, 'editor');
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: VIEWPORT });
    errors = watchErrors(page);
    await signIn(page, `${t.url}/`, 'ada@example.com', PASSWORD);
  });
  after(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await t?.close();
  });

  test('"New project" in the sidebar: errors beside the fields, then the new project\'s empty Overview', async () => {
    await page.getByRole('link', { name: '+ New project' }).click();
    await page.getByRole('heading', { name: 'New project' }).waitFor();
    const form = page.getByRole('form', { name: 'New project' });
    await form.getByLabel('Name').fill('Web shop (EU)');
    assert.equal(await form.getByLabel('Slug').inputValue(), 'web-shop-eu', 'the slug follows the name');
    await form.getByLabel('Slug').fill('Web Shop!');
    await form.getByLabel('Time zone').fill('Mars/Olympus');
    await form.getByRole('button', { name: 'Create the project' }).click();
    await form.getByRole('alert').filter({ hasText: 'slug must be 1-63 lowercase letters, digits or dashes' }).waitFor();
    assert.equal(await form.getByLabel('Slug').getAttribute('aria-invalid'), 'true');

    await form.getByLabel('Slug').fill('web-shop-eu');
    await form.getByRole('button', { name: 'Create the project' }).click();
    await form.getByRole('alert').filter({ hasText: 'unknown time zone "Mars/Olympus"' }).waitFor();
    assert.equal(await form.getByLabel('Time zone').getAttribute('aria-invalid'), 'true');
    await screenshot(page, 'admin-new-project-errors');

    await form.getByLabel('Time zone').fill('Europe/Berlin');
    await form.getByRole('button', { name: 'Create the project' }).click();
    await page.waitForURL(`${t.url}/p/web-shop-eu/overview`);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByText('No events in this range yet.').waitFor();
    assert.equal(await page.getByLabel('Project').locator('option:checked').innerText(), 'Web shop (EU)');
    const created = await t.ctx.projects.getBySlug('web-shop-eu');
    assert.equal(created.timeZone, 'Europe/Berlin');
    await screenshot(page, 'admin-new-project-overview');
  });

  test('Settings → Detection: a bad value is shown beside its field; saved values are there after a reload', async () => {
    await page.goto(`${t.url}/p/shop/settings?tab=detection`);
    const form = page.getByRole('form', { name: 'Detection defaults' });
    assert.equal(await form.getByLabel('Minimum samples').getAttribute('placeholder'), '10');
    await form.getByLabel('Sensitivity').selectOption('high');
    await form.getByLabel('Minimum samples').fill('-5');
    await form.getByLabel('Settling time (minutes)').fill('30');
    await form.getByRole('button', { name: 'Save' }).click();
    await form.getByRole('alert').filter({ hasText: 'minExpected' }).waitFor();
    assert.equal(await form.getByLabel('Minimum samples').getAttribute('aria-invalid'), 'true');

    await form.getByLabel('Minimum samples').fill('200');
    await form.getByRole('button', { name: 'Save' }).click();
    await form.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    await page.reload();
    await page.getByRole('form', { name: 'Detection defaults' }).waitFor();
    assert.equal(await form.getByLabel('Sensitivity').inputValue(), 'high');
    assert.equal(await form.getByLabel('Minimum samples').inputValue(), '200');
    assert.equal(await form.getByLabel('Settling time (minutes)').inputValue(), '30');
    assert.deepEqual(await t.ctx.signals.projectDetection(t.project.id), { sensitivity: 'high', minExpected: 200, settlingMinutes: 30 });
    await screenshot(page, 'admin-detection-defaults');
  });

  test("Jobs: a running job's progress, a dead job's reason, and Retry", async () => {
    const now = Date.now();
    const job = (values: Record<string, unknown>) =>
      t.ctx.meta.db
        .insertInto('jobs')
        .values({
          kind: 'metrics.backfill',
          project_id: t.project.id,
          payload: '{"metricId":7}',
          priority: 0,
          attempts: 1,
          max_attempts: 5,
          run_at: now,
          created_at: now,
          updated_at: now,
          status: 'running',
          ...values,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
    const running = await job({ progress: 0.4, progress_note: '288/720 buckets', lease_until: now + 3_600_000, locked_by: 'elsewhere' });
    const dead = await job({
      kind: 'metrics.collect',
      status: 'dead',
      last_error: "the metric's SQL failed: Conversion Error: Could not convert string 'Signed Up' to INT32",
      finished_at: now,
    });
    const failing = await job({
      kind: 'alerts.deliver',
      status: 'queued',
      attempts: 2,
      run_at: now + 3_600_000,
      last_error: 'HTTP 503 from hooks.example.com',
    });

    await page.getByRole('link', { name: 'Jobs' }).click();
    await page.getByRole('heading', { name: 'Jobs' }).waitFor();
    const table = page.getByRole('table', { name: 'Jobs' });
    assert.equal(await table.getByLabel(`Progress of job ${running.id}`).getAttribute('value'), '0.4');
    await table.getByText('40% · 288/720 buckets').waitFor();
    const deadRow = table.getByRole('row').filter({ hasText: `#${dead.id}` });
    await deadRow.getByText('dead').waitFor();
    await deadRow.getByText("Could not convert string 'Signed Up' to INT32").waitFor();
    await screenshot(page, 'admin-jobs');

    await page.getByRole('tab', { name: 'Running' }).click();
    assert.equal(await table.getByRole('row').count(), 2, 'the header and the running job');
    await page.getByRole('tab', { name: 'Failed' }).click();
    const failingRow = table.getByRole('row').filter({ hasText: `#${failing.id}` });
    await failingRow.getByText('failed, retrying').waitFor();
    await failingRow.getByText('HTTP 503 from hooks.example.com').waitFor();
    assert.equal(await table.getByRole('row').count(), 2, 'the header and the failing job');
    await page.getByRole('tab', { name: 'Dead' }).click();
    await deadRow.getByRole('button', { name: 'Retry' }).click();
    await page.getByText('No dead jobs.').waitFor();
    assert.equal((await t.ctx.jobs.get(Number(dead.id)))?.status, 'queued');
    await page.getByRole('tab', { name: 'All' }).click();
    await deadRow.getByText('queued').waitFor();
  });

  test('Users: disabling signs a user out and keeps them out; unlock lifts a lock; a reset link sets a new password', async () => {
    const grace = await otherBrowser();
    await signIn(grace, `${t.url}/`, 'grace@example.com', PASSWORD);
    assert.equal(await grace.getByRole('link', { name: 'Users' }).count(), 0, 'only the admin sees the instance pages');

    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    const row = page.getByRole('table', { name: 'Users' }).getByRole('row').filter({ hasText: 'grace@example.com' });
    await row.getByText('active').waitFor();
    page.once('dialog', (d) => void d.accept());
    await row.getByRole('button', { name: 'Disable' }).click();
    await row.getByText('disabled').waitFor();

    await grace.reload();
    await grace.getByRole('button', { name: 'Sign in' }).waitFor();
    await grace.getByLabel('Email').fill('grace@example.com');
    await grace.getByLabel('Password').fill(PASSWORD);
    await grace.getByRole('button', { name: 'Sign in' }).click();
    await grace.getByRole('alert').filter({ hasText: 'this account is disabled: ask the administrator of this Vigil instance' }).waitFor();

    await row.getByRole('button', { name: 'Enable' }).click();
    await row.getByText('active').waitFor();
    for (let i = 0; i < 5; i++) await t.ctx.users.signIn('grace@example.com', 'not the password', '203.0.113.9').catch(() => undefined);
    await page.reload();
    await row.getByText(/sign-in locked until/).waitFor();
    await screenshot(page, 'admin-users-locked');
    await row.getByRole('button', { name: 'Unlock' }).click();
    await row.getByText('active').waitFor();
    assert.equal(t.ctx.users.lockedEmails().size, 0);

    await row.getByRole('button', { name: 'Reset link' }).click();
    const notice = page.getByRole('status').filter({ hasText: 'Send this link to grace@example.com' });
    await notice.waitFor();
    const url = await notice.locator('code').innerText();
    await screenshot(page, 'admin-users-reset-link');
    await grace.goto(url);
    await grace.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    await grace.getByLabel('New password', { exact: true }).fill('grace new passphrase');
    await grace.getByLabel('New password again').fill('grace new passphrase');
    await grace.getByRole('button', { name: 'Set the password' }).click();
    await grace.getByRole('heading', { name: 'Your password is changed' }).waitFor();
    await t.ctx.users.signIn('grace@example.com', 'grace new passphrase', '127.0.0.1');
  });

  test('the admin pages fit a phone (375 px): no sideways scrolling', async () => {
    // the same session: at this width "Signed in as" is folded into the menu
    const phone = await (
      await browser.newContext({ viewport: { width: 375, height: 800 }, storageState: await page.context().storageState() })
    ).newPage();
    try {
      for (const [path, heading] of [
        ['/new-project', 'New project'],
        ['/admin/users', 'Users'],
        ['/p/shop/jobs', 'Jobs'],
        ['/p/shop/settings?tab=detection', 'Settings'],
      ]) {
        await phone.goto(t.url + path);
        await phone.getByRole('heading', { name: heading, exact: true }).waitFor();
        const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        assert.equal(overflow, 0, `${path} scrolls sideways by ${overflow} px`);
      }
      await screenshot(phone, 'admin-detection-phone');
    } finally {
      await phone.context().close();
    }
  });

  test('Settings → danger zone: delete the project after typing its slug; its events go with it', async () => {
    const doomed = await t.ctx.projects.getBySlug('web-shop-eu');
    await t.ctx.ingest.ingest(
      doomed.id,
      [{ type: 'track', userId: 'u1', event: 'Signed Up', messageId: 'doomed-1' }],
      undefined,
      {},
      { receivedAt: Date.now(), ip: '' },
    );
    await t.ctx.flush();
    const events = t.ctx.events as DuckDbEventStore | ClickHouseEventStore;
    const count = async () => Number((await events.rawQuery(`SELECT count(*) AS n FROM events WHERE project_id = ${doomed.id}`))[0].n);
    assert.equal(await count(), 1);

    await page.goto(`${t.url}/p/web-shop-eu/settings`);
    const form = page.getByRole('form', { name: 'Delete project' });
    const button = form.getByRole('button', { name: 'Delete this project' });
    assert.equal(await button.isDisabled(), true);
    await form.getByLabel('Type web-shop-eu to confirm').fill('web-shop');
    assert.equal(await button.isDisabled(), true, 'only the exact slug arms the button');
    await form.getByLabel('Type web-shop-eu to confirm').fill('web-shop-eu');
    await screenshot(page, 'admin-delete-project');
    await button.click();
    await page.waitForURL(`${t.url}/p/shop/overview`);
    assert.deepEqual(await page.getByLabel('Project').locator('option').allInnerTexts(), ['Shop']);
    assert.equal(await t.ctx.projects.findBySlug('web-shop-eu'), undefined);
    assert.equal(await count(), 0);
    assert.deepEqual(errors, []);
  });
});
