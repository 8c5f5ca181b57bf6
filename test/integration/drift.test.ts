/**
 * Project-wide detection: event volume (the demo's three incidents are found, and nothing else once
 * the weekly period is in use), schema drift (each kind of change is one signal, and a second run
 * adds nothing), distribution drift (PSI of a property's value shares), and the daily and hourly
 * jobs the scheduler enqueues for them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getJson, postJson, startTestApp, type TestApp } from '../helpers/app.js';
import { seedDemo } from '../../src/demo/seed.js';
import { mulberry32 } from '../../src/demo/random.js';
import { SignalJobs } from '../../src/signals/drift/drift-jobs.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();

let messages = 0;
async function ingest(t: TestApp, events: { event: string; at: number; properties: Record<string, unknown> }[]) {
  const batch = events.map((e) => ({
    type: 'track',
    event: e.event,
    userId: `u${messages % 40}`,
    messageId: `d-${++messages}`,
    timestamp: iso(e.at),
    properties: e.properties,
  }));
  for (let i = 0; i < batch.length; i += 2500) {
    const r = await postJson(`${t.url}/v1/batch`, { batch: batch.slice(i, i + 2500) }, { authorization: `Bearer ${t.writeKey}` });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }
  await t.ctx.flush();
}

const runJobs = async (t: TestApp) => {
  while (await t.ctx.worker.runOnce()) {
    /* until the queue is empty */
  }
};

