/**
 * Co-moving series through the real pipeline (ingest → event-volume detection → incidents): a
 * signup spike that drags other events along (an $identify per sign-up, as in the demo, and
 * trials) is one incident rooted at the sign-ups, and an
 * outage that takes every event down is one incident rooted at the project's total volume
 * (`volume:total`), which healthy coverage of the total then resolves.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { HOUR, awayFromHourEnd, ingestHourly, random } from '../helpers/hourly-events.js';
import { seedDemo } from '../../src/demo/seed.js';

const DAY = 24 * HOUR;

describe('incidents: co-moving events and the total volume (real ingest and detection)', () => {
  let t: TestApp;
  let until: number;
  const spikeFrom = () => until - 100 * HOUR;
  const outageFrom = () => until - 12 * HOUR;

  const detect = (to: number, since: number) => t.ctx.signalJobs.eventVolume.detect(t.project, { until: to, since });
  const incidentsBetween = async (from: number, to: number) =>
    (await t.ctx.incidents.list(t.project, { limit: 50 })).incidents.filter((i) => i.startedBucket >= from && i.startedBucket < to);

  before(async () => {
    await awayFromHourEnd();
    t = await startTestApp();
    // a small shop, as the demo's: 20 sign-ups an hour are worth watching
    await t.ctx.signals.setProjectDetection(t.project.id, { minExpected: 5 });
    until = Math.floor(Date.now() / HOUR) * HOUR;
    const r = random(17);
    const counts: { event: string; hour: number; n: number }[] = [];
    const noisy = (n: number) => Math.round(n * (1 + 0.04 * (2 * r() - 1)));
    // twelve days: the spike falls after the first week, once every weekday has been seen
    for (let hour = until - 12 * DAY; hour < until; hour += HOUR) {
      const spike = hour >= spikeFrom() && hour < spikeFrom() + 3 * HOUR;
      const outage = hour >= outageFrom() && hour < outageFrom() + 2 * HOUR ? 0.1 : 1;
      const signups = noisy(spike ? 120 : 20);
      counts.push({ event: 'Signed Up', hour, n: Math.round(signups * outage) });
      // every sign-up identifies its user: the same numbers (the demo's Signed Up and $identify)
      counts.push({ event: '$identify', hour, n: Math.round(signups * outage) });
      // a trial starts with about every other sign-up, and on its own at a steady 20 an hour
      counts.push({ event: 'Trial Started', hour, n: Math.round((noisy(20) + Math.round(signups / 2)) * outage) });
      counts.push({ event: 'Page Viewed', hour, n: Math.round(noisy(150) * outage) });
      counts.push({ event: 'Order Completed', hour, n: Math.round(noisy(40) * outage) });
    }
    await ingestHourly(t, counts);
  });
  after(() => t.close());

  test('a signup spike, the identify calls and the trials it brings: one incident, the sign-ups first (the cause) and in the title', async () => {
    const from = spikeFrom();
    const r = await detect(from + 4 * HOUR, from - 4 * HOUR);
    const signals = (await t.ctx.signals.list(t.project, { fromMs: from - 4 * HOUR, toMs: from + 4 * HOUR, limit: 50 })).signals;
    const scopes = signals.map((s) => s.scopeKey);
    assert.ok(
      ['event:Signed Up', 'event:$identify', 'event:Trial Started'].every((e) => scopes.includes(e)),
      JSON.stringify(signals.map((s) => [s.scopeKey, s.kind, s.bucket, s.value, s.expected])),
    );
    const incidents = await incidentsBetween(from - 4 * HOUR, from + 4 * HOUR);
    assert.equal(
      incidents.length,
      1,
      `one incident for one spike: ${JSON.stringify(incidents.map((i) => i.title))} (${JSON.stringify(r)})`,
    );
    const d = await t.ctx.incidents.detail(t.project, incidents[0].id);
    assert.equal(d.signals[0].role, 'root');
    assert.equal(d.signals[0].signal.scopeKey, 'event:Signed Up');
    assert.match(d.incident.title, /^event Signed Up volume rose \d+% above expected$/);
    const trials = d.signals.find((s) => s.signal.scopeKey === 'event:Trial Started');
    assert.ok(trials, 'the trials joined');
    assert.equal(trials.role, 'related');
    const joined = d.timeline.find((e) => e.type === 'signal_added' && e.data.scopeKey === 'event:Trial Started')!;
    assert.ok(joined.data.via === 'co_moving' || joined.data.via === 'correlation', JSON.stringify(joined.data));
    assert.ok(Number(joined.data.r) >= 0.6, JSON.stringify(joined.data));
    assert.equal(d.signals.find((s) => s.signal.scopeKey === 'event:$identify')?.role, 'related', 'the copy joined, and is not the root');
    // each signal explains itself
    assert.match(
      d.signals[0].explanation.sentence,
      /^Signed Up: \d+ events in the hour against [\d.]+ expected \(band [\d.]+–[\d.]+, .+\); .*above the band: /,
    );
  });

  test("an outage of everything: one incident rooted at the project's total volume, resolved when the total is healthy again", async () => {
    const from = outageFrom();
    await detect(from + 3 * HOUR, from - 8 * HOUR);
    const total = (await t.ctx.signals.list(t.project, { scope: 'volume', fromMs: from - 2 * HOUR, toMs: from + 3 * HOUR, limit: 10 }))
      .signals;
    assert.equal(total.length, 1, JSON.stringify(total));
    assert.equal(total[0].scopeKey, 'volume:total');
    assert.equal(total[0].direction, 'down');
    const incidents = await incidentsBetween(from - 2 * HOUR, from + 3 * HOUR);
    assert.equal(incidents.length, 1, JSON.stringify(incidents.map((i) => i.title)));
    const [incident] = incidents;
    assert.equal(incident.scopeKey, 'volume:total');
    assert.match(incident.title, /^project event volume (outage|dropped \d+% below expected)$/);
    assert.equal(incident.status, 'open');
    const d = await t.ctx.incidents.detail(t.project, incident.id);
    assert.deepEqual(d.signals.map((s) => s.signal.scopeKey).slice(0, 1), ['volume:total']);
    const events = d.signals
      .slice(1)
      .map((s) => s.signal.scopeKey)
      .sort();
    assert.ok(
      ['event:Page Viewed', 'event:Order Completed', 'event:Trial Started'].every((e) => events.includes(e)),
      JSON.stringify(events),
    );
    assert.ok(d.signals.slice(1).every((s) => s.role === 'related'));
    assert.match(d.signals[0].explanation.sentence, /^project event volume: \d+ events in the hour against [\d.K]+ expected/);

    // the total scored healthy for 3 hours after its last flagged one: recovered
    await detect(from + 8 * HOUR, from + 3 * HOUR);
    const after = await t.ctx.incidents.detail(t.project, incident.id);
    assert.equal(after.incident.status, 'resolved');
    assert.equal(after.incident.resolution, 'recovered');
  });
});

describe("incidents: the demo's signup spike", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  test('Signed Up and the $identify call every sign-up makes are never two incidents', async () => {
    // (before co-moving grouping, the spike opened one incident for each)
    // seed 2 to this end: today's detector flags Signed Up, the signups metric and $identify together
    const demo = await seedDemo(t.ctx, { days: 30, seed: 2, endMs: Math.min(Date.UTC(2026, 10, 20), Date.now()) });
    const spike = demo.incidents.find((i) => i.name === 'signup spike')!;
    const touching = [];
    for (const i of (await t.ctx.incidents.list(demo.project, { limit: 500 })).incidents) {
      if (i.lastBucket < spike.startMs - HOUR || i.startedBucket >= spike.endMs + HOUR) continue;
      const d = await t.ctx.incidents.detail(demo.project, i.id);
      const scopes = d.signals.map((s) => s.signal.scopeKey);
      if (scopes.includes('event:Signed Up') || scopes.includes('event:$identify')) touching.push([i.title, scopes]);
    }
    // whether the detector flags the spike at all depends on the draw (issue 17, part 1); when it does, it is one incident
    assert.ok(touching.length <= 1, JSON.stringify(touching));
    const flagged = new Set(
      (
        await t.ctx.signals.list(demo.project, { scope: 'event', fromMs: spike.startMs - HOUR, toMs: spike.endMs + HOUR, limit: 50 })
      ).signals.map((s) => s.scopeKey),
    );
    if (flagged.has('event:Signed Up') && flagged.has('event:$identify'))
      assert.equal(touching.length, 1, 'both flagged: one incident holds both');
    for (const [title, scopes] of touching as [string, string[]][]) {
      if (scopes.includes('event:Signed Up'))
        assert.notEqual(scopes[0], 'event:$identify', `the sign-ups lead, not the identify calls: ${JSON.stringify(scopes)}`);
      assert.doesNotMatch(title, /\$identify/);
    }
  });
});
