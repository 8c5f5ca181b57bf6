/** First run in a real browser: a new instance leads to the web app's first-run page, which creates the owner. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { browserSkip, launchBrowser } from '../helpers/browser.js';
import { screenshot, watchErrors } from './web-helpers.js';

describe('first-run page', { skip: browserSkip() }, () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  before(async () => {
    t = await startTestApp();
    browser = await launchBrowser();
    page = await browser.newPage();
    errors = watchErrors(page);
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  test("a new instance opens on the form; a short password is refused with the API's message next to the field", async () => {
    await page.goto(t.url + '/');
    await page.getByRole('heading', { name: 'Welcome to Vigil' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/setup');
    await page.getByLabel('Email').fill('Owner@Example.com');
    await page.getByLabel('Name').fill('Olive Owner');
    await page.getByLabel('Password', { exact: true }).fill('too short');
    await page.getByLabel('Password again').fill('too short');
    // the browser's own minlength check is bypassed to see the server's answer
    await page.evaluate(() => document.querySelector('form')!.setAttribute('novalidate', ''));
    await page.getByRole('button', { name: 'Create the owner' }).click();
    const message = page.getByRole('alert').filter({ hasText: '12 characters' });
    await message.waitFor();
    // shown under the password field (the field points at it)
    assert.equal(await page.getByLabel('Password', { exact: true }).getAttribute('aria-invalid'), 'true');
    assert.equal(await t.ctx.users.count(), 0);
    await screenshot(page, 'first-run');
  });

  test('different passwords are caught before sending', async () => {
    await page.getByLabel('Password', { exact: true }).fill('a long enough passphrase');
    await page.getByLabel('Password again').fill('another long passphrase');
    await page.getByRole('button', { name: 'Create the owner' }).click();
    await page.getByRole('alert').filter({ hasText: 'The two passwords differ.' }).waitFor();
    assert.equal(await t.ctx.users.count(), 0);
  });

  test('a good form creates the owner, signs in (the session cookie works) and opens the app', async () => {
    await page.getByLabel('Password again').fill('a long enough passphrase');
    await page.getByRole('button', { name: 'Create the owner' }).click();
    await page.getByText('Signed in as owner@example.com').waitFor();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/p/shop/overview');
    const me = await page.evaluate(async () => (await fetch('/api/auth/me')).json());
    assert.equal(me.user.email, 'owner@example.com');
    assert.equal(me.user.isAdmin, true);
    assert.deepEqual(
      me.projects.map((p: { slug: string; role: string }) => [p.slug, p.role]),
      [['shop', 'owner']],
    );
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'vigil_session');
    assert.ok(session?.httpOnly, 'the session cookie is HTTP-only');
    assert.equal(session?.sameSite, 'Lax');
  });

  test('afterwards /setup says the instance has an owner (signed out), and / asks to sign in', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Vigil' }).waitFor();
    await page.goto(t.url + '/setup');
    await page.getByText('This instance already has an owner').waitFor();
    assert.equal(await page.locator('form').count(), 0);
    await page.goto(t.url + '/');
    await page.getByRole('heading', { name: 'Sign in to Vigil' }).waitFor();
    assert.deepEqual(errors, []);
  });
});
