/**
 * Accounts end to end over HTTP: first run, sign-in and sign-out, password changes, registration,
 * invitations, members, API keys, the audit log and projects.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import type { ConfigInput } from '../../src/config.js';

const PASSWORD = 'correct horse battery staple';
const FAST: ConfigInput = { passwordScryptLogN: 10, signinRateLimit: 1000 };

interface Answer {
  status: number;
  body: any;
  headers: Headers;
}

interface Client {
  cookie: string;
  csrf: string;
  /** the cookie and the CSRF header, with a JSON content type when `json` */
  headers(json?: boolean): Record<string, string>;
}

function clientOf(answer: Answer): Client {
  const setCookie = answer.headers.getSetCookie().find((c) => c.startsWith('vigil_session='));
  assert.ok(setCookie, `no session cookie in ${JSON.stringify(answer.body)}`);
  const cookie = setCookie.split(';')[0];
  const csrf = answer.body.csrfToken as string;
  assert.ok(csrf, 'a csrfToken comes with the session');
  return {
    cookie,
    csrf,
    headers: (json = false) => ({ cookie, 'x-csrf-token': csrf, ...(json && { 'content-type': 'application/json' }) }),
  };
}

async function call(
  t: TestApp,
  method: string,
  path: string,
  opts: { client?: Client; key?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...opts.client?.headers(opts.body !== undefined), ...opts.headers };
  if (opts.key) headers.authorization = `Bearer ${opts.key}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(t.url + path, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    // 204 or NDJSON: keep the text
  }
  return { status: res.status, body, headers: res.headers };
}

/** Asserts a status (showing the body when it differs) and returns the body. */
function expectStatus(r: Answer, status: number, what = '') {
  assert.equal(r.status, status, `${what} expected ${status}, got ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body;
}

async function signIn(t: TestApp, email: string, password = PASSWORD): Promise<Client> {
  const r = await call(t, 'POST', '/api/auth/sign-in', { body: { email, password } });
  expectStatus(r, 200, `sign-in ${email}`);
  return clientOf(r);
}

async function newUser(
  t: TestApp,
  email: string,
  role?: 'viewer' | 'editor' | 'owner',
  opts: { isAdmin?: boolean; projectId?: number } = {},
) {
  const user = await t.ctx.users.create({ email, password: PASSWORD, isAdmin: opts.isAdmin });
  if (role) await t.ctx.memberships.grant(opts.projectId ?? t.project.id, user.id, role);
  return user;
}

describe('first run', () => {
  let t: TestApp;
  before(async () => (t = await startTestApp({ config: FAST })));
  after(() => t.close());

  test('setup creates the admin, signs in, makes them owner of existing projects; only once', async () => {
    assert.deepEqual(expectStatus(await call(t, 'GET', '/api/setup'), 200), { needsOwner: true });
    const created = await call(t, 'POST', '/api/setup', { body: { email: 'Admin@Example.com', password: PASSWORD, name: 'Ada' } });
    const body = expectStatus(created, 201);
    assert.equal(body.user.email, 'admin@example.com');
    assert.equal(body.user.isAdmin, true);
    const admin = clientOf(created);
    const projects = expectStatus(await call(t, 'GET', '/api/projects', { client: admin }), 200);
    assert.deepEqual(
      projects.projects.map((p: any) => [p.slug, p.role]),
      [['shop', 'owner']],
    );
    assert.deepEqual(expectStatus(await call(t, 'GET', '/api/setup'), 200), { needsOwner: false });
    const again = await call(t, 'POST', '/api/setup', { body: { email: 'mallory@example.com', password: PASSWORD } });
    assert.equal(expectStatus(again, 409).error.code, 'VIGIL_ERR_CONFLICT');
  });
});

