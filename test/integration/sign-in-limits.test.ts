/** Abuse limits on sign-in: an (email, address) pair locks after 5 failures for 15 minutes; an address is rate-limited. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { postJson, startTestApp, type TestApp } from '../helpers/app.js';
import { LOCKOUT_FAILURES, LOCKOUT_MS } from '../../src/auth/users.js';

const PASSWORD = 'correct horse battery staple';

describe('sign-in limits', () => {
  let t: TestApp;
  let clock = Date.now();
  before(async () => {
    t = await startTestApp({ config: { signinRateLimit: 1000, trustProxy: 'true' }, now: () => clock });
    await t.ctx.users.create({ email: 'ada@example.com', password: PASSWORD });
    await t.ctx.users.create({ email: 'bob@example.com', password: PASSWORD });
  });
  after(() => t.close());
  const signIn = (email: string, password: string, ip = '203.0.113.1') =>
    postJson(`${t.url}/api/auth/sign-in`, { email, password }, { 'x-forwarded-for': ip });

  test('five wrong passwords from one address lock that email there for 15 minutes: 429 with Retry-After, even with the right password', async () => {
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
    clock += LOCKOUT_MS;
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

  test('failures from one address do not lock the owner out from another', async () => {
    await t.ctx.users.create({ email: 'owner@example.com', password: PASSWORD });
    for (let i = 0; i < 3 * LOCKOUT_FAILURES; i++) await signIn('owner@example.com', `attacker guess ${i}`, '198.51.100.66');
    assert.equal((await signIn('owner@example.com', PASSWORD, '198.51.100.66')).status, 429, 'the attacking address is locked');
    const owner = await signIn('owner@example.com', PASSWORD, '192.0.2.10');
    assert.equal(owner.status, 200, JSON.stringify(owner.body));
  });

  test('an unknown email and a wrong password answer alike at every step, the lock included', async () => {
    const steps = async (email: string) => {
      const answers: string[] = [];
      for (let i = 0; i <= LOCKOUT_FAILURES; i++) {
        const r = await signIn(email, `guess number ${i}`, '203.0.113.99');
        answers.push(`${r.status} ${r.body.error.code} ${r.body.error.message} ${r.headers.get('retry-after')}`);
      }
      return answers;
    };
    await t.ctx.users.create({ email: 'carol@example.com', password: PASSWORD });
    const known = await steps('carol@example.com');
    const unknown = await steps('nobody-at-all@example.com');
    assert.deepEqual(unknown, known);
    assert.match(known[LOCKOUT_FAILURES - 1], /^429 /);
  });
});

describe('sign-in rate limit per address', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ config: { signinRateLimit: 3, trustProxy: 'true' } });
    await t.ctx.users.create({ email: 'ada@example.com', password: PASSWORD });
  });
  after(() => t.close());
  const signIn = (ip: string) =>
    postJson(`${t.url}/api/auth/sign-in`, { email: 'ada@example.com', password: PASSWORD }, { 'x-forwarded-for': ip });

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
