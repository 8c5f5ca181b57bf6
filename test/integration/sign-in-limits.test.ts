/** Abuse limits on sign-in: an account locks after 5 failures for 15 minutes; an address is rate-limited. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { postJson, startTestApp, type TestApp } from '../helpers/app.js';
import { LOCKOUT_FAILURES } from '../../src/auth/users.js';

const PASSWORD = 'correct horse battery staple';

describe('sign-in limits', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ config: { signinRateLimit: 1000 } });
    await t.ctx.users.create({ email: 'ada@example.com', password: PASSWORD });
    await t.ctx.users.create({ email: 'bob@example.com', password: PASSWORD });
  });
  after(() => t.close());
  const signIn = (email: string, password: string, ip = '203.0.113.1') => postJson(`${t.url}/api/auth/sign-in`, { email, password }, { 'x-forwarded-for': ip });

  test('five wrong passwords lock the account for 15 minutes: 429 with Retry-After, even with the right password', async () => {
    for (let i = 1; i < LOCKOUT_FAILURES; i++) {
      const r = await signIn('ada@example.com', 'wrong password number ' + i);
      assert.equal(r.status, 401);
      assert.equal(r.body.error.message, 'the email or the password is wrong');
    }
    const fifth = await signIn('ada@example.com', 'wrong again, the fifth');
    assert.equal(fifth.status, 429);
    const right = await signIn('ada@example.com', PASSWORD);
    assert.equal(right.status, 429, 'locked: the right password does not help');
    assert.equal(right.body.error.code, 'VIGIL_ERR_RATE_LIMITED');
    const wait = Number(right.headers.get('retry-after'));
    assert.ok(wait > 14 * 60 && wait <= 15 * 60, `Retry-After ${wait}`);
    assert.match(right.body.error.message, /locked for 15 more minute/);
    // another account is not affected
    assert.equal((await signIn('bob@example.com', PASSWORD)).status, 200);
  });

  test('the lock ends after 15 minutes, and a success resets the failure count', async () => {
    await t.ctx.meta.db.updateTable('users').set({ locked_until: Date.now() - 1 }).where('email', '=', 'ada@example.com').execute();
    assert.equal((await signIn('ada@example.com', PASSWORD)).status, 200);
    for (let i = 1; i < LOCKOUT_FAILURES; i++) assert.equal((await signIn('ada@example.com', 'nope nope nope ' + i)).status, 401);
    assert.equal((await signIn('ada@example.com', PASSWORD)).status, 200, 'four failures then a success: not locked');
    assert.equal((await signIn('ada@example.com', 'one more failure')).status, 401, 'the count started again');
  });

  test('an unknown email gets the same answer as a wrong password', async () => {
    const r = await signIn('nobody@example.com', PASSWORD);
    assert.equal(r.status, 401);
    assert.equal(r.body.error.message, 'the email or the password is wrong');
  });
});

describe('sign-in rate limit per address', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ config: { signinRateLimit: 3, trustProxy: 'true' } });
    await t.ctx.users.create({ email: 'ada@example.com', password: PASSWORD });
  });
  after(() => t.close());
  const signIn = (ip: string) => postJson(`${t.url}/api/auth/sign-in`, { email: 'ada@example.com', password: PASSWORD }, { 'x-forwarded-for': ip });

  test('more attempts a minute than VIGIL_SIGNIN_RATE_LIMIT from one address: 429 with Retry-After; other addresses go on', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await signIn('198.51.100.7')).status, 200);
    const limited = await signIn('198.51.100.7');
    assert.equal(limited.status, 429);
    assert.equal(limited.body.error.code, 'VIGIL_ERR_RATE_LIMITED');
    const wait = Number(limited.headers.get('retry-after'));
    assert.ok(wait >= 1 && wait <= 60, `Retry-After ${wait}`);
    assert.equal((await signIn('198.51.100.8')).status, 200);
  });
});