describe('sign-in and sign-out', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ config: FAST });
    await newUser(t, 'ada@example.com', 'viewer');
  });
  after(() => t.close());

  test('a wrong password gets 401 with the same message as an unknown email', async () => {
    const wrong = expectStatus(
      await call(t, 'POST', '/api/auth/sign-in', { body: { email: 'ada@example.com', password: 'not the password at all' } }),
      401,
    );
    const unknown = expectStatus(
      await call(t, 'POST', '/api/auth/sign-in', { body: { email: 'nobody@example.com', password: PASSWORD } }),
      401,
    );
    assert.equal(wrong.error.message, unknown.error.message);
    assert.equal(wrong.error.code, unknown.error.code);
  });

  test('the session cookie is HttpOnly, SameSite=Lax, Path=/ and, over plain HTTP, not Secure', async () => {
    const r = await call(t, 'POST', '/api/auth/sign-in', { body: { email: 'ada@example.com', password: PASSWORD } });
    expectStatus(r, 200);
    const cookie = r.headers.getSetCookie().find((c) => c.startsWith('vigil_session='))!;
    assert.match(cookie, /; HttpOnly/i);
    assert.match(cookie, /; SameSite=Lax/i);
    assert.match(cookie, /; Path=\//i);
    assert.doesNotMatch(cookie, /; Secure/i);
  });

  test('sign-out ends the session: the cookie no longer works', async () => {
    const client = await signIn(t, 'ada@example.com');
    expectStatus(await call(t, 'GET', '/api/auth/me', { client }), 200);
    expectStatus(await call(t, 'POST', '/api/auth/sign-out', { client }), 204);
    expectStatus(await call(t, 'GET', '/api/auth/me', { client }), 401);
  });
});

describe('secure cookies', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ config: { ...FAST, secureCookies: 'true' } });
    await newUser(t, 'ada@example.com');
  });
  after(() => t.close());

  test('with VIGIL_SECURE_COOKIES=true the cookie is Secure even over HTTP', async () => {
    const r = await call(t, 'POST', '/api/auth/sign-in', { body: { email: 'ada@example.com', password: PASSWORD } });
    expectStatus(r, 200);
    assert.match(r.headers.getSetCookie().find((c) => c.startsWith('vigil_session='))!, /; Secure/i);
  });
});

describe('password change', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ config: FAST });
    await newUser(t, 'ada@example.com', 'viewer');
  });
  after(() => t.close());

  test("needs the current password and the rules; ends every other session; the answer's session works", async () => {
    const client = await signIn(t, 'ada@example.com');
    const other = await signIn(t, 'ada@example.com');
    const wrongCurrent = await call(t, 'POST', '/api/auth/password', {
      client,
      body: { currentPassword: 'not my password', newPassword: 'a brand new passphrase' },
    });
    assert.equal(expectStatus(wrongCurrent, 400).error.details.field, 'currentPassword');
    const short = await call(t, 'POST', '/api/auth/password', { client, body: { currentPassword: PASSWORD, newPassword: 'elevenchars' } });
    assert.equal('elevenchars'.length, 11);
    assert.equal(expectStatus(short, 400).error.details.field, 'newPassword');
    expectStatus(await call(t, 'GET', '/api/auth/me', { client: other }), 200, 'failed changes keep the sessions');

    const changed = await call(t, 'POST', '/api/auth/password', {
      client,
      body: { currentPassword: PASSWORD, newPassword: 'a brand new passphrase' },
    });
    expectStatus(changed, 200);
    const renewed = clientOf(changed);
    expectStatus(await call(t, 'GET', '/api/auth/me', { client: other }), 401, 'the other client');
    expectStatus(await call(t, 'GET', '/api/auth/me', { client }), 401, 'the old session of this client');
    const me = expectStatus(await call(t, 'GET', '/api/auth/me', { client: renewed }), 200);
    assert.equal(me.user.email, 'ada@example.com');
    expectStatus(
      await call(t, 'POST', '/api/auth/sign-in', { body: { email: 'ada@example.com', password: PASSWORD } }),
      401,
      'the old password',
    );
    await signIn(t, 'ada@example.com', 'a brand new passphrase');
  });
});

describe('registration', () => {
  test('closed by default (403), open with VIGIL_OPEN_REGISTRATION=true', async () => {
    const closed = await startTestApp({ config: FAST });
    try {
      const r = await call(closed, 'POST', '/api/auth/register', { body: { email: 'ada@example.com', password: PASSWORD } });
      assert.match(expectStatus(r, 403).error.message, /invitation/);
      assert.equal(await closed.ctx.users.findByEmail('ada@example.com'), undefined);
    } finally {
      await closed.close();
    }
    const open = await startTestApp({ config: { ...FAST, openRegistration: 'true' } });
    try {
      const r = await call(open, 'POST', '/api/auth/register', { body: { email: 'ada@example.com', password: PASSWORD, name: 'Ada' } });
      expectStatus(r, 201);
      expectStatus(await call(open, 'GET', '/api/auth/me', { client: clientOf(r) }), 200);
    } finally {
      await open.close();
    }
  });
});

