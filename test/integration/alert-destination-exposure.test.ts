/**
 * What the API lets people see of a destination and its receiver: custom header values are
 * secrets (masked, still sent), and "send test" shows only a status and a short, clean excerpt.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { encryptSecrets } from '../../src/alerts/secrets.js';

const SECRET = 'whsec_exposure-secret-0123456789';
const TOKEN = 'Bearer header-token-that-must-stay-secret';

describe('alert destinations: what the API exposes', () => {
  let t: TestApp;
  let editorKey: string;
  let r: Receiver;
  before(async () => {
    t = await startTestApp({ config: { alertsAllowPrivateUrls: 'true' } });
    editorKey = (await t.ctx.apiKeys.create({ projectId: t.project.id, scopes: ['write'] })).secret;
    r = await startReceiver({ status: 200, body: 'ok' });
  });
  after(async () => {
    await r.close();
    await t.close();
  });

  const api = async (method: string, path: string, body?: unknown, key = editorKey) => {
    const res = await fetch(`${t.url}/api/projects/shop/${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as any, text };
  };
  const storedRow = (id: number) =>
    t.ctx.meta.db.selectFrom('alert_destinations').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const lastAuthorization = () => r.requests[r.requests.length - 1].headers.authorization;

  test('custom header values are stored encrypted, masked for every reader, and still sent', async () => {
    const created = await api('POST', 'alert-destinations', {
      name: 'with auth',
      kind: 'webhook',
      config: { url: `${r.url}/h`, headers: { Authorization: TOKEN, 'X-Team': 'growth' } },
      secrets: { secret: SECRET },
    });
    assert.equal(created.status, 201, created.text);
    const id = created.body.id;
    assert.deepEqual(Object.keys(created.body.config.headers).sort(), ['Authorization', 'X-Team']);
    assert.deepEqual(created.body.secrets, { secret: 'set' });
    const seen = [
      created.text,
      (await api('GET', 'alert-destinations', undefined, t.readKey)).text,
      (
        await api(
          'GET',
          `alert-destinations/${id}`,
          undefined,
          (
            await t.ctx.apiKeys.create({ projectId: t.project.id, scopes: ['read'] })
          ).secret,
        )
      ).text,
      JSON.stringify(await storedRow(id)),
      JSON.stringify(await t.ctx.meta.db.selectFrom('audit_log').selectAll().execute()),
    ];
    for (const text of seen) assert.ok(!text.includes('header-token'), `header value leaked: ${text.slice(0, 300)}`);

    assert.equal((await api('POST', `alert-destinations/${id}/test`)).body.ok, true);
    assert.equal(lastAuthorization(), TOKEN);
    assert.equal(r.requests[r.requests.length - 1].headers['x-team'], 'growth');

    // a form sends back what it was shown: the masked value keeps the stored one
    const patched = await api('PATCH', `alert-destinations/${id}`, { name: 'with auth 2', config: created.body.config });
    assert.equal(patched.status, 200, patched.text);
    await api('POST', `alert-destinations/${id}/test`);
    assert.equal(lastAuthorization(), TOKEN);
    const replaced = await api('PATCH', `alert-destinations/${id}`, {
      config: { url: `${r.url}/h`, headers: { Authorization: 'Bearer another' } },
    });
    assert.equal(replaced.status, 200, replaced.text);
    await api('POST', `alert-destinations/${id}/test`);
    assert.equal(lastAuthorization(), 'Bearer another');
    const unknownMask = await api('PATCH', `alert-destinations/${id}`, {
      config: { url: `${r.url}/h`, headers: { 'X-New': created.body.config.headers.Authorization } },
    });
    assert.equal(unknownMask.status, 400);
    assert.equal(unknownMask.body.error.details.field, 'config.headers.X-New');
  });

  test('headers an older version stored in the clear are moved into the secrets when first read, and still sent', async () => {
    const now = Date.now();
    const row = await t.ctx.meta.db
      .insertInto('alert_destinations')
      .values({
        project_id: t.project.id,
        name: 'legacy',
        kind: 'webhook',
        config: JSON.stringify({ url: `${r.url}/legacy`, headers: { Authorization: TOKEN } }),
        secrets: encryptSecrets({ secret: SECRET }, t.ctx.config.secretKey),
        created_at: now,
        updated_at: now,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const list = await api('GET', 'alert-destinations', undefined, t.readKey);
    assert.ok(!list.text.includes('header-token'), list.text);
    const shown = list.body.destinations.find((d: any) => d.id === Number(row.id));
    assert.deepEqual(Object.keys(shown.config.headers), ['Authorization']);
    assert.ok(!(await storedRow(Number(row.id))).config.includes('header-token'), 'moved out of the plain settings');
    assert.equal((await api('POST', `alert-destinations/${row.id}/test`)).body.ok, true);
    assert.equal(lastAuthorization(), TOKEN);
  });

  test('send test shows the status and a short excerpt of printable text, never the whole answer or its markup', async () => {
    const page =
      `<!doctype html><html><head><style>body{color:red}</style><script>var leaked = "script body";</script></head>` +
      `<body><h1>Internal dashboard</h1>\u0007\u202e<p>${'row of private data '.repeat(200)}</p></body></html>`;
    r.respond({ status: 500, body: page, headers: { 'content-type': 'text/html' } });
    const id = (
      await api('POST', 'alert-destinations', {
        name: 'html',
        kind: 'webhook',
        config: { url: `${r.url}/page` },
        secrets: { secret: SECRET },
      })
    ).body.id;
    const shown = await api('POST', `alert-destinations/${id}/test`);
    assert.equal(shown.status, 200, shown.text);
    assert.equal(shown.body.status, 500);
    for (const field of ['body', 'error'] as const) {
      const text: string = shown.body[field];
      assert.ok(text.length <= 200, `${field} has ${text.length} characters`);
      assert.doesNotMatch(text, /[<>]|script body|color:red|[\u0000-\u001f\u202e]/, `${field}: ${text}`);
    }
    assert.match(shown.body.body, /^Internal dashboard row of private data/);
    assert.match(shown.body.error, /^HTTP 500: Internal dashboard/);
    r.respond({ status: 200, body: 'ok' });
  });
});
