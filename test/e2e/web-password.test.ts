/**
 * Passwords and accounts in a real browser: "Forgot password?" sends a link by e-mail (a loopback
 * SMTP server) that sets a new password once; "Your account" changes the password; the register
 * page works only when registration is open, and the sign-in page links to it only then.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { browserSkip, launchBrowser } from '../helpers/browser.js';
import { startMailbox, type Mailbox } from '../helpers/mailbox.js';
import { screenshot, signIn, watchErrors } from './web-helpers.js';

const PASSWORD = 'correct horse battery staple';

describe('passwords and accounts in the browser', { skip: browserSkip() }, () => {
  let t: TestApp;
  let mailbox: Mailbox;
  let browser: Browser;
  const errors: string[][] = [];

  async function freshPage(): Promise<Page> {
    const page = await (await browser.newContext()).newPage();
    errors.push(watchErrors(page));
    return page;
  }

  before(async () => {
    mailbox = await startMailbox();
    t = await startTestApp({ config: { smtpUrl: mailbox.url, signinRateLimit: 1000 } });
    for (const email of ['ada@example.com', 'grace@example.com']) {
      const user = await t.ctx.users.create({ email, password: PASSWORD });
      await t.ctx.memberships.grant(t.project.id, user.id, 'editor');
    }
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await t?.close();
    await mailbox?.close();
  });

  test('forgot password → e-mail → link → new password → sign in with it; the used link then says so', async () => {
    const page = await freshPage();
    await page.goto(`${t.url}/`);
    await page.getByRole('link', { name: 'Forgot password?' }).click();
    await page.getByRole('heading', { name: 'Forgot your password?' }).waitFor();
    await page.getByLabel('Email').fill('Ada@Example.com');
    await page.getByRole('button', { name: 'Send the link' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: 'If an account with this e-mail exists, a link to choose a new password is on its way' })
      .waitFor();

    const mail = await mailbox.waitFor('ada@example.com', /Reset your Vigil password/);
    const link = mail.links.find((l) => l.includes('/reset-password/')) ?? assert.fail(`no reset link in ${mail.text}`);
    await page.goto(link);
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    await page.getByText('For ada@example.com.').waitFor();
    await page.getByLabel('New password', { exact: true }).fill('a fresh passphrase');
    await page.getByLabel('New password again').fill('a different passphrase');
    await page.getByRole('button', { name: 'Set the password' }).click();
    await page.getByRole('alert').filter({ hasText: 'The two passwords differ.' }).waitFor();
    await page.getByLabel('New password again').fill('a fresh passphrase');
    await page.getByRole('button', { name: 'Set the password' }).click();
    await page.getByRole('heading', { name: 'Your password is changed' }).waitFor();

    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.getByLabel('Email').fill('ada@example.com');
    await page.getByLabel('Password').fill('a fresh passphrase');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Signed in as ada@example.com').waitFor();

    await page.goto(link);
    await page.getByRole('heading', { name: 'This link was already used' }).waitFor();
    await page.getByText('This password-reset link has already been used: sign in with the new password, or ask for a new link.').waitFor();
    assert.equal(await page.getByRole('link', { name: 'Ask for a new link' }).count(), 1);
    await screenshot(page, 'reset-link-used');
    await page.close();
  });

  test('"Your account" changes the password: a wrong current one is shown beside its field; the new one signs in', async () => {
    const page = await freshPage();
    await signIn(page, `${t.url}/`, 'grace@example.com', PASSWORD);
    await page.getByRole('link', { name: 'Your account' }).click();
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    const form = page.getByRole('form', { name: 'Change password' });
    await form.getByLabel('Current password').fill('not my password');
    await form.getByLabel('New password', { exact: true }).fill('grace new passphrase');
    await form.getByLabel('New password again').fill('grace new passphrase');
    await form.getByRole('button', { name: 'Change password' }).click();
    await form.getByRole('alert').filter({ hasText: 'the current password is wrong' }).waitFor();
    assert.equal(await form.getByLabel('Current password').getAttribute('aria-invalid'), 'true');

    await form.getByLabel('Current password').fill(PASSWORD);
    await form.getByRole('button', { name: 'Change password' }).click();
    await form.getByRole('status').filter({ hasText: 'Your password is changed' }).waitFor();
    await screenshot(page, 'account-password');

    // this session goes on; signing in again needs the new password
    await page.getByRole('link', { name: 'Overview' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Email').fill('grace@example.com');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'the email or the password is wrong' }).waitFor();
    await page.getByLabel('Password').fill('grace new passphrase');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Signed in as grace@example.com').waitFor();
    await page.close();
  });

  test('registration closed: no link on the sign-in page, and the register page says to ask for an invitation', async () => {
    const page = await freshPage();
    await page.goto(`${t.url}/`);
    await page.getByText('No account? Ask an owner of your project for an invitation.').waitFor();
    assert.equal(await page.getByRole('link', { name: 'Create one' }).count(), 0);
    await page.goto(`${t.url}/register`);
    await page.getByText('Registration is closed on this instance').waitFor();
    assert.equal(await page.locator('form').count(), 0);
    await page.close();
  });

  test('registration open: the sign-in page links to the register page, which creates the account and signs in', async () => {
    // VIGIL_OPEN_REGISTRATION is read on each request: opened here for this test
    t.ctx.config.openRegistration = true;
    try {
      const page = await freshPage();
      await page.goto(`${t.url}/`);
      await page.getByRole('link', { name: 'Create one' }).click();
      await page.getByRole('heading', { name: 'Create an account' }).waitFor();
      await page.getByLabel('Email').fill('ada@example.com');
      await page.getByLabel('Name').fill('Someone');
      await page.getByLabel('Password', { exact: true }).fill('a long enough passphrase');
      await page.getByLabel('Password again').fill('a long enough passphrase');
      await page.getByRole('button', { name: 'Create the account' }).click();
      await page.getByRole('alert').filter({ hasText: 'a user with the email ada@example.com already exists' }).waitFor();
      assert.equal(await page.getByLabel('Email').getAttribute('aria-invalid'), 'true');

      await page.getByLabel('Email').fill('Newcomer@Example.com');
      await page.getByRole('button', { name: 'Create the account' }).click();
      await page.getByText('Signed in as newcomer@example.com').waitFor();
      await page.getByRole('heading', { name: 'No projects yet' }).waitFor();
      assert.equal((await t.ctx.users.findByEmail('newcomer@example.com'))?.name, 'Someone');
      await page.close();
    } finally {
      t.ctx.config.openRegistration = false;
    }
    assert.deepEqual(errors.flat(), []);
  });
});