describe('invitations', () => {
  let t: TestApp;
  let owner: Client;
  const invite = async (email: string, role = 'editor') =>
    expectStatus(await call(t, 'POST', '/api/projects/shop/invitations', { client: owner, body: { email, role } }), 201, `invite ${email}`);
  before(async () => {
    t = await startTestApp({ config: FAST });
    await newUser(t, 'owner@example.com', 'owner');
    owner = await signIn(t, 'owner@example.com');
  });
  after(() => t.close());

  test('owner invites, the link shows the project, accepting creates the account and membership and signs in; only once', async () => {
    const created = await invite('Bob@Example.com', 'editor');
    assert.equal(created.invitation.email, 'bob@example.com');
    assert.equal(created.invitation.state, 'pending');
    assert.equal(created.url, `${t.url}/invite/${created.token}`);
    assert.ok(created.token.length >= 43);

    const shown = expectStatus(await call(t, 'GET', `/api/invitations/${created.token}`), 200);
    assert.deepEqual(shown.project, { slug: 'shop', name: 'Shop' });
    assert.equal(shown.email, 'bob@example.com');
    assert.equal(shown.role, 'editor');
    assert.equal(shown.accountExists, false);
    assert.ok(Date.parse(shown.expiresAt) > Date.now() + 6 * 86_400_000);

    const noPassword = await call(t, 'POST', `/api/invitations/${created.token}/accept`, { body: {} });
    assert.equal(expectStatus(noPassword, 400).error.details.field, 'password');
    const shortPassword = await call(t, 'POST', `/api/invitations/${created.token}/accept`, { body: { password: 'short' } });
    assert.equal(expectStatus(shortPassword, 400).error.details.field, 'password');

    const accepted = await call(t, 'POST', `/api/invitations/${created.token}/accept`, { body: { password: PASSWORD, name: 'Bob' } });
    const body = expectStatus(accepted, 201);
    assert.deepEqual(body.project, { slug: 'shop', name: 'Shop' });
    assert.equal(body.role, 'editor');
    assert.equal(body.user.email, 'bob@example.com');
    const bob = clientOf(accepted);
    const projects = expectStatus(await call(t, 'GET', '/api/projects', { client: bob }), 200);
    assert.deepEqual(
      projects.projects.map((p: any) => [p.slug, p.role]),
      [['shop', 'editor']],
    );

    const again = await call(t, 'POST', `/api/invitations/${created.token}/accept`, { body: { password: PASSWORD } });
    assert.match(expectStatus(again, 410).error.message, /already been accepted/);
    assert.equal(again.body.error.code, 'VIGIL_ERR_GONE');
    expectStatus(await call(t, 'GET', `/api/invitations/${created.token}`), 410);
    expectStatus(await call(t, 'GET', '/api/invitations/not-a-real-token'), 404);
  });

  test('an expired invitation and a revoked one answer 410, saying which', async () => {
    const expired = await invite('late@example.com');
    await t.ctx.meta.db
      .updateTable('invitations')
      .set({ expires_at: Date.now() - 1000 })
      .where('id', '=', expired.invitation.id)
      .execute();
    assert.match(expectStatus(await call(t, 'GET', `/api/invitations/${expired.token}`), 410).error.message, /expired/);
    assert.match(
      expectStatus(await call(t, 'POST', `/api/invitations/${expired.token}/accept`, { body: { password: PASSWORD } }), 410).error.message,
      /expired/,
    );

    const revoked = await invite('gone@example.com');
    const r = expectStatus(await call(t, 'DELETE', `/api/projects/shop/invitations/${revoked.invitation.id}`, { client: owner }), 200);
    assert.equal(r.state, 'revoked');
    assert.match(expectStatus(await call(t, 'GET', `/api/invitations/${revoked.token}`), 410).error.message, /revoked/);
    assert.match(
      expectStatus(await call(t, 'POST', `/api/invitations/${revoked.token}/accept`, { body: { password: PASSWORD } }), 410).error.message,
      /revoked/,
    );
    assert.equal(await t.ctx.users.findByEmail('gone@example.com'), undefined);

    const list = expectStatus(await call(t, 'GET', '/api/projects/shop/invitations', { client: owner }), 200);
    const states = Object.fromEntries(list.invitations.map((i: any) => [i.email, i.state]));
    assert.equal(states['bob@example.com'], 'accepted');
    assert.equal(states['late@example.com'], 'expired');
    assert.equal(states['gone@example.com'], 'revoked');
    assert.ok(!JSON.stringify(list).includes(expired.token), 'tokens are never listed');
  });

  test('signed in: as another email → 403 naming the invited email; as the invited email it needs the CSRF header', async () => {
    await newUser(t, 'carol@example.com');
    const forCarol = await invite('carol@example.com', 'viewer');
    const shown = expectStatus(await call(t, 'GET', `/api/invitations/${forCarol.token}`), 200);
    assert.equal(shown.accountExists, true);

    const bob = await signIn(t, 'bob@example.com');
    const wrongUser = await call(t, 'POST', `/api/invitations/${forCarol.token}/accept`, { client: bob, body: {} });
    assert.match(expectStatus(wrongUser, 403).error.message, /carol@example\.com/);

    const anonymous = await call(t, 'POST', `/api/invitations/${forCarol.token}/accept`, { body: { password: PASSWORD } });
    assert.match(expectStatus(anonymous, 409).error.message, /sign in as carol@example\.com/);

    const carol = await signIn(t, 'carol@example.com');
    const noCsrf = await call(t, 'POST', `/api/invitations/${forCarol.token}/accept`, { body: {}, headers: { cookie: carol.cookie } });
    assert.match(expectStatus(noCsrf, 403).error.message, /x-csrf-token/);
    assert.equal(await t.ctx.memberships.roleOf(t.project.id, (await t.ctx.users.findByEmail('carol@example.com'))!.id), undefined);

    // no body at all: a signed-in accept needs none
    const accepted = expectStatus(await call(t, 'POST', `/api/invitations/${forCarol.token}/accept`, { client: carol }), 200);
    assert.deepEqual(accepted, { project: { slug: 'shop', name: 'Shop' }, role: 'viewer' });
    expectStatus(await call(t, 'GET', '/api/projects/shop', { client: carol }), 200);
  });

  test('inviting someone who already has that role is a 409; only owners invite', async () => {
    assert.match(
      expectStatus(
        await call(t, 'POST', '/api/projects/shop/invitations', { client: owner, body: { email: 'bob@example.com', role: 'viewer' } }),
        409,
      ).error.message,
      /already an editor/,
    );
    const bob = await signIn(t, 'bob@example.com');
    expectStatus(
      await call(t, 'POST', '/api/projects/shop/invitations', { client: bob, body: { email: 'x@example.com', role: 'viewer' } }),
      403,
    );
    expectStatus(
      await call(t, 'POST', '/api/projects/shop/invitations', { client: owner, body: { email: 'not an email', role: 'viewer' } }),
      400,
    );
  });
});

