/**
 * The SQL of the shared metric scan (`metricScanSql`), snapshotted so a change shows in review
 * (UPDATE_SNAPSHOTS=1 records it again), plus the rules that keep it safe and small: strings are
 * bound as parameters (each distinct value once), numbers are checked before they are inlined.
 * A few scans run on an in-memory DuckDB.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { metricScanSql } from '../../src/storage/events/duckdb-metric-sql.js';
import { DuckDbEventStore } from '../../src/storage/events/duckdb.js';
import type { EventRow, MetricScanQuery, ScanColumn, ScanFilter } from '../../src/storage/events/event-store.js';
import { propertyPath, type Sql } from '../../src/storage/events/duckdb-sql.js';
import { SnapshotFile } from '../helpers/snapshot.js';
import { tempDir } from '../helpers/app.js';

const snapshots = new SnapshotFile(fileURLToPath(new URL('./__snapshots__/metric-scan-sql.snap.txt', import.meta.url)));
const shown = (q: Sql) => `${q.sql}\n-- params: ${JSON.stringify(q.params)}`;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const FROM = Date.parse('2026-03-23T00:00:00Z');
const TO = Date.parse('2026-04-06T00:00:00Z');
// Europe/Berlin around the spring change: +01:00 until 2026-03-29T01:00Z, then +02:00
const BERLIN_SPANS = [
  { fromMs: FROM, offsetMs: HOUR },
  { fromMs: Date.parse('2026-03-29T01:00:00Z'), offsetMs: 2 * HOUR },
];
const base: MetricScanQuery = { projectId: 7, fromMs: FROM, toMs: TO, grainMs: HOUR, columns: [], breakdowns: [] };

const count = (event?: string, filters: ScanFilter[] = []): ScanColumn => ({ event, filters, aggregate: { fn: 'events' } });
const users = (event?: string, filters: ScanFilter[] = []): ScanColumn => ({ event, filters, aggregate: { fn: 'users' } });
const prop = (property: string) => ({ property });
const amount = (fn: 'sum' | 'avg' | 'min' | 'max' | 'count' | 'count_distinct' | 'p50' | 'p90' | 'p99', event?: string): ScanColumn => ({
  event,
  filters: [],
  aggregate: { fn, of: prop('amount') },
});

const EVERY_OP: ScanFilter[] = [
  { dimension: prop('plan'), op: 'eq', value: 'pro' },
  { dimension: prop('tier'), op: 'eq', value: 2 },
  { dimension: prop('trial'), op: 'eq', value: true },
  { dimension: { column: 'country' }, op: 'neq', value: 'DE' },
  { dimension: prop('tier'), op: 'neq', value: 3 },
  { dimension: { column: 'browser' }, op: 'in', value: ['Chrome', 'Firefox'] },
  { dimension: prop('plan'), op: 'not_in', value: ['free', 'team'] },
  { dimension: { column: 'page_path' }, op: 'contains', value: '/docs' },
  { dimension: prop('amount'), op: 'gt', value: 10 },
  { dimension: prop('amount'), op: 'gte', value: 10.5 },
  { dimension: prop('amount'), op: 'lt', value: -1 },
  { dimension: prop('amount'), op: 'lte', value: 1e6 },
  { dimension: prop('coupon'), op: 'is_set' },
  { dimension: prop('referrer'), op: 'is_not_set' },
];

describe('SQL snapshots of the metric scan', () => {
  after(() => snapshots.save());

  const cases: [string, MetricScanQuery][] = [
    ['one event counted, hourly UTC slots', { ...base, columns: [count('Order Completed')] }],
    [
      'a ratio, events per user and sessions: every column names an event, so only those events are read',
      {
        ...base,
        columns: [
          count('Order Completed'),
          count('Signed Up'),
          count('Page Viewed'),
          users('Page Viewed'),
          { event: 'Page Viewed', filters: [], aggregate: { fn: 'sessions' } },
        ],
      },
    ],
    ['all events and one event: no event pruning', { ...base, columns: [count(), users(), count('Signed Up')] }],
    ['every filter operator, in one column', { ...base, columns: [count('Page Viewed', EVERY_OP)] }],
    [
      'aggregates of a property with two breakdowns (a branch each)',
      {
        ...base,
        columns: [
          amount('sum', 'Order Completed'),
          amount('avg', 'Order Completed'),
          amount('p90'),
          amount('count_distinct'),
          amount('count'),
        ],
        breakdowns: [{ column: 'country' }, prop('plan')],
      },
    ],
    // +05:30 reduced modulo the hour, as slotsFor does
    [
      'local hours of a half-hour zone (Asia/Kolkata)',
      { ...base, localOffsets: [{ fromMs: FROM, offsetMs: 1_800_000 }], columns: [count('Tick'), users()] },
    ],
    [
      'local days across a DST change (Europe/Berlin)',
      { ...base, grainMs: DAY, localOffsets: BERLIN_SPANS, columns: [users('Signed Up')], breakdowns: [prop('plan')] },
    ],
    [
      'the "other" of breakdowns: rows outside each slot\'s top keys',
      {
        ...base,
        columns: [
          {
            ...users(),
            exclude: {
              dimension: { column: 'country' },
              slots: [
                { slotMs: FROM, keys: ['DE', 'FR'] },
                { slotMs: FROM + HOUR, keys: ['US'] },
                { slotMs: FROM + 2 * HOUR, keys: [] },
              ],
            },
          },
          { ...amount('p90'), exclude: { dimension: prop('plan'), slots: [{ slotMs: FROM, keys: ['pro', '$none'] }] } },
        ],
      },
    ],
  ];
  for (const [name, q] of cases) test(name, () => snapshots.check(name, shown(metricScanSql(q))));

  test('every stored snapshot is still produced', () => {
    assert.deepEqual(snapshots.unchecked(), [], 'stored snapshots no query produces any more: remove them with UPDATE_SNAPSHOTS=1');
  });
});

describe('what metricScanSql guarantees', () => {
  const evil = ["o'reilly", "x'); DROP TABLE events; --", 'we"ird', '$1', 'back\\slash'];

  for (const value of evil) {
    test(`the string ${JSON.stringify(value)} is bound as a parameter wherever it appears`, () => {
      const q = metricScanSql({
        ...base,
        columns: [
          count(value, [
            { dimension: prop(value), op: 'eq', value },
            { dimension: prop('ref'), op: 'contains', value },
            { dimension: { column: 'country' }, op: 'in', value: [value, 'DE'] },
          ]),
          {
            event: value,
            filters: [
              { dimension: prop('plan'), op: 'not_in', value: [value] },
              { dimension: prop('plan'), op: 'neq', value },
            ],
            aggregate: { fn: 'max', of: prop(value) },
            exclude: { dimension: prop(value), slots: [{ slotMs: FROM, keys: [value] }] },
          },
        ],
        breakdowns: [prop(value)],
      });
      if (value !== '$1') assert.ok(!q.sql.includes(value), q.sql);
      assert.ok(!q.sql.includes(JSON.stringify(value)), q.sql);
      assert.ok(q.params.includes(value));
      assert.ok(q.params.includes(propertyPath(value)), JSON.stringify(q.params));
      // every parameter the SQL refers to exists, and every parameter is used
      const refs = new Set([...q.sql.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])));
      assert.deepEqual(
        [...refs].sort((a, b) => a - b),
        q.params.map((_, i) => i + 1),
      );
    });
  }

  test('a repeated value is bound once, and a repeated condition is computed once', () => {
    const filters: ScanFilter[] = [{ dimension: prop('plan'), op: 'in', value: ['pro', 'team', 'pro'] }];
    const q = metricScanSql({
      ...base,
      columns: [
        count('Order Completed', filters),
        users('Order Completed', filters),
        count('Order Completed'),
        amount('sum', 'Order Completed'),
      ],
      breakdowns: [prop('plan')],
    });
    assert.deepEqual(q.params, [...new Set(q.params)], 'no parameter twice');
    assert.deepEqual([...q.params].sort(), ['/amount', '/plan', 'Order Completed', 'pro', 'team'].sort());
    const conditions = [...q.sql.matchAll(/ AS (f\d+)/g)].map((m) => m[1]);
    assert.equal(conditions.length, 2, `one column per distinct condition:\n${q.sql}`);
    // four filtered aggregates, in the totals branch and in the breakdown's branch
    assert.equal(q.sql.split(`FILTER (WHERE ${conditions[0]})`).length - 1 + q.sql.split(`FILTER (WHERE ${conditions[1]})`).length - 1, 8);
  });

  test('numbers are inlined as numbers, a numeric-looking string is still bound', () => {
    const q = metricScanSql({
      ...base,
      columns: [
        count(undefined, [
          { dimension: prop('tier'), op: 'eq', value: 2 },
          { dimension: prop('code'), op: 'eq', value: '2' },
        ]),
      ],
    });
    assert.match(q.sql, /TRY_CAST\(json_extract_string\(properties, \$\d\) AS DOUBLE\) = 2\b/);
    assert.ok(q.params.includes('2'));
  });

  test('a non-finite or non-integer number throws instead of reaching the SQL', () => {
    for (const [op, value] of [
      ['gt', Infinity],
      ['lte', -Infinity],
      ['eq', NaN],
      ['neq', Infinity],
      ['gte', NaN],
    ] as const) {
      assert.throws(
        () => metricScanSql({ ...base, columns: [count(undefined, [{ dimension: prop('amount'), op, value }])] }),
        RangeError,
        `${op} ${value}`,
      );
    }
    assert.throws(() => metricScanSql({ ...base, fromMs: 1.5, columns: [count()] }), RangeError);
    assert.throws(() => metricScanSql({ ...base, projectId: NaN, columns: [count()] }), RangeError);
    assert.throws(
      () =>
        metricScanSql({
          ...base,
          columns: [{ ...count(), exclude: { dimension: prop('plan'), slots: [{ slotMs: Infinity, keys: ['pro'] }] } }],
        }),
      RangeError,
    );
  });
});

describe('the scan on a real (in-memory) DuckDB', () => {
  const T0 = Date.parse('2026-05-04T10:00:00Z');
  let seq = 0;
  const row = (minute: number, over: Partial<EventRow>): EventRow => ({
    project_id: 1,
    message_id: `m${++seq}`,
    type: 'track',
    event: 'Tick',
    anonymous_id: null,
    user_id: 'u',
    distinct_id: 'u',
    session_id: 's',
    timestamp: T0 + minute * 60_000,
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
  const rows: EventRow[] = [
    row(1, { properties: { ref: "o'reilly", amount: 10 }, country: 'DE', distinct_id: 'a' }),
    row(2, { properties: { ref: "o'reilly", amount: 30 }, country: 'DE', distinct_id: 'b' }),
    row(3, { properties: { ref: 'other', amount: 20 }, country: 'FR', distinct_id: 'a' }),
    row(4, { properties: { amount: 40 }, distinct_id: 'c' }),
    row(61, { properties: { ref: "o'reilly", amount: 5 }, country: 'US', distinct_id: 'd' }),
    row(62, { event: "x' OR '1'='1", country: 'US', distinct_id: 'e' }),
    row(5, { project_id: 2, properties: { ref: "o'reilly" } }),
  ];

  test('quoted values match exactly their rows; exclusions leave the rest of each slot; other projects are never read', async () => {
    const dir = tempDir('vigil-metric-scan-');
    const file = path.join(dir, 'segment.ndjson');
    fs.writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const store = await DuckDbEventStore.open({ file: ':memory:', readers: 1 });
    try {
      assert.equal(await store.loadSegment({ id: 'seg-1', path: file }), rows.length);
      const scan = await store.metricScan({
        projectId: 1,
        fromMs: T0,
        toMs: T0 + 2 * HOUR,
        grainMs: HOUR,
        breakdowns: [{ column: 'country' }],
        columns: [
          count(undefined, [{ dimension: prop('ref'), op: 'eq', value: "o'reilly" }]),
          count("x' OR '1'='1"),
          {
            event: 'Tick',
            filters: [],
            aggregate: { fn: 'users' },
            exclude: { dimension: { column: 'country' }, slots: [{ slotMs: T0, keys: ['DE'] }] },
          },
          {
            ...amount('p50', 'Tick'),
            exclude: {
              dimension: { column: 'country' },
              slots: [
                { slotMs: T0, keys: ['DE', '$none'] },
                { slotMs: T0 + HOUR, keys: ['US'] },
              ],
            },
          },
        ],
      });
      const totals = scan.filter((r) => r.dimension === -1).map((r) => [r.slotMs, r.values]);
      // hour 0: two o'reilly rows; users a (FR) and c (no country) outside DE; p50 of FR's 20 alone. hour 1: one of each, no amount left outside US
      assert.deepEqual(totals, [
        [T0, [2, 0, 2, 20]],
        [T0 + HOUR, [1, 1, 1, null]],
      ]);
      const de = scan.find((r) => r.dimension === 0 && r.key === 'DE' && r.slotMs === T0);
      assert.deepEqual(de?.values, [2, 0, 0, null], 'DE rows are excluded from the exclusion columns');
      assert.deepEqual(
        scan
          .filter((r) => r.dimension === 0 && r.slotMs === T0)
          .map((r) => r.key)
          .sort(),
        ['$none', 'DE', 'FR'],
      );
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
