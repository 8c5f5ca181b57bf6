import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demoIncidents, estimateDemoEventCount, generateDemoTraffic, type DemoEvent, type DemoOptions } from '../../src/demo/traffic.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
// Deliberately not on an hour boundary.
const opts: DemoOptions = { endMs: Date.UTC(2024, 5, 15, 9, 30) };
const startMs = opts.endMs - 30 * DAY;

const events: DemoEvent[] = [...generateDemoTraffic(opts)];
const ms = (e: DemoEvent) => Date.parse(e.timestamp);

function take(n: number, o: DemoOptions): DemoEvent[] {
  const out: DemoEvent[] = [];
  for (const e of generateDemoTraffic(o)) {
    out.push(e);
    if (out.length === n) break;
  }
  return out;
}

function countIn(fromMs: number, toMs: number, pred: (e: DemoEvent) => boolean = () => true): number {
  let n = 0;
  for (const e of events) {
    const t = ms(e);
    if (t >= fromMs && t < toMs && pred(e)) n++;
  }
  return n;
}

const isTrack = (name: string) => (e: DemoEvent) => e.type === 'track' && e.event === name;

function incident(name: string) {
  const found = demoIncidents(opts).find((i) => i.name === name);
  assert.ok(found, `incident ${name} is listed`);
  return found;
}

test('same seed gives the same events, another seed does not', () => {
  const a = take(1000, opts);
  assert.equal(a.length, 1000);
  assert.deepEqual(a, take(1000, { ...opts }));
  assert.deepEqual(a, events.slice(0, 1000));
  assert.notDeepEqual(a, take(1000, { ...opts, seed: 7 }));
});