describe('members', () => {
  let t: TestApp;
  let owner: Client;
  let ownerId: number;
  let bobId: number;
  before(async () => {
    t = await startTestApp({ config: FAST });
    ownerId = (await newUser(t, 'owner@example.com', 'owner')).id;
    bobId = (await newUser(t, 'bob@example.com', 'editor')).id;
    owner = await signIn(t, 'owner@example.com');
  });
  after(() => t.close());

  test('any member lists the members with role and since', async () => {
    const bob = await signIn(t, 'bob@example.com');
    const list = expectStatus(await call(t, 'GET', '/api/projects/shop/members', { client: bob }), 200);
    assert.deepEqual(
      list.members.map((m: any) => [m.email, m.role]),
      [
        ['bob@example.com', 'editor'],
        ['owner@example.com', 'owner'],
      ],
    );
    assert.ok(Date.parse(list.members[0].since) > 0);
  });

  test('the owner changes a role; editors cannot', async () => {
    const bob = await signIn(t, 'bob@example.com');
    expectStatus(await call(t, 'PATCH', `/api/projects/shop/members/${ownerId}`, { client: bob, body: { role: 'viewer' } }), 403);
    const changed = expectStatus(
      await call(t, 'PATCH', `/api/projects/shop/members/${bobId}`, { client: owner, body: { role: 'viewer' } }),
      200,
    );
    assert.equal(changed.role, 'viewer');
    assert.equal(await t.ctx.memberships.roleOf(t.project.id, bobId), 'viewer');
    expectStatus(await call(t, 'PATCH', `/api/projects/shop/members/${bobId}`, { client: owner, body: { role: 'admin' } }), 400);
  });

  test('the last owner can be neither demoted nor removed (409)', async () => {
    assert.match(
      expectStatus(await call(t, 'PATCH', `/api/projects/shop/members/${ownerId}`, { client: owner, body: { role: 'editor' } }), 409).error
        .message,
      /at least one owner/,
    );
    expectStatus(await call(t, 'DELETE', `/api/projects/shop/members/${ownerId}`, { client: owner }), 409);
    assert.equal(await t.ctx.memberships.roleOf(t.project.id, ownerId), 'owner');
  });

  test('a non-member, or a member of another project, is a 404; removing a member → 204', async () => {
    const other = await t.ctx.projects.create({ slug: 'other' });
    const dave = await newUser(t, 'dave@example.com', 'editor', { projectId: other.id });
    expectStatus(await call(t, 'PATCH', `/api/projects/shop/members/${dave.id}`, { client: owner, body: { role: 'viewer' } }), 404);
    expectStatus(await call(t, 'DELETE', `/api/projects/shop/members/${dave.id}`, { client: owner }), 404);
    expectStatus(await call(t, 'DELETE', '/api/projects/shop/members/99999', { client: owner }), 404);
    assert.equal(await t.ctx.memberships.roleOf(other.id, dave.id), 'editor');

    expectStatus(await call(t, 'DELETE', `/api/projects/shop/members/${bobId}`, { client: owner }), 204);
    const list = expectStatus(await call(t, 'GET', '/api/projects/shop/members', { client: owner }), 200);
    assert.deepEqual(
      list.members.map((m: any) => m.email),
      ['owner@example.com'],
    );
    const bob = await signIn(t, 'bob@example.com');
    expectStatus(await call(t, 'GET', '/api/projects/shop/members', { client: bob }), 404, 'a removed member no longer sees the project');
  });
});

