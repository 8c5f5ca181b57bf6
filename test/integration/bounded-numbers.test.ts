/**
 * Every number a request carries is bounded: each integer or number in the OpenAPI document's
 * parameters and request bodies declares a minimum and a maximum, and a non-finite value
 * (Infinity, 1e999, -1e999, NaN) is a 400 naming the field, never a 500.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { send, startTestApp, type TestApp } from '../helpers/app.js';

type Schema = Record<string, unknown>;

/** Every integer or number schema under `node` lacking a minimum or a maximum, with where it is. */
function unbounded(node: unknown, where: string): string[] {
  if (typeof node !== 'object' || node === null) return [];
  if (Array.isArray(node)) return node.flatMap((n, i) => unbounded(n, `${where}[${i}]`));
  const s = node as Schema;
  const types = [s.type].flat();
  const own =
    (types.includes('integer') || types.includes('number')) && (typeof s.minimum !== 'number' || typeof s.maximum !== 'number')
      ? [`${where}: ${JSON.stringify(s)}`]
      : [];
  return [...own, ...Object.entries(s).flatMap(([k, v]) => unbounded(v, `${where}.${k}`))];
}

const ROUTES = ['events', 'top-events', 'signals', 'incidents', 'alert-deliveries', 'audit', 'tracking-plan', 'incidents/stats'];
const HOSTILE = ['Infinity', '1e999', '-1e999', 'NaN'];

describe('bounded numbers', () => {
  let t: TestApp;
  let owner: Record<string, string>;
  before(async () => {
    t = await startTestApp();
    const user = await t.ctx.users.create({ email: 'owner@example.com', password: 'correct horse battery staple' });
    await t.ctx.memberships.grant(t.project.id, user.id, 'owner');
    const { token } = await t.ctx.sessions.create(user.id);
    owner = { cookie: `vigil_session=${token}` };
  });
  after(() => t.close());

  const doc = () =>
    t.app.swagger() as {
      paths: Record<string, Record<string, { parameters?: Array<{ in: string; name: string; schema: Schema }>; requestBody?: unknown }>>;
    };

  test('every integer and number parameter and body field of every route has a minimum and a maximum', () => {
    const found: string[] = [];
    let numbers = 0;
    for (const [path, operations] of Object.entries(doc().paths)) {
      for (const [method, op] of Object.entries(operations)) {
        for (const p of op.parameters ?? []) {
          if (['integer', 'number'].includes(String(p.schema?.type))) numbers++;
          found.push(...unbounded(p.schema, `${method.toUpperCase()} ${path} ${p.in} ${p.name}`));
        }
        found.push(...unbounded(op.requestBody, `${method.toUpperCase()} ${path} body`));
      }
    }
    assert.ok(numbers > 40, `only ${numbers} numeric parameters: is the document complete?`);
    assert.deepEqual(found, []);
  });

  test('Infinity, 1e999, -1e999 and NaN in limit and days are a 400 naming the parameter on the eight list routes', async () => {
    const wrong: string[] = [];
    let tried = 0;
    for (const route of ROUTES) {
      const params = doc().paths[`/api/projects/{slug}/${route}`].get.parameters ?? [];
      const numeric = params.filter((p) => p.in === 'query' && ['limit', 'days'].includes(p.name)).map((p) => p.name);
      assert.ok(numeric.length, `${route} takes limit or days`);
      for (const name of numeric) {
        for (const value of HOSTILE) {
          tried++;
          const res = await fetch(`${t.url}/api/projects/shop/${route}?${name}=${value}`, { headers: owner });
          const body = (await res.json()) as { error?: { message: string; details?: { field?: string } } };
          if (res.status !== 400 || body.error?.details?.field !== name || !body.error.message.startsWith(`${name}:`)) {
            wrong.push(`${route}?${name}=${value}: ${res.status} ${JSON.stringify(body).slice(0, 160)}`);
          }
        }
      }
    }
    assert.ok(tried >= 32, `${tried} requests`);
    assert.deepEqual(wrong, []);
  });

  test('the message gives the bounds, and a body field of 1e999 is refused too', async () => {
    const res = await fetch(`${t.url}/api/projects/shop/incidents?limit=Infinity`, { headers: owner });
    assert.equal(((await res.json()) as any).error.message, 'limit: must be a whole number from 1 to 500 (got Infinity)');
    const big = await fetch(`${t.url}/api/projects/shop/metrics/99999999999`, { headers: owner });
    assert.equal(big.status, 400, 'an id past the integer column is refused before the query');
    const auth = {
      authorization: `Bearer ${(await t.ctx.apiKeys.create({ projectId: t.project.id, scopes: ['write'] })).secret}`,
      'content-type': 'application/json',
    };
    const simulate = await send(`${t.url}/api/projects/shop/alert-rules/simulate`, '{"days": 1e999}', auth);
    assert.equal(simulate.status, 400);
    assert.equal(simulate.body.error.details.field, 'days');
    const nested = await send(
      `${t.url}/api/projects/shop/alert-destinations`,
      '{"name": "n", "kind": "webhook", "config": {"url": "https://example.com", "retries": -1e999}}',
      auth,
    );
    assert.equal(nested.status, 400, JSON.stringify(nested.body));
    assert.equal(nested.body.error.details.field, 'config.retries');
    assert.match(nested.body.error.message, /config\.retries: must be a finite number/);
  });
});
