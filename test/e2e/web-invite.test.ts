/**
 * Invitations in a real browser: an owner invites from Settings, the link arrives by e-mail (a
 * loopback SMTP server), and the invitee opens it, sets name and password and lands in the
 * project; someone with an account signs in to accept, someone signed in accepts with one click;
 * used, revoked, expired and unknown links say so in plain words.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { browserSkip, launchBrowser } from '../helpers/browser.js';
import { startMailbox, type Mailbox } from '../helpers/mailbox.js';
import { screenshot, signIn, watchErrors } from './web-helpers.js';

const PASSWORD = 'correct horse battery staple';

describe('invitation links in the browser', { skip: browserSkip() }, () => {
  let t: TestApp;
  let mailbox: Mailbox;
  let browser: Browser;
  /** script errors of every page */
  const errors: string[][] = [];

  /** A page in a fresh browser context (its own cookies): another person. */
  async function personPage(): Promise<Page> {
    const page = await (await browser.newContext()).newPage();
    errors.push(watchErrors(page));
    return page;
  }

  /** An invitation made directly, and its link. */
  async function inviteLink(email: string, role: 'viewer' | 'editor' | 'owner' = 'viewer') {
    const { invitation, token } = await t.ctx.invitations.create(t.project.id, { email, role }, null);
    return { id: invitation.id, url: `${t.url}/invite/${token}` };
  }

  before(async () => {
    mailbox = await startMailbox();
    t = await startTestApp({ config: { smtpUrl: mailbox.url, mailFrom: 'Vigil <vigil@example.com>', signinRateLimit: 1000 } });
    const owner = await t.ctx.users.create({ email: 'owner@example.com', name: 'Olive', password: PASSWORD, isAdmin: true });
    await t.ctx.memberships.grant(t.project.id, owner.id, 'owner');
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await t?.close();
    await mailbox?.close();
  });

  test('the owner invites from Settings; the invitee opens the e-mailed link, sets name and password, and lands in the project', async () => {
    const owner = await personPage();
    await signIn(owner, `${t.url}/p/shop/settings?tab=members`, 'owner@example.com', PASSWORD);
    const form = owner.getByRole('form', { name: 'Invite' });
    await form.getByLabel('Email').fill('Newbie@Example.com');
    await form.getByLabel('Role').selectOption('editor');
    await form.getByRole('button', { name: 'Create invitation' }).click();
    await owner.getByText('The invitation was e-mailed to newbie@example.com').waitFor();
    await owner.close();

    const mail = await mailbox.waitFor('newbie@example.com', /invited to Shop/);
    const link = mail.links.find((l) => l.includes('/invite/')) ?? assert.fail(`no invitation link in ${mail.text}`);
    const page = await personPage();
    await page.goto(link);
    await page.getByRole('heading', { name: 'Join Shop' }).waitFor();
    await page.getByText('as an editor, with the e-mail newbie@example.com').waitFor();

    await page.getByLabel('Name').fill('Nina Newbie');
    await page.getByLabel('Password', { exact: true }).fill('too short');
    await page.getByLabel('Password again').fill('too short');
    await page.evaluate(() => document.querySelector('form')!.setAttribute('novalidate', ''));
    await page.getByRole('button', { name: 'Create the account and join' }).click();
    await page.getByRole('alert').filter({ hasText: 'at least 12 characters' }).waitFor();
    assert.equal(await page.getByLabel('Password', { exact: true }).getAttribute('aria-invalid'), 'true');

    await page.getByLabel('Password', { exact: true }).fill('a long enough passphrase');
    await page.getByLabel('Password again').fill('a long enough passphrase');
    await page.getByRole('button', { name: 'Create the account and join' }).click();
    await page.getByText('Signed in as newbie@example.com').waitFor();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/p/shop/overview');
    const user = await t.ctx.users.findByEmail('newbie@example.com');
    assert.equal(user?.name, 'Nina Newbie');
    assert.equal(await t.ctx.memberships.roleOf(t.project.id, user!.id), 'editor');

    // the same link again: used, in plain words, with what to do
    await page.goto(link);
    await page.getByRole('heading', { name: 'This invitation was already used' }).waitFor();
    await page.getByText('This invitation has already been accepted; sign in to open the project.').waitFor();
    await screenshot(page, 'invite-used');
    await page.close();
  });

  test('someone with an account signs in on the invitation page to accept (a wrong password is shown beside the field)', async () => {
    await t.ctx.users.create({ email: 'ada@example.com', password: PASSWORD });
    const { url } = await inviteLink('ada@example.com', 'viewer');
    const page = await personPage();
    await page.goto(url);
    await page.getByText('You already have an account: sign in to accept.').waitFor();
    assert.equal(await page.getByLabel('Email').inputValue(), 'ada@example.com');
    await page.getByLabel('Password').fill('not the password at all');
    await page.getByRole('button', { name: 'Sign in and accept' }).click();
    await page.getByRole('alert').filter({ hasText: 'the email or the password is wrong' }).waitFor();
    assert.equal(await page.getByLabel('Password').getAttribute('aria-invalid'), 'true');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in and accept' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/p/shop/overview');
    await page.getByText('Signed in as ada@example.com').waitFor();
    const ada = await t.ctx.users.findByEmail('ada@example.com');
    assert.equal(await t.ctx.memberships.roleOf(t.project.id, ada!.id), 'viewer');
    await page.close();
  });

  test('signed in as the invited e-mail, one click accepts; signed in as someone else, the page says so', async () => {
    await t.ctx.users.create({ email: 'clicker@example.com', password: PASSWORD });
    const { url } = await inviteLink('clicker@example.com', 'owner');
    const other = await inviteLink('someone-else@example.com');
    const page = await personPage();
    await signIn(page, `${t.url}/`, 'clicker@example.com', PASSWORD);

    await page.goto(other.url);
    await page.getByText('You are signed in as clicker@example.com, but this invitation is for someone-else@example.com').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 1);

    await page.goto(url);
    await page.getByText('as an owner, with the e-mail clicker@example.com').waitFor();
    await page.getByRole('button', { name: 'Accept the invitation' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/p/shop/overview');
    await page.getByText('Signed in as clicker@example.com · owner').waitFor();
    await page.close();
  });

  test('revoked, expired and unknown links say what happened and what to do next', async () => {
    const revoked = await inviteLink('revoked@example.com');
    await t.ctx.invitations.revoke(t.project.id, revoked.id);
    const expired = await inviteLink('expired@example.com');
    await t.ctx.meta.db
      .updateTable('invitations')
      .set({ expires_at: Date.now() - 1000 })
      .where('id', '=', expired.id)
      .execute();
    const page = await personPage();
    const cases: [string, string, RegExp][] = [
      [revoked.url, 'This invitation was revoked', /This invitation has been revoked; ask a project owner for a new one\./],
      [
        expired.url,
        'This invitation has expired',
        /This invitation expired on \d{4}-\d\d-\d\dT[\d:.]+Z; ask a project owner for a new one\./,
      ],
      [`${t.url}/invite/not-a-real-token`, 'This invitation link is not valid', /Check that the whole link was copied from the e-mail/],
    ];
    for (const [url, heading, text] of cases) {
      await page.goto(url);
      await page.getByRole('heading', { name: heading }).waitFor();
      await page.getByText(text).waitFor();
      assert.equal(await page.getByRole('link', { name: 'Sign in' }).count(), 1, `${heading}: a way on`);
    }
    await screenshot(page, 'invite-revoked');
    await page.close();
    assert.deepEqual(errors.flat(), []);
  });
});
