/**
 * Issue 16, item 3: reopening an incident. Through the real pipeline — a signal opens the
 * incident, the incident change queues deliveries, the running job worker sends them to a loopback
 * webhook — the test waits for each delivery as the on-call would. A reopen within the rule's
 * cooldown sends nothing (nor does the resolve after it); a reopen after the cooldown sends one
 * "Incident reopened" alert, never a second "Incident opened".
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, getJson, postJson, type TestApp } from '../helpers/app.js';
import { startReceiver, type Receiver, type ReceivedRequest } from '../helpers/receiver.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const COOLDOWN_MINUTES = 60;
/** longer than two polls of the job worker (1 s each): a delivery that was coming has come */
const QUIET_MS = 2_500;

describe('alerts when an incident is reopened', () => {
  let clock = Date.now();
  let t: TestApp;
  let webhook: Receiver;
  let headers: Record<string, string>;
  let incidentId: number;

  const api = (path: string) => `${t.url}/api/projects/shop/${path}`;
  const hooks = () => webhook.requests.filter((r) => r.pathname === '/hook');
  const act = async (action: 'resolve' | 'reopen') => {
    const res = await postJson(api(`incidents/${incidentId}/${action}`), {}, headers);
    assert.equal(res.status, 200, JSON.stringify(res.body));
  };
  /** Waits (up to 15 s) for the webhook's next request after the `seen` first ones. */
  async function nextDelivery(seen: number): Promise<ReceivedRequest> {
    const deadline = Date.now() + 15_000;
    while (hooks().length <= seen) {
      if (Date.now() > deadline)
        throw new Error(
          `no delivery came; the webhook has ${hooks().length}: ${hooks()
            .map((r) => r.headers['x-vigil-event'])
            .join(', ')}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
    return hooks()[seen];
  }

  before(async () => {
    webhook = await startReceiver();
    t = await startTestApp({ now: () => clock, config: { alertsAllowPrivateUrls: 'true' } });
    headers = { authorization: `Bearer ${(await t.ctx.apiKeys.create({ projectId: t.project.id, scopes: ['write'] })).secret}` };
    const dest = await postJson(
      api('alert-destinations'),
      { name: 'on-call hook', kind: 'webhook', config: { url: `${webhook.url}/hook` }, secrets: { secret: 'whsec-reopen-0123456789' } },
      headers,
    );
    assert.equal(dest.status, 201, JSON.stringify(dest.body));
    const rule = await postJson(
      api('alert-rules'),
      { name: 'checkout watch', destinationIds: [dest.body.id], cooldownMinutes: COOLDOWN_MINUTES, notifyOnResolve: true },
      headers,
    );
    assert.equal(rule.status, 201, JSON.stringify(rule.body));
    t.ctx.worker.start();
  });
  after(async () => {
    await t?.close();
    await webhook?.close();
  });

  test('opened, then resolved: each sent once', async () => {
    const metric = await t.ctx.catalog.create(t.project, { name: 'checkouts', kind: 'event', definition: { event: 'Order Completed' } });
    const bucket = Math.floor(clock / HOUR) * HOUR - 2 * HOUR;
    await t.ctx.signals.upsert(t.project.id, [
      {
        scope: 'metric',
        scopeKey: `metric:${metric.id}`,
        metricId: metric.id,
        bucket,
        endBucket: bucket,
        kind: 'drop',
        direction: 'down',
        value: 20,
        expected: 100,
        lower: 80,
        upper: 120,
        z: -8,
        score: 0.8,
        severity: 'critical',
        details: { interval: '1h', threshold: 4 },
      },
    ]);
    const opened = await nextDelivery(0);
    const body = opened.json();
    incidentId = body.incident.id;
    assert.equal(body.event, 'opened');
    assert.match(body.title, /Incident opened: /);

    clock += 5 * MINUTE;
    await act('resolve');
    const resolved = await nextDelivery(1);
    assert.equal(resolved.json().event, 'resolved');
  });

  test('a reopen within the cooldown sends nothing, and neither does the resolve after it', async () => {
    clock += 10 * MINUTE;
    await act('reopen');
    await new Promise((r) => setTimeout(r, QUIET_MS));
    clock += 5 * MINUTE;
    await act('resolve');
    await new Promise((r) => setTimeout(r, QUIET_MS));
    assert.deepEqual(
      hooks().map((r) => r.headers['x-vigil-event']),
      ['opened', 'resolved'],
    );
    const deliveries = (await getJson(api(`alert-deliveries?incident=${incidentId}`), headers.authorization.slice(7))).body.deliveries as {
      event: string;
    }[];
    assert.deepEqual(deliveries.map((d) => d.event).sort(), ['opened', 'resolved']);
  });

  test('a reopen after the cooldown sends "Incident reopened" (not "opened"); its resolve follows', async () => {
    clock += COOLDOWN_MINUTES * MINUTE;
    await act('reopen');
    const reopened = await nextDelivery(2);
    const body = reopened.json();
    assert.equal(reopened.headers['x-vigil-event'], 'reopened');
    assert.equal(body.event, 'reopened');
    assert.equal(body.incident.id, incidentId);
    assert.match(body.title, /Incident reopened: /);
    assert.doesNotMatch(`${body.title}\n${body.text}`, /Incident opened/);

    clock += 5 * MINUTE;
    await act('resolve');
    assert.equal((await nextDelivery(3)).json().event, 'resolved');
    assert.deepEqual(
      hooks().map((r) => r.headers['x-vigil-event']),
      ['opened', 'resolved', 'reopened', 'resolved'],
    );
  });
});