describe('API keys', () => {
  let t: TestApp;
  let owner: Client;
  before(async () => {
    t = await startTestApp({ config: FAST });
    await newUser(t, 'owner@example.com', 'owner');
    owner = await signIn(t, 'owner@example.com');
  });
  after(() => t.close());

  test('create shows the secret once; the list never; a revoked key gets 401', async () => {
    const created = expectStatus(
      await call(t, 'POST', '/api/projects/shop/keys', { client: owner, body: { name: 'dashboard', scopes: ['read'] } }),
      201,
    );
    assert.match(created.secret, /^vk_/);
    assert.equal(created.key.prefix, created.secret.slice(0, 10));
    assert.deepEqual(created.key.scopes, ['read']);
    assert.equal(created.key.revokedAt, null);
    expectStatus(await call(t, 'GET', '/api/projects/shop/metrics', { key: created.secret }), 200, 'the new key reads');

    const list = expectStatus(await call(t, 'GET', '/api/projects/shop/keys', { client: owner }), 200);
    assert.ok(!JSON.stringify(list).includes(created.secret), 'no secret in the list');
    const listed = list.keys.find((k: any) => k.id === created.key.id);
    assert.deepEqual(Object.keys(listed).sort(), ['createdAt', 'expiresAt', 'id', 'lastUsedAt', 'name', 'prefix', 'revokedAt', 'scopes']);
    assert.equal(list.keys.length, 3, 'the two keys of the test app and the new one');

    const revoked = expectStatus(await call(t, 'DELETE', `/api/projects/shop/keys/${created.key.id}`, { client: owner }), 200);
    assert.ok(revoked.revokedAt);
    expectStatus(await call(t, 'GET', '/api/projects/shop/metrics', { key: created.secret }), 401, 'the revoked key');
    expectStatus(await call(t, 'DELETE', `/api/projects/shop/keys/${created.key.id}`, { client: owner }), 200, 'revoking again');
  });

  test('an expiry in the past is refused; a future one is kept', async () => {
    expectStatus(
      await call(t, 'POST', '/api/projects/shop/keys', {
        client: owner,
        body: { name: 'old', scopes: ['read'], expiresAt: '2001-01-01T00:00:00Z' },
      }),
      400,
    );
    expectStatus(await call(t, 'POST', '/api/projects/shop/keys', { client: owner, body: { name: 'none', scopes: [] } }), 400);
    const later = expectStatus(
      await call(t, 'POST', '/api/projects/shop/keys', {
        client: owner,
        body: { name: 'ci', scopes: ['ingest', 'read'], expiresAt: '2099-01-01T00:00:00Z' },
      }),
      201,
    );
    assert.equal(later.key.expiresAt, '2099-01-01T00:00:00.000Z');
  });

  test("another project's key id is a 404 and stays active", async () => {
    const other = await t.ctx.projects.create({ slug: 'other' });
    const foreign = await t.ctx.apiKeys.create({ projectId: other.id, scopes: ['read'] });
    expectStatus(await call(t, 'DELETE', `/api/projects/shop/keys/${foreign.key.id}`, { client: owner }), 404);
    assert.ok(await t.ctx.apiKeys.verify(foreign.secret), 'still active');
  });

  test('API keys, even admin ones, cannot use the key, member or audit routes (403)', async () => {
    const admin = (await t.ctx.apiKeys.create({ projectId: t.project.id, scopes: ['admin'] })).secret;
    expectStatus(await call(t, 'GET', '/api/projects/shop/keys', { key: admin }), 403);
    expectStatus(await call(t, 'POST', '/api/projects/shop/keys', { key: admin, body: { name: 'x', scopes: ['admin'] } }), 403);
    expectStatus(await call(t, 'GET', '/api/projects/shop/members', { key: admin }), 403);
    expectStatus(await call(t, 'GET', '/api/projects/shop/audit', { key: admin }), 403);
    expectStatus(await call(t, 'GET', '/api/projects/shop/invitations', { key: admin }), 403);
  });
});

