/**
 * The instance admin's users over HTTP: the list with each account's state, disabling (sign-in
 * refused, sessions ended) and enabling, lifting a sign-in lock, and a password-reset link that
 * works once.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';

const PASSWORD = 'correct horse battery staple';

interface Session {
  cookie: string;
  csrf: string;
}

describe('the instance users (admin)', () => {
  let t: TestApp;
  let admin: Session;
  let graceId: number;

  async function call(method: string, path: string, opts: { session?: Session; body?: unknown; ip?: string } = {}) {
    const headers: Record<string, string> = {};
    if (opts.session) Object.assign(headers, { cookie: opts.session.cookie, 'x-csrf-token': opts.session.csrf });
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(t.url + path, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
  }

  async function signIn(email: string, password = PASSWORD): Promise<{ status: number; body: any; session?: Session }> {
    const r = await call('POST', '/api/auth/sign-in', { body: { email, password } });
    const cookie = r.headers
      .getSetCookie()
      .find((c) => c.startsWith('vigil_session='))
      ?.split(';')[0];
    return { ...r, session: cookie ? { cookie, csrf: r.body.csrfToken } : undefined };
  }

  const listed = async (email: string) => {
    const r = await call('GET', '/api/admin/users', { session: admin });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.users.find((u: { email: string }) => u.email === email);
  };

  before(async () => {
    t = await startTestApp({ config: { signinRateLimit: 1000 } });
    await t.ctx.users.create({ email: 'admin@example.com', password: PASSWORD, name: 'Ada', isAdmin: true });
    const grace = await t.ctx.users.create({ email: 'grace@example.com', password: PASSWORD, name: 'Grace' });
    graceId = grace.id;
    await t.ctx.memberships.grant(t.project.id, grace.id, 'editor');
    admin = (await signIn('admin@example.com')).session!;
  });
  after(() => t?.close());

  test('the list shows every account: admin, state, last sign-in, projects', async () => {
    const r = await call('GET', '/api/admin/users', { session: admin });
    assert.deepEqual(
      r.body.users.map((u: { email: string }) => u.email),
      ['admin@example.com', 'grace@example.com'],
    );
    const ada = await listed('admin@example.com');
    assert.equal(ada.isAdmin, true);
    assert.ok(Date.now() - Date.parse(ada.lastSignInAt) < 60_000, 'the sign-in in before() is recorded');
    assert.deepEqual(
      { ...(await listed('grace@example.com')), createdAt: undefined },
      {
        id: graceId,
        email: 'grace@example.com',
        name: 'Grace',
        isAdmin: false,
        disabledAt: null,
        lockedUntil: null,
        lastSignInAt: null,
        projects: 1,
        createdAt: undefined,
      },
    );
  });

  test('a disabled account cannot sign in and its sessions end; enabled again, it signs in', async () => {
    const grace = (await signIn('grace@example.com')).session!;
    assert.equal((await call('GET', '/api/auth/me', { session: grace })).status, 200);

    const disabled = await call('POST', `/api/admin/users/${graceId}/disable`, { session: admin });
    assert.equal(disabled.status, 200);
    assert.ok(disabled.body.disabledAt);
    assert.equal((await call('GET', '/api/auth/me', { session: grace })).status, 401, 'the session ended');
    const refused = await signIn('grace@example.com');
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.message, 'this account is disabled: ask the administrator of this Vigil instance');
    assert.equal((await signIn('grace@example.com', 'a wrong password')).status, 401, 'a wrong password learns nothing about the account');

    const enabled = await call('POST', `/api/admin/users/${graceId}/enable`, { session: admin });
    assert.equal(enabled.body.disabledAt, null);
    assert.equal((await signIn('grace@example.com')).status, 200);
    const actions = (
      await t.ctx.meta.db
        .selectFrom('audit_log')
        .select('action')
        .where('target_id', '=', String(graceId))
        .where('target_type', '=', 'user')
        .execute()
    ).map((r) => r.action);
    assert.deepEqual(actions, ['user.disable', 'user.enable']);
  });

  test('the admin cannot disable their own account', async () => {
    const me = await listed('admin@example.com');
    const r = await call('POST', `/api/admin/users/${me.id}/disable`, { session: admin });
    assert.equal(r.status, 409);
    assert.match(r.body.error.message, /you cannot disable your own account/);
  });

  test('unlock lifts a sign-in lock: the list shows it until then', async () => {
    for (let i = 0; i < 5; i++) await signIn('grace@example.com', 'not the password');
    assert.equal((await signIn('grace@example.com')).status, 429, 'locked after five failures');
    const locked = await listed('grace@example.com');
    assert.ok(Date.parse(locked.lockedUntil) > Date.now());

    const unlocked = await call('POST', `/api/admin/users/${graceId}/unlock`, { session: admin });
    assert.equal(unlocked.status, 200);
    assert.equal(unlocked.body.lockedUntil, null);
    assert.equal((await signIn('grace@example.com')).status, 200);
  });

  test('a reset link, handed over by the admin, sets a new password once', async () => {
    const r = await call('POST', `/api/admin/users/${graceId}/password-reset`, { session: admin });
    assert.equal(r.status, 201);
    const token = new URL(r.body.url).pathname.replace('/reset-password/', '');
    assert.equal(new URL(r.body.url).origin, t.url);
    assert.equal((await call('GET', `/api/auth/password-resets/${token}`)).body.email, 'grace@example.com');
    assert.equal((await signIn('grace@example.com')).status, 200, 'the old password works until the link is used');
    assert.equal((await call('POST', `/api/auth/password-resets/${token}`, { body: { password: 'a brand new passphrase' } })).status, 200);
    assert.equal((await signIn('grace@example.com', 'a brand new passphrase')).status, 200);
    assert.equal((await call('POST', `/api/auth/password-resets/${token}`, { body: { password: 'yet another passphrase' } })).status, 410);
  });

  test('an unknown user is 404; a non-admin is 403', async () => {
    assert.equal((await call('POST', '/api/admin/users/9999/disable', { session: admin })).status, 404);
    const grace = (await signIn('grace@example.com', 'a brand new passphrase')).session!;
    assert.equal((await call('GET', '/api/admin/users', { session: grace })).status, 403);
  });
});
