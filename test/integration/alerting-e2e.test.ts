/**
 * Issue 6, end to end: the demo project with a new injected drop → the scheduler's cycle collects
 * and detects → one incident opens (not one per bucket, not one per related metric) → the loopback
 * webhook receiver gets one signed delivery → acknowledging stops repeats → recovery auto-resolves
 * the incident and PagerDuty gets its resolve. And a receiver that is down for three attempts
 * gets the alert once when it comes back.
 *
 * The app runs on a clock the test moves (hours pass in milliseconds); the traffic is the demo's
 * own generator, in the real past so ingest takes it as it is.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, getJson, postJson, type TestApp } from '../helpers/app.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { seedDemo } from '../../src/demo/seed.js';
import { generateDemoTraffic } from '../../src/demo/traffic.js';
import { verifyWebhookSignature } from '../../src/alerts/destinations/webhook.js';
import { DeliveryStore } from '../../src/alerts/deliveries.js';

const HOUR = 3_600_000;
const MINUTE = 60_000;
/**
 * 13:00 UTC on the latest Tuesday to Friday at least two days ago: the drop lands in the shop's
 * busy afternoon, in the real past. Not on a weekend nor the Monday after it: the demo's weekends
 * are 40 % quieter, and how detection reads a weekend (issue 17) is not what this test is about;
 * on a Saturday or Sunday it opened event-volume incidents beside the drop's, and on a Monday the
 * drop's event signal did not join it, so the test failed three days a week.
 */
const T = (() => {
  let day = Math.floor(Date.now() / (24 * HOUR)) * 24 * HOUR - 2 * 24 * HOUR;
  while ([0, 1, 6].includes(new Date(day).getUTCDay())) day -= 24 * HOUR;
  return day + 13 * HOUR;
})();
const DROP_HOURS = 4;
const SECRET = 'whsec-e2e-0123456789';

let clock = T;
let t: TestApp;
let webhook: Receiver;
let pagerduty: Receiver;
let key: string;
let headers: Record<string, string>;

/** The scheduler's cycle at the test's clock, then the worker until the queue is empty. */
async function cycle(at: number) {
  clock = at;
  await t.ctx.runSchedulerTick();
  while (await t.ctx.worker.runOnce()) {
    // until nothing is due
  }
}

async function ingestDemoHours(
  project: { id: number },
  from: number,
  to: number,
  keep: (e: { event?: string; timestamp: string }) => boolean,
) {
  const batch = [];
  for (const e of generateDemoTraffic({ endMs: to, days: 30 + (to - T) / (24 * HOUR) })) {
    const ms = Date.parse(e.timestamp);
    if (ms >= from && ms < to && keep(e)) batch.push(e);
  }
  for (let i = 0; i < batch.length; i += 2000)
    await t.ctx.ingest.ingest(project.id, batch.slice(i, i + 2000), undefined, {}, { receivedAt: Date.now(), ip: '' });
  await t.ctx.flush();
}

