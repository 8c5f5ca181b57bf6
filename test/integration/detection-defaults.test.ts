/**
 * Detection settings over HTTP: a project's defaults read, replaced, read back; bad values are a
 * 400 naming the field in plain words. The settling time per metric and per project, and its
 * derived defaults: 0 for pushed measurements, the observed p99 lateness of events for the rest.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { resolveDetection } from '../../src/signals/settings.js';
import { observedSettling } from '../../src/signals/lateness.js';
import { postJson } from '../helpers/app.js';

describe('project detection defaults', () => {
  let t: TestApp;
  let ownerKey: string;
  const call = async (method: string, body?: unknown, key = ownerKey) => {
    const res = await fetch(`${t.url}/api/projects/shop/detection`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  before(async () => {
    t = await startTestApp();
    ownerKey = (await t.ctx.apiKeys.create({ projectId: t.project.id, scopes: ['admin'] })).secret;
  });
  after(() => t?.close());

  test("a new project has none of its own: the detector's defaults apply", async () => {
    assert.deepEqual((await call('GET')).body, {
      settings: {},
      defaults: { enabled: true, sensitivity: 'medium', minExpected: 10, settlingMinutes: 120 },
      // no events yet: lateness cannot be observed, so the fixed 2 hours; pushed measurements 0
      effective: { events: { minutes: 120, source: 'default' }, pushed: { minutes: 0, source: 'pushed' } },
    });
  });

  test('the observed lateness: p99 of received − event time in whole minutes, 0 to 120', () => {
    assert.deepEqual(observedSettling({ events: 1000, p99Ms: 61_000 }), { minutes: 2, source: 'observed' });
    assert.deepEqual(observedSettling({ events: 1000, p99Ms: -5_000 }), { minutes: 0, source: 'observed' });
    assert.deepEqual(observedSettling({ events: 1000, p99Ms: 30 * 86_400_000 }), { minutes: 120, source: 'observed' });
    assert.deepEqual(observedSettling({ events: 10, p99Ms: 1000 }), { minutes: 120, source: 'default' }, 'too few events to say');
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

  test("events arriving about 3 minutes late give a settling time of 3 to 4 minutes; pushed measurements 0; a metric's own wins", async () => {
    await call('PUT', {});
    const now = Date.now();
    const batch = Array.from({ length: 300 }, (_, i) => ({
      type: 'track',
      event: 'Late',
      userId: `u${i}`,
      timestamp: new Date(now - 60_000 - (i % 120) * 1000).toISOString(),
    }));
    const sent = await postJson(`${t.url}/v1/batch`, { batch }, { authorization: `Bearer ${t.writeKey}` });
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    await t.ctx.flush();
    const lateness = await t.ctx.events.lateness({ projectId: t.project.id, sinceMs: now - 86_400_000 });
    assert.equal(lateness.events, 300);
    assert.ok(lateness.p99Ms! >= 170_000 && lateness.p99Ms! < 240_000, `p99 ${lateness.p99Ms} ms`);
    // the figure is cached a few minutes (the first GET measured it before these events)
    t.ctx.signals.forgetLateness(t.project.id);
    const effective = (await call('GET')).body.effective;
    assert.equal(effective.events.source, 'observed');
    assert.ok([3, 4].includes(effective.events.minutes), JSON.stringify(effective));
    assert.deepEqual(effective.pushed, { minutes: 0, source: 'pushed' });

    const metric = async (body: object) => {
      const r = await postJson(`${t.url}/api/projects/shop/metrics`, body, { authorization: `Bearer ${ownerKey}` });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return (await fetch(`${t.url}/api/projects/shop/metrics/${r.body.id}/detection`, {
        headers: { authorization: `Bearer ${t.readKey}` },
      }).then((x) => x.json())) as any;
    };
    const own = await metric({ name: 'late_own', kind: 'event', definition: { event: 'Late' }, detection: { settlingMinutes: 15 } });
    assert.deepEqual(own.effective.settling, { minutes: 15, source: 'metric' });
    const observed = await metric({ name: 'late_observed', kind: 'event', definition: { event: 'Late' } });
    assert.equal(observed.effective.settling.source, 'observed');
    const gauge = await metric({
      name: 'api_latency',
      kind: 'gauge',
      interval: '5m',
      definition: { service: 'api', metric: 'latency_ms', aggregate: 'avg' },
    });
    assert.deepEqual(gauge.effective.settling, { minutes: 0, source: 'pushed' });
    // the project's default applies to both kinds, under a metric's own
    await call('PUT', { settlingMinutes: 30 });
    const again = (await fetch(
      `${t.url}/api/projects/shop/metrics/${(await t.ctx.catalog.byName(t.project, 'api_latency')).id}/detection`,
      { headers: { authorization: `Bearer ${t.readKey}` } },
    ).then((x) => x.json())) as any;
    assert.deepEqual(again.effective.settling, { minutes: 30, source: 'project' });
    assert.deepEqual((await call('GET')).body.effective.events, { minutes: 30, source: 'project' });

    const bad = await postJson(
      `${t.url}/api/projects/shop/metrics`,
      { name: 'bad_settling', kind: 'event', definition: { event: 'Late' }, detection: { settlingMinutes: 20_000 } },
      { authorization: `Bearer ${ownerKey}` },
    );
    assert.equal(bad.status, 400, JSON.stringify(bad.body));
    assert.match(bad.body.error.message, /settlingMinutes/);
    assert.match(bad.body.error.message, /10080|at most/);
    await call('PUT', {});
  });

  test('a read key reads them but cannot change them', async () => {
    assert.equal((await call('GET', undefined, t.readKey)).status, 200);
    assert.equal((await call('PUT', { sensitivity: 'low' }, t.readKey)).status, 403);
  });
});