describe('event volume, schema drift and distribution drift', () => {
  let t: TestApp;
  const today = Math.floor(Date.now() / DAY) * DAY;
  const yesterday = today - DAY;
  // the demo of the detector's own demo test (test/unit/detect-demo.test.ts): a fixed end keeps the data the same on every run
  const DEMO_END = Math.min(Date.UTC(2026, 10, 20), today);
  let demo: Awaited<ReturnType<typeof seedDemo>>;

  const signalsOf = async (slug: string, key: string, query: string) => {
    const r = await getJson(`${t.url}/api/projects/${slug}/signals?limit=500&${query}`, key);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.signals as Record<string, any>[];
  };

  before(async () => {
    // at least six hours into the day, so that yesterday has settled whatever the hour the test runs at
    t = await startTestApp({ now: () => Math.max(Date.now(), today + 6 * HOUR) });
    const rng = mulberry32(7);
    const events: { event: string; at: number; properties: Record<string, unknown> }[] = [];
    for (let d = 8; d >= 1; d--) {
      const day = today - d * DAY;
      const last = d === 1;
      for (let i = 0; i < 60; i++) {
        const at = day + Math.floor(((i + 0.5) * DAY) / 60);
        // yesterday: a fourth plan, amount as text, a new property, and `source` gone
        events.push({
          event: 'Order Completed',
          at,
          properties: last
            ? { plan: ['free', 'pro', 'team', 'enterprise'][i % 4], amount: String(10 + i), coupon: 'SPRING' }
            : { plan: ['free', 'pro', 'team'][i % 3], amount: 10 + i, source: 'web' },
        });
      }
      for (let i = 0; i < 100; i++) {
        const at = day + Math.floor(((i + 0.5) * DAY) / 100);
        // device moves from 50/50 to 90/10 yesterday; theme stays a fair coin; screen goes from 3 values to 30
        const device = last ? (i % 10 === 0 ? 'android' : 'ios') : rng() < 0.5 ? 'android' : 'ios';
        const screen = last ? `s${i % 30}` : ['home', 'cart', 'search'][i % 3];
        events.push({ event: 'Screen Viewed', at, properties: { device, theme: rng() < 0.5 ? 'dark' : 'light', screen } });
      }
      if (last)
        for (let i = 0; i < 5; i++) events.push({ event: 'Coupon Applied', at: day + (10 + i) * HOUR, properties: { code: 'SPRING' } });
    }
    await ingest(t, events);
    demo = await seedDemo(t.ctx, { days: 30, endMs: DEMO_END });
  });
  after(() => t.close());

  test('the demo: event volume finds its three incidents, and nothing else from the second week on', async () => {
    const start = DEMO_END - 30 * DAY;
    assert.deepEqual(await t.ctx.signals.projectDetection(demo.project.id), {}, "the demo runs on the product's defaults");
    assert.ok(demo.eventSignals > 0);
    const signals = await signalsOf('demo', demo.readKey, `scope=event&from=${iso(start)}&to=${iso(DEMO_END)}`);
    assert.equal(signals.length, demo.eventSignals);
    const within = (s: Record<string, any>, i: { startMs: number; endMs: number }) =>
      Date.parse(s.bucket) >= i.startMs - HOUR && Date.parse(s.bucket) < i.endMs;
    const cases = [
      ['Order Completed', 'checkout drop', 'down'],
      ['Signed Up', 'signup spike', 'up'],
      ['Error Shown', 'error burst', 'up'],
    ] as const;
    for (const [event, name, direction] of cases) {
      const incident = demo.incidents.find((i) => i.name === name)!;
      // signals are read once the daily period is in use (three days of history)
      const mine = signals.filter((s) => s.scopeKey === `event:${event}` && Date.parse(s.bucket) >= start + 3 * DAY);
      assert.deepEqual(
        mine.map((s) => [within(s, incident), s.direction]),
        [[true, direction]],
        `${event}: ${JSON.stringify(mine.map((s) => [s.kind, s.bucket]))}`,
      );
      const [s] = mine;
      assert.equal(s.scope, 'event');
      assert.equal(s.metricId, null);
      assert.equal(s.details.event, event);
      assert.equal(s.details.minExpected, 10);
      assert.ok(s.severity === 'warning' || s.severity === 'critical');
    }
    // from the second week on (day-of-week factors learnt from the first), only the incidents (and
    // the identify calls that come with the sign-ups) are news: no weekend dips, no Monday rises
    const late = signals.filter((s) => Date.parse(s.bucket) >= start + 7 * DAY && !demo.incidents.some((i) => within(s, i)));
    assert.deepEqual(
      late.map((s) => [s.scopeKey, s.kind, s.bucket, s.value, s.expected]),
      [],
    );

    // detecting again adds nothing
    const rows = () => t.ctx.meta.db.selectFrom('signals').selectAll().where('project_id', '=', demo.project.id).orderBy('id').execute();
    const before = await rows();
    const again = await t.ctx.signalJobs.eventVolume.detect(demo.project, { until: DEMO_END });
    assert.deepEqual([again.inserted, again.updated], [0, 0]);
    assert.equal(again.events, 9);
    assert.deepEqual(await rows(), before);
  });

  test('schema drift: yesterday against the 7 days before, one signal per change, and a second run (the job) adds nothing', async () => {
    const first = await t.ctx.signalJobs.runDrift(t.project, yesterday);
    assert.equal(first.day, yesterday);
    assert.equal(first.baselineDays, 7);
    assert.equal(first.profiled, 8, 'the day and its 7 baseline days');
    assert.equal(first.schema, 5);
    const schema = await signalsOf('shop', t.readKey, 'scope=schema&from=-3d');
    assert.deepEqual(schema.map((s) => [s.scopeKey, s.kind, s.severity, s.value]).sort(), [
      ['schema:Coupon Applied:*:new_event', 'new_event', 'info', 5],
      ['schema:Order Completed:amount:type_changed', 'type_changed', 'warning', 60],
      ['schema:Order Completed:coupon:new_property', 'new_property', 'info', 60],
      ['schema:Order Completed:plan:new_value:enterprise', 'new_value', 'info', 15],
      ['schema:Order Completed:source:property_gone', 'property_gone', 'warning', 0],
    ]);
    for (const s of schema) {
      assert.equal(s.bucket, iso(yesterday));
      assert.equal(s.endBucket, iso(yesterday));
      assert.equal(s.direction, null);
      assert.equal(typeof s.details.detail, 'string');
    }
    const typeChange = schema.find((s) => s.kind === 'type_changed')!;
    assert.deepEqual([typeChange.details.before, typeChange.details.after], ['number', 'string']);
    assert.equal(typeChange.details.detail, "'amount' of 'Order Completed' changed type from number to string.");
    assert.deepEqual(schema.find((s) => s.kind === 'new_value')!.details.before, ['free', 'pro', 'team']);

    const rows = () => t.ctx.meta.db.selectFrom('signals').selectAll().where('project_id', '=', t.project.id).orderBy('id').execute();
    const stored = await rows();
    const queries = t.ctx.events.queryCount;
    const job = await t.ctx.jobs.enqueue({ kind: 'signals.drift', projectId: t.project.id, payload: { day: yesterday } });
    await runJobs(t);
    const done = await t.ctx.jobs.get(job.id);
    assert.equal(done?.status, 'done', done?.lastError ?? '');
    const result = done!.result as Record<string, number>;
    assert.deepEqual([result.profiled, result.schema, result.inserted, result.updated], [0, 5, 0, 0]);
    assert.equal(typeof result.ms, 'number');
    assert.equal(
      t.ctx.events.queryCount,
      queries + 1,
      'the stored profiles are read again; only the values of the property with many values come from the events',
    );
    assert.deepEqual(await rows(), stored);
  });

  test('distribution drift: a property whose shares move from 50/50 to 90/10 is flagged, an unchanged one is not', async () => {
    const signals = await signalsOf('shop', t.readKey, 'scope=distribution&from=-3d');
    const byKey = new Map(signals.map((s) => [s.scopeKey, s]));
    const device = byKey.get('distribution:Screen Viewed:device');
    assert.ok(device, JSON.stringify([...byKey.keys()]));
    assert.equal(device.kind, 'distribution_drift');
    assert.equal(device.bucket, iso(yesterday));
    assert.equal(device.details.band, 'significant');
    assert.equal(device.severity, 'warning');
    assert.ok(device.value >= 0.25 && device.value === device.details.adjusted);
    assert.equal(device.details.top[0].value, 'android', 'the largest mover first');
    assert.equal(device.details.currentValues, 100);
    assert.equal(device.details.baselineValues, 700);
    assert.ok(!byKey.has('distribution:Screen Viewed:theme'), 'the fair coin stays stable');
    // too many values yesterday for its profile to keep: they are read from the store (the 20 most frequent, the rest as other)
    const screen = byKey.get('distribution:Screen Viewed:screen')!;
    assert.equal(screen.details.band, 'significant');
    assert.equal(screen.details.currentValues, 100);
    assert.ok(screen.details.top.some((c: { value: string }) => c.value === '$other'));
    // the plan's shares moved too (a fourth plan took a quarter); amount has too many values to compare
    assert.ok(byKey.has('distribution:Order Completed:plan'));
    assert.ok(!byKey.has('distribution:Order Completed:amount'));
  });
});

