/**
 * The SQL the DuckDB event store runs for its main reads, snapshotted so a change shows in review
 * (UPDATE_SNAPSHOTS=1 records it again), plus the rules that keep it safe: strings are bound as
 * parameters, integers are checked before they are inlined. A few reads run on an in-memory DuckDB.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  eventCountsSql,
  exportSql,
  int,
  latenessSql,
  listEventsSql,
  propertyPath,
  schemaProfileSql,
  segmentLoadSql,
  timeseriesSql,
  topEventsSql,
  totalsSql,
  valueSharesSql,
  type Sql,
} from '../../src/storage/events/duckdb-sql.js';
import { DuckDbEventStore } from '../../src/storage/events/duckdb.js';
import type { EventRow, TimeseriesQuery } from '../../src/storage/events/event-store.js';
import { profileEvents } from '../../src/detect/schema-drift.js';
import { foldProfile } from '../../src/signals/drift/drift.js';
import { SnapshotFile } from '../helpers/snapshot.js';
import { tempDir } from '../helpers/app.js';
import { BERLIN_SPANS, DAY, FROM, HOUR, TO, base } from '../helpers/sql-fixture.js';

const snapshots = new SnapshotFile(fileURLToPath(new URL('./__snapshots__/duckdb-sql.snap.txt', import.meta.url)));
const shown = (q: Sql) => `${q.sql}\n-- params: ${JSON.stringify(q.params)}`;

describe('SQL snapshots of the main reads', () => {
  after(() => snapshots.save());

  const cases: [string, Sql | (() => Sql)][] = [
    ['timeseries: all events, hourly UTC grain', timeseriesSql(base)],
    ['timeseries: one event', timeseriesSql({ ...base, event: 'Order Completed' })],
    ['timeseries: breakdown by a column', timeseriesSql({ ...base, breakdown: { column: 'country' }, limit: 5 })],
    [
      'timeseries: distinct users by a property, local days across a DST change',
      timeseriesSql({
        ...base,
        grainMs: DAY,
        localOffsets: BERLIN_SPANS,
        measure: 'users',
        breakdown: { property: 'plan' },
        event: 'Signed Up',
        limit: 3,
      }),
    ],
    [
      'timeseries: distinct sessions, local weeks (Monday origin)',
      timeseriesSql({ ...base, grainMs: 7 * DAY, localOffsets: BERLIN_SPANS, measure: 'sessions' }),
    ],
    [
      'timeseries: one constant local offset',
      timeseriesSql({ ...base, grainMs: DAY, localOffsets: [{ fromMs: FROM, offsetMs: 19_800_000 }], measure: 'users' }),
    ],
    ['totals', totalsSql({ projectId: 7, fromMs: FROM, toMs: TO })],
    ['top events', topEventsSql({ projectId: 7, fromMs: FROM, toMs: TO, limit: 20 })],
    ['list events: first page', listEventsSql({ projectId: 7, limit: 51 })],
    [
      'list events: event, user and cursor',
      listEventsSql({ projectId: 7, event: 'Signed Up', userId: 'u1', before: { timestamp: FROM + 1234, messageId: 'm-9' }, limit: 8 }),
    ],
    ['export', exportSql({ projectId: 7, fromMs: 0, toMs: TO })],
    ['segment load', { sql: Object.values(segmentLoadSql("/data/wal/it's.ndjson")).join(';\n'), params: [] }],
    [
      'schema profile of a day',
      schemaProfileSql({ projectId: 7, fromMs: FROM, toMs: FROM + DAY, maxEvents: 200, maxProperties: 100, maxValues: 20 }),
    ],
    [
      'event counts: hourly, local offsets',
      eventCountsSql({
        projectId: 7,
        fromMs: FROM,
        toMs: TO,
        grainMs: HOUR,
        localOffsets: [{ fromMs: FROM, offsetMs: 19_800_000 }],
        limit: 50,
      }),
    ],
    [
      'value shares of a property',
      valueSharesSql({ projectId: 7, fromMs: FROM, toMs: FROM + DAY, event: 'Signed Up', property: 'plan', limit: 20 }),
    ],
    ['lateness of the events received in a day', latenessSql({ projectId: 7, sinceMs: FROM })],
  ];
  for (const [name, q] of cases) {
    test(name, () => snapshots.check(name, shown(typeof q === 'function' ? q() : q)));
  }

  test('every stored snapshot is still produced', () => {
    assert.deepEqual(snapshots.unchecked(), [], 'stored snapshots no query produces any more: remove them with UPDATE_SNAPSHOTS=1');
  });
});

describe('what the builders guarantee', () => {
  const awkward = ['we"ird.na\'me', "x'); DROP TABLE events; --", 'a.b.c', '$.["plan"]', 'back\\slash'];

  for (const property of awkward) {
    test(`a property name (${JSON.stringify(property)}) is bound as a parameter, never written into the SQL`, () => {
      const q = timeseriesSql({ ...base, breakdown: { property }, event: property });
      assert.ok(!q.sql.includes(property), q.sql);
      assert.ok(!q.sql.includes(JSON.stringify(property)), q.sql);
      assert.deepEqual(q.params, [property, propertyPath(property)]);
      assert.match(q.sql, /event = \$1/);
      assert.match(q.sql, /json_extract_string\(properties, \$2\)/);
    });
  }

  test('an event or user filter is bound too', () => {
    const evil = "'; DELETE FROM events; --";
    for (const q of [
      listEventsSql({ projectId: 1, event: evil, userId: evil, before: { timestamp: 5, messageId: evil }, limit: 5 }),
      timeseriesSql({ ...base, event: evil }),
    ]) {
      assert.ok(!q.sql.includes(evil), q.sql);
      assert.ok(q.params.every((p) => p === evil));
    }
  });

  test('propertyPath takes the whole name as one key (a JSON Pointer)', () => {
    assert.equal(propertyPath('plan'), '/plan');
    assert.equal(propertyPath('a.b'), '/a.b');
    assert.equal(propertyPath('we"ird'), '/we"ird');
    assert.equal(propertyPath(''), '/');
    assert.equal(propertyPath('a/b~c'), '/a~1b~0c');
  });

  test('int() accepts safe integers and rejects anything else', () => {
    assert.equal(int(0), '0');
    assert.equal(int(-42), '-42');
    assert.equal(int(1_780_000_000_000), '1780000000000');
    assert.equal(int(Number.MAX_SAFE_INTEGER), '9007199254740991');
    for (const bad of [1.5, -0.1, NaN, Infinity, -Infinity, 2 ** 53, 1e21, '7' as unknown as number, null as unknown as number]) {
      assert.throws(() => int(bad), RangeError, String(bad));
    }
  });

  test('the drift reads bind the event and property, and check what they inline', () => {
    const evil = "x'); DROP TABLE events; --";
    const q = valueSharesSql({ projectId: 1, fromMs: 0, toMs: 1, event: evil, property: evil, limit: 5 });
    assert.ok(!q.sql.includes(evil), q.sql);
    assert.deepEqual(q.params, [evil, propertyPath(evil)]);
    assert.throws(() => valueSharesSql({ projectId: 1, fromMs: 0, toMs: 1, event: 'a', property: 'b', limit: 1.5 }), RangeError);
    assert.throws(() => schemaProfileSql({ projectId: 1, fromMs: 0, toMs: 1, maxEvents: NaN, maxProperties: 1, maxValues: 1 }), RangeError);
    assert.throws(() => eventCountsSql({ projectId: 1, fromMs: 0, toMs: 1, grainMs: HOUR, limit: Infinity }), RangeError);
  });

  test('builders refuse a non-integer where they inline numbers', () => {
    assert.throws(() => timeseriesSql({ ...base, limit: 2.5, breakdown: { column: 'os' } }), RangeError);
    assert.throws(() => timeseriesSql({ ...base, grainMs: NaN }), RangeError);
    assert.throws(() => timeseriesSql({ ...base, fromMs: 1.5 }), RangeError);
    assert.throws(() => timeseriesSql({ ...base, localOffsets: [{ fromMs: FROM, offsetMs: 0.5 }] }), RangeError);
    assert.throws(() => totalsSql({ projectId: 1.1, fromMs: 0, toMs: 1 }), RangeError);
    assert.throws(() => topEventsSql({ projectId: 1, fromMs: 0, toMs: 1, limit: Infinity }), RangeError);
    assert.throws(() => listEventsSql({ projectId: 1, limit: 5, before: { timestamp: 1e300, messageId: 'm' } }), RangeError);
  });
});

describe('the same SQL on a real (in-memory) DuckDB', () => {
  const T0 = Date.parse('2026-05-04T10:00:00Z');
  const row = (i: number, over: Partial<EventRow>): EventRow => ({
    project_id: 1,
    message_id: `m${i}`,
    type: 'track',
    event: 'Tick',
    anonymous_id: null,
    user_id: `u${i % 3}`,
    distinct_id: `u${i % 3}`,
    session_id: `s${i % 2}`,
    timestamp: T0 + i * 60_000,
    received_at: T0,
    properties: {},
    context: {},
    page_path: null,
    referrer_host: null,
    app_version: null,
    platform: null,
    os: null,
    browser: null,
    device_type: null,
    country: null,
    ip_hash: null,
    ...over,
  });
  const weird = 'we"ird.na\'me';
  const rows: EventRow[] = [
    row(1, { properties: { [weird]: 'A', plan: 'free' } }),
    row(2, { properties: { [weird]: 'A' } }),
    row(3, { properties: { [weird]: 'B', we: { ird: 'nested, not the key' } } }),
    row(4, { properties: { 'we"ird': { "na'me": 'C' } } }),
    row(5, { properties: { [weird]: null }, event: "x' OR '1'='1" }),
    row(6, { project_id: 2, properties: { [weird]: 'A' } }),
    row(7, { properties: { [weird]: 'A' } }),
  ];

  test('a property name with quotes and dots breaks down by exactly that key; a quoted event name matches only itself', async () => {
    const dir = tempDir('vigil-duckdb-sql-');
    const file = path.join(dir, 'segment.ndjson');
    fs.writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const store = await DuckDbEventStore.open({ file: ':memory:', readers: 1 });
    try {
      assert.equal(await store.loadSegment({ id: 'seg-1', path: file }), rows.length);
      const q: TimeseriesQuery = {
        projectId: 1,
        fromMs: T0,
        toMs: T0 + HOUR,
        grainMs: HOUR,
        measure: 'events',
        breakdown: { property: weird },
        limit: 10,
      };
      const series = await store.timeseries(q);
      const byKey = Object.fromEntries(series.map((r) => [r.key, r.value]));
      assert.deepEqual(byKey, { A: 3, B: 1, $none: 2 });
      assert.ok(series.every((r) => r.slotMs === T0));

      const top1 = await store.timeseries({ ...q, limit: 1 });
      assert.deepEqual(Object.fromEntries(top1.map((r) => [r.key, r.value])), { A: 3, $other: 3 });

      const injected = await store.timeseries({
        projectId: 1,
        fromMs: T0,
        toMs: T0 + HOUR,
        grainMs: HOUR,
        measure: 'events',
        event: "x' OR '1'='1",
        limit: 10,
      });
      assert.deepEqual(
        injected.map((r) => r.value),
        [1],
      );

      const listed = await store.listEvents({ projectId: 1, userId: "u1' OR 'a'='a", limit: 10 });
      assert.deepEqual(listed, []);
      const page = await store.listEvents({ projectId: 1, limit: 2, before: { timestamp: T0 + 4 * 60_000, messageId: 'm4' } });
      assert.deepEqual(
        page.map((r) => r.message_id),
        ['m3', 'm2'],
      );
      assert.deepEqual(page[0].properties, rows[2].properties);
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('user traits on a real (in-memory) DuckDB', () => {
  const T0 = Date.parse('2026-05-04T10:00:00Z');
  const identify = (messageId: string, userId: string, minutes: number, traits: Record<string, unknown>): EventRow => ({
    project_id: 1,
    message_id: messageId,
    type: 'identify',
    event: '$identify',
    anonymous_id: null,
    user_id: userId,
    distinct_id: userId,
    session_id: 's',
    timestamp: T0 + minutes * 60_000,
    received_at: T0,
    properties: traits,
    context: {},
    page_path: null,
    referrer_host: null,
    app_version: null,
    platform: null,
    os: null,
    browser: null,
    device_type: null,
    country: null,
    ip_hash: null,
  });

  /** Loads each group of rows as one segment, in order, and returns the traits of every user. */
  async function traitsAfter(segments: EventRow[][], users: string[]) {
    const dir = tempDir('vigil-duckdb-traits-');
    const store = await DuckDbEventStore.open({ file: ':memory:', readers: 1 });
    try {
      for (const [i, rows] of segments.entries()) {
        const file = path.join(dir, `seg-${i}.ndjson`);
        fs.writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
        await store.loadSegment({ id: `seg-${i}`, path: file });
      }
      return Object.fromEntries(await Promise.all(users.map(async (u) => [u, await store.userTraits(1, u)])));
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  test('the traits of one user do not depend on how identify calls were split into segments', async () => {
    const calls = [
      identify('i1', 'u', 0, { a: 1, plan: 'free' }),
      identify('i2', 'u', 1, { b: 2 }),
      identify('i3', 'u', 2, { plan: 'pro' }),
    ];
    const expected = { u: { a: 1, b: 2, plan: 'pro' } };
    assert.deepEqual(await traitsAfter([calls], ['u']), expected, 'one segment');
    assert.deepEqual(await traitsAfter([[calls[0]], [calls[1]], [calls[2]]], ['u']), expected, 'three segments');
    assert.deepEqual(await traitsAfter([[calls[0], calls[1]], [calls[2]]], ['u']), expected, 'two segments');
    // rows of a segment are not in time order: the later call still wins
    assert.deepEqual(await traitsAfter([[calls[2], calls[1], calls[0]]], ['u']), expected, 'one segment, reversed');
  });

  test('an older identify loaded later only adds traits the user lacks', async () => {
    const r = await traitsAfter(
      [[identify('n', 'u', 10, { plan: 'pro' })], [identify('o', 'u', 0, { plan: 'free', email: 'u@example.com' })]],
      ['u', 'nobody'],
    );
    assert.deepEqual(r, { u: { plan: 'pro', email: 'u@example.com' }, nobody: null });
  });
});

