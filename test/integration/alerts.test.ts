/**
 * Alerting end to end through the real app: incidents opened by real signals write deliveries in
 * the same transaction, the job worker sends them to loopback receivers, retries transient
 * failures with backoff, fails the rest at once; cooldown, repeats, mute, digests, the simulator,
 * "send test", and secrets that never come back out of the API.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { verifyWebhookSignature } from '../../src/alerts/destinations/index.js';
import { RETRY_BASE_MS } from '../../src/alerts/delivery-worker.js';
import { JOB_DELIVER } from '../../src/alerts/outbox.js';
import type { Metric } from '../../src/metrics/store.js';
import type { Incident } from '../../src/incidents/types.js';

const HOUR = 3_600_000;
const MINUTE = 60_000;
const SECRET = 'whsec_integration-secret-0123456789';

describe('alerts', () => {
  let t: TestApp;
  let editorKey: string;
  let viewerKey: string;
  const receivers: Receiver[] = [];
  let seq = 0;
  // each scenario's signals sit days apart, so no two incidents group
  let nextBucket = Math.floor(Date.now() / HOUR) * HOUR - 60 * 24 * HOUR;

  const api = async (method: string, path: string, body?: unknown, key = editorKey) => {
    const res = await fetch(`${t.url}/api/projects/shop/${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as any, text };
  };
  const ok = (r: { status: number; text: string }, status = 200) => assert.equal(r.status, status, r.text);

  const receiver = async () => {
    const r = await startReceiver();
    receivers.push(r);
    return r;
  };
  const metric = (tags: string[] = []): Promise<Metric> =>
    t.ctx.catalog.create(t.project, { name: `m${++seq}`, kind: 'event', status: 'draft', definition: { event: `E${seq}` }, tags });
  const webhook = async (r: Receiver) => {
    const res = await api('POST', 'alert-destinations', {
      name: `hook ${++seq}`,
      kind: 'webhook',
      config: { url: `${r.url}/hook` },
      secrets: { secret: SECRET },
    });
    ok(res, 201);
    return res.body.id as number;
  };
  const rule = async (body: Record<string, unknown>) => {
    const res = await api('POST', 'alert-rules', { name: `rule ${++seq}`, ...body });
    ok(res, 201);
    return res.body.id as number;
  };

  /** A threshold breach on `m` (a real signal): the incidents domain opens (or grows) its incident. */
  const breach = async (m: Metric, bucket: number, value = 5) => {
    await t.ctx.signals.upsert(t.project.id, [
      {
        scope: 'threshold',
        scopeKey: `rule:${m.id}`,
        metricId: m.id,
        bucket,
        endBucket: bucket,
        kind: 'breach',
        direction: 'down',
        value,
        expected: null,
        lower: null,
        upper: null,
        z: 0,
        score: 1,
        severity: 'critical',
        details: { ruleName: 'too low', interval: '1h' },
      },
    ]);
  };
  const recover = async (m: Metric, bucket: number) => {
    await t.ctx.signals.upsert(t.project.id, [
      {
        scope: 'threshold',
        scopeKey: `rule:${m.id}`,
        metricId: m.id,
        bucket,
        endBucket: bucket,
        kind: 'recovery',
        direction: 'up',
        value: 50,
        expected: null,
        lower: null,
        upper: null,
        z: 0,
        score: 0,
        severity: 'info',
        details: { ruleName: 'too low', interval: '1h' },
      },
    ]);
  };
  const incidentsOf = async (m: Metric): Promise<Incident[]> =>
    (await t.ctx.incidents.list(t.project, { scope: `rule:${m.id}`, limit: 50 })).incidents;
  /** Opens a fresh incident on `m`; returns it. */
  const open = async (m: Metric) => {
    const before = new Set((await incidentsOf(m)).map((i) => i.id));
    nextBucket += 3 * 24 * HOUR;
    await breach(m, nextBucket);
    const fresh = (await incidentsOf(m)).filter((i) => !before.has(i.id));
    assert.equal(fresh.length, 1, 'one incident opened');
    return fresh[0];
  };
  const deliveriesOf = async (incidentId: number) =>
    (await api('GET', `alert-deliveries?incident=${incidentId}`)).body.deliveries.reverse() as any[];
  /** Runs every due job (the worker, without its timer). */
  const work = async () => {
    while (await t.ctx.worker.runOnce());
  };
  /** Makes queued delivery attempts due now (time passes: the backoff is over). */
  const skipBackoff = () =>
    t.ctx.meta.db.updateTable('jobs').set({ run_at: 0 }).where('kind', '=', JOB_DELIVER).where('status', '=', 'queued').execute();
  /** Moves a delivery's send time into the past (time passes for repeats). */
  const age = (deliveryId: number, ms: number) =>
    t.ctx.meta.db
      .updateTable('alert_deliveries')
      .set((eb) => ({ sent_at: eb('sent_at', '-', ms) }))
      .where('id', '=', deliveryId)
      .execute();

  before(async () => {
    t = await startTestApp({ config: { alertsAllowPrivateUrls: 'true' } });
    editorKey = (await t.ctx.apiKeys.create({ projectId: t.project.id, scopes: ['write'] })).secret;
    viewerKey = (await t.ctx.apiKeys.create({ projectId: t.project.id, scopes: ['read'] })).secret;
  });
  after(async () => {
    await t.close();
    await Promise.all(receivers.map((r) => r.close()));
  });

  // scenario 1's objects, reused by the cooldown and simulator tests
  let r1: Receiver;
  let m1: Metric;
  let rule1: number;
  let dest1: number;
  let first: Incident;

  test('an incident opening writes one pending delivery; the worker sends it once, signed; a replayed change adds nothing', async () => {
    r1 = await receiver();
    m1 = await metric(['checkout']);
    dest1 = await webhook(r1);
    rule1 = await rule({ filters: { metricTags: ['checkout'] }, destinationIds: [dest1] });
    first = await open(m1);

    const pending = await deliveriesOf(first.id);
    assert.deepEqual(
      pending.map((d) => [d.event, d.status, d.ruleId, d.destinationId, d.attempts]),
      [['opened', 'pending', rule1, dest1, 0]],
    );
    assert.equal(pending[0].idempotencyKey, `inc:${first.id}:opened:${rule1}:${dest1}`);

    // the same change again (a replayed hook), and the same signal again: still one delivery
    const signals = (await t.ctx.incidents.signalsOf(first)).map((x) => x.signal);
    await t.ctx.meta.db
      .transaction()
      .execute((tx) => t.ctx.alerts.onIncidentChange(tx, { type: 'opened', incident: first, signals, actorId: null, at: Date.now() }));
    await breach(m1, first.startedBucket);
    assert.equal((await deliveriesOf(first.id)).length, 1);

    await work();
    await work();
    assert.equal(r1.requests.length, 1, 'sent once');
    const req = r1.requests[0];
    assert.ok(
      verifyWebhookSignature(SECRET, String(req.headers['x-vigil-timestamp']), req.body, String(req.headers['x-vigil-signature'])),
      'signed with the secret',
    );
    const payload = req.json();
    assert.equal(payload.event, 'opened');
    assert.equal(payload.incident.id, first.id);
    assert.equal(payload.rule.id, rule1);
    assert.equal(payload.items[0].label, `too low (${m1.name})`);

    const [sent] = await deliveriesOf(first.id);
    assert.deepEqual([sent.status, sent.attempts, sent.responseStatus, sent.lastError], ['sent', 1, 200, null]);
    assert.ok(sent.sentAt);
    const detail = await api('GET', `alert-deliveries/${sent.id}`, undefined, viewerKey);
    ok(detail);
    assert.equal(detail.body.message.incident.dedupKey, `vigil-${t.project.id}-incident-${first.id}`);
    const timeline = await t.ctx.incidents.timeline(first.id);
    assert.equal(timeline.filter((e) => e.type === 'alert_sent').length, 1, 'the timeline says the alert went');
  });

  test('a receiver answering 503 three times, then 200: delivered once, on attempt 4, with backoff between', async () => {
    const r = await receiver();
    r.enqueue({ status: 503, body: 'down' }, { status: 503, body: 'down' }, { status: 503, body: 'down' });
    const m = await metric();
    await rule({ filters: { metricNames: [m.name] }, destinationIds: [await webhook(r)] });
    const incident = await open(m);
    await work();
    let [d] = await deliveriesOf(incident.id);
    assert.deepEqual([d.status, d.attempts, d.responseStatus], ['pending', 1, 503]);
    assert.match(d.lastError, /HTTP 503/);
    const delay = Date.parse(d.nextAttemptAt) - Date.parse(d.updatedAt);
    assert.ok(delay >= RETRY_BASE_MS / 2 && delay <= RETRY_BASE_MS * 1.5, `first retry after ${delay} ms`);
    await work();
    assert.equal(r.requests.length, 1, 'not before the backoff');
    for (let i = 0; i < 3; i++) {
      await skipBackoff();
      await work();
    }
    [d] = await deliveriesOf(incident.id);
    assert.deepEqual([d.status, d.attempts, d.responseStatus, d.lastError], ['sent', 4, 200, null]);
    assert.equal(r.requests.length, 4);
    assert.equal(
      new Set(r.requests.map((q) => q.headers['x-vigil-idempotency-key'])).size,
      1,
      'every attempt carries the same idempotency key',
    );
    await skipBackoff();
    await work();
    assert.equal(r.requests.length, 4, 'nothing more once sent');
  });

  test('a receiver that is down for good: failed after 5 attempts with the error', async () => {
    const r = await receiver();
    r.respond({ status: 502, body: 'bad gateway' });
    const m = await metric();
    await rule({ filters: { metricNames: [m.name] }, destinationIds: [await webhook(r)] });
    const incident = await open(m);
    for (let i = 0; i < 7; i++) {
      await skipBackoff();
      await work();
    }
    const [d] = await deliveriesOf(incident.id);
    assert.deepEqual([d.status, d.attempts, d.nextAttemptAt], ['failed', 5, null]);
    assert.match(d.lastError, /HTTP 502/);
    assert.equal(r.requests.length, 5);
  });

  test('a receiver answering 400: failed at once with its message; a manual retry tries again', async () => {
    const r = await receiver();
    r.respond({ status: 400, body: { message: 'unknown channel #alerts' } });
    const m = await metric();
    await rule({ filters: { metricNames: [m.name] }, destinationIds: [await webhook(r)] });
    const incident = await open(m);
    await work();
    let [d] = await deliveriesOf(incident.id);
    assert.deepEqual([d.status, d.attempts, d.responseStatus], ['failed', 1, 400]);
    assert.match(d.lastError, /unknown channel #alerts/);
    await skipBackoff();
    await work();
    assert.equal(r.requests.length, 1, 'not retried by itself');

    assert.equal((await api('POST', `alert-deliveries/${d.id}/retry`, undefined, viewerKey)).status, 403, 'a viewer cannot');
    r.respond({ status: 200, body: 'ok' });
    const retried = await api('POST', `alert-deliveries/${d.id}/retry`);
    ok(retried);
    assert.equal(retried.body.status, 'pending');
    const again = await api('POST', `alert-deliveries/${d.id}/retry`);
    assert.equal(again.status, 409, 'only a failed delivery can be retried');
    await work();
    [d] = await deliveriesOf(incident.id);
    assert.deepEqual([d.status, d.attempts, d.responseStatus], ['sent', 2, 200]);
    assert.equal((await api('POST', `alert-deliveries/${d.id}/retry`)).status, 409);
    assert.equal((await api('POST', 'alert-deliveries/999999/retry')).status, 404);
  });

  test('resolve is told; a second incident of the same scope within the cooldown is not announced', async () => {
    await recover(m1, first.startedBucket + 2 * HOUR);
    assert.equal((await t.ctx.incidents.get(t.project, first.id)).status, 'resolved');
    const told = await deliveriesOf(first.id);
    assert.deepEqual(
      told.map((d) => [d.event, d.status]),
      [
        ['opened', 'sent'],
        ['resolved', 'pending'],
      ],
    );
    await work();
    assert.equal(r1.requests.length, 2);
    assert.equal(r1.requests[1].json().event, 'resolved');

    const second = await open(m1);
    assert.equal(second.scopeKey, first.scopeKey);
    assert.deepEqual(await deliveriesOf(second.id), [], 'within 24 h of the last alert of that scope');
    // a rule with no cooldown would have announced it: the cooldown is per rule
    await recover(m1, second.startedBucket + HOUR);
    await api('PATCH', `alert-rules/${rule1}`, { cooldownMinutes: 0 });
    const third = await open(m1);
    assert.deepEqual(
      (await deliveriesOf(third.id)).map((d) => d.event),
      ['opened'],
    );
    await work();
    await api('PATCH', `alert-rules/${rule1}`, { cooldownMinutes: 24 * 60 });
  });

  test('repeats while open and unacknowledged; acknowledging stops them', async () => {
    const r = await receiver();
    const m = await metric();
    const ruleId = await rule({ filters: { metricNames: [m.name] }, destinationIds: [await webhook(r)], repeatEveryMinutes: 30 });
    const incident = await open(m);
    await work();
    const [opened] = await deliveriesOf(incident.id);
    assert.equal(opened.status, 'sent');
    const repeatsOf = async () => (await deliveriesOf(incident.id)).filter((d) => d.event === 'repeat');

    await t.ctx.alerts.scheduleDue();
    assert.equal((await repeatsOf()).length, 0, 'not before 30 minutes');
    await age(opened.id, 31 * MINUTE);
    assert.ok((await t.ctx.alerts.scheduleDue()) >= 1);
    await t.ctx.alerts.scheduleDue();
    let repeats = await repeatsOf();
    assert.deepEqual(
      repeats.map((d) => [d.idempotencyKey, d.status]),
      [[`inc:${incident.id}:repeat:${ruleId}:${opened.destinationId}:1`, 'pending']],
      'one repeat, however often the scheduler runs',
    );
    await work();
    assert.equal(r.requests.length, 2);
    assert.equal(r.requests[1].json().event, 'repeat');

    // a repeat due, not yet tried, is withdrawn by the acknowledgement; none come after it
    await age(opened.id, 31 * MINUTE);
    repeats = await repeatsOf();
    await age(repeats[0].id, 31 * MINUTE);
    await t.ctx.alerts.scheduleDue();
    assert.equal((await repeatsOf()).filter((d) => d.status === 'pending').length, 1);
    await t.ctx.incidents.actOn(t.project, incident.id, { action: 'acknowledge' }, { userId: null });
    assert.equal((await repeatsOf()).filter((d) => d.status === 'pending').length, 0, 'withdrawn');
    for (const d of await deliveriesOf(incident.id)) await age(d.id, 2 * HOUR);
    await t.ctx.alerts.scheduleDue();
    await work();
    assert.equal((await repeatsOf()).length, 1);
    assert.equal(r.requests.length, 2, 'nothing after the acknowledgement');
  });

  test('a muted rule and a disabled rule send nothing; a growing incident (signal_added, severity) adds no alert', async () => {
    const r = await receiver();
    const dest = await webhook(r);
    const m = await metric();
    const muted = await rule({
      filters: { metricNames: [m.name] },
      destinationIds: [dest],
      mutedUntil: new Date(Date.now() + HOUR).toISOString(),
    });
    await rule({ filters: { metricNames: [m.name] }, destinationIds: [dest], enabled: false });
    const incident = await open(m);
    assert.deepEqual(await deliveriesOf(incident.id), []);
    // the incident grows (a later bucket of the same scope): still nothing
    await breach(m, incident.startedBucket + HOUR, 1);
    assert.deepEqual(await deliveriesOf(incident.id), []);
    assert.equal((await incidentsOf(m)).length, 1, 'the same incident grew');
    // unmuted: the next incident is announced
    ok(await api('PATCH', `alert-rules/${muted}`, { mutedUntil: null }));
    await recover(m, incident.startedBucket + 3 * HOUR);
    const next = await open(m);
    assert.equal((await deliveriesOf(next.id)).length, 1);
    await work();
    assert.equal(r.requests.length, 1);
  });

  test('a digest rule sends one message per period listing the incidents opened in it', async () => {
    const r = await receiver();
    const m = await metric(['digest']);
    const ruleId = await rule({ filters: { metricTags: ['digest'] }, destinationIds: [await webhook(r)], digest: { cron: '* * * * *' } });
    const a = await open(m);
    assert.deepEqual(await deliveriesOf(a.id), [], 'no alert per incident');
    // time passes: the incident opened two minutes ago, the period began ten minutes ago
    await t.ctx.meta.db
      .updateTable('incidents')
      .set((eb) => ({ opened_at: eb('opened_at', '-', 2 * MINUTE) }))
      .where('id', '=', a.id)
      .execute();
    await t.ctx.meta.db
      .updateTable('alert_rules')
      .set({ digest_until: Date.now() - 10 * MINUTE })
      .where('id', '=', ruleId)
      .execute();
    assert.ok((await t.ctx.alerts.scheduleDue()) >= 1);
    await t.ctx.alerts.scheduleDue();
    const digests = (await api('GET', `alert-deliveries?rule=${ruleId}&event=digest`)).body.deliveries;
    assert.equal(digests.length, 1);
    await work();
    assert.equal(r.requests.length, 1);
    const body = r.requests[0].json();
    assert.equal(body.event, 'digest');
    assert.deepEqual(
      body.items.map((i: any) => i.label),
      [a.title],
    );
    const after = (await api('GET', `alert-rules/${ruleId}`)).body;
    assert.ok(Date.parse(after.digestUntil) > Date.now() - MINUTE, 'the next period starts where this one ended');
  });

  test("with notifyOnResolve off, only PagerDuty hears the resolve (with the trigger's dedup key)", async () => {
    const hook = await receiver();
    const pd = await receiver();
    pd.respond({ status: 202, body: { status: 'success', message: 'Event processed', dedup_key: 'x' } });
    const created = await api('POST', 'alert-destinations', {
      name: `pd ${++seq}`,
      kind: 'pagerduty',
      config: { baseUrl: pd.url },
      secrets: { routingKey: 'R'.repeat(32) },
    });
    ok(created, 201);
    const m = await metric();
    await rule({ filters: { metricNames: [m.name] }, destinationIds: [await webhook(hook), created.body.id], notifyOnResolve: false });
    const incident = await open(m);
    await work();
    await recover(m, incident.startedBucket + 2 * HOUR);
    await work();
    assert.deepEqual(
      (await deliveriesOf(incident.id)).map((d) => [d.event, d.destinationId === created.body.id ? 'pd' : 'hook', d.status]),
      [
        ['opened', 'hook', 'sent'],
        ['opened', 'pd', 'sent'],
        ['resolved', 'pd', 'sent'],
      ],
    );
    assert.equal(hook.requests.length, 1);
    const [trigger, resolve] = pd.requests.map((q) => q.json());
    assert.deepEqual([trigger.event_action, resolve.event_action], ['trigger', 'resolve']);
    assert.equal(resolve.dedup_key, trigger.dedup_key);
    assert.equal(trigger.dedup_key, `vigil-${t.project.id}-incident-${incident.id}`);
  });

  test('the simulator counts what a rule would have sent, and sends nothing', async () => {
    const before = r1.requests.length;
    const deliveriesBefore = (await api('GET', 'alert-deliveries?limit=500')).body.deliveries.length;
    const draft = await api('POST', 'alert-rules/simulate', { filters: { metricNames: [m1.name] }, days: 90 }, viewerKey);
    ok(draft);
    // first: opened + resolved; second and third: within 24 h of the first's alert (the rule's cooldown as it is now)
    assert.ok(draft.body.incidents >= 9, 'every incident of the window was looked at');
    assert.equal(draft.body.matched, 3);
    assert.equal(draft.body.filteredOut.metric, draft.body.incidents - 3);
    assert.equal(draft.body.suppressedByCooldown, 2);
    assert.deepEqual(draft.body.byEvent, { opened: 1, resolved: 1 });
    assert.equal(draft.body.perDay.length, 91);
    assert.equal(
      draft.body.perDay.reduce((n: number, d: any) => n + d.alerts, 0),
      draft.body.total,
    );
    const saved = await api('POST', `alert-rules/${rule1}/simulate`, { days: 90 }, viewerKey);
    ok(saved);
    assert.equal(saved.body.total, draft.body.total);
    const none = await api('POST', 'alert-rules/simulate', { filters: { minSeverity: 'critical', scopes: ['schema'] }, days: 7 });
    ok(none);
    assert.equal(none.body.total, 0);
    const bad = await api('POST', `alert-rules/${rule1}/simulate`, { days: 0 });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.details.field, 'days');
    assert.equal(r1.requests.length, before);
    assert.equal((await api('GET', 'alert-deliveries?limit=500')).body.deliveries.length, deliveriesBefore);
  });

  test("send test reports the receiver's answer, for a saved destination and for unsaved settings", async () => {
    const r = await receiver();
    const id = await webhook(r);
    const okTest = await api('POST', `alert-destinations/${id}/test`);
    ok(okTest);
    assert.deepEqual([okTest.body.ok, okTest.body.status, okTest.body.body], [true, 200, 'ok']);
    assert.equal(r.requests[0].json().event, 'test');
    r.respond({ status: 500, body: 'receiver exploded' });
    const failed = await api('POST', `alert-destinations/${id}/test`);
    ok(failed);
    assert.deepEqual([failed.body.ok, failed.body.status], [false, 500]);
    assert.match(failed.body.error, /receiver exploded/);
    const unsaved = await api('POST', 'alert-destinations/test', {
      name: 'draft',
      kind: 'webhook',
      config: { url: `${r.url}/draft` },
      secrets: { secret: SECRET },
    });
    ok(unsaved);
    assert.equal(unsaved.body.status, 500);
    assert.equal(r.requests[r.requests.length - 1].pathname, '/draft');
    const invalid = await api('POST', 'alert-destinations/test', {
      name: 'draft',
      kind: 'webhook',
      config: {},
      secrets: { secret: SECRET },
    });
    assert.equal(invalid.status, 400);
    assert.equal(invalid.body.error.details.field, 'config.url');
    assert.equal((await api('POST', `alert-destinations/${id}/test`, undefined, viewerKey)).status, 403);
  });

  test('secrets are stored encrypted and never come back out of the API; a PATCH without them keeps them', async () => {
    const secret = 'whsec_never-shown-' + 'x'.repeat(20);
    const r = await receiver();
    const created = await api('POST', 'alert-destinations', {
      name: 'secret keeper',
      kind: 'webhook',
      config: { url: `${r.url}/s` },
      secrets: { secret },
    });
    ok(created, 201);
    const id = created.body.id;
    assert.deepEqual(created.body.secrets, { secret: 'set' });
    const responses = [
      created.text,
      (await api('GET', 'alert-destinations')).text,
      (await api('GET', `alert-destinations/${id}`, undefined, viewerKey)).text,
      (await api('PATCH', `alert-destinations/${id}`, { name: 'secret keeper 2', config: { url: `${r.url}/s2` } })).text,
      (await api('POST', `alert-destinations/${id}/test`)).text,
    ];
    const row = await t.ctx.meta.db.selectFrom('alert_destinations').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const auditRows = await t.ctx.meta.db.selectFrom('audit_log').selectAll().execute();
    for (const text of [...responses, row.secrets, row.config, JSON.stringify(auditRows)])
      assert.ok(!text.includes(secret), `secret leaked: ${text.slice(0, 200)}`);
    // kept: the test after the PATCH was signed with it
    const last = r.requests[r.requests.length - 1];
    assert.equal(last.pathname, '/s2');
    assert.ok(
      verifyWebhookSignature(secret, String(last.headers['x-vigil-timestamp']), last.body, String(last.headers['x-vigil-signature'])),
    );
    // a secret in config is refused rather than stored in the clear
    const inConfig = await api('POST', 'alert-destinations', {
      name: 'leaky',
      kind: 'webhook',
      config: { url: `${r.url}/s`, secret },
      secrets: { secret },
    });
    assert.equal(inConfig.status, 400);
    assert.equal(inConfig.body.error.details.field, 'config.secret');
    assert.ok(!inConfig.text.includes(secret));
  });

  test('bad input is a 4xx naming the field; a destination in use cannot be deleted', async () => {
    const r = await receiver();
    const dest = await webhook(r);
    const cases: [string, string, unknown, number, string][] = [
      ['POST', 'alert-rules', { name: 'x', destinationIds: [999999] }, 400, 'destinationIds'],
      ['POST', 'alert-rules', { name: 'x' }, 400, 'destinationIds'],
      ['POST', 'alert-rules', { name: 'x', destinationIds: [dest], filters: { minSeverity: 'huge' } }, 400, 'filters.minSeverity'],
      ['POST', 'alert-rules', { name: 'x', destinationIds: [dest], digest: { cron: 'nope' } }, 400, 'digest.cron'],
      ['POST', 'alert-rules', { name: 'x', destinationIds: [dest], mutedUntil: 'tomorrow' }, 400, 'mutedUntil'],
      ['POST', 'alert-rules', { name: 'x', destinationIds: [dest], colour: 'red' }, 400, 'colour'],
      ['POST', 'alert-destinations', { name: 'y', kind: 'carrier pigeon' }, 400, 'kind'],
      [
        'POST',
        'alert-destinations',
        { name: 'y', kind: 'webhook', config: { url: 'ftp://example.com' }, secrets: { secret: SECRET } },
        400,
        'config.url',
      ],
      [
        'POST',
        'alert-destinations',
        { name: 'y', kind: 'webhook', config: { url: `${r.url}/y` }, secrets: { token: 'abc' } },
        400,
        'secrets.token',
      ],
      ['PATCH', `alert-destinations/${dest}`, { kind: 'slack' }, 400, 'kind'],
      ['GET', 'alert-deliveries?status=lost', undefined, 400, 'status'],
    ];
    for (const [method, path, body, status, field] of cases) {
      const res = await api(method, path, body);
      assert.equal(res.status, status, `${method} ${path} ${JSON.stringify(body)}: ${res.text}`);
      assert.equal(res.body.error.details?.field, field, `${method} ${path}: ${res.text}`);
    }
    const ruleId = await rule({ destinationIds: [dest], filters: { metricNames: ['nothing'] } });
    const dup = await api('POST', 'alert-rules', { name: `rule ${seq}`, destinationIds: [dest] });
    assert.equal(dup.status, 409);
    assert.equal((await api('DELETE', `alert-destinations/${dest}`)).status, 409);
    assert.equal((await api('DELETE', `alert-rules/${ruleId}`)).status, 204);
    assert.equal((await api('DELETE', `alert-destinations/${dest}`)).status, 204);
    assert.equal((await api('GET', `alert-destinations/${dest}`)).status, 404);
    assert.equal((await api('GET', `alert-rules/${ruleId}`)).status, 404);
  });

  test('the delivery log filters by status, rule, destination, event, and pages with a cursor', async () => {
    const all = (await api('GET', 'alert-deliveries?limit=500', undefined, viewerKey)).body.deliveries as any[];
    assert.ok(all.length >= 8);
    const page1 = await api('GET', 'alert-deliveries?limit=3');
    const page2 = await api('GET', `alert-deliveries?limit=3&cursor=${page1.body.nextCursor}`);
    assert.deepEqual(
      [...page1.body.deliveries, ...page2.body.deliveries].map((d: any) => d.id),
      all.slice(0, 6).map((d) => d.id),
    );
    const sent = (await api('GET', 'alert-deliveries?status=sent&limit=500')).body.deliveries as any[];
    assert.deepEqual(
      sent.map((d) => d.id),
      all.filter((d) => d.status === 'sent').map((d) => d.id),
    );
    const ofRule = (await api('GET', `alert-deliveries?rule=${rule1}&event=resolved`)).body.deliveries as any[];
    assert.ok(ofRule.length >= 1 && ofRule.every((d) => d.ruleId === rule1 && d.event === 'resolved'));
    const ofDest = (await api('GET', `alert-deliveries?destination=${dest1}`)).body.deliveries as any[];
    assert.ok(ofDest.length >= 2 && ofDest.every((d) => d.destinationId === dest1));
    assert.equal((await api('GET', 'alert-deliveries/999999')).status, 404);
  });
});
