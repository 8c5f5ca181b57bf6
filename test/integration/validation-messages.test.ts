/**
 * A request that fails its schema gets a 400 whose message says, in plain words, which field is
 * wrong and what it accepts (not the validator's `body/name must match pattern "^[a-z]..."`), and
 * whose details name the field so a form can show the message beside it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, postJson, type TestApp } from '../helpers/app.js';

describe('validation messages', () => {
  let t: TestApp;
  let admin: Record<string, string>;
  before(async () => {
    t = await startTestApp();
    // keys are managed by a signed-in owner: sign one in and send the cookie and CSRF token
    const user = await t.ctx.users.create({ email: 'owner@example.com', password: 'correct horse battery', name: 'Owner', isAdmin: true });
    await t.ctx.memberships.grant(t.project.id, user.id, 'owner');
    const signIn = await postJson(`${t.url}/api/auth/sign-in`, { email: 'owner@example.com', password: 'correct horse battery' });
    const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0];
    admin = { cookie, 'x-csrf-token': signIn.body.csrfToken };
  });
  after(() => t.close());

  const expect400 = async (path: string, body: unknown, field: string, message: RegExp, method = 'POST') => {
    const r =
      method === 'POST'
        ? await postJson(`${t.url}${path}`, body, admin)
        : await fetch(`${t.url}${path}`, { headers: admin }).then(async (res) => ({ status: res.status, body: (await res.json()) as any }));
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.equal(r.body.error.code, 'VIGIL_ERR_BAD_REQUEST');
    assert.equal(r.body.error.details.field, field);
    assert.match(r.body.error.message, message);
    assert.doesNotMatch(r.body.error.message, /must match pattern|must be equal to|body\/|querystring\//, "the validator's own words");
  };

  const metric = { name: 'orders', kind: 'event', definition: { event: 'Order Completed' }, interval: '1h' };

  test('a pattern says what it accepts', async () => {
    await expect400(
      '/api/projects/shop/metrics',
      { ...metric, name: 'Orders!' },
      'name',
      /^name: lowercase letters, digits, _ \. -, starting with a letter/,
    );
  });

  test('a choice among constants lists them, once', async () => {
    const r = await postJson(`${t.url}/api/projects/shop/keys`, { name: 'ci', scopes: ['everything'] }, admin);
    assert.equal(r.status, 400);
    assert.equal(r.body.error.message, 'scopes.0: must be one of: ingest, read, write, admin');
    assert.equal(r.body.error.details.field, 'scopes.0');
  });

  test('a missing field, an unknown field and a wrong type are named', async () => {
    await expect400(
      '/api/projects/shop/keys',
      { name: 'ci', scopes: ['read'], nmae: 'x' },
      'nmae',
      /^nmae: is not a field this request takes$/,
    );
    await expect400('/api/projects/shop/keys', { name: 'ci', scopes: 'read' }, 'scopes', /^scopes: must be a list$/);
    await expect400(
      '/api/projects/shop/metrics',
      { name: 'orders', definition: { event: 'Order Completed' } },
      'kind',
      /^kind: is required$/,
    );
    await expect400(
      '/api/projects/shop/metrics',
      { ...metric, kind: 'count' },
      'kind',
      /^kind: must be one of: event, ratio, per_user, aggregation, sql, gauge$/,
    );
  });

  test('a bounded number says its range', async () => {
    await expect400('/api/projects/shop/events?limit=0', undefined, 'limit', /^limit: must be a whole number from 1 to \d+$/, 'GET');
    await expect400('/api/projects/shop/events?limit=abc', undefined, 'limit', /^limit: must be a whole number/, 'GET');
  });
});