describe('alerting end to end on the demo project', () => {
  let slug: string;

  before(async () => {
    webhook = await startReceiver();
    pagerduty = await startReceiver();
    t = await startTestApp({ now: () => clock, config: { alertsAllowPrivateUrls: 'true' } });
    const demo = await seedDemo(t.ctx, { endMs: T });
    slug = demo.project.slug;
    key = (await t.ctx.apiKeys.create({ projectId: demo.project.id, scopes: ['write'] })).secret;
    headers = { authorization: `Bearer ${key}` };
    // a new drop: a payments outage, no Order Completed for four hours from T, then normal traffic for seven more
    await ingestDemoHours(
      demo.project,
      T,
      T + 11 * HOUR,
      (e) => e.event !== 'Order Completed' || Date.parse(e.timestamp) >= T + DROP_HOURS * HOUR,
    );
  });
  after(async () => {
    await t?.close();
    await webhook?.close();
    await pagerduty?.close();
  });

  test('one incident, one signed webhook delivery, no repeat after acknowledge, resolve on recovery', async () => {
    const before = (await getJson(`${t.url}/api/projects/${slug}/incidents?status=open`, key)).body.incidents as { id: number }[];
    const hook = await postJson(
      `${t.url}/api/projects/${slug}/alert-destinations`,
      { name: 'ops webhook', kind: 'webhook', config: { url: `${webhook.url}/hook` }, secrets: { secret: SECRET } },
      headers,
    );
    assert.equal(hook.status, 201, JSON.stringify(hook.body));
    const pd = await postJson(
      `${t.url}/api/projects/${slug}/alert-destinations`,
      {
        name: 'on-call',
        kind: 'pagerduty',
        config: { baseUrl: pagerduty.url },
        secrets: { routingKey: 'R0UT1NGKEY0123456789abcdef01234567' },
      },
      headers,
    );
    assert.equal(pd.status, 201, JSON.stringify(pd.body));
    const rule = await postJson(
      `${t.url}/api/projects/${slug}/alert-rules`,
      {
        name: 'payments',
        destinationIds: [hook.body.id, pd.body.id],
        filters: { scopes: ['anomaly', 'threshold'], minSeverity: 'info' },
        repeatEveryMinutes: 30,
      },
      headers,
    );
    assert.equal(rule.status, 201, JSON.stringify(rule.body));

    // the drop's hours have settled (2 h) once the clock is 5 h past T
    await cycle(T + (DROP_HOURS + 2) * HOUR + MINUTE);
    const open = (await getJson(`${t.url}/api/projects/${slug}/incidents?status=open`, key)).body.incidents as {
      id: number;
      title: string;
    }[];
    const fresh = open.filter((i) => !before.some((b) => b.id === i.id));
    assert.equal(fresh.length, 1, `one new incident; got ${JSON.stringify(fresh.map((i) => i.title))}`);
    const detail = (await getJson(`${t.url}/api/projects/${slug}/incidents/${fresh[0].id}`, key)).body;
    const incident = detail.incident;
    const scopes = new Set(detail.signals.map((s: { signal: { scopeKey: string } }) => s.signal.scopeKey));
    assert.ok(scopes.size >= 2, `the drop's related signals are grouped in it: ${JSON.stringify([...scopes])}`);

    const hooks = webhook.requests.filter((r) => r.path === '/hook');
    assert.equal(hooks.length, 1, 'one webhook delivery');
    const h = hooks[0];
    assert.ok(
      verifyWebhookSignature(
        SECRET,
        h.headers['x-vigil-timestamp'] as string,
        h.body,
        h.headers['x-vigil-signature'] as string,
        300,
        clock,
      ),
      'the signature verifies',
    );
    const body = JSON.parse(h.body);
    assert.equal(body.incident.id, incident.id);
    assert.ok(body.items.some((i: { direction: string }) => i.direction === 'down'));
    // each signal says why it fired, as the incident page does
    for (const i of body.items as { label: string; direction: string; explanation: string }[]) {
      assert.match(i.explanation, i.direction === 'down' ? /against .+ expected \(band .+\); .*below the band: / : /./, JSON.stringify(i));
    }
    assert.ok(detail.signals.every((s: { explanation: { sentence: string } }) => s.explanation.sentence.length > 0));
    assert.equal(pagerduty.requests.length, 1);
    assert.equal(JSON.parse(pagerduty.requests[0].body).event_action, 'trigger');

    // acknowledged: the 30-minute repeat does not go out
    const ack = await postJson(`${t.url}/api/projects/${slug}/incidents/${incident.id}/acknowledge`, {}, headers);
    assert.equal(ack.status, 200, JSON.stringify(ack.body));
    await cycle(T + (DROP_HOURS + 3) * HOUR + MINUTE);
    assert.equal(webhook.requests.filter((r) => r.path === '/hook').length, 1, 'no repeat after acknowledge');

    // three healthy hours after the drop, settled: resolved, and PagerDuty resolves its alert
    await cycle(T + (DROP_HOURS + 6) * HOUR + MINUTE);
    const resolved = (await getJson(`${t.url}/api/projects/${slug}/incidents/${incident.id}`, key)).body;
    assert.equal(resolved.incident.status, 'resolved');
    assert.equal(resolved.incident.resolution, 'recovered');
    const pdEvents = pagerduty.requests.map((r) => JSON.parse(r.body) as { event_action: string; dedup_key: string });
    assert.deepEqual(
      pdEvents.map((e) => e.event_action),
      ['trigger', 'resolve'],
    );
    assert.equal(pdEvents[0].dedup_key, pdEvents[1].dedup_key);
    assert.ok(
      resolved.timeline.some((e: { type: string }) => e.type === 'alert_sent'),
      'the timeline records the alert',
    );
  });

  test('a receiver down for three attempts gets the alert once when it is back', async () => {
    const flaky = await startReceiver();
    let calls = 0;
    flaky.respond(() => (++calls <= 3 ? { status: 503, body: 'down for maintenance' } : { status: 200, body: 'ok' }));
    try {
      const dest = await postJson(
        `${t.url}/api/projects/${slug}/alert-destinations`,
        { name: 'flaky webhook', kind: 'webhook', config: { url: `${flaky.url}/in` }, secrets: { secret: SECRET } },
        headers,
      );
      assert.equal(dest.status, 201, JSON.stringify(dest.body));
      const rule = await postJson(
        `${t.url}/api/projects/${slug}/alert-rules`,
        { name: 'sign-up watch', destinationIds: [dest.body.id], filters: { scopes: ['threshold'] } },
        headers,
      );
      assert.equal(rule.status, 201, JSON.stringify(rule.body));
      // a threshold rule that breaches on the next settled bucket opens an incident deterministically
      const signups = (await getJson(`${t.url}/api/projects/${slug}/metrics`, key)).body.metrics.find(
        (m: { name: string }) => m.name === 'signups',
      );
      const threshold = await postJson(
        `${t.url}/api/projects/${slug}/metrics/${signups.id}/rules`,
        { name: 'any sign-up', rule: { condition: { operator: '>=', value: 0 }, severity: 'warning' } },
        headers,
      );
      assert.equal(threshold.status, 201, JSON.stringify(threshold.body));

      await cycle(T + (DROP_HOURS + 7) * HOUR + MINUTE);
      assert.equal(flaky.requests.length, 1, 'the first attempt went out and failed');
      // the worker alone from here (no new collections): each step moves the clock past the longest backoff
      for (let step = 1; step <= 10 && flaky.requests.length < 4; step++) {
        clock += 15 * MINUTE;
        while (await t.ctx.worker.runOnce()) {
          // until nothing is due
        }
      }
      assert.equal(flaky.requests.length, 4, 'three failed attempts, then the one that got through');
      const ids = new Set(flaky.requests.map((r) => JSON.parse(r.body).incident.id));
      assert.equal(ids.size, 1, 'all four attempts carry the same incident');
      assert.equal(new Set(flaky.requests.map((r) => r.headers['x-vigil-idempotency-key'])).size, 1, 'and the same idempotency key');
      const deliveries = (await getJson(`${t.url}/api/projects/${slug}/alert-deliveries?destination=${dest.body.id}`, key)).body.deliveries;
      assert.deepEqual(
        deliveries.map((d: { status: string; attempts: number }) => [d.status, d.attempts]),
        [['sent', 4]],
      );
      // nothing more goes out later
      clock += 60 * MINUTE;
      while (await t.ctx.worker.runOnce()) {
        // until nothing is due
      }
      assert.equal(flaky.requests.length, 4);
    } finally {
      await flaky.close();
    }
  });

  test('a pending delivery whose job was lost is queued again by the scheduler and sent once', async () => {
    const spare = await startReceiver();
    try {
      const dest = await postJson(
        `${t.url}/api/projects/${slug}/alert-destinations`,
        { name: 'spare webhook', kind: 'webhook', config: { url: `${spare.url}/in` }, secrets: { secret: SECRET } },
        headers,
      );
      assert.equal(dest.status, 201, JSON.stringify(dest.body));
      // a delivery left pending with no job (as after workers died mid-send three times and the job was dead-lettered)
      const sent = (await getJson(`${t.url}/api/projects/${slug}/alert-deliveries?status=sent`, key)).body.deliveries[0];
      const { message } = (await getJson(`${t.url}/api/projects/${slug}/alert-deliveries/${sent.id}`, key)).body;
      const id = await new DeliveryStore(t.ctx.meta.db).insert(
        {
          projectId: message.project.id,
          ruleId: null,
          destinationId: dest.body.id,
          incidentId: null,
          scopeKey: null,
          event: 'opened',
          idempotencyKey: 'orphan-test',
          message,
        },
        clock,
      );
      assert.ok(id);
      const runWorker = async () => {
        while (await t.ctx.worker.runOnce()) {
          // until nothing is due
        }
      };
      await t.ctx.runSchedulerTick();
      await runWorker();
      assert.equal(spare.requests.length, 0, 'not before it is overdue');
      clock += 20 * MINUTE;
      await t.ctx.runSchedulerTick();
      await runWorker();
      assert.equal(spare.requests.length, 1);
      const d = (await getJson(`${t.url}/api/projects/${slug}/alert-deliveries/${id}`, key)).body;
      assert.equal(d.status, 'sent');
      clock += 20 * MINUTE;
      await t.ctx.runSchedulerTick();
      await runWorker();
      assert.equal(spare.requests.length, 1, 'sent once');
    } finally {
      await spare.close();
    }
  });
});
