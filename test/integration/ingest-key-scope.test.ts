/** The public ingest key (it ships in web pages) sends events and nothing else: every /api route answers it 403. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { basic, postJson, startTestApp, type TestApp } from '../helpers/app.js';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

describe('an ingest key', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  test('gets 403 from every /api route of the OpenAPI document, public ones included', async () => {
    const doc = t.app.swagger() as { paths: Record<string, Record<string, unknown>> };
    const tried: string[] = [];
    const wrong: string[] = [];
    for (const [path, operations] of Object.entries(doc.paths)) {
      if (!path.startsWith('/api/')) continue;
      const url = path.replace('{slug}', 'shop').replace(/\{[^}]+\}/g, '1');
      for (const method of METHODS.filter((m) => m in operations)) {
        const res = await fetch(`${t.url}${url}`, {
          method: method.toUpperCase(),
          headers: {
            authorization: `Bearer ${t.writeKey}`,
            ...(method !== 'get' && method !== 'delete' && { 'content-type': 'application/json' }),
          },
          body: method === 'get' || method === 'delete' ? undefined : '{}',
        });
        const body = (await res.json()) as { error?: { message?: string } };
        tried.push(`${method} ${path}`);
        if (res.status !== 403 || !/ingest key only sends events/.test(body.error?.message ?? ''))
          wrong.push(`${method.toUpperCase()} ${path}: ${res.status} ${JSON.stringify(body).slice(0, 120)}`);
      }
    }
    assert.ok(tried.length > 60, `only ${tried.length} routes in the document`);
    assert.ok(tried.includes('get /api/projects'));
    assert.deepEqual(wrong, []);
  });

  test('still sends events', async () => {
    const res = await postJson(`${t.url}/v1/track`, { userId: 'u1', event: 'Signed Up' }, basic(t.writeKey));
    assert.equal(res.status, 200, JSON.stringify(res.body));
  });
});
