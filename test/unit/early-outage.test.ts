/** Early outage detection on the hour in progress (src/signals/volume/early-outage.ts), over an in-memory event store. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EarlyOutageDetector, expectedBetween, judgeSoFar, poissonLowerTail } from '../../src/signals/volume/early-outage.js';
import { resolveDetection, type SettlingFallback } from '../../src/signals/settings.js';
import type { EventCountsQuery, EventStore } from '../../src/storage/events/event-store.js';
import type { SignalService } from '../../src/signals/service.js';
import type { SignalInput } from '../../src/signals/store.js';
import type { Project } from '../../src/projects/service.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const H = Date.UTC(2026, 10, 20, 13);
const project = { id: 1, slug: 'shop', timeZone: 'UTC' } as Project;

/** eventCounts over timestamps held in memory (UTC slots: floor to the grain). */
function memoryEvents(events: Map<string, number[]>): EventStore {
  return {
    async eventCounts(q: EventCountsQuery) {
      const rows = [];
      const totals: [string, number][] = [];
      for (const [event, stamps] of events) {
        const inside = stamps.filter((t) => t >= q.fromMs && t < q.toMs);
        if (inside.length) totals.push([event, inside.length]);
      }
      const top = new Set(
        totals
          .sort((a, b) => b[1] - a[1])
          .slice(0, q.limit)
          .map(([e]) => e),
      );
      for (const event of top) {
        const bySlot = new Map<number, number>();
        for (const t of events.get(event)!)
          if (t >= q.fromMs && t < q.toMs)
            bySlot.set(Math.floor(t / q.grainMs) * q.grainMs, (bySlot.get(Math.floor(t / q.grainMs) * q.grainMs) ?? 0) + 1);
        for (const [slotMs, count] of bySlot) rows.push({ event, slotMs, count });
      }
      return rows;
    },
  } as EventStore;
}

function detector(events: Map<string, number[]>, now: number, lateness: SettlingFallback) {
  const raised: SignalInput[] = [];
  const signals = {
    resolve: async () => resolveDetection({}, {}, lateness),
    settlingFallback: async () => lateness,
    upsert: async (_p: number, s: SignalInput[]) => {
      raised.push(...s);
      return { inserted: s.length, updated: 0 };
    },
  } as unknown as SignalService;
  return { d: new EarlyOutageDetector({ events: memoryEvents(events), signals, now: () => now }), raised };
}

/** 120 Order Completed an hour (one every 30 s) for 5 days before `until`, and 300 Page Viewed an hour up to `pagesUntil`. */
function traffic(until: number, pagesUntil: number, days = 5): Map<string, number[]> {
  const orders: number[] = [];
  const pages: number[] = [];
  for (let t = H - days * 24 * HOUR + 15_000; t < Math.max(until, pagesUntil); t += 30_000) if (t < until) orders.push(t);
  for (let t = H - days * 24 * HOUR + 6_000; t < pagesUntil; t += 12_000) pages.push(t);
  return new Map([
    ['Order Completed', orders],
    ['Page Viewed', pages],
  ]);
}

describe('early outage detection', () => {
  test('the Poisson lower tail and the verdict', () => {
    assert.ok(Math.abs(poissonLowerTail(0, 5) - Math.exp(-5)) < 1e-12);
    assert.ok(Math.abs(poissonLowerTail(2, 20) - Math.exp(-20) * (1 + 20 + 200)) < 1e-15);
    assert.equal(poissonLowerTail(5, 0), 1);
    assert.equal(judgeSoFar(2, 20).outage, true, '2 of 20 expected');
    assert.equal(judgeSoFar(2, 19).outage, false, 'fewer than 20 expected: too few to tell');
    assert.equal(judgeSoFar(8, 30).outage, false, 'more than a quarter');
    assert.equal(judgeSoFar(2, 20, 3).outage, false, 'a dispersed event is judged in units of its dispersion');
  });

  test('what some minutes expect, across the hour boundary', () => {
    const e = { previous: 60, current: 120, dispersion: 1 };
    assert.equal(expectedBetween(e, H, H + 10 * MINUTE, H + 20 * MINUTE), 20);
    assert.equal(expectedBetween(e, H, H - 30 * MINUTE, H + 30 * MINUTE), 30 + 60);
    assert.equal(expectedBetween({ ...e, previous: null }, H, H - 30 * MINUTE, H), null);
  });

  test('traffic that stops at 13:20 is an outage by 13:31; the steady event beside it is not', async () => {
    const { d, raised } = detector(traffic(H + 20 * MINUTE, H + HOUR), H + 31 * MINUTE, { minutes: 120, source: 'default' });
    const r = await d.check(project);
    assert.equal(r.raised, 1);
    assert.deepEqual(
      raised.map((s) => [s.scopeKey, s.kind, s.direction, s.bucket, s.severity]),
      [['event:Order Completed', 'outage', 'down', H, 'critical']],
    );
    assert.equal(raised[0].details.windowMinutes, 10);
    // raised once per event and hour
    assert.equal((await d.check(project)).raised, 0);
  });

  test('an event with less than 3 days of history is not watched early (its baseline has no daily rhythm yet)', async () => {
    const { d } = detector(traffic(H + 20 * MINUTE, H + HOUR, 2), H + 40 * MINUTE, { minutes: 120, source: 'default' });
    assert.equal((await d.check(project)).raised, 0);
  });

  test('steady traffic raises nothing', async () => {
    const { d } = detector(traffic(H + HOUR, H + HOUR), H + 40 * MINUTE, { minutes: 120, source: 'default' });
    assert.equal((await d.check(project)).raised, 0);
  });

  test('events that arrive in 15-minute batches are not missing ones when their lateness is observed', async () => {
    // at 13:44 the events after 13:30 have not arrived yet
    const late = traffic(H + 30 * MINUTE, H + 30 * MINUTE);
    assert.equal((await detector(late, H + 44 * MINUTE, { minutes: 15, source: 'observed' }).d.check(project)).raised, 0);
    // without the observed lateness the same counts would read as an outage
    assert.equal((await detector(late, H + 44 * MINUTE, { minutes: 120, source: 'default' }).d.check(project)).raised, 2);
  });
});
