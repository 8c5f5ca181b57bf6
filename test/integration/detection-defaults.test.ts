/** A project's detection defaults over HTTP: read, replaced, read back; bad values are a 400 naming the field in plain words. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { resolveDetection } from '../../src/signals/settings.js';

describe('project detection defaults', () => {
  let t: TestApp;
  let ownerKey: string;
  const call = async (method: string, body?: unknown, key = ownerKey) => {
    const res = await fetch(`${t.url}/api/projects/shop/detection`, { method, headers: { authorization: `Bearer ${key}`, ...(body !== undefined && { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as any };
  };

  before(async () => {
    t = await startTestApp();
    ownerKey = (await t.ctx.apiKeys.create({ projectId: t.project.id, scopes: ['admin'] })).secret;
  });
  after(() => t?.close());

  test('a new project has none of its own: the detector\'s defaults apply', async () => {
    assert.deepEqual((await call('GET')).body, { settings: {}, defaults: { enabled: true, sensitivity: 'medium', minExpected: 50, settlingMinutes: 120 } });
  });

  test('saved values come back, and detection uses them for metrics without their own', async () => {
    const saved = await call('PUT', { sensitivity: 'high', minExpected: 200, settlingMinutes: 30 });
    assert.equal(saved.status, 200, JSON.stringify(saved.body));
    assert.deepEqual((await call('GET')).body.settings, { sensitivity: 'high', minExpected: 200, settlingMinutes: 30 });
    const resolved = resolveDetection({}, await t.ctx.signals.projectDetection(t.project.id));
    assert.deepEqual([resolved.threshold, resolved.minExpected, resolved.settlingMinutes], [3, 200, 30]);

    // a custom |z|, and a field left out goes back to the default
    await call('PUT', { sensitivity: 4.5, enabled: false });
    assert.deepEqual((await call('GET')).body.settings, { sensitivity: 4.5, enabled: false });
    const [entry] = await t.ctx.audit.list(t.project.id, { action: 'project.detection', limit: 1 });
    assert.deepEqual(entry.summary.after, { sensitivity: 4.5, enabled: false });
  });

  test('bad values are a 400 that names the field and says what it accepts; nothing is saved', async () => {
    const before = (await call('GET')).body.settings;
    const cases: [unknown, string, RegExp][] = [
      [{ minExpected: -1 }, 'minExpected', /0|at least/],
      [{ settlingMinutes: 100_000 }, 'settlingMinutes', /10080|at most/],
      [{ settlingMinutes: 1.5 }, 'settlingMinutes', /whole number/],
      [{ sensitivity: 'extreme' }, 'sensitivity', /low|medium|high/],
      [{ sensitivity: 50 }, 'sensitivity', /20|low/],
      [{ sensitivty: 'high' }, 'sensitivty', /.+/],
    ];
    for (const [body, field, message] of cases) {
      const r = await call('PUT', body);
      assert.equal(r.status, 400, `${JSON.stringify(body)} → ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.details.field, field, JSON.stringify(r.body));
      assert.match(r.body.error.message, message);
      assert.doesNotMatch(r.body.error.message, /body\/|must be equal to constant/);
    }
    assert.deepEqual((await call('GET')).body.settings, before);
  });

  test('a read key reads them but cannot change them', async () => {
    assert.equal((await call('GET', undefined, t.readKey)).status, 200);
    assert.equal((await call('PUT', { sensitivity: 'low' }, t.readKey)).status, 403);
  });
});