describe('drift and event-volume jobs', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  test('the scheduler enqueues event volume every hour once it has settled and drift once a day after the settling time, never twice', async () => {
    // yesterday, so that every job's day or hour has really ended
    const y = Math.floor(Date.now() / DAY) * DAY - DAY;
    let now = y + HOUR + 5 * 60_000;
    const scheduler = new SignalJobs({
      db: t.ctx.meta.db,
      events: t.ctx.events,
      projects: t.ctx.projects,
      signals: t.ctx.signals,
      jobs: t.ctx.jobs,
      now: () => now,
    });
    const pid = t.project.id;
    const keys = async () => (await t.ctx.jobs.list({ projectId: pid })).map((j) => [j.kind, j.dedupeKey, j.status]).reverse();

    // the settling time is the fixed 2 hours here (too few events to observe their lateness): at
    // 01:05 the hours up to 23:00 the day before have settled
    assert.equal((await t.ctx.signals.resolve(pid, null)).settlingMinutes, 120);
    assert.equal(await scheduler.scheduleDue(), 1);
    assert.equal(await scheduler.scheduleDue(), 0, 'the unfinished job is not enqueued again');
    assert.deepEqual(await keys(), [['signals.event_volume', `signals.event_volume:${pid}:${y - HOUR}`, 'queued']]);

    now = y + 3 * HOUR;
    assert.equal(await scheduler.scheduleDue(), 2, 'a new hour, and the settling time (2 h) has passed');
    await runJobs(t);
    assert.deepEqual(await keys(), [
      ['signals.event_volume', `signals.event_volume:${pid}:${y - HOUR}`, 'done'],
      ['signals.event_volume', `signals.event_volume:${pid}:${y + HOUR}`, 'done'],
      ['signals.drift', `signals.drift:${pid}:${y - DAY}`, 'done'],
    ]);
    const results = (await t.ctx.jobs.list({ projectId: pid })).map((j) => j.result as Record<string, unknown>);
    for (const r of results) assert.equal(typeof r.ms, 'number', JSON.stringify(r));
    assert.ok(results.some((r) => r.skipped === 'no events'));
    assert.ok(results.some((r) => r.baselineDays === 0 && String(r.skipped).includes('baseline')));

    assert.equal(await scheduler.scheduleDue(), 0, 'the hour and the day are done');
    now = y + 4 * HOUR;
    assert.equal(await scheduler.scheduleDue(), 1, 'the next hour');
    now = y + DAY + 2 * HOUR + 1;
    assert.equal(await scheduler.scheduleDue(), 2, 'the next hour and the next day (yesterday of today)');
  });
});
