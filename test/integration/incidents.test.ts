/**
 * Incidents from signals, against the real app: one incident per scope across many buckets,
 * related signals grouped into one incident (by definition, and by series that moved together),
 * the lifecycle and its 409s, auto-resolve after 3 healthy buckets, a new incident after resolve,
 * false positives that raise a metric's threshold and their undo, comments, assignment, the
 * timeline, bulk actions all or nothing, and the alerts hook inside each change's transaction.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { HOUR, awayFromHourEnd, ingestHourly, random, runJobs } from '../helpers/hourly-events.js';
import type { SignalInput } from '../../src/signals/store.js';
import type { Coverage } from '../../src/signals/service.js';
import type { IncidentChange } from '../../src/incidents/types.js';
import { IncidentService } from '../../src/incidents/service.js';
import type { MetaDb } from '../../src/meta-db.js';

const DAY = 24 * HOUR;

function drop(metricId: number, bucket: number, over: Partial<SignalInput> = {}): SignalInput {
  return {
    scope: 'metric',
    scopeKey: `metric:${metricId}`,
    metricId,
    bucket,
    endBucket: bucket,
    kind: 'drop',
    direction: 'down',
    value: 75,
    expected: 100,
    lower: 85,
    upper: 115,
    z: -5,
    score: 0.55,
    severity: 'warning',
    details: { interval: '1h', threshold: 4 },
    ...over,
  };
}

function eventDrop(event: string, bucket: number, over: Partial<SignalInput> = {}): SignalInput {
  return {
    ...drop(0, bucket),
    scope: 'event',
    scopeKey: `event:${event}`,
    metricId: null,
    details: { event, interval: '1h', threshold: 4 },
    ...over,
  };
}

describe('incidents', () => {
  let t: TestApp;
  let editorKey: string;
  let base: number;
  let seq = 0;
  const changes: IncidentChange[] = [];
  let hook: (tx: MetaDb, change: IncidentChange) => Promise<void> = async () => undefined;

  const api = async (method: string, path: string, body?: unknown, key = editorKey) => {
    const res = await fetch(`${t.url}/api/projects/shop/${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as any };
  };
  const emit = (signals: SignalInput[], covered: Coverage[] = []) => t.ctx.signals.upsert(t.project.id, signals, covered);
  const metric = async (definition: object = { event: `E${++seq}` }, kind = 'event', detection?: object) =>
    (
      await t.ctx.catalog.create(t.project, {
        name: `m${++seq}`,
        kind: kind as 'event',
        status: 'draft',
        definition,
        ...(detection && { detection }),
      } as never)
    ).id;
  const incidentsOf = async (query: string) => {
    const r = await api('GET', `incidents?limit=500&${query}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.incidents as Record<string, any>[];
  };
  const detail = async (id: number) => {
    const r = await api('GET', `incidents/${id}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body as { incident: Record<string, any>; signals: Record<string, any>[]; timeline: Record<string, any>[] };
  };
  /** a fresh open incident on a new metric */
  const openIncident = async (over: Partial<SignalInput> = {}) => {
    const m = await metric();
    await emit([drop(m, base, over)]);
    const [i] = await incidentsOf(`metric=${m}`);
    return i;
  };

  before(async () => {
    t = await startTestApp();
    editorKey = (await t.ctx.apiKeys.create({ projectId: t.project.id, scopes: ['write'] })).secret;
    base = Math.floor(Date.now() / HOUR) * HOUR - 200 * HOUR;
    // the alerts domain's hook, recorded (and, for one test, made to fail)
    t.ctx.alerts.onIncidentChange = async (tx, change) => {
      await hook(tx, change);
      changes.push(change);
    };
  });
  after(() => t.close());

  test('one incident per scope and direction across many buckets; a grown signal only extends it', async () => {
    const m = await metric();
    const before = changes.length;
    await emit([drop(m, base)]);
    await emit([drop(m, base + HOUR)]);
    await emit([drop(m, base + 2 * HOUR), drop(m, base + 3 * HOUR, { kind: 'spike', direction: 'up', value: 130, z: 5 })]);
    const incidents = await incidentsOf(`metric=${m}`);
    assert.equal(incidents.length, 2, 'one for the drops, one for the spike');
    const down = incidents.find((i) => i.direction === 'down')!;
    assert.equal(down.status, 'open');
    assert.equal(down.scopeKey, `metric:${m}`);
    assert.equal(down.startedBucket, new Date(base).toISOString());
    assert.equal(down.lastBucket, new Date(base + 2 * HOUR).toISOString());
    assert.match(down.title, /^m\d+ dropped 25% below expected$/);
    assert.equal(down.severity, 'warning');
    let d = await detail(down.id);
    assert.deepEqual(
      d.signals.map((s) => s.role),
      ['root', 'same_scope', 'same_scope'],
    );
    assert.deepEqual(
      d.timeline.map((e) => e.type),
      ['created', 'signal_added', 'signal_added'],
    );
    assert.deepEqual(
      changes.slice(before).map((c) => c.type),
      ['opened', 'signal_added', 'signal_added', 'opened'],
    );

    // the newest signal grows (same episode, a later end): the incident follows, without timeline noise
    await emit([drop(m, base + 2 * HOUR, { endBucket: base + 5 * HOUR })]);
    d = await detail(down.id);
    assert.equal(d.incident.lastBucket, new Date(base + 5 * HOUR).toISOString());
    assert.equal(d.signals.length, 3);
    assert.equal(d.timeline.length, 3);
    // ... and when it grows bigger, the severity escalates
    await emit([drop(m, base + 2 * HOUR, { endBucket: base + 5 * HOUR, value: 30, z: -9 })]);
    d = await detail(down.id);
    assert.equal(d.incident.severity, 'critical');
    assert.deepEqual(d.timeline.map((e) => e.type).slice(-1), ['severity']);
    assert.deepEqual(d.timeline.at(-1)!.data, { from: 'warning', to: 'critical', signalId: d.signals[2].signal.id });
    assert.equal(changes.at(-1)!.type, 'severity');

    // idempotent: the same signals again change nothing
    const n = changes.length;
    await t.ctx.incidents.onSignals(
      t.project.id,
      (await t.ctx.signals.list(t.project, { metricId: m, fromMs: 0, toMs: Date.now(), limit: 10 })).signals,
      [],
    );
    assert.equal(changes.length, n);
    assert.equal((await detail(down.id)).signals.length, 3);
  });

  test('two processes placing one scope at once open one incident (a unique index, then the loser joins it)', async () => {
    const m = await metric();
    // a second incident service on the same database, as another worker process would run it
    const other = new IncidentService({
      db: t.ctx.meta.db,
      dialect: t.ctx.meta.dialect,
      catalog: t.ctx.catalog,
      signals: t.ctx.signals,
      projects: t.ctx.projects,
      log: t.ctx.log,
      onChange: async () => undefined,
    });
    const [a, b] = (await t.ctx.signals.store.upsert(t.project.id, [drop(m, base), drop(m, base + 2 * HOUR)], Date.now())).written;
    await Promise.all([t.ctx.incidents.onSignals(t.project.id, [a], []), other.onSignals(t.project.id, [b], [])]);
    const open = await incidentsOf(`metric=${m}`);
    assert.equal(open.length, 1, JSON.stringify(open));
    assert.equal((await detail(open[0].id)).signals.length, 2, 'both signals are in it');
  });

  test('info signals open nothing', async () => {
    const before = changes.length;
    await emit([
      {
        ...eventDrop('Brand New', base),
        scope: 'schema',
        scopeKey: 'schema:Brand New:*:new_event',
        kind: 'new_event',
        direction: null,
        severity: 'info',
      },
    ]);
    assert.equal(changes.length, before);
    assert.deepEqual(await incidentsOf('scope=schema:*'), []);
  });

  test("an event's drop and the metrics built on it become one incident, rooted at the event (the cause); an unrelated metric gets its own", async () => {
    const b = base + 20 * HOUR;
    const conversion = await metric({ numerator: { event: 'Order Completed' }, denominator: { event: 'Checkout' } }, 'ratio');
    const checkouts = await metric({ event: 'Checkout', measure: 'users' });
    const signups = await metric({ event: 'Signed Up' });
    const before = changes.length;
    // the metric's detector runs first; the event volume's an hour later, for the same bucket
    await emit([drop(conversion, b, { value: 57, expected: 100 })]);
    await emit([drop(checkouts, b + HOUR), drop(signups, b)]);
    await emit([eventDrop('Checkout', b, { value: 40, expected: 100, kind: 'outage' })]);
    const grouped = await incidentsOf('scope=event:Checkout');
    assert.equal(grouped.length, 1);
    const d = await detail(grouped[0].id);
    assert.equal(d.incident.title, 'event Checkout volume outage');
    assert.equal(d.incident.severity, 'critical', 'escalated by the outage');
    assert.deepEqual(
      d.signals.map((s) => [s.role, s.signal.scopeKey]),
      [
        ['root', 'event:Checkout'],
        ['related', `metric:${conversion}`],
        ['related', `metric:${checkouts}`],
      ],
    );
    assert.equal(d.incident.rootSignalId, d.signals[0].signal.id);
    const joined = d.timeline.filter((e) => e.type === 'signal_added');
    assert.equal(joined.length, 2);
    assert.equal(joined[0].data.via, 'definition');
    assert.equal(joined[1].data.role, 'root');
    assert.equal(joined[1].data.previousRoot, d.signals[1].signal.id);
    assert.deepEqual(await incidentsOf(`metric=${conversion}`), [], 'the conversion has no incident of its own');
    assert.equal((await incidentsOf(`metric=${signups}`)).length, 1, 'signups are not related');
    assert.deepEqual(
      changes
        .slice(before)
        .filter((c) => c.type === 'opened')
        .map((c) => c.incident.scopeKey),
      [`metric:${conversion}`, `metric:${signups}`],
      'one opened per cause',
    );
    // outside the window (2 buckets, at least 2 h, after the last bucket) it opens its own
    await emit([drop(checkouts, b + 5 * HOUR)]);
    assert.equal((await incidentsOf(`metric=${checkouts}`)).length, 1);
  });

  test('lifecycle: acknowledge, resolve, reopen, mute; transitions not allowed are 409, unknown ids 404, bad input 400', async () => {
    const i = await openIncident();
    const n = changes.length;
    const ack = await api('POST', `incidents/${i.id}/acknowledge`);
    assert.equal(ack.status, 200, JSON.stringify(ack.body));
    assert.equal(ack.body.status, 'acknowledged');
    assert.ok(ack.body.acknowledgedAt);
    const again = await api('POST', `incidents/${i.id}/acknowledge`);
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'VIGIL_ERR_CONFLICT');
    assert.match(again.body.error.message, /already acknowledged/);
    assert.equal((await api('POST', `incidents/${i.id}/reopen`)).status, 409, 'not resolved');
    const resolved = await api('POST', `incidents/${i.id}/resolve`);
    assert.equal(resolved.body.status, 'resolved');
    assert.equal(resolved.body.resolution, 'manual');
    assert.equal((await api('POST', `incidents/${i.id}/resolve`)).status, 409);
    assert.match((await api('POST', `incidents/${i.id}/acknowledge`)).body.error.message, /resolved: reopen it first/);
    assert.equal((await api('POST', `incidents/${i.id}/mute`, { until: '+1h' })).status, 409, 'nothing to mute');
    const reopened = await api('POST', `incidents/${i.id}/reopen`);
    assert.equal(reopened.body.status, 'open');
    assert.equal(reopened.body.resolution, null);
    assert.deepEqual(
      changes.slice(n).map((c) => [c.type, c.incident.status]),
      [
        ['acknowledged', 'acknowledged'],
        ['resolved', 'resolved'],
        ['reopened', 'open'],
      ],
    );

    const muted = await api('POST', `incidents/${i.id}/mute`, { until: '+2h' });
    assert.equal(muted.status, 200);
    assert.equal(muted.body.muted, true);
    assert.ok(Math.abs(Date.parse(muted.body.mutedUntil) - (Date.now() + 2 * HOUR)) < 60_000);
    assert.equal(
      (await t.ctx.incidents.byId(t.project.id, i.id))!.mutedUntil,
      Date.parse(muted.body.mutedUntil),
      'alerting reads mutedUntil',
    );
    assert.equal((await api('POST', `incidents/${i.id}/unmute`)).body.muted, false);
    assert.equal((await api('POST', `incidents/${i.id}/unmute`)).status, 409);

    for (const [path, body, field] of [
      [`incidents/${i.id}/mute`, { until: '-1h' }, 'until'],
      [`incidents/${i.id}/mute`, { until: 'tomorrow' }, 'until'],
      [`incidents/${i.id}/mute`, { until: '+400d' }, 'until'],
      [`incidents/${i.id}/mute`, {}, 'until'],
      [`incidents/${i.id}/comments`, { body: '' }, 'body'],
      [`incidents/${i.id}/comments`, { body: 'x'.repeat(10_001) }, 'body'],
      [`incidents/${i.id}/assign`, { userId: 'me' }, 'userId'],
      ['incidents/bulk', { ids: [i.id], action: 'explode' }, 'action'],
      ['incidents/bulk', { ids: [], action: 'resolve' }, 'ids'],
      ['incidents/bulk', { ids: [i.id], action: 'mute' }, 'until'],
    ] as [string, object, string][]) {
      const r = await api('POST', path, body);
      assert.equal(r.status, 400, `${path} ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
      assert.match(
        JSON.stringify(r.body.error),
        new RegExp(field),
        `${path} ${JSON.stringify(body)} names ${field}: ${JSON.stringify(r.body.error)}`,
      );
    }
    assert.equal((await api('POST', 'incidents/999999/acknowledge')).status, 404);
    assert.equal((await api('GET', 'incidents/999999')).status, 404);
    assert.equal((await api('GET', 'incidents/abc')).status, 400);
    assert.equal((await api('POST', `incidents/${i.id}/acknowledge`, undefined, t.readKey)).status, 403, 'a read key may not act');
    assert.equal((await api('GET', `incidents/${i.id}`, undefined, t.readKey)).status, 200);
  });

  test('auto-resolve after 3 healthy buckets; a signal after resolve opens a new incident; rules resolve on their recovery', async () => {
    const m = await metric();
    const b = base + 40 * HOUR;
    await emit([drop(m, b, { endBucket: b + HOUR })]);
    const [i] = await incidentsOf(`metric=${m}`);
    const cover = (until: number) => t.ctx.incidents.onSignals(t.project.id, [], [{ scopeKey: `metric:${m}`, until, stepMs: HOUR }]);
    await cover(b + 4 * HOUR);
    assert.equal((await detail(i.id)).incident.status, 'open', 'two healthy buckets scored');
    await t.ctx.incidents.onSignals(t.project.id, [], [{ scopeKey: 'metric:*', until: b + 5 * HOUR, stepMs: HOUR }]);
    const d = await detail(i.id);
    assert.equal(d.incident.status, 'resolved');
    assert.equal(d.incident.resolution, 'recovered');
    assert.deepEqual(d.timeline.at(-1)!.data, {
      from: 'open',
      to: 'resolved',
      resolution: 'recovered',
      healthyUntil: b + 5 * HOUR,
      healthyBuckets: 3,
    });
    assert.equal(changes.at(-1)!.type, 'resolved');

    await emit([drop(m, b + 7 * HOUR)]);
    const after = await incidentsOf(`metric=${m}`);
    assert.equal(after.length, 2);
    assert.equal(after[0].status, 'open');
    assert.notEqual(after[0].id, i.id);

    // a scope scored healthy in between (it flagged a bucket 4 later): the old one is over, a new one opens
    await emit([drop(m, b + 11 * HOUR)]);
    const third = await incidentsOf(`metric=${m}`);
    assert.deepEqual(
      third.map((x) => x.status),
      ['open', 'resolved', 'resolved'],
    );

    // reopened by hand: a healthy scope does not close it again at once
    const m2 = await metric();
    await emit([drop(m2, b)]);
    const [i2] = await incidentsOf(`metric=${m2}`);
    const cover2 = () => t.ctx.incidents.onSignals(t.project.id, [], [{ scopeKey: `metric:${m2}`, until: b + 10 * HOUR, stepMs: HOUR }]);
    await cover2();
    assert.equal((await detail(i2.id)).incident.status, 'resolved');
    assert.equal((await api('POST', `incidents/${i2.id}/reopen`)).status, 200);
    await cover2();
    assert.equal((await detail(i2.id)).incident.status, 'open');

    // threshold rules: a breach opens, its recovery resolves
    const rm = await metric();
    const rule = await t.ctx.thresholdRules.create(t.project, rm, {
      name: 'above',
      rule: { condition: { operator: '>', value: 100 }, severity: 'critical' },
    });
    const breach: SignalInput = {
      ...drop(rm, b),
      scope: 'threshold',
      scopeKey: `rule:${rule.id}`,
      kind: 'breach',
      direction: 'up',
      value: 130,
      expected: null,
      lower: null,
      upper: null,
      z: 0,
      score: 1,
      severity: 'critical',
      details: { ruleId: rule.id, ruleName: 'above', condition: { operator: '>', value: 100 }, compared: 130, interval: '1h' },
    };
    await emit([breach]);
    const [ri] = await incidentsOf(`scope=rule:${rule.id}`);
    assert.equal(ri.severity, 'critical');
    assert.equal(ri.title, `rule "above" breached: m${seq} > 100 (was 130)`);
    // healthy coverage does not resolve a rule that stays breached without new signals
    await t.ctx.incidents.onSignals(t.project.id, [], [{ scopeKey: `rule:${rule.id}`, until: b + 10 * HOUR, stepMs: HOUR }]);
    assert.equal((await detail(ri.id)).incident.status, 'open');
    await emit([
      {
        ...breach,
        bucket: b + 10 * HOUR,
        endBucket: b + 10 * HOUR,
        kind: 'recovery',
        direction: 'down',
        value: 90,
        score: 0,
        severity: 'info',
      },
    ]);
    assert.equal((await detail(ri.id)).incident.resolution, 'recovered');
  });

  test("history: a backfill's old episodes open already resolved (alerting is told they are historical)", async () => {
    const m = await metric();
    const b = base + 60 * HOUR;
    const n = changes.length;
    await emit([drop(m, b), drop(m, b + 30 * HOUR)], [{ scopeKey: `metric:${m}`, until: b + 33 * HOUR, stepMs: HOUR }]);
    const incidents = await incidentsOf(`metric=${m}`);
    assert.deepEqual(
      incidents.map((i) => [i.status, i.resolution]),
      [
        ['open', null],
        ['resolved', 'recovered'],
      ],
    );
    assert.deepEqual(
      changes.slice(n).map((c) => [c.type, c.historical ?? false]),
      [
        ['opened', true],
        ['opened', false],
      ],
    );
  });

  test("a false positive resolves and raises the metric's threshold a notch; undo puts it back; bounded", async () => {
    const m = await metric(undefined, 'event', { minExpected: 10 });
    await emit([drop(m, base)]);
    const [i] = await incidentsOf(`metric=${m}`);
    const fp = await api('POST', `incidents/${i.id}/false-positive`);
    assert.equal(fp.status, 200, JSON.stringify(fp.body));
    assert.equal(fp.body.status, 'resolved');
    assert.equal(fp.body.resolution, 'false_positive');
    assert.deepEqual(
      (await t.ctx.catalog.get(t.project, m)).detection,
      { minExpected: 10, sensitivity: 'low' },
      'medium (the default) → low',
    );
    const mark = (await detail(i.id)).timeline.at(-1)!;
    assert.equal(mark.type, 'false_positive');
    assert.deepEqual(mark.data.sensitivity, [{ metricId: m, metricName: `m${seq}`, before: null, after: 'low' }]);
    assert.equal((await api('POST', `incidents/${i.id}/false-positive`)).status, 409);
    assert.equal((await api('POST', `incidents/${i.id}/reopen`)).status, 409, 'undo first');

    const undo = await api('POST', `incidents/${i.id}/undo-false-positive`);
    assert.equal(undo.status, 200, JSON.stringify(undo.body));
    assert.equal(undo.body.status, 'resolved');
    assert.equal(undo.body.resolution, 'manual');
    assert.deepEqual((await t.ctx.catalog.get(t.project, m)).detection, { minExpected: 10 }, 'inherits again');
    assert.equal((await api('POST', `incidents/${i.id}/undo-false-positive`)).status, 409);

    // bounded: a metric at the cap stays there
    const capped = await metric(undefined, 'event', { sensitivity: 8 });
    await emit([drop(capped, base)]);
    const [c] = await incidentsOf(`metric=${capped}`);
    assert.equal((await api('POST', `incidents/${c.id}/false-positive`)).status, 200);
    assert.equal((await t.ctx.catalog.get(t.project, capped)).detection.sensitivity, 8);
    // a custom z goes up by one
    const custom = await metric(undefined, 'event', { sensitivity: 5.5 });
    await emit([drop(custom, base)]);
    const [x] = await incidentsOf(`metric=${custom}`);
    await api('POST', `incidents/${x.id}/false-positive`);
    assert.equal((await t.ctx.catalog.get(t.project, custom)).detection.sensitivity, 6.5);
    // someone changes it since: undo leaves their setting
    await t.ctx.catalog.update(t.project, custom, { detection: { sensitivity: 'high' } });
    const u = await api('POST', `incidents/${x.id}/undo-false-positive`);
    assert.equal(u.status, 200);
    assert.equal((await t.ctx.catalog.get(t.project, custom)).detection.sensitivity, 'high');
    assert.deepEqual((await detail(x.id)).timeline.at(-1)!.data.restored, []);
  });

  test('assign to a member, comments and the timeline with who and when', async () => {
    const i = await openIncident();
    const member = await t.ctx.users.create({ email: `member${++seq}@example.com`, password: 'correct horse battery staple' });
    const outsider = await t.ctx.users.create({ email: `outsider${++seq}@example.com`, password: 'correct horse battery staple' });
    await t.ctx.memberships.grant(t.project.id, member.id, 'editor');
    const assigned = await api('POST', `incidents/${i.id}/assign`, { userId: member.id });
    assert.equal(assigned.status, 200, JSON.stringify(assigned.body));
    assert.equal(assigned.body.assigneeId, member.id);
    const bad = await api('POST', `incidents/${i.id}/assign`, { userId: outsider.id });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.details.field, 'userId');
    // a signed-in member comments
    const { token } = await t.ctx.sessions.create(member.id);
    const res = await fetch(`${t.url}/api/projects/shop/incidents/${i.id}/comments`, {
      method: 'POST',
      headers: { cookie: `vigil_session=${token}`, 'x-csrf-token': t.ctx.sessions.csrfToken(token), 'content-type': 'application/json' },
      body: JSON.stringify({ body: 'Looking into it: **deploy 42** broke the checkout.' }),
    });
    assert.equal(res.status, 201, await res.clone().text());
    assert.equal((await api('POST', `incidents/${i.id}/assign`, { userId: null })).body.assigneeId, null);
    const d = await detail(i.id);
    assert.deepEqual(
      d.timeline.map((e) => e.type),
      ['created', 'assigned', 'comment', 'assigned'],
    );
    const [created, assign, comment, unassign] = d.timeline;
    assert.equal(created.actorId, null);
    assert.equal(assign.actorId, null, 'an API key');
    assert.match(String(assign.data.actor), /…/, 'the key is named');
    assert.deepEqual({ from: assign.data.from, to: assign.data.to }, { from: null, to: member.id });
    assert.equal(comment.actorId, member.id);
    assert.equal(comment.data.body, 'Looking into it: **deploy 42** broke the checkout.');
    assert.deepEqual({ from: unassign.data.from, to: unassign.data.to }, { from: member.id, to: null });
    for (const e of d.timeline) assert.ok(Date.parse(e.at) > Date.now() - 60_000);
    // audited
    const audit = await t.ctx.audit.list(t.project.id, { action: 'incident.assign', limit: 10 });
    assert.ok(
      audit.some((a) => a.target.id === String(i.id)),
      JSON.stringify(audit),
    );
  });

  test('bulk actions are all or nothing', async () => {
    const a = await openIncident();
    const b = await openIncident();
    const c = await openIncident();
    assert.equal((await api('POST', `incidents/${c.id}/resolve`)).status, 200);
    const n = changes.length;
    const conflict = await api('POST', 'incidents/bulk', { ids: [a.id, b.id, c.id], action: 'acknowledge' });
    assert.equal(conflict.status, 409);
    assert.equal(conflict.body.error.details.incidentId, c.id);
    const missing = await api('POST', 'incidents/bulk', { ids: [a.id, 999999], action: 'acknowledge' });
    assert.equal(missing.status, 404);
    for (const x of [a, b]) assert.equal((await detail(x.id)).incident.status, 'open', 'nothing changed');
    assert.equal(changes.length, n);
    // another project's incident is unknown here
    const ok = await api('POST', 'incidents/bulk', { ids: [a.id, b.id], action: 'acknowledge' });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.deepEqual(
      ok.body.incidents.map((i: { status: string }) => i.status),
      ['acknowledged', 'acknowledged'],
    );
    const muted = await api('POST', 'incidents/bulk', { ids: [a.id, b.id], action: 'mute', until: '+1d' });
    assert.ok(muted.body.incidents.every((i: { muted: boolean }) => i.muted));
    const commented = await api('POST', 'incidents/bulk', { ids: [a.id, b.id], action: 'comment', body: 'same root cause' });
    assert.equal(commented.status, 200);
    assert.equal((await detail(b.id)).timeline.at(-1)!.data.body, 'same root cause');
    // reopening two of one identity would make two open: refused
    const m = await metric();
    await emit([drop(m, base)]);
    const [first] = await incidentsOf(`metric=${m}`);
    await api('POST', `incidents/${first.id}/resolve`);
    await emit([drop(m, base + 10 * HOUR)]);
    const [second] = await incidentsOf(`metric=${m}&status=open`);
    assert.notEqual(second.id, first.id);
    const r = await api('POST', `incidents/${first.id}/reopen`);
    assert.equal(r.status, 409);
    assert.match(r.body.error.message, new RegExp(`incident ${second.id} is open`));
  });

  test("the alerts hook runs inside the change's transaction: a hook that throws rolls the change back", async () => {
    const i = await openIncident();
    let seen: unknown = null;
    hook = async (tx, change) => {
      // the change is visible inside the transaction, with its signals
      seen = (await tx.selectFrom('incidents').select('status').where('id', '=', change.incident.id).executeTakeFirst())?.status;
      assert.ok(change.signals.length >= 1);
      throw new Error('the alerts outbox is broken');
    };
    const r = await api('POST', `incidents/${i.id}/acknowledge`);
    assert.equal(r.status, 500);
    assert.equal(seen, 'acknowledged');
    const d = await detail(i.id);
    assert.equal(d.incident.status, 'open', 'rolled back');
    assert.deepEqual(
      d.timeline.map((e) => e.type),
      ['created'],
    );

    // a signal whose incident could not open is picked up by the catch-up once the hook works
    const m = await metric();
    await emit([drop(m, base)]);
    assert.deepEqual(await incidentsOf(`metric=${m}`), []);
    hook = async () => undefined;
    await t.ctx.meta.db
      .updateTable('signals')
      .set({ updated_at: Date.now() - 10 * 60_000 })
      .where('metric_id', '=', m)
      .execute();
    // and one written just now: left to the listener that is handling it
    const fresh = await metric();
    hook = async () => {
      throw new Error('still broken');
    };
    await emit([drop(fresh, base)]);
    hook = async () => undefined;
    assert.equal(await t.ctx.incidents.tick({ force: true }), 1);
    const caught = await incidentsOf(`metric=${m}`);
    assert.equal(caught.length, 1);
    assert.equal(caught[0].status, 'open');
    assert.deepEqual(await incidentsOf(`metric=${fresh}`), []);
    // placing it again changes nothing
    await t.ctx.incidents.onSignals(
      t.project.id,
      (await t.ctx.signals.list(t.project, { metricId: m, fromMs: 0, toMs: Date.now(), limit: 10 })).signals,
      [],
    );
    assert.equal((await incidentsOf(`metric=${m}`)).length, 1);
    assert.equal((await detail(caught[0].id)).timeline.length, 1);
  });

  test('list: filters and a cursor, newest first; detail; stats', async () => {
    const all = await incidentsOf('');
    assert.ok(all.length > 10);
    assert.deepEqual(
      all.map((i) => i.id),
      [...all.map((i) => i.id)].sort((x, y) => y - x),
    );
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: any } = await api('GET', `incidents?limit=4${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.body.incidents.map((i: { id: number }) => i.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    assert.deepEqual(
      seen,
      all.map((i) => i.id),
    );
    assert.ok((await incidentsOf('status=resolved')).every((i) => i.status === 'resolved'));
    const critical = await incidentsOf('severity=critical');
    assert.ok(critical.every((i) => i.severity === 'critical'));
    assert.deepEqual(
      (await incidentsOf('severity=major')).map((i) => i.id),
      critical.map((i) => i.id),
      'the former word major is read as critical',
    );
    assert.ok((await incidentsOf('scope=rule:*')).every((i) => i.scopeKey.startsWith('rule:')));
    const window = await incidentsOf(`from=${new Date(base + 39 * HOUR).toISOString()}&to=${new Date(base + 42 * HOUR).toISOString()}`);
    assert.ok(
      window.length >= 1 &&
        window.every((i) => Date.parse(i.startedBucket) < base + 42 * HOUR && Date.parse(i.lastBucket) >= base + 39 * HOUR),
    );
    assert.equal((await api('GET', 'incidents?status=closed')).status, 400);
    assert.equal((await api('GET', 'incidents?from=yesterday')).status, 400);

    const stats = await api('GET', 'incidents/stats?days=30');
    assert.equal(stats.status, 200, JSON.stringify(stats.body));
    assert.equal(stats.body.total, all.length);
    assert.ok(stats.body.noisiest[0].incidents >= 3, JSON.stringify(stats.body.noisiest[0]));
    const s = JSON.stringify(stats.body);
    // the threshold rules with the most incidents, counted as the list counts them
    const byRule = new Map<string, number>();
    for (const i of all) if (i.scopeKey.startsWith('rule:')) byRule.set(i.scopeKey, (byRule.get(i.scopeKey) ?? 0) + 1);
    assert.ok(byRule.size > 0, 'the fixture has incidents of threshold rules');
    assert.deepEqual(
      stats.body.topRules.map((r: any) => [r.scopeKey, r.ruleId, r.incidents]),
      [...byRule].sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0])).map(([k, n]) => [k, Number(k.slice(5)), n]),
      s,
    );
    assert.ok(stats.body.timeToAcknowledge.count >= 2, s);
    assert.ok(stats.body.timeToResolve.count >= 3 && stats.body.timeToResolve.medianMs > 0, s);
    assert.equal(stats.body.byResolution.false_positive, 1, 'two of the three were undone');
    assert.ok(stats.body.byResolution.recovered >= 3, s);
    assert.equal((await api('GET', 'incidents/stats?days=0')).status, 400);
  });
});

