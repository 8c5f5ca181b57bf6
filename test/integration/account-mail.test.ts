/**
 * The instance's own e-mail over a loopback SMTP server: invitation links, the "forgot password"
 * flow (same answer for any address, limited per address, single-use expiring links stored as
 * HMACs, other sessions ended) and `vigil users reset-password` for instances without e-mail.
 */
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { startMailbox, type Mailbox } from '../helpers/mailbox.js';
import { RESET_REQUESTED } from '../../src/auth/password-reset-routes.js';

const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'a brand new passphrase';
const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

async function call(t: TestApp, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(t.url + path, {
    method,
    headers: { ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}

const signIn = (t: TestApp, email: string, password: string) => call(t, 'POST', '/api/auth/sign-in', { email, password });
const tokenOf = (link: string) => /\/reset-password\/([\w-]+)$/.exec(link)?.[1] ?? assert.fail(`not a reset link: ${link}`);

/** `vigil users reset-password` against the test app's metadata store; resolves with its output. */
function runCli(t: TestApp, args: string[], stdin?: string): Promise<{ code: number | null; out: string; err: string }> {
  const env = {
    ...process.env,
    VIGIL_DATA_DIR: t.dataDir,
    VIGIL_DATABASE_URL: t.ctx.config.postgresUrl ?? '',
    VIGIL_PASSWORD_SCRYPT_LOG_N: '10',
    VIGIL_PUBLIC_URL: t.url,
    VIGIL_LOG_LEVEL: 'silent',
  };
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  child.stdin.end(stdin ?? '');
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out, err })));
}

