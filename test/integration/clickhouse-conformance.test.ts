/**
 * Conformance of the two event stores: the same segments loaded into DuckDB and into ClickHouse,
 * then every read of the EventStore interface asked the same questions, which must get the same
 * answers (floating-point sums to 1e-9 relative). The data is awkward on purpose: local buckets
 * across DST changes, half-hour zones, names with quotes and backslashes, properties of every
 * JSON type, numbers as text, nulls, Unicode, and identify calls over two segments.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { DuckDbEventStore } from '../../src/storage/events/duckdb.js';
import { ClickHouseEventStore } from '../../src/storage/events/clickhouse.js';
import { dropClickHouseDatabase } from '../../src/storage/events/clickhouse-schema.js';
import type { EventRow, EventStore, MetricScanQuery, ScanColumn } from '../../src/storage/events/event-store.js';
import { slotsFor } from '../../src/time/slots.js';
import type { Interval } from '../../src/time/time.js';
import { clickhouseSkip, tempDir, testClickHouseUrl } from '../helpers/app.js';
import { observedSettling } from '../../src/signals/lateness.js';

const HOUR = 3_600_000;
const FROM = Date.parse('2026-03-27T00:00:00Z');
const TO = Date.parse('2026-03-31T00:00:00Z');

function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function dataset(): EventRow[][] {
  const next = random(7);
  const pick = <T>(xs: T[]) => xs[Math.floor(next() * xs.length)];
  const events = ['Signed Up', 'Order Completed', "O'Brien's \\ event", 'Page Viewed', 'Ünïcødé 😀'];
  const rows: EventRow[] = [];
  for (let i = 0; i < 3000; i++) {
    const user = `u${Math.floor(next() * 80)}`;
    const props: Record<string, unknown> = {
      plan: pick(['free', 'pro', 'team', null, "o'brien", 'a\\b']),
      amount: pick([1, 2.5, 10, 99.99, -3, '42', 'n/a', null, 1e6]),
      flag: pick([true, false]),
      nested: pick([{ plan: 'nested-should-not-match' }, [1, 2], 'x']),
      $lib: 'sdk',
    };
    if (next() < 0.1) delete props.plan;
    if (next() < 0.05) props[`rare_${i % 7}`] = i;
    rows.push({
      project_id: next() < 0.9 ? 1 : 2,
      message_id: `m${String(i).padStart(5, '0')}`,
      type: 'track',
      event: pick(events),
      anonymous_id: null,
      user_id: user,
      distinct_id: user,
      session_id: next() < 0.8 ? `s${Math.floor(next() * 200)}` : null,
      timestamp: FROM - 6 * HOUR + Math.floor(next() * (TO - FROM + 12 * HOUR)),
      received_at: TO + i,
      properties: props,
      context: { ip: '1.2.3.4' },
      page_path: pick(['/', '/pricing', null]),
      referrer_host: null,
      app_version: pick(['1.0', '1.1', null]),
      platform: 'web',
      os: pick(['Linux', 'iOS', null]),
      browser: null,
      device_type: null,
      country: pick(['DE', 'FR', 'US', 'IN', null]),
      ip_hash: 'h',
    });
  }
  // identify calls, over two segments, out of order
  const identify = (i: number, ts: number, traits: Record<string, unknown>): EventRow => ({
    ...rows[0],
    project_id: 1,
    message_id: `id${i}`,
    type: 'identify',
    event: '$identify',
    user_id: 'u1',
    distinct_id: 'u1',
    timestamp: ts,
    properties: traits,
  });
  const first = [
    ...rows.slice(0, 1500),
    identify(1, FROM + HOUR, { a: 1, plan: 'free' }),
    identify(2, FROM + 3 * HOUR, { plan: 'pro', nested: { x: 1, y: 2 } }),
  ];
  const second = [...rows.slice(1500), identify(3, FROM + 2 * HOUR, { b: 2, nested: { y: null } })];
  return [first, second];
}

const close = (a: unknown, b: unknown, where: string): void => {
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isNaN(a) && Number.isNaN(b)) return;
    assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b)), `${where}: ${a} != ${b}`);
  } else if (Array.isArray(a) && Array.isArray(b)) {
    assert.equal(a.length, b.length, `${where}: length ${a.length} != ${b.length}`);
    a.forEach((x, i) => close(x, b[i], `${where}[${i}]`));
  } else if (a && b && typeof a === 'object' && typeof b === 'object') {
    assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort(), where);
    for (const k of Object.keys(a)) close((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${where}.${k}`);
  } else assert.deepEqual(a, b, where);
};

describe('DuckDB and ClickHouse give the same answers', async () => {
  const skip = await clickhouseSkip();
  let dir: string;
  let duck: DuckDbEventStore;
  let ch: ClickHouseEventStore;
  let url: string;
  const both = async <T>(read: (s: EventStore) => Promise<T>, where: string) => {
    const [a, b] = await Promise.all([read(duck), read(ch)]);
    close(a, b, where);
    return a;
  };

  before(async () => {
    if (skip) return;
    dir = tempDir('vigil-conformance-');
    url = testClickHouseUrl('vigil_conformance');
    duck = await DuckDbEventStore.open({ file: path.join(dir, 'events.duckdb') });
    ch = await ClickHouseEventStore.open({ url });
    for (const [i, rows] of dataset().entries()) {
      const file = path.join(dir, `seg-${i}.ndjson`);
      fs.writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
      const [a, b] = [await duck.loadSegment({ id: `seg-${i}`, path: file }), await ch.loadSegment({ id: `seg-${i}`, path: file })];
      assert.equal(b, a);
    }
  });
  after(async () => {
    if (skip) return;
    await duck?.close();
    await ch?.close();
    await dropClickHouseDatabase(url);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('segments load once; a segment half-inserted before a crash is completed, not doubled', { skip }, async () => {
    const file = path.join(dir, 'seg-0.ndjson');
    assert.equal(await ch.loadSegment({ id: 'seg-0', path: file }), 0);
    assert.equal(await ch.isSegmentLoaded('seg-0'), true);
    assert.equal(await ch.isSegmentLoaded('never'), false);
    // a crash after some rows of seg-x were stored and before it was recorded
    const rows = dataset()[0]
      .slice(0, 40)
      .map((r) => ({ ...r, project_id: 3 }));
    const partial = path.join(dir, 'seg-x.ndjson');
    fs.writeFileSync(
      partial,
      rows
        .slice(0, 15)
        .map((r) => JSON.stringify(r))
        .join('\n') + '\n',
    );
    await ch.loadSegment({ id: 'seg-x', path: partial });
    await ch.rawQuery("ALTER TABLE loaded_segments DELETE WHERE id = 'seg-x'");
    await new Promise((r) => setTimeout(r, 300));
    fs.writeFileSync(partial, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    assert.equal(await ch.loadSegment({ id: 'seg-x', path: partial }), 40);
    const all = { projectId: 3, fromMs: 0, toMs: TO + 100 * HOUR };
    assert.equal((await ch.totals(all)).events, 40);
    // a crash after all rows were stored: recorded, nothing added
    await ch.rawQuery("ALTER TABLE loaded_segments DELETE WHERE id = 'seg-x'");
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await ch.loadSegment({ id: 'seg-x', path: partial }), 0);
    assert.equal((await ch.totals(all)).events, 40);
  });

  test('totals, top events, lists (with a cursor), export, traits, message ids', { skip }, async () => {
    for (const projectId of [1, 2]) {
      const w = { projectId, fromMs: FROM, toMs: TO };
      await both((s) => s.totals(w), `totals ${projectId}`);
      await both((s) => s.topEvents({ ...w, limit: 3 }), `top events ${projectId}`);
    }
    const page = await both((s) => s.listEvents({ projectId: 1, limit: 25 }), 'list');
    const last = page[page.length - 1] as EventRow;
    await both(
      (s) => s.listEvents({ projectId: 1, limit: 25, before: { timestamp: last.timestamp, messageId: last.message_id } }),
      'list after a cursor',
    );
    await both((s) => s.listEvents({ projectId: 1, limit: 100, userId: 'u3', event: "O'Brien's \\ event" }), 'list by user and event');
    const exported = async (s: EventStore) => {
      const out: EventRow[] = [];
      for await (const rows of s.exportEvents({ projectId: 1, fromMs: FROM, toMs: TO })) out.push(...rows);
      return out;
    };
    const rows = await both(exported, 'export');
    assert.ok(rows.length > 2000);
    await both((s) => s.userTraits(1, 'u1'), 'traits');
    // merged in event time: the second segment's call (hour 2) comes between the first's two
    assert.deepEqual(await ch.userTraits(1, 'u1'), { a: 1, plan: 'pro', nested: { x: 1, y: 2 }, b: 2 });
    await both((s) => s.userTraits(1, 'nobody'), 'no traits');
    const ids = async (s: EventStore) => {
      const out: string[] = [];
      // project 3 is the ClickHouse-only crash test above
      for await (const batch of s.recentMessageIds(TO)) for (const [p, m] of batch) if (Number(p) !== 3) out.push(`${p}/${m}`);
      return out.sort();
    };
    await both(ids, 'recent message ids');
  });

  test('lateness: the p99 of received − event time, and none without events', { skip }, async () => {
    for (const projectId of [1, 2]) {
      const [d, c] = [await duck.lateness({ projectId, sinceMs: 0 }), await ch.lateness({ projectId, sinceMs: 0 })];
      assert.equal(c.events, d.events, `events of project ${projectId}`);
      // both interpolate; ClickHouse's is exact up to 8192 rows, a reservoir sample beyond
      assert.ok(Math.abs(c.p99Ms! - d.p99Ms!) <= 0.01 * Math.abs(d.p99Ms!), `p99 ${c.p99Ms} against ${d.p99Ms}`);
      assert.deepEqual(observedSettling(c), observedSettling(d));
    }
    await both((s) => s.lateness({ projectId: 1, sinceMs: TO + 1e9 }), 'lateness without events');
  });

  const intervals: [string, Interval][] = [
    ['UTC', '1h'],
    ['Europe/Berlin', '1h'],
    ['Europe/Berlin', '1d'],
    ['Asia/Kolkata', '15m'],
    ['America/St_Johns', '6h'],
    ['Europe/Berlin', '1w'],
  ];
  for (const [tz, interval] of intervals) {
    test(`time series, event counts and metric scans in ${tz}, ${interval} buckets`, { skip }, async () => {
      for (const additive of [true, false]) {
        const { spec } = slotsFor(tz, interval, FROM, TO, additive);
        const w = { projectId: 1, fromMs: FROM, toMs: TO, ...spec };
        for (const measure of ['events', 'users', 'sessions'] as const) {
          await both((s) => s.timeseries({ ...w, measure, limit: 3 }), `${measure}`);
          await both(
            (s) => s.timeseries({ ...w, measure, limit: 2, event: 'Order Completed', breakdown: { property: 'plan' } }),
            `${measure} by plan`,
          );
          await both((s) => s.timeseries({ ...w, measure, limit: 2, breakdown: { column: 'country' } }), `${measure} by country`);
        }
        await both((s) => s.eventCounts({ ...w, limit: 4 }), 'event counts');
        await both((s) => s.metricScan(scanQuery(w)), 'metric scan');
      }
    });
  }

  test('schema profiles and value shares', { skip }, async () => {
    const w = { projectId: 1, fromMs: FROM, toMs: TO };
    for (const [maxEvents, maxProperties, maxValues] of [
      [10, 10, 20],
      [2, 2, 3],
      [5, 1, 100],
    ]) {
      await both(
        (s) => s.schemaProfile({ ...w, maxEvents, maxProperties, maxValues }),
        `schema profile ${maxEvents}/${maxProperties}/${maxValues}`,
      );
    }
    for (const [property, limit] of [
      ['plan', 2],
      ['plan', 10],
      ['amount', 3],
      ['flag', 5],
      ['nested', 5],
      ['missing', 3],
    ] as const) {
      await both((s) => s.valueShares({ ...w, event: 'Order Completed', property, limit }), `value shares of ${property}, ${limit}`);
    }
  });
});

/** Every aggregate, every filter op, breakdowns (some columns each), and an "other" exclusion. */
function scanQuery(w: {
  projectId: number;
  fromMs: number;
  toMs: number;
  grainMs: number;
  localOffsets?: { fromMs: number; offsetMs: number }[];
}): MetricScanQuery {
  const amount = { property: 'amount' };
  const columns: ScanColumn[] = [
    { filters: [], aggregate: { fn: 'events' } },
    { event: 'Order Completed', filters: [], aggregate: { fn: 'users' } },
    { event: 'Order Completed', filters: [], aggregate: { fn: 'sessions' } },
    ...(['count', 'sum', 'avg', 'min', 'max', 'count_distinct', 'p50', 'p90', 'p99'] as const).map((fn) => ({
      event: 'Order Completed',
      filters: [],
      aggregate: { fn, of: amount },
    })),
    { filters: [], aggregate: { fn: 'count_distinct', of: { column: 'country' } } },
    { filters: [{ dimension: { property: 'plan' }, op: 'eq', value: 'pro' }], aggregate: { fn: 'events' } },
    { filters: [{ dimension: { property: 'plan' }, op: 'neq', value: 'pro' }], aggregate: { fn: 'events' } },
    { filters: [{ dimension: { property: 'plan' }, op: 'in', value: ["o'brien", 'a\\b'] }], aggregate: { fn: 'events' } },
    { filters: [{ dimension: { property: 'plan' }, op: 'not_in', value: ['free', 'team'] }], aggregate: { fn: 'users' } },
    { filters: [{ dimension: { property: 'plan' }, op: 'contains', value: 'e' }], aggregate: { fn: 'events' } },
    { filters: [{ dimension: { property: 'amount' }, op: 'gt', value: 5 }], aggregate: { fn: 'sum', of: amount } },
    {
      filters: [
        { dimension: { property: 'amount' }, op: 'gte', value: 10 },
        { dimension: { property: 'amount' }, op: 'lt', value: 100 },
      ],
      aggregate: { fn: 'avg', of: amount },
    },
    { filters: [{ dimension: { property: 'amount' }, op: 'lte', value: 2.5 }], aggregate: { fn: 'events' } },
    { filters: [{ dimension: { property: 'amount' }, op: 'eq', value: 42 }], aggregate: { fn: 'events' } },
    { filters: [{ dimension: { property: 'flag' }, op: 'eq', value: true }], aggregate: { fn: 'events' } },
    { filters: [{ dimension: { property: 'plan' }, op: 'is_set' }], aggregate: { fn: 'events' } },
    {
      filters: [
        { dimension: { property: 'plan' }, op: 'is_not_set' },
        { dimension: { column: 'os' }, op: 'is_set' },
      ],
      aggregate: { fn: 'events' },
    },
    {
      filters: [{ dimension: { column: 'event' }, op: 'eq', value: "O'Brien's \\ event" }],
      aggregate: { fn: 'count', of: { property: 'nested' } },
    },
    { filters: [], aggregate: { fn: 'events' }, exclude: { dimension: { column: 'country' }, slots: [{ slotMs: 0, keys: ['x'] }] } },
  ];
  return {
    ...w,
    columns,
    breakdowns: [{ column: 'country' }, { property: 'plan' }],
    breakdownColumns: [
      [0, 1, 4, 9],
      [0, 3, 10],
    ],
  };
}