describe('incidents: related metrics found by their series moving together (real collection and detection)', () => {
  let t: TestApp;
  before(async () => {
    await awayFromHourEnd();
    t = await startTestApp({ config: { metricsBackfillDays: 9 } });
  });
  after(() => t.close());

  test('orders and payments drop in the same hours: one incident, the second joins by correlation', async () => {
    const until = Math.floor(Date.now() / HOUR) * HOUR;
    // whole days of history, whatever the hour the test runs at: a series that starts mid-day is
    // not scored until it has whole days (found at 01:00 UTC; see the closing note of issue 18)
    const start = Math.floor(until / DAY) * DAY - 8 * DAY;
    const dropFrom = until - 6 * HOUR;
    const r = random(7);
    const counts: { event: string; hour: number; n: number }[] = [];
    for (let hour = start; hour < until; hour += HOUR) {
      const dropped = hour >= dropFrom && hour < dropFrom + 2 * HOUR;
      counts.push({ event: 'Order Completed', hour, n: Math.round(100 * (1 + 0.04 * (2 * r() - 1)) * (dropped ? 0.3 : 1)) });
      counts.push({ event: 'Payment', hour, n: Math.round(80 * (1 + 0.04 * (2 * r() - 1)) * (dropped ? 0.3 : 1)) });
      counts.push({ event: 'Signed Up', hour, n: Math.round(60 * (1 + 0.04 * (2 * r() - 1))) });
    }
    await ingestHourly(t, counts);
    const orders = await t.ctx.catalog.create(t.project, { name: 'orders', kind: 'event', definition: { event: 'Order Completed' } });
    const payments = await t.ctx.catalog.create(t.project, { name: 'payments', kind: 'event', definition: { event: 'Payment' } });
    await t.ctx.catalog.create(t.project, { name: 'signups', kind: 'event', definition: { event: 'Signed Up' } });
    await runJobs(t);
    const signals = (await t.ctx.signals.list(t.project, { fromMs: start, toMs: until, limit: 100 })).signals;
    assert.deepEqual(
      signals.map((s) => [s.metricId, s.kind, s.bucket]).sort(),
      [
        [orders.id, 'drop', dropFrom],
        [payments.id, 'drop', dropFrom],
      ].sort(),
      JSON.stringify(signals),
    );
    const page = await t.ctx.incidents.list(t.project, { limit: 10 });
    assert.equal(page.incidents.length, 1, JSON.stringify(page.incidents));
    const d = await t.ctx.incidents.detail(t.project, page.incidents[0].id);
    assert.deepEqual(
      d.signals.map((s) => s.role),
      ['root', 'related'],
    );
    const joined = d.timeline.find((e) => e.type === 'signal_added')!;
    assert.equal(joined.data.via, 'correlation');
    assert.ok(Number(joined.data.r) >= 0.8, JSON.stringify(joined.data));
    assert.equal(d.incident.status, 'open', 'the buckets after it are not all scored yet (settling)');
  });
});
