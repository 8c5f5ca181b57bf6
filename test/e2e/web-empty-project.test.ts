/**
 * A fresh project as its owner first sees it: Overview and Live have no data, and instead of a
 * dead end they offer the SDK snippet and a "Send a test event" button whose event arrives.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { browserSkip, launchBrowser } from '../helpers/browser.js';
import { screenshot, signIn, watchErrors } from './web-helpers.js';

const PASSWORD = 'correct horse battery staple';

describe('web app: an empty project points the way to its first event', { skip: browserSkip() }, () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  before(async () => {
    t = await startTestApp();
    const owner = await t.ctx.users.create({ email: 'nora@example.com', password: PASSWORD, name: 'Nora', isAdmin: true });
    await t.ctx.memberships.grant(t.project.id, owner.id, 'owner');
    const viewer = await t.ctx.users.create({ email: 'vic@example.com', password: PASSWORD, name: 'Vic' });
    await t.ctx.memberships.grant(t.project.id, viewer.id, 'viewer');
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    errors = watchErrors(page);
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  test('Live: the snippet, and a test event that shows up in the list', async () => {
    await signIn(page, `${t.url}/p/shop/live`, 'nora@example.com', PASSWORD);
    await page.getByText('Waiting for events…').waitFor();
    await page.getByLabel('SDK snippet').waitFor();
    const snippet = await page.getByLabel('SDK snippet').innerText();
    assert.ok(snippet.includes(`"${t.url}"`) && snippet.includes('/sdk.js'), snippet);
    await page.getByRole('button', { name: 'Send a test event' }).click();
    // the list replaces the empty state as soon as the event arrives
    await page.getByRole('table', { name: 'Live events' }).getByText('Vigil Test Event').waitFor();
    await screenshot(page, 'live-test-event');
  });

  test('Overview: the empty chart offers the same, and the event reaches the chart', async () => {
    const fresh = await newProject(t);
    await page.goto(`${t.url}/p/${fresh}/`);
    await page.getByText('No events in this range yet.').waitFor();
    await page.getByRole('button', { name: 'Send a test event' }).click();
    await page.getByRole('link', { name: 'Live page' }).waitFor();
    // the charts are read again once the event has had time to load
    await page.getByRole('img', { name: 'Events over time' }).waitFor({ timeout: 15_000 });
    assert.deepEqual(errors, []);
  });

  test('a viewer sees the snippet but not the button', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const other = await context.newPage();
      const fresh = await newProject(t, 'viewer');
      await signIn(other, `${t.url}/p/${fresh}/live`, 'vic@example.com', PASSWORD);
      await other.getByText('An editor can send a test event from here.').waitFor();
      assert.equal(await other.getByRole('button', { name: 'Send a test event' }).count(), 0);
      const r = await other.evaluate(async (slug) => (await fetch(`/api/projects/${slug}/test-event`, { method: 'POST' })).status, fresh);
      assert.equal(r, 403);
    } finally {
      await context.close();
    }
  });
});

let projects = 0;
/** A new empty project the test users belong to (Nora as owner; Vic with `vicRole`). */
async function newProject(t: TestApp, vicRole: 'viewer' | 'editor' = 'viewer'): Promise<string> {
  const slug = `fresh-${++projects}`;
  const project = await t.ctx.projects.create({ slug, name: `Fresh ${projects}`, timeZone: 'UTC' });
  for (const [email, role] of [
    ['nora@example.com', 'owner'],
    ['vic@example.com', vicRole],
  ] as const) {
    const user = await t.ctx.users.findByEmail(email);
    await t.ctx.memberships.grant(project.id, user!.id, role);
  }
  return slug;
}
