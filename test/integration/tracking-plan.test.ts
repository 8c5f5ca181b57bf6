/**
 * The tracking plan as a person reads it: per-day volumes, properties with their types, coverage
 * and values, from the daily profiles the drift check keeps (each ended, settled day profiled once
 * and stored) plus today's running profile, refreshed at most once a minute.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { basic, getJson, postJson, startTestApp, type TestApp } from '../helpers/app.js';
import { RUNNING_DAY_TTL_MS } from '../../src/signals/drift/running-day-profile.js';

const DAY = 86_400_000;

describe('tracking plan', () => {
  let t: TestApp;
  /** added to the real clock: lets the test step past the running day's minute */
  let shift = 0;
  const today = Math.floor(Date.now() / DAY) * DAY;
  let sent = 0;

  const send = async (event: string, atMs: number, properties: Record<string, unknown>, n: number) => {
    const batch = Array.from({ length: n }, () => ({
      type: 'track',
      event,
      userId: `u${sent % 7}`,
      messageId: `m-${sent++}`,
      timestamp: new Date(atMs).toISOString(),
      properties,
    }));
    const r = await postJson(`${t.url}/v1/batch`, { batch }, basic(t.writeKey));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await t.ctx.flush();
  };
  const plan = async () => {
    const r = await getJson(`${t.url}/api/projects/shop/tracking-plan?days=7`, t.readKey);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body as {
      days: string[];
      events: {
        event: string;
        count: number;
        daily: number[];
        firstSeen: string | null;
        properties: {
          name: string;
          type: string;
          coverage: number;
          types: Record<string, number>;
          values: { value: string; count: number }[] | null;
        }[];
      }[];
    };
  };
  const eventOf = (p: Awaited<ReturnType<typeof plan>>, name: string) => p.events.find((e) => e.event === name)!;
  // a moment of today that has passed (the test may run in the first seconds of a UTC day)
  const earlierToday = () => Math.max(today, Date.now() - 1000);

  before(async () => {
    t = await startTestApp({ now: () => Date.now() + shift });
    await send('Order Completed', today - 3 * DAY + 10 * 3_600_000, { plan: 'pro', total: 10 }, 4);
    await send('Order Completed', today - 2 * DAY + 10 * 3_600_000, { plan: 'free' }, 2);
    await send('Signed Up', today - 2 * DAY + 11 * 3_600_000, { plan: 'free', referrer: null }, 3);
    await send('Order Completed', earlierToday(), { plan: 'team', total: '12' }, 5);
  });
  after(() => t.close());

  test('volumes per day, properties with types, coverage and values', async () => {
    const p = await plan();
    assert.equal(p.days.length, 7);
    assert.equal(Date.parse(p.days[6]), today);
    const orders = eventOf(p, 'Order Completed');
    assert.deepEqual(orders.daily, [0, 0, 0, 4, 2, 0, 5]);
    assert.equal(orders.count, 11);
    assert.equal(Date.parse(orders.firstSeen!), today - 3 * DAY);
    const plan_ = orders.properties.find((x) => x.name === 'plan')!;
    assert.deepEqual([plan_.type, plan_.coverage], ['string', 1]);
    assert.deepEqual(plan_.values, [
      { value: 'team', count: 5 },
      { value: 'pro', count: 4 },
      { value: 'free', count: 2 },
    ]);
    const total = orders.properties.find((x) => x.name === 'total')!;
    assert.deepEqual(total.types, { number: 4, string: 5 });
    assert.equal(total.type, 'string', 'the most frequent type');
    assert.equal(total.coverage, 9 / 11);
    assert.deepEqual(eventOf(p, 'Signed Up').daily, [0, 0, 0, 0, 3, 0, 0]);
    assert.equal(p.events[0].event, 'Order Completed', 'busiest first');
  });

  test('ended, settled days are profiled once and stored; today is not', async () => {
    const rows = await t.ctx.meta.db
      .selectFrom('event_profiles')
      .select(['day', 'events'])
      .where('project_id', '=', t.project.id)
      .execute();
    const stored = new Map(rows.map((r) => [Number(r.day), Number(r.events)]));
    assert.equal(stored.get(today - 3 * DAY), 4);
    assert.equal(stored.get(today - 2 * DAY), 5);
    assert.equal(stored.has(today), false, 'today is still running');
  });

  test("today's new events show within a minute", async () => {
    await send('Order Completed', earlierToday(), { plan: 'team' }, 3);
    assert.equal(eventOf(await plan(), 'Order Completed').daily[6], 5, "today's profile is reused within its minute");
    shift += RUNNING_DAY_TTL_MS;
    assert.equal(eventOf(await plan(), 'Order Completed').daily[6], 8);
  });
});