describe('account e-mail over SMTP', () => {
  let t: TestApp;
  let mailbox: Mailbox;
  before(async () => {
    mailbox = await startMailbox();
    t = await startTestApp({ config: { smtpUrl: mailbox.url, mailFrom: 'Vigil <vigil@example.com>', signinRateLimit: 1000 } });
    const owner = await t.ctx.users.create({ email: 'owner@example.com', name: 'Olive', password: PASSWORD, isAdmin: true });
    await t.ctx.memberships.grant(t.project.id, owner.id, 'owner');
    await t.ctx.users.create({ email: 'ada@example.com', password: PASSWORD });
  });
  after(async () => {
    await t?.close();
    await mailbox?.close();
  });

  test('the sign-in page is told that resets go by e-mail and that registration is closed', async () => {
    assert.deepEqual((await call(t, 'GET', '/api/auth/options')).body, { openRegistration: false, passwordResetByEmail: true });
  });

  test('an invitation is e-mailed with its link, from VIGIL_MAIL_FROM', async () => {
    const signedIn = await signIn(t, 'owner@example.com', PASSWORD);
    const cookie = signedIn.headers.getSetCookie()[0].split(';')[0];
    const r = await call(
      t,
      'POST',
      '/api/projects/shop/invitations',
      { email: 'Bob@Example.com', role: 'editor' },
      { cookie, 'x-csrf-token': signedIn.body.csrfToken },
    );
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.emailed, true);
    const mail = await mailbox.waitFor('bob@example.com', /invited to Shop/);
    assert.equal(mail.from, 'vigil@example.com');
    assert.match(mail.text, /Olive invited you to join the project Shop on Vigil as an editor/);
    assert.ok(mail.links.includes(r.body.url), `the mail holds ${r.body.url}: ${mail.links}`);
    assert.equal((await call(t, 'GET', `/api/invitations/${r.body.token}`)).body.role, 'editor');
  });

  test('"forgot password" answers the same for a known and an unknown address; only the known one gets mail', async () => {
    const known = await call(t, 'POST', '/api/auth/forgot-password', { email: 'Ada@Example.com' });
    const unknown = await call(t, 'POST', '/api/auth/forgot-password', { email: 'nobody@example.com' });
    assert.deepEqual([known.status, known.body], [202, { message: RESET_REQUESTED }]);
    assert.deepEqual([unknown.status, unknown.body], [known.status, known.body]);
    const mail = await mailbox.waitFor('ada@example.com', /Reset your Vigil password/);
    assert.match(mail.links[0], new RegExp(`^${t.url}/reset-password/[\\w-]{43}$`));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(mailbox.mails.filter((m) => m.to.includes('nobody@example.com')).length, 0);
  });

  test('a reset link: only its HMAC is stored; a refused password keeps it; it works once and ends every session', async () => {
    const mail = await mailbox.waitFor('ada@example.com', /Reset your Vigil password/);
    const token = tokenOf(mail.links[0]);
    const rows = await t.ctx.meta.db.selectFrom('password_resets').select(['token_hash']).execute();
    assert.ok(rows.length >= 1 && rows.every((r) => r.token_hash !== token && !r.token_hash.includes(token)));

    const session = await signIn(t, 'ada@example.com', PASSWORD);
    const cookie = session.headers.getSetCookie()[0].split(';')[0];
    assert.deepEqual((await call(t, 'GET', `/api/auth/password-resets/${token}`)).body.email, 'ada@example.com');

    const short = await call(t, 'POST', `/api/auth/password-resets/${token}`, { password: 'short' });
    assert.equal(short.status, 400);
    assert.equal(short.body.error.details.field, 'password');
    assert.match(short.body.error.message, /at least 12 characters/);

    const done = await call(t, 'POST', `/api/auth/password-resets/${token}`, { password: NEW_PASSWORD });
    assert.deepEqual([done.status, done.body], [200, { email: 'ada@example.com' }]);
    assert.equal((await call(t, 'GET', '/api/auth/me', undefined, { cookie })).status, 401, 'the earlier session has ended');
    assert.equal((await signIn(t, 'ada@example.com', PASSWORD)).status, 401);
    assert.equal((await signIn(t, 'ada@example.com', NEW_PASSWORD)).status, 200);

    for (const again of [
      await call(t, 'GET', `/api/auth/password-resets/${token}`),
      await call(t, 'POST', `/api/auth/password-resets/${token}`, { password: 'yet another passphrase' }),
    ]) {
      assert.equal(again.status, 410);
      assert.equal(again.body.error.details.state, 'used');
      assert.match(again.body.error.message, /already been used/);
    }
    assert.equal((await signIn(t, 'ada@example.com', NEW_PASSWORD)).status, 200, 'the used link changed nothing');
  });

  test('an expired link and an unknown one say so', async () => {
    const link = await t.ctx.passwordResets.create((await t.ctx.users.findByEmail('owner@example.com'))!.id);
    await t.ctx.meta.db
      .updateTable('password_resets')
      .set({ expires_at: Date.now() - 1000 })
      .where('expires_at', '=', link.expiresAt)
      .execute();
    const expired = await call(t, 'POST', `/api/auth/password-resets/${link.token}`, { password: NEW_PASSWORD });
    assert.equal(expired.status, 410);
    assert.equal(expired.body.error.details.state, 'expired');
    assert.match(expired.body.error.message, /expired on .*ask for a new one/);
    const unknown = await call(t, 'GET', '/api/auth/password-resets/not-a-token');
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.error.message, /not valid/);
  });

  test('reset links are limited per address, known or not; a bad address is a 400 naming the field', async () => {
    for (const email of ['limit@example.com', 'owner@example.com']) {
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push(await call(t, 'POST', '/api/auth/forgot-password', { email }));
      assert.deepEqual(
        answers.map((a) => a.status),
        [202, 202, 202, 429],
        email,
      );
      assert.equal(answers[3].body.error.details.field, 'email');
      assert.match(answers[3].body.error.message, /too many reset links were asked for/);
      assert.ok(Number(answers[3].headers.get('retry-after')) > 0);
    }
    const bad = await call(t, 'POST', '/api/auth/forgot-password', { email: 'not an address' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.details.field, 'email');
  });

  test('without SMTP, "forgot password" says whom to ask and how', async () => {
    // an instance of its own: whether Vigil sends e-mail is set at start (VIGIL_SMTP_URL)
    const plain = await startTestApp();
    try {
      assert.equal((await call(plain, 'GET', '/api/auth/options')).body.passwordResetByEmail, false);
      const r = await call(plain, 'POST', '/api/auth/forgot-password', { email: 'fresh@example.com' });
      assert.equal(r.status, 503);
      assert.match(r.body.error.message, /vigil users reset-password/);
    } finally {
      await plain.close();
    }
  });

  test('`vigil users reset-password` prints a working link, or sets the password from stdin', async () => {
    const printed = await runCli(t, ['users', 'reset-password', 'Ada@Example.com']);
    assert.equal(printed.code, 0, printed.err);
    const link = /https?:\/\/\S+/.exec(printed.out)?.[0] ?? assert.fail(printed.out);
    assert.ok(link.startsWith(`${t.url}/reset-password/`), link);
    assert.equal(
      (await call(t, 'POST', `/api/auth/password-resets/${tokenOf(link)}`, { password: 'set through the cli link' })).status,
      200,
    );
    assert.equal((await signIn(t, 'ada@example.com', 'set through the cli link')).status, 200);

    const set = await runCli(t, ['users', 'reset-password', 'ada@example.com', '--password-stdin'], 'typed into the cli\n');
    assert.equal(set.code, 0, set.err);
    assert.match(set.out, /password of ada@example.com is changed/);
    assert.equal((await signIn(t, 'ada@example.com', 'typed into the cli')).status, 200);

    const nobody = await runCli(t, ['users', 'reset-password', 'nobody@example.com']);
    assert.equal(nobody.code, 1);
    assert.equal(nobody.err.trim(), 'there is no account with the e-mail nobody@example.com');
  });
});