describe('drift reads on a real (in-memory) DuckDB', () => {
  const T0 = Date.parse('2026-05-04T10:00:00Z');
  let n = 0;
  const row = (event: string, minutes: number, properties: Record<string, unknown>): EventRow => ({
    project_id: 1,
    message_id: `d${++n}`,
    type: 'track',
    event,
    anonymous_id: null,
    user_id: 'u',
    distinct_id: 'u',
    session_id: null,
    timestamp: T0 + minutes * 60_000,
    received_at: T0,
    properties,
    context: {},
    page_path: null,
    referrer_host: null,
    app_version: null,
    platform: null,
    os: null,
    browser: null,
    device_type: null,
    country: null,
    ip_hash: null,
  });
  const orders = [
    { plan: 'pro', amount: 1.5, note: null, tags: ['a', 'b'], 'we"ird.key': { k: 1 }, big: 12345678901, ok: true, $lib: 'sdk' },
    { plan: 'free', amount: '2', note: 'hi' },
    { plan: 'free', amount: 3, ok: false },
    { plan: 'team', amount: -0.25 },
  ];
  const rows: EventRow[] = [
    ...orders.map((p, i) => row('Order', i, p)),
    row('Ping', 5, {}),
    row('Ping', 70, {}),
    row('Ping', 75, { n: 1 }),
    row('Rare', 80, { x: 'y' }),
    { ...row('Order', 1, { plan: 'other project' }), project_id: 2 },
  ];
  let store: DuckDbEventStore;
  let dir: string;
  const window = { projectId: 1, fromMs: T0, toMs: T0 + 2 * HOUR };

  test('load', async () => {
    dir = tempDir('vigil-duckdb-drift-');
    const file = path.join(dir, 'segment.ndjson');
    fs.writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    store = await DuckDbEventStore.open({ file: ':memory:', readers: 1 });
    assert.equal(await store.loadSegment({ id: 'seg', path: file }), rows.length);
  });
  after(async () => {
    await store?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the schema profile folds into the profile the TypeScript reference builds from the same events (less $ keys)', async () => {
    const profileRows = await store.schemaProfile({ ...window, maxEvents: 200, maxProperties: 100, maxValues: 20 });
    const reference = profileEvents(
      rows
        .filter((r) => r.project_id === 1)
        .map((r) => ({
          event: r.event!,
          properties: Object.fromEntries(Object.entries(r.properties).filter(([k]) => !k.startsWith('$'))),
        })),
    );
    assert.deepEqual(foldProfile(profileRows), reference);
    assert.deepEqual(reference.Order.properties.amount, {
      types: { number: 3, string: 1 },
      distinct: 4,
      values: { '1.5': 1, '2': 1, '3': 1, '-0.25': 1 },
    });
  });

  test('values are left out beyond maxValues; events and properties are capped by frequency', async () => {
    const few = foldProfile(await store.schemaProfile({ ...window, maxEvents: 200, maxProperties: 100, maxValues: 2 }), 2);
    assert.deepEqual(few.Order.properties.plan, { types: { string: 4 }, distinct: 3 });
    assert.deepEqual(few.Order.properties.ok, { types: { boolean: 2 }, distinct: 2, values: { true: 1, false: 1 } });
    const capped = foldProfile(await store.schemaProfile({ ...window, maxEvents: 2, maxProperties: 2, maxValues: 20 }));
    assert.deepEqual(Object.keys(capped).sort(), ['Order', 'Ping']);
    assert.deepEqual(Object.keys(capped.Order.properties).sort(), ['amount', 'plan'], 'the two keys on most events');
    assert.deepEqual(capped.Ping, { count: 3, properties: { n: { types: { number: 1 }, distinct: 1, values: { '1': 1 } } } });
  });

  test('event counts: per slot for the most frequent events, in one statement', async () => {
    const before = store.queryCount;
    const counts = await store.eventCounts({ ...window, grainMs: HOUR, limit: 2 });
    assert.equal(store.queryCount, before + 1);
    assert.deepEqual(counts, [
      { event: 'Order', slotMs: T0, count: 4 },
      { event: 'Ping', slotMs: T0, count: 1 },
      { event: 'Ping', slotMs: T0 + HOUR, count: 2 },
    ]);
  });

  test('value shares: counts per value, most frequent first, the rest summed as other; missing and null left out', async () => {
    assert.deepEqual(await store.valueShares({ ...window, event: 'Order', property: 'plan', limit: 20 }), [
      { value: 'free', count: 2 },
      { value: 'pro', count: 1 },
      { value: 'team', count: 1 },
    ]);
    assert.deepEqual(await store.valueShares({ ...window, event: 'Order', property: 'plan', limit: 1 }), [
      { value: 'free', count: 2 },
      { value: '$other', count: 2 },
    ]);
    assert.deepEqual(await store.valueShares({ ...window, event: 'Order', property: 'note', limit: 5 }), [{ value: 'hi', count: 1 }]);
    assert.deepEqual(await store.valueShares({ ...window, event: 'Order', property: 'we"ird.key', limit: 5 }), [
      { value: '{"k":1}', count: 1 },
    ]);
  });
});
