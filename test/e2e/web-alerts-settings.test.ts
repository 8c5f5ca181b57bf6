/**
 * The Alerts and Settings pages in a real browser on the demo: a webhook destination pointing at
 * a loopback receiver (its validation message next to the field, "Send test" showing the
 * receiver's 200), an alert rule with the simulator, the delivery log with Retry on a failed
 * delivery; in Settings the project's name, an API key whose secret shows once, members, the SDK
 * snippet with that key, and the audit log. Each page is saved as a screenshot.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { browserSkip, launchBrowser } from '../helpers/browser.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { seedDemo } from '../../src/demo/seed.js';
import { sdkSnippet } from '../../src/web/sdk-route.js';
import { screenshot, watchErrors, signIn } from './web-helpers.js';

const EMAIL = 'omar@example.com';
const PASSWORD = 'correct horse battery staple';
const HOUR = 3_600_000;
const SIM_DAYS = 14;

describe('web app: alerts and settings', { skip: browserSkip() }, () => {
  let t: TestApp;
  let demo: Awaited<ReturnType<typeof seedDemo>>;
  let receiver: Receiver;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  before(async () => {
    receiver = await startReceiver({ status: 200, body: { ok: true, said: 'hello from the receiver' } });
    // the receiver is on loopback, which destinations may not point at unless allowed
    t = await startTestApp({ config: { alertsAllowPrivateUrls: 'true' } });
    demo = await seedDemo(t.ctx, { days: SIM_DAYS });
    const owner = await t.ctx.users.create({ email: EMAIL, password: PASSWORD, name: 'Omar', isAdmin: true });
    await t.ctx.memberships.grant(demo.project.id, owner.id, 'owner');
    const viewer = await t.ctx.users.create({ email: 'vera@example.com', password: PASSWORD, name: 'Vera' });
    await t.ctx.memberships.grant(demo.project.id, viewer.id, 'viewer');
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    errors = watchErrors(page);
    await signIn(page, t.url + '/sign-in', EMAIL, PASSWORD);
  });
  after(async () => {
    await browser?.close();
    await t?.close();
    await receiver?.close();
  });

  const nav = (name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
  const tab = (name: string) => page.getByRole('tab', { name, exact: true });
  const runJobs = async () => {
    while (await t.ctx.worker.runOnce()) {
      // until the queue is empty
    }
  };

  test('destinations: the server\'s message next to the field; create a webhook; "Send test" shows the receiver\'s 200', async () => {
    await nav('Alerts').click();
    await page.getByText('No destinations yet.').waitFor();
    await page.getByRole('button', { name: 'New destination' }).click();
    const form = page.getByRole('form', { name: 'New destination' });
    await form.getByLabel('Name', { exact: true }).fill('Ops hook');
    await form.getByLabel(/^URL/).fill(`${receiver.url}/hook`);
    await form.getByLabel(/^Signing secret/).fill('too-short');
    await form.getByRole('button', { name: 'Create destination' }).click();
    await form
      .locator('.field-invalid')
      .filter({ hasText: 'Signing secret' })
      .getByText('secrets.secret is too short (at least 16 characters)')
      .waitFor();

    // a test of the unsaved settings
    await form.getByRole('button', { name: 'Generate one' }).click();
    assert.match(await form.getByLabel(/^Signing secret/).inputValue(), /^whsec_[\w-]{32}$/);
    await form.getByRole('button', { name: 'Send test' }).click();
    await form.getByRole('status', { name: 'Test result' }).getByText('HTTP 200').waitFor();
    assert.equal(receiver.requests.length, 1);

    await form.getByRole('button', { name: 'Create destination' }).click();
    const table = page.getByRole('table', { name: 'Destinations' });
    const row = table.getByRole('row').filter({ hasText: 'Ops hook' });
    await row.getByText('secret: set').waitFor();
    await row.getByRole('button', { name: 'Send test to Ops hook' }).click();
    const result = page.getByRole('status', { name: 'Test result' });
    await result.getByText('HTTP 200').waitFor();
    await result.getByText('hello from the receiver').waitFor();
    assert.equal(receiver.requests.length, 2);
    const sent = receiver.requests[1];
    assert.equal(sent.pathname, '/hook');
    assert.equal(sent.headers['x-vigil-event'], 'test');
    assert.match(String(sent.headers['x-vigil-signature']), /^v1=[0-9a-f]{64}$/);

    // editing keeps the secret unless replaced
    await row.getByRole('button', { name: 'Edit' }).click();
    const edit = page.getByRole('form', { name: 'Edit Ops hook' });
    assert.equal(await edit.getByLabel(/^Signing secret/).getAttribute('placeholder'), 'set: leave empty to keep it');
    await edit.getByLabel('Name', { exact: true }).fill('Ops webhook');
    await edit.getByRole('button', { name: 'Save' }).click();
    await table.getByRole('row').filter({ hasText: 'Ops webhook' }).getByText('secret: set').waitFor();
    await screenshot(page, 'alerts-destinations');
  });

  test('rules: the simulator over the draft (days checked by the server), then create the rule', async () => {
    await tab('Rules').click();
    await page.waitForURL(/tab=rules/);
    await page.getByText('No alert rules yet.').waitFor();
    await page.getByRole('button', { name: 'New rule' }).click();
    const form = page.getByRole('form', { name: 'New alert rule' });
    await form.getByLabel('Name', { exact: true }).fill('Everything to ops');
    assert.ok(
      await form.getByRole('group', { name: 'Destinations' }).getByLabel('Ops webhook').isChecked(),
      'the only destination is chosen',
    );

    const simulator = form.getByRole('region', { name: 'Simulator' });
    await simulator.getByLabel('Days').fill('120');
    await simulator.getByRole('button', { name: 'Simulate' }).click();
    await simulator.locator('.field-error').getByText('days: must be a whole number from 1 to 90').waitFor();

    await simulator.getByLabel('Days').fill(String(SIM_DAYS));
    await simulator.getByRole('button', { name: 'Simulate' }).click();
    const outcome = simulator.getByRole('region', { name: 'Simulation result' });
    await outcome.waitFor();
    const expected = await t.ctx.alerts.simulate(
      demo.project,
      {
        input: {
          name: 'x',
          enabled: true,
          mutedUntil: null,
          filters: {
            scopes: [],
            metricNames: [],
            metricTags: [],
            direction: 'any',
            minSeverity: 'info',
            minPercentChange: null,
            minAbsoluteChange: null,
          },
          cooldownMinutes: 1440,
          repeatEveryMinutes: null,
          notifyOnResolve: true,
          digest: null,
        },
      },
      SIM_DAYS,
    );
    assert.equal(await outcome.getByTestId('simulated-total').innerText(), String(expected.total));
    assert.equal(await outcome.getByRole('img', { name: 'Alerts per day' }).locator('div').count(), expected.perDay.length);
    if (expected.total > 0) await outcome.getByRole('table', { name: 'Simulated alerts' }).locator('tbody tr').first().waitFor();
    else await outcome.getByText('It would have sent nothing in these days.').waitFor();
    await screenshot(page, 'alerts-simulator');

    // the server's message for a rule field shows next to it
    await form.getByLabel('Digest (cron)').fill('every day at nine');
    await form.getByRole('button', { name: 'Create rule' }).click();
    await form.locator('.field-error').filter({ hasText: 'is not a usable cron expression' }).waitFor();
    await form.getByLabel('Digest (cron)').fill('');
    await form.getByRole('button', { name: 'Create rule' }).click();
    const row = page.getByRole('table', { name: 'Alert rules' }).getByRole('row').filter({ hasText: 'Everything to ops' });
    await row.getByText('Ops webhook').waitFor();
    await row.getByText('enabled').waitFor();
    await screenshot(page, 'alerts-rules');
  });

  test('delivery log: an alert the receiver refused is failed; Retry sends it again', async () => {
    receiver.respond({ status: 400, body: { error: 'bad payload today' } });
    const metric = await t.ctx.catalog.byName(demo.project, 'revenue');
    const bucket = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;
    await t.ctx.signals.upsert(demo.project.id, [
      {
        scope: 'metric',
        scopeKey: `metric:${metric.id}`,
        metricId: metric.id,
        bucket,
        endBucket: bucket,
        kind: 'drop',
        direction: 'down',
        value: 10,
        expected: 400,
        lower: 300,
        upper: 500,
        z: -9,
        score: 0.7,
        severity: 'critical',
        details: { interval: '1h', threshold: 4 },
      },
    ]);
    await runJobs();
    await tab('Delivery log').click();
    const table = page.getByRole('table', { name: 'Deliveries' });
    const row = table.getByRole('row').filter({ hasText: 'revenue' });
    await row.getByText('failed', { exact: true }).waitFor();
    await row.getByText('HTTP 400: bad payload today').waitFor();

    await page.getByLabel('Status').selectOption('sent');
    await page.getByText('No deliveries match these filters.').waitFor();
    await page.getByLabel('Status').selectOption('failed');
    await row.waitFor();

    receiver.respond({ status: 200, body: 'ok' });
    await row.getByRole('button', { name: 'Retry' }).click();
    await page.getByLabel('Status').selectOption('');
    await row.getByText('pending', { exact: true }).waitFor();
    await runJobs();
    await page.getByLabel('Status').selectOption('sent');
    await row.getByText('sent', { exact: true }).waitFor();
    assert.equal(receiver.requests.filter((r) => r.headers['x-vigil-event'] === 'opened').length, 2, 'refused once, then delivered');
    await screenshot(page, 'alerts-deliveries');
  });

  test('settings: rename the project (a blank name is refused next to the field)', async () => {
    await nav('Settings').click();
    const form = page.getByRole('form', { name: 'Project settings' });
    await form.getByLabel('Name', { exact: true }).fill('   ');
    await form.getByRole('button', { name: 'Save' }).click();
    await form.locator('.field-error').getByText('name must be 1-200 characters').waitFor();
    await form.getByLabel('Name', { exact: true }).fill('Demo store');
    await form.getByLabel('Time zone').fill('Mars/Olympus');
    await form.getByRole('button', { name: 'Save' }).click();
    await form
      .locator('.field-error')
      .getByText(/unknown time zone "Mars\/Olympus"/)
      .waitFor();
    await form.getByLabel('Time zone').fill('Europe/Berlin');
    await form.getByRole('button', { name: 'Save' }).click();
    await form.getByText('Saved.').waitFor();
    await page.getByRole('combobox', { name: 'Project' }).locator('option', { hasText: 'Demo store' }).waitFor({ state: 'attached' });
    const project = await t.ctx.projects.findBySlug('demo');
    assert.equal(project?.name, 'Demo store');
    assert.equal(project?.timeZone, 'Europe/Berlin');
    await screenshot(page, 'settings-project');
  });

  test('API keys: the secret shows once, with a copy button; revoke', async () => {
    await tab('API keys').click();
    const form = page.getByRole('form', { name: 'New API key' });
    await form.getByRole('button', { name: 'Create key' }).click();
    await form.locator('.field-error').first().waitFor();
    await form.getByLabel('Name', { exact: true }).fill('website SDK');
    await form.getByRole('button', { name: 'Create key' }).click();
    const secret = await page.getByTestId('new-key-secret').innerText();
    assert.match(secret, /^vk_[\w-]{32}$/);
    await page.getByRole('button', { name: 'Copy secret' }).waitFor();
    const keys = page.getByRole('table', { name: 'API keys' });
    const row = keys.getByRole('row').filter({ hasText: 'website SDK' });
    await row.getByText(`${secret.slice(0, 10)}…`).waitFor();
    assert.equal(await keys.getByText(secret).count(), 0, 'the list never shows the secret');
    // the key works
    const res = await fetch(`${t.url}/v1/track`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Basic ' + Buffer.from(secret + ':').toString('base64') },
      body: JSON.stringify({ userId: 'u1', event: 'Key Works' }),
    });
    assert.equal(res.status, 200);
    await screenshot(page, 'settings-keys');

    // the SDK snippet uses the key made in this visit
    await tab('SDK').click();
    const snippet = page.getByLabel('SDK snippet');
    await snippet.getByText(secret, { exact: false }).waitFor();
    assert.equal(await snippet.innerText(), sdkSnippet(t.url, secret), 'the same snippet as the server writes');
    await screenshot(page, 'settings-sdk');

    // after a reload the secret is gone: the snippet holds a placeholder, and says so
    await page.reload();
    await page.getByText(/was shown only when it was created/).waitFor();
    assert.doesNotMatch(await page.getByLabel('SDK snippet').innerText(), new RegExp(secret));

    await tab('API keys').click();
    page.once('dialog', (d) => void d.accept());
    await row.getByRole('button', { name: 'Revoke' }).click();
    await row.getByText('revoked').waitFor();
  });

  test('members: change a role, invite someone (the link shows once); the audit log pages back through it all', async () => {
    await tab('Members').click();
    const members = page.getByRole('table', { name: 'Members' });
    await members.getByRole('row').filter({ hasText: 'vera@example.com' }).waitFor();
    const changed = page.waitForResponse((r) => r.request().method() === 'PATCH' && r.url().includes('/members/'));
    await page.getByLabel('Role of vera@example.com').selectOption('editor');
    assert.equal((await changed).status(), 200);
    const veraId = (await t.ctx.users.findByEmail('vera@example.com'))!.id;
    assert.equal(await t.ctx.memberships.roleOf(demo.project.id, veraId), 'editor');

    const invite = page.getByRole('form', { name: 'Invite' });
    await invite.getByLabel('Email').fill('vera@example.com');
    await invite.getByLabel('Role').selectOption('viewer');
    await invite.getByRole('button', { name: 'Create invitation' }).click();
    await invite.locator('.field-error').getByText('vera@example.com is already an editor of this project').waitFor();
    await invite.getByLabel('Email').fill('new.person@example.com');
    await invite.getByRole('button', { name: 'Create invitation' }).click();
    await page.getByText(/Send this link to new.person@example.com/).waitFor();
    assert.match(await page.locator('code').filter({ hasText: '/invite/' }).innerText(), /^http:\/\/127\.0\.0\.1:\d+\/invite\/\S+$/);
    await page
      .getByRole('table', { name: 'Invitations' })
      .getByRole('row')
      .filter({ hasText: 'new.person@example.com' })
      .getByText('pending')
      .waitFor();
    await screenshot(page, 'settings-members');

    await tab('Audit log').click();
    const log = page.getByRole('table', { name: 'Audit log' });
    for (const action of [
      'project.update',
      'api_key.create',
      'api_key.revoke',
      'member.update',
      'invitation.create',
      'alert_destination.create',
      'alert_rule.create',
    ]) {
      await log.getByText(action, { exact: true }).first().waitFor();
    }
    await page.getByLabel('Action').fill('member.update');
    await page.getByRole('button', { name: 'Apply' }).click();
    await log.locator('tbody tr').first().waitFor();
    assert.equal(await log.locator('tbody tr').count(), 1);
    await log.locator('tbody tr').first().click();
    await page.getByLabel('Audit entry').getByText('"role": "editor"').waitFor();
    await screenshot(page, 'settings-audit');
    assert.deepEqual(errors, []);
  });
  test('every page is usable at 375 px and at 1280 px: nothing scrolls sideways, Retry stays in view, the sidebar folds into a menu on a phone', async () => {
    const metric = await t.ctx.catalog.byName(demo.project, 'revenue');
    const incident = (await t.ctx.incidents.list(demo.project, { limit: 1 })).incidents[0];
    const paths = [
      'overview',
      'live',
      'events',
      'tracking-plan',
      'metrics',
      'metrics/new',
      `metrics/${metric.id}`,
      'monitors',
      'incidents',
      `incidents/${incident.id}`,
      'alerts',
      'settings',
    ];
    const overflows: string[] = [];
    for (const width of [375, 1280]) {
      const context = await browser.newContext({ viewport: { width, height: 800 } });
      try {
        const p = await context.newPage();
        const pageErrors = watchErrors(p);
        await p.goto(`${t.url}/sign-in`);
        await p.getByLabel('Email').fill(EMAIL);
        await p.getByLabel('Password').fill(PASSWORD);
        await p.getByRole('button', { name: 'Sign in' }).click();
        await p.waitForURL(/\/p\//);
        const check = async (where: string) => {
          // what sticks out past the right edge, if anything
          const wide = await p.evaluate(() => {
            const root = document.documentElement;
            if (root.scrollWidth <= root.clientWidth) return null;
            const out = [...document.querySelectorAll('body *')].filter(
              (e) => e.getBoundingClientRect().right > root.clientWidth + 1 && !e.closest('.table-wrap, .json, pre'),
            );
            return `${root.scrollWidth} > ${root.clientWidth}: ${out
              .slice(0, 3)
              .map((e) => `${e.tagName.toLowerCase()}.${e.className}`)
              .join(', ')}`;
          });
          if (wide) overflows.push(`${width} px, ${where}: ${wide}`);
        };
        for (const path of paths) {
          await p.goto(`${t.url}/p/demo/${path}`);
          await p.locator('.page-header h1').first().waitFor();
          await p.waitForLoadState('networkidle');
          await check(path);
          for (const name of await p.getByRole('tab').allInnerTexts()) {
            await p.getByRole('tab', { name, exact: true }).click();
            await p.waitForLoadState('networkidle');
            await check(`${path}, tab ${name}`);
            if (name === 'Delivery log') {
              const retry = p.getByRole('table', { name: 'Deliveries' }).getByRole('button', { name: 'Retry' }).first();
              if (await retry.count()) {
                await retry.scrollIntoViewIfNeeded();
                const box = (await retry.boundingBox())!;
                assert.ok(box.x >= 0 && box.x + box.width <= width, `Retry is in view at ${width} px (${JSON.stringify(box)})`);
              }
            }
          }
        }
        const main = p.getByRole('navigation', { name: 'Main' });
        if (width === 375) {
          // on a phone the pages hide behind a menu button, which closes again once a page is chosen
          assert.equal(await main.getByRole('link', { name: 'Incidents', exact: true }).isVisible(), false);
          await p.getByRole('button', { name: 'Menu' }).click();
          await main.getByRole('link', { name: 'Incidents', exact: true }).click();
          await p.waitForURL(/\/incidents$/);
          await p.getByRole('heading', { name: 'Incidents', exact: true }).waitFor();
          assert.equal(await main.getByRole('link', { name: 'Incidents', exact: true }).isVisible(), false);
        } else {
          assert.equal(await main.getByRole('link', { name: 'Incidents', exact: true }).isVisible(), true);
          assert.equal(await p.getByRole('button', { name: 'Menu' }).isVisible(), false);
        }
        await screenshot(p, `incidents-${width}px`);
        assert.deepEqual(pageErrors, []);
      } finally {
        await context.close();
      }
    }
    assert.deepEqual(overflows, []);
  });
});