describe('audit log', () => {
  let t: TestApp;
  let owner: Client;
  let bobId: number;
  before(async () => {
    t = await startTestApp({ config: FAST });
    await newUser(t, 'owner@example.com', 'owner');
    bobId = (await newUser(t, 'bob@example.com', 'editor')).id;
    owner = await signIn(t, 'owner@example.com');
  });
  after(() => t.close());

  test('changes are recorded with actor, action, target, what changed and the request id', async () => {
    const metric = expectStatus(
      await call(t, 'POST', '/api/projects/shop/metrics', {
        client: owner,
        headers: { 'x-request-id': 'req-metric-1' },
        body: { name: 'signups', kind: 'event', status: 'draft', definition: { event: 'Signed Up' } },
      }),
      201,
    );
    const key = expectStatus(
      await call(t, 'POST', '/api/projects/shop/keys', {
        client: owner,
        headers: { 'x-request-id': 'req-key-1' },
        body: { name: 'ci', scopes: ['read'] },
      }),
      201,
    );
    expectStatus(
      await call(t, 'PATCH', `/api/projects/shop/members/${bobId}`, {
        client: owner,
        headers: { 'x-request-id': 'req-role-1' },
        body: { role: 'viewer' },
      }),
      200,
    );

    const { entries, nextCursor } = expectStatus(await call(t, 'GET', '/api/projects/shop/audit', { client: owner }), 200);
    assert.equal(nextCursor, null);
    assert.deepEqual(
      entries.map((e: any) => e.action),
      ['member.update', 'api_key.create', 'metric.create'],
    );
    for (const e of entries) assert.deepEqual(e.actor, { type: 'user', id: e.actor.id, label: 'owner@example.com' });
    const [role, keyEntry, metricEntry] = entries;
    assert.deepEqual(metricEntry.target, { type: 'metric', id: String(metric.id) });
    assert.equal(metricEntry.summary.after.name, 'signups');
    assert.equal(metricEntry.requestId, 'req-metric-1');
    assert.deepEqual(keyEntry.target, { type: 'api_key', id: String(key.key.id) });
    assert.deepEqual(keyEntry.summary.after.scopes, ['read']);
    assert.ok(!JSON.stringify(keyEntry).includes(key.secret), 'no secret in the audit log');
    assert.equal(keyEntry.requestId, 'req-key-1');
    assert.deepEqual(role.target, { type: 'member', id: String(bobId) });
    assert.deepEqual(role.summary, { before: { role: 'editor' }, after: { role: 'viewer' } });
    assert.equal(role.requestId, 'req-role-1');
    assert.ok(Date.parse(role.at) <= Date.now());
  });

  test('filters: action, actor, target type and time', async () => {
    const byAction = expectStatus(await call(t, 'GET', '/api/projects/shop/audit?action=api_key.create', { client: owner }), 200);
    assert.deepEqual(
      byAction.entries.map((e: any) => e.action),
      ['api_key.create'],
    );
    const byTarget = expectStatus(await call(t, 'GET', '/api/projects/shop/audit?targetType=member', { client: owner }), 200);
    assert.deepEqual(
      byTarget.entries.map((e: any) => e.action),
      ['member.update'],
    );
    assert.equal(
      expectStatus(await call(t, 'GET', '/api/projects/shop/audit?actor=owner@example.com', { client: owner }), 200).entries.length,
      3,
    );
    assert.equal(
      expectStatus(await call(t, 'GET', '/api/projects/shop/audit?actor=bob@example.com', { client: owner }), 200).entries.length,
      0,
    );
    assert.equal(expectStatus(await call(t, 'GET', '/api/projects/shop/audit?from=-1h', { client: owner }), 200).entries.length, 3);
    assert.equal(expectStatus(await call(t, 'GET', '/api/projects/shop/audit?from=%2B1h', { client: owner }), 200).entries.length, 0);
    assert.equal(
      expectStatus(await call(t, 'GET', '/api/projects/shop/audit?from=yesterday', { client: owner }), 400).error.details.field,
      'from',
    );
    expectStatus(await call(t, 'GET', '/api/projects/shop/audit?limit=501', { client: owner }), 400);
  });

  test('cursor pagination walks every entry once, newest first', async () => {
    for (let i = 0; i < 4; i++)
      expectStatus(await call(t, 'POST', '/api/projects/shop/keys', { client: owner, body: { name: `k${i}`, scopes: ['read'] } }), 201);
    const all = expectStatus(await call(t, 'GET', '/api/projects/shop/audit?limit=500', { client: owner }), 200).entries.map(
      (e: any) => e.id,
    );
    assert.equal(all.length, 7);
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: any = expectStatus(
        await call(t, 'GET', `/api/projects/shop/audit?limit=3${cursor ? `&cursor=${cursor}` : ''}`, { client: owner }),
        200,
      );
      seen.push(...page.entries.map((e: any) => e.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    assert.equal(pages, 3);
    assert.deepEqual(seen, all);
    assert.deepEqual(
      [...all].sort((a, b) => b - a),
      all,
    );
  });

  test('the NDJSON export has one entry per line, oldest first, as an attachment', async () => {
    const res = await fetch(`${t.url}/api/projects/shop/audit/export`, { headers: owner.headers() });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/x-ndjson/);
    assert.equal(res.headers.get('content-disposition'), 'attachment; filename="audit-shop.ndjson"');
    const text = await res.text();
    assert.ok(text.endsWith('\n'));
    const lines = text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    const listed = expectStatus(await call(t, 'GET', '/api/projects/shop/audit?limit=500', { client: owner }), 200).entries;
    assert.deepEqual(lines, [...listed].reverse());
    const filtered = await (
      await fetch(`${t.url}/api/projects/shop/audit/export?action=metric.create`, { headers: owner.headers() })
    ).text();
    assert.deepEqual(
      filtered
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l).action),
      ['metric.create'],
    );
  });

  test('an editor and an API key get 403', async () => {
    await t.ctx.memberships.setRole(t.project.id, bobId, 'editor');
    const bob = await signIn(t, 'bob@example.com');
    expectStatus(await call(t, 'GET', '/api/projects/shop/audit', { client: bob }), 403);
    expectStatus(await call(t, 'GET', '/api/projects/shop/audit/export', { client: bob }), 403);
    expectStatus(await call(t, 'GET', '/api/projects/shop/audit', { key: t.readKey }), 403);
    const admin = (await t.ctx.apiKeys.create({ projectId: t.project.id, scopes: ['admin'] })).secret;
    expectStatus(await call(t, 'GET', '/api/projects/shop/audit/export', { key: admin }), 403);
  });
});

