/**
 * Alerts within minutes (issue 17, part 4), on a clock the test moves, delivered to a loopback
 * webhook receiver: a threshold breach on pushed measurements alerts within one scheduler tick of
 * the measurement, and an event whose steady hourly traffic drops to 10 % in the middle of an hour
 * alerts (an early outage on the hour in progress) within 30 minutes of the drop, while a steady
 * event beside it raises nothing. And an hourly event metric whose events arrive up to 5 minutes
 * late is judged 5 minutes after its hour ends (its observed settling time), not an hour later.
 * And a pushed latency that jumps sixfold (the demo's payments outage) alerts within a tick of
 * the first measurement, in the middle of its hourly bucket, while its ordinary noise does not.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { basic, postJson, startTestApp, type TestApp } from '../helpers/app.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { HOUR, ingestHourly } from '../helpers/hourly-events.js';

const MINUTE = 60_000;
/** the scheduler's default tick (VIGIL_SCHEDULER_TICK_MS) */
const TICK = 10_000;

describe('alert latency', () => {
  let clock = 0;
  let t: TestApp;
  let webhook: Receiver;
  let headers: Record<string, string>;
  /** an hour boundary a few hours in the real past: ingest takes what is sent as it is */
  const H = Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR;

  /** One scheduler tick at `at`, then the worker until the queue is empty. */
  const cycle = async (at: number) => {
    clock = at;
    await t.ctx.runSchedulerTick();
    while (await t.ctx.worker.runOnce()) {
      // until nothing is due
    }
  };
  const api = async (path: string, body: unknown) => {
    const r = await postJson(`${t.url}/api/projects/shop/${path}`, body, headers);
    assert.ok(r.status === 201 || r.status === 200, `${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const hooks = () => webhook.requests.filter((r) => r.path === '/hook').map((r) => JSON.parse(r.body));

  before(async () => {
    webhook = await startReceiver();
    clock = H - 5 * 24 * HOUR;
    t = await startTestApp({ now: () => clock, config: { alertsAllowPrivateUrls: 'true' } });
    headers = { authorization: `Bearer ${(await t.ctx.apiKeys.create({ projectId: t.project.id, scopes: ['write'] })).secret}` };
  });
  after(async () => {
    await t?.close();
    await webhook?.close();
  });

  test('a threshold breach on pushed measurements is delivered within one scheduler tick', async () => {
    const T = H - 2 * HOUR;
    const push = async (points: { ts: number; value: number }[]) => {
      const r = await postJson(
        `${t.url}/v1/measurements`,
        points.map((p) => ({ service: 'checkout-api', metric: 'latency_ms', value: p.value, timestamp: p.ts })),
        basic(t.writeKey),
      );
      assert.equal(r.status, 200, JSON.stringify(r.body));
    };
    // three quiet hours of a measurement a minute, and the first minutes after T
    await push(Array.from({ length: 186 }, (_, i) => ({ ts: T - 3 * HOUR + i * MINUTE, value: 100 + (i % 7) })));
    clock = T;
    const metric = await api('metrics', {
      name: 'checkout_latency',
      kind: 'gauge',
      interval: '5m',
      definition: { service: 'checkout-api', metric: 'latency_ms', aggregate: 'max' },
    });
    await cycle(T);
    const dest = await api('alert-destinations', {
      name: 'ops',
      kind: 'webhook',
      config: { url: `${webhook.url}/hook` },
      secrets: { secret: 'whsec-latency-0123456789' },
    });
    await api('alert-rules', { name: 'latency', destinationIds: [dest.id], filters: { scopes: ['threshold'], minSeverity: 'info' } });
    await api(`metrics/${metric.id}/rules`, {
      name: 'slow checkout',
      rule: { condition: { operator: '>', value: 500 }, severity: 'critical' },
    });
    // the first bucket after the rule ends: collected and evaluated at once (pushed measurements settle in 0 minutes)
    await cycle(T + 5 * MINUTE + TICK);
    assert.equal(hooks().length, 0, 'nothing breached yet');

    // 7 minutes after T, mid-bucket, checkout-api reports 900 ms: the next tick alerts
    const breachAt = T + 7 * MINUTE;
    await push([{ ts: breachAt, value: 900 }]);
    await cycle(breachAt + TICK);
    const got = hooks();
    assert.equal(got.length, 1, 'one webhook delivery within a tick of the breach');
    const item = got[0].items.find((i: { scope?: string; kind?: string }) => i.kind === 'breach') ?? got[0].items[0];
    assert.equal(item.kind, 'breach', JSON.stringify(got[0]));
    assert.match(JSON.stringify(got[0]), /slow checkout/);
    assert.match(JSON.stringify(got[0]), /900/);

    // the bucket ends and is collected: the same breach, no second alert
    await cycle(T + 10 * MINUTE + TICK);
    assert.equal(hooks().length, 1, 'the collected bucket confirms the same signal');
    const signals = (await t.ctx.signals.list(t.project, { scope: 'threshold', limit: 10, fromMs: T - 1 * HOUR, toMs: T + HOUR })).signals;
    assert.deepEqual(
      signals.map((s) => [s.kind, s.bucket]),
      [['breach', T + 5 * MINUTE]],
    );

    // at a bucket's first tick the bucket just ended is not collected yet: the rule goes on from its saved state across both
    clock = T + 11 * MINUTE;
    const rule = await api(`metrics/${metric.id}/rules`, {
      name: 'very slow checkout',
      rule: { condition: { operator: '>', value: 2000 }, severity: 'critical' },
    });
    await push(Array.from({ length: 9 }, (_, i) => ({ ts: T + 11 * MINUTE + i * MINUTE, value: 100 })));
    await cycle(T + 15 * MINUTE + TICK);
    await push([{ ts: T + 20 * MINUTE, value: 2500 }]);
    clock = T + 20 * MINUTE + TICK;
    await t.ctx.runSchedulerTick();
    const early = (await t.ctx.signals.list(t.project, { scope: 'threshold', limit: 10, fromMs: T, toMs: T + HOUR })).signals.filter(
      (s) => s.scopeKey === `rule:${rule.id}`,
    );
    assert.deepEqual(
      early.map((s) => [s.kind, s.bucket]),
      [['breach', T + 20 * MINUTE]],
      'raised in the tick itself, before the worker collects the bucket before',
    );
    while (await t.ctx.worker.runOnce()) {
      // the collection and the deliveries
    }
  });

  test('an event dropping to 10 % mid-hour alerts as an early outage within 30 minutes; a steady one does not', async () => {
    webhook.requests.length = 0;
    const DROP = H + 25 * MINUTE;
    // four days of 120 Order Completed and 300 Page Viewed an hour, then the hour H: Order Completed at 10 % from DROP on
    const counts: { event: string; hour: number; n: number }[] = [];
    for (let hour = H - 4 * 24 * HOUR; hour < H; hour += HOUR) {
      counts.push({ event: 'Order Completed', hour, n: 120 }, { event: 'Page Viewed', hour, n: 300 });
    }
    counts.push({ event: 'Page Viewed', hour: H, n: 300 });
    await ingestHourly(t, counts);
    const batch: object[] = [];
    for (let ts = H + 15_000; ts < H + HOUR; ts += ts < DROP ? 30_000 : 300_000) {
      batch.push({
        type: 'track',
        event: 'Order Completed',
        userId: `u${ts % 97}`,
        messageId: `drop-${ts}`,
        timestamp: new Date(ts).toISOString(),
      });
    }
    const r = await postJson(`${t.url}/v1/batch`, { batch }, { authorization: `Bearer ${t.writeKey}` });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await t.ctx.flush();

    // the hourly run of the history first (nothing to alert on), then the alert rule
    await cycle(H + MINUTE);
    const dest = await api('alert-destinations', {
      name: 'volume',
      kind: 'webhook',
      config: { url: `${webhook.url}/hook` },
      secrets: { secret: 'whsec-latency-0123456789' },
    });
    await api('alert-rules', { name: 'volume', destinationIds: [dest.id], filters: { scopes: ['anomaly'], minSeverity: 'info' } });

    let alertedAt: number | null = null;
    for (let at = H + 2 * MINUTE; at < H + HOUR && alertedAt === null; at += MINUTE) {
      await cycle(at);
      if (hooks().length) alertedAt = at;
    }
    assert.ok(alertedAt !== null, 'an alert in the hour of the drop');
    assert.ok(alertedAt > DROP, `not before the drop (at minute ${(alertedAt - H) / MINUTE})`);
    assert.ok(alertedAt - DROP <= 30 * MINUTE, `within 30 minutes of the drop: ${(alertedAt - DROP) / MINUTE} minutes`);
    const items = hooks()[0].items as { kind: string; direction: string; title?: string }[];
    assert.ok(
      items.some((i) => i.kind === 'outage' && i.direction === 'down'),
      JSON.stringify(hooks()[0]),
    );
    const outages = (
      await t.ctx.signals.list(t.project, { scope: 'event', limit: 50, fromMs: H - 5 * 24 * HOUR, toMs: H + HOUR })
    ).signals.filter((s) => s.kind === 'outage' && s.details.early);
    assert.deepEqual(
      outages.map((s) => [s.scopeKey, s.bucket]),
      [['event:Order Completed', H]],
      'only the event that dropped',
    );
    console.log(`early outage alert ${(alertedAt - DROP) / MINUTE} minutes after the drop`);
  });

  test('an hourly metric whose events settle in 5 minutes is detected 5 minutes after the hour, not at the next collection', async () => {
    const project = await t.ctx.projects.create({ slug: 'late', name: 'Late', timeZone: 'UTC' });
    const S = H + 2 * HOUR;
    clock = S - 3 * 24 * HOUR;
    // 100 Search an hour, 500 in the hour from S; each 5 minutes' events arrive at its end
    let n = 0;
    for (let from = S - 3 * 24 * HOUR; from < S + HOUR; from += 5 * MINUTE) {
      const count = Math.round(((from >= S ? 500 : 100) * 5) / 60);
      const batch = Array.from({ length: count }, (_, j) => ({
        type: 'track',
        event: 'Search',
        userId: `u${j % 30}`,
        messageId: `late-${++n}`,
        timestamp: new Date(from + Math.floor(((j + 0.5) * 5 * MINUTE) / count)).toISOString(),
      }));
      await t.ctx.ingest.ingest(project.id, batch, undefined, {}, { receivedAt: from + 5 * MINUTE, ip: '' });
    }
    await t.ctx.flush();
    const metric = await t.ctx.catalog.create(project, {
      name: 'searches',
      kind: 'event',
      interval: '1h',
      definition: { event: 'Search' },
    });
    await cycle(S + MINUTE);
    assert.deepEqual((await t.ctx.signals.resolve(project.id, metric)).settlingSource, 'observed');
    t.ctx.signals.forgetLateness(project.id);
    clock = S + HOUR + TICK;
    const settling = await t.ctx.signals.resolve(project.id, metric);
    assert.deepEqual([settling.settlingMinutes, settling.settlingSource], [5, 'observed'], 'p99 lateness just under 5 minutes');
    const spikes = async () =>
      (await t.ctx.signals.list(project, { scope: 'metric', limit: 10, fromMs: S - HOUR, toMs: S + 2 * HOUR })).signals.filter(
        (s) => s.bucket === S,
      );

    // the hour is collected at once but held while its events may still arrive
    await cycle(S + HOUR + TICK);
    assert.deepEqual(await spikes(), [], 'held for its settling time');
    await cycle(S + HOUR + 5 * MINUTE + TICK);
    const found = await spikes();
    assert.equal(found.length, 1, 'detected once the hour has settled');
    assert.equal(found[0].direction, 'up');
    const settled = await t.ctx.jobs.list({ projectId: project.id, kind: 'signals.detect_settled' });
    assert.ok(
      settled.some((j) => j.status === 'done' && (j.payload as { until: number }).until === S + HOUR),
      'by the job queued for when the hour settles',
    );
  });

  test('a gauge jumping sixfold alerts within a tick of the measurement, mid-bucket; its ordinary noise does not', async () => {
    webhook.requests.length = 0;
    const project = await t.ctx.projects.create({ slug: 'gauges', name: 'Gauges', timeZone: 'UTC' });
    const G = H + 5 * HOUR;
    let seed = 7;
    const noise = () => 0.85 + 0.3 * ((seed = (Math.imul(seed, 1_664_525) + 1_013_904_223) >>> 0) / 2 ** 32);
    const latency = (ts: number) => 120 * (1 + 0.25 * Math.cos((2 * Math.PI * ((ts % (24 * HOUR)) / HOUR - 15)) / 24)) * noise();
    const point = (ts: number, value: number) => ({ service: 'checkout-api', metric: 'latency_ms', ts, value, tags: {} });
    const history = [];
    for (let ts = G - 7 * 24 * HOUR; ts < G - 3 * HOUR; ts += 5 * MINUTE) history.push(point(ts, latency(ts)));
    await t.ctx.measurements.insert(project.id, history, G - 3 * HOUR);
    clock = G - 3 * HOUR;
    await t.ctx.catalog.create(project, {
      name: 'checkout_api_latency',
      kind: 'gauge',
      interval: '1h',
      definition: { service: 'checkout-api', metric: 'latency_ms', aggregate: 'avg' },
    });
    await cycle(clock);
    const dest = await t.ctx.alerts.createDestination(project, {
      name: 'ops',
      kind: 'webhook',
      config: { url: `${webhook.url}/hook` },
      secrets: { secret: 'whsec-latency-0123456789' },
    });
    await t.ctx.alerts.createRule(project, { name: 'anomalies', filters: { scopes: ['anomaly'] }, destinationIds: [dest.id] });

    // three ordinary hours, a measurement every 5 minutes and a tick after each: nothing
    for (let ts = G - 3 * HOUR; ts < G; ts += 5 * MINUTE) {
      await t.ctx.measurements.insert(project.id, [point(ts, latency(ts))], ts);
      await cycle(ts + TICK);
    }
    assert.equal(hooks().length, 0, `no alert on ordinary noise: ${JSON.stringify(hooks()[0]?.items)}`);

    // the payments outage: 900 ms from G on; the first measurement alerts at the next tick
    await t.ctx.measurements.insert(project.id, [point(G, 900 * noise())], G);
    await cycle(G + TICK);
    assert.equal(hooks().length, 1, 'alerted within one tick of the first slow measurement');
    const signals = (await t.ctx.signals.list(project, { scope: 'metric', limit: 10, fromMs: G - 4 * HOUR, toMs: G + HOUR })).signals;
    assert.deepEqual(
      signals.map((s) => [s.kind, s.bucket, s.severity, s.details.inProgress]),
      [['spike', G, 'critical', true]],
    );
  });
});