test('timestamps are ISO UTC, non-decreasing and inside [endMs - days, endMs)', () => {
  let prev = -Infinity;
  for (const e of events) {
    assert.match(e.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const t = ms(e);
    assert.ok(t >= prev, `out of order at ${e.messageId}`);
    assert.ok(t >= startMs && t < opts.endMs, `outside window: ${e.timestamp}`);
    prev = t;
  }
  const short = [...generateDemoTraffic({ endMs: opts.endMs, days: 1, seed: 3 })];
  assert.ok(short.length > 0);
  assert.ok(short.every((e) => ms(e) >= opts.endMs - DAY && ms(e) < opts.endMs));
});

test('messageIds are unique and derived from the seed', () => {
  assert.equal(new Set(events.map((e) => e.messageId)).size, events.length);
  assert.ok(events.every((e) => e.messageId.startsWith('demo-42-')));
});

test('events have the Segment shape for their type', () => {
  for (const e of events.slice(0, 20_000)) {
    assert.ok(e.anonymousId.length > 0);
    assert.deepEqual(e.context.library, { name: 'analytics.js', version: '5.2.0' });
    assert.ok(e.context.userAgent.startsWith('Mozilla/5.0'));
    assert.ok(e.context.sessionId && e.context.location?.country);
    if (e.type === 'page') assert.ok(e.name && e.context.page?.path.startsWith('/'));
    if (e.type === 'track') assert.ok(e.event);
    if (e.type === 'identify') {
      assert.match(e.userId ?? '', /^user_\d+$/);
      assert.equal(e.traits?.email, `${e.userId}@example.com`);
      assert.ok(['free', 'pro', 'team'].includes(e.traits?.plan as string));
    }
    if (e.event === 'Order Completed') {
      assert.equal(e.properties?.currency, 'USD');
      assert.equal(typeof e.properties?.revenue, 'number');
    }
  }
  const known = events.filter((e) => e.userId).length / events.length;
  assert.ok(known > 0.15 && known < 0.5, `share of events from known users: ${known}`);
  for (const name of ['Product Viewed', 'Product Added', 'Checkout Started', 'Order Completed', 'Signed Up', 'Search', 'Error Shown']) {
    assert.ok(events.some(isTrack(name)), `has ${name}`);
  }
});

test('total volume is in the documented range and close to the estimate', () => {
  const estimate = estimateDemoEventCount(opts);
  assert.ok(events.length >= 150_000 && events.length <= 300_000, `total ${events.length}`);
  assert.ok(Math.abs(events.length - estimate) / estimate <= 0.3, `total ${events.length} vs estimate ${estimate}`);
  const small = [...generateDemoTraffic({ ...opts, scale: 0.1 })].length;
  assert.ok(small > events.length * 0.05 && small < events.length * 0.15, `scale 0.1 gave ${small}`);
});

test('clear day/night rhythm', () => {
  const byHour = new Array<number>(24).fill(0);
  for (const e of events) byHour[new Date(e.timestamp).getUTCHours()]++;
  const afternoon = byHour.slice(13, 17).reduce((a, b) => a + b, 0);
  const night = byHour.slice(1, 5).reduce((a, b) => a + b, 0);
  assert.ok(afternoon >= 2 * night, `13-17 UTC: ${afternoon}, 01-05 UTC: ${night}`);
});

test('weekends are quieter than weekdays', () => {
  const weekday: number[] = [];
  const weekend: number[] = [];
  for (let d = Math.ceil(startMs / DAY) * DAY; d + DAY <= opts.endMs; d += DAY) {
    const dow = new Date(d).getUTCDay();
    (dow === 0 || dow === 6 ? weekend : weekday).push(countIn(d, d + DAY));
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.ok(weekend.length >= 6 && weekday.length >= 15);
  assert.ok(mean(weekend) < 0.8 * mean(weekday), `weekend ${mean(weekend)} vs weekday ${mean(weekday)}`);
});

test('incidents are placed relative to endMs', () => {
  const list = demoIncidents(opts);
  assert.deepEqual(list.map((i) => i.name).sort(), ['checkout drop', 'error burst', 'signup spike']);
  for (const i of list) {
    assert.ok(i.startMs >= startMs + WEEK && i.endMs <= opts.endMs, `${i.name} fits with a week of history before it`);
    assert.ok(i.description.length > 0);
  }
  const hoursBeforeEnd = (name: string) => (opts.endMs - incident(name).startMs) / HOUR;
  assert.ok(Math.abs(hoursBeforeEnd('checkout drop') - 4 * 24) <= 24);
  assert.ok(Math.abs(hoursBeforeEnd('signup spike') - 9 * 24) <= 24);
  assert.ok(Math.abs(hoursBeforeEnd('error burst') - 2 * 24) <= 24);
  assert.equal(demoIncidents({ endMs: opts.endMs, days: 3 }).length, 1, 'only the error burst fits in 3 days');
});

function compareWithWeekBefore(name: string, event: string) {
  const { startMs: from, endMs: to } = incident(name);
  const during = countIn(from, to, isTrack(event));
  const before = countIn(from - WEEK, to - WEEK, isTrack(event));
  return { during, before, hours: (to - from) / HOUR };
}

test('checkout drop: Order Completed falls below 30% of the week before', () => {
  const { during, before, hours } = compareWithWeekBefore('checkout drop', 'Order Completed');
  assert.ok(before / hours >= 2, `baseline too thin to judge: ${before} in ${hours}h`);
  assert.ok(during < 0.3 * before, `during ${during} vs week before ${before}`);
});

test('signup spike: Signed Up above 3x the week before', () => {
  const { during, before } = compareWithWeekBefore('signup spike', 'Signed Up');
  assert.ok(before > 0);
  assert.ok(during > 3 * before, `during ${during} vs week before ${before}`);
});

test('error burst: Error Shown above 5x the week before', () => {
  const { during, before } = compareWithWeekBefore('error burst', 'Error Shown');
  assert.ok(before > 0);
  assert.ok(during > 5 * before, `during ${during} vs week before ${before}`);
});