describe('projects', () => {
  let t: TestApp;
  let admin: Client;
  let bob: Client;
  before(async () => {
    t = await startTestApp({ config: FAST });
    await newUser(t, 'admin@example.com', 'owner', { isAdmin: true });
    await newUser(t, 'bob@example.com', 'viewer');
    admin = await signIn(t, 'admin@example.com');
    bob = await signIn(t, 'bob@example.com');
  });
  after(() => t.close());

  test('the instance admin creates a project and owns it; anyone else gets 403', async () => {
    const created = expectStatus(
      await call(t, 'POST', '/api/projects', { client: admin, body: { slug: 'blog', name: 'Blog', timeZone: 'Europe/Berlin' } }),
      201,
    );
    assert.equal(created.slug, 'blog');
    assert.equal(created.timeZone, 'Europe/Berlin');
    assert.equal(created.role, 'owner');
    expectStatus(await call(t, 'POST', '/api/projects', { client: admin, body: { slug: 'blog' } }), 409);
    expectStatus(await call(t, 'POST', '/api/projects', { client: admin, body: { slug: 'Bad Slug' } }), 400);
    expectStatus(await call(t, 'POST', '/api/projects', { client: bob, body: { slug: 'mine' } }), 403);
    const audit = expectStatus(await call(t, 'GET', '/api/projects/blog/audit', { client: admin }), 200);
    assert.deepEqual(
      audit.entries.map((e: any) => e.action),
      ['project.create'],
    );
  });

  test('a user lists only their projects, with their role; a key only its own', async () => {
    const forAdmin = expectStatus(await call(t, 'GET', '/api/projects', { client: admin }), 200);
    assert.deepEqual(
      forAdmin.projects.map((p: any) => [p.slug, p.role]),
      [
        ['blog', 'owner'],
        ['shop', 'owner'],
      ],
    );
    const forBob = expectStatus(await call(t, 'GET', '/api/projects', { client: bob }), 200);
    assert.deepEqual(
      forBob.projects.map((p: any) => [p.slug, p.role]),
      [['shop', 'viewer']],
    );
    const forKey = expectStatus(await call(t, 'GET', '/api/projects', { key: t.readKey }), 200);
    assert.deepEqual(
      forKey.projects.map((p: any) => [p.slug, p.role]),
      [['shop', 'viewer']],
    );
    expectStatus(await call(t, 'GET', '/api/projects/blog', { client: bob }), 404);
    assert.equal(expectStatus(await call(t, 'GET', '/api/projects/shop', { client: bob }), 200).role, 'viewer');
  });

  test('the owner renames a project and changes its time zone; a viewer cannot', async () => {
    expectStatus(await call(t, 'PATCH', '/api/projects/shop', { client: bob, body: { name: 'Mine' } }), 403);
    expectStatus(await call(t, 'PATCH', '/api/projects/shop', { client: admin, body: { timeZone: 'Mars/Olympus' } }), 400);
    expectStatus(await call(t, 'PATCH', '/api/projects/shop', { client: admin, body: {} }), 400);
    const patched = expectStatus(
      await call(t, 'PATCH', '/api/projects/shop', { client: admin, body: { name: 'The Shop', timeZone: 'America/New_York' } }),
      200,
    );
    assert.equal(patched.name, 'The Shop');
    assert.equal(patched.timeZone, 'America/New_York');
    const read = expectStatus(await call(t, 'GET', '/api/projects/shop', { client: bob }), 200);
    assert.equal(read.name, 'The Shop', 'the cache was refreshed');
    const [entry] = expectStatus(await call(t, 'GET', '/api/projects/shop/audit?action=project.update', { client: admin }), 200).entries;
    assert.deepEqual(entry.summary, {
      before: { name: 'Shop', timeZone: 'UTC' },
      after: { name: 'The Shop', timeZone: 'America/New_York' },
    });
  });

  test('the owner deletes a project: its metadata goes, its keys stop working, the deletion is audited at the instance level', async () => {
    const blog = await t.ctx.projects.getBySlug('blog');
    const key = (await t.ctx.apiKeys.create({ projectId: blog.id, scopes: ['read'] })).secret;
    expectStatus(await call(t, 'GET', '/api/projects/blog', { key }), 200);
    await t.ctx.memberships.grant(blog.id, (await t.ctx.users.findByEmail('bob@example.com'))!.id, 'viewer');
    expectStatus(await call(t, 'DELETE', '/api/projects/blog', { client: bob }), 403);

    expectStatus(await call(t, 'DELETE', '/api/projects/blog', { client: admin }), 204);
    expectStatus(await call(t, 'GET', '/api/projects/blog', { client: admin }), 404);
    expectStatus(await call(t, 'GET', '/api/projects/blog', { key }), 401);
    const left = expectStatus(await call(t, 'GET', '/api/projects', { client: admin }), 200);
    assert.deepEqual(
      left.projects.map((p: any) => p.slug),
      ['shop'],
    );
    assert.deepEqual(await t.ctx.memberships.list(blog.id), []);
    // the project's own entries go with it (test/integration/project-deletion.test.ts); its deletion stays, with no project
    assert.deepEqual(await t.ctx.audit.list(blog.id, { limit: 10 }), []);
    const deletion = await t.ctx.meta.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'project.delete')
      .where('target_id', '=', String(blog.id))
      .executeTakeFirstOrThrow();
    assert.equal(deletion.project_id, null);
    assert.deepEqual(JSON.parse(deletion.summary).before, { slug: 'blog', name: 'Blog', timeZone: 'Europe/Berlin' });
  });
});
