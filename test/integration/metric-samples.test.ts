/**
 * Every collected metric value carries the number of samples behind it (src/metrics/compile.ts,
 * "Samples"): per kind, a few events and measurements put in by hand, collected, and the stored
 * samples compared with what one counts by hand, as detection (totalSeries), the series API and a
 * draft's backtest (computeSeries) read them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Migrator } from 'kysely';
import { TEST_META, createTestDatabase, getJson, postJson, startTestApp, type TestApp } from '../helpers/app.js';
import { migrations } from '../../src/storage/meta/migrations/index.js';
import { migrateMeta } from '../../src/storage/meta/db.js';
import { openPostgresMeta, openSqliteMeta } from '../../src/meta-db.js';
import { OTHER_KEY } from '../../src/storage/events/event-store.js';
import type { CreateMetric } from '../../src/metrics/schemas.js';
import type { Metric } from '../../src/metrics/store.js';

const HOUR = 3_600_000;
const MINUTE = 60_000;

interface Ev {
  event: string;
  userId: string;
  hour: number;
  amount?: number;
  plan?: string;
}

/**
 * Three hours: the first with 3 sign-ups and 3 orders (two with an amount), the second empty, the
 * third with one sign-up, one order and 5 page views by two users.
 */
const EVENTS: Ev[] = [
  { event: 'Signed Up', userId: 'u1', hour: 0 },
  { event: 'Signed Up', userId: 'u2', hour: 0 },
  { event: 'Signed Up', userId: 'u3', hour: 0 },
  { event: 'Order Completed', userId: 'u1', hour: 0, amount: 10, plan: 'pro' },
  { event: 'Order Completed', userId: 'u1', hour: 0, amount: 30, plan: 'team' },
  { event: 'Order Completed', userId: 'u2', hour: 0, plan: 'free' },
  { event: 'Signed Up', userId: 'u4', hour: 2 },
  { event: 'Order Completed', userId: 'u4', hour: 2, amount: 5, plan: 'pro' },
  ...[1, 2, 3].map(() => ({ event: 'Page Viewed', userId: 'u4', hour: 2 })),
  ...[1, 2].map(() => ({ event: 'Page Viewed', userId: 'u5', hour: 2 })),
];

const ORDERS_SQL = "SELECT bucket, count(*) AS value FROM events WHERE event = 'Order Completed' GROUP BY bucket";
const BUYERS_SQL =
  "SELECT bucket, count(*) AS value, count(DISTINCT distinct_id) AS samples FROM events WHERE event = 'Order Completed' GROUP BY bucket";

/** Each metric with its values and samples, hour by hour, as counted by hand from EVENTS and the measurements. */
const CASES: { metric: CreateMetric; values: (number | null)[]; samples: (number | null)[] }[] = [
  // a count is its own sample size
  { metric: { name: 'orders', kind: 'event', definition: { event: 'Order Completed' } }, values: [3, 0, 1], samples: [3, 0, 1] },
  {
    metric: { name: 'buyers', kind: 'event', definition: { event: 'Order Completed', measure: 'users' } },
    values: [2, 0, 1],
    samples: [2, 0, 1],
  },
  // a ratio: its denominator (3 sign-ups, then none: a gap from 0 samples)
  {
    metric: {
      name: 'buyers_per_signup',
      kind: 'ratio',
      definition: { numerator: { event: 'Order Completed', measure: 'users' }, denominator: { event: 'Signed Up' } },
    },
    values: [2 / 3, null, 1],
    samples: [3, 0, 1],
  },
  // per user: the users (u1-u3, then u4 and u5)
  { metric: { name: 'events_per_user', kind: 'per_user', definition: {} }, values: [2, null, 3.5], samples: [3, 0, 2] },
  // sums and averages: the orders that carry an amount (not u2's order without one)
  {
    metric: { name: 'revenue', kind: 'aggregation', definition: { event: 'Order Completed', property: 'amount', fn: 'sum' } },
    values: [40, 0, 5],
    samples: [2, 0, 1],
  },
  {
    metric: { name: 'avg_order', kind: 'aggregation', definition: { event: 'Order Completed', property: 'amount', fn: 'avg' } },
    values: [20, null, 5],
    samples: [2, 0, 1],
  },
  {
    metric: { name: 'max_order', kind: 'aggregation', definition: { event: 'Order Completed', property: 'amount', fn: 'max' } },
    values: [30, null, 5],
    samples: [2, 0, 1],
  },
  {
    metric: { name: 'amounts', kind: 'aggregation', definition: { event: 'Order Completed', property: 'amount', fn: 'count' } },
    values: [2, 0, 1],
    samples: [2, 0, 1],
  },
  // sql: its samples column, or nothing known without one
  { metric: { name: 'orders_sql', kind: 'sql', definition: { sql: ORDERS_SQL } }, values: [3, null, 1], samples: [null, null, null] },
  { metric: { name: 'orders_sql_by_buyer', kind: 'sql', definition: { sql: BUYERS_SQL } }, values: [3, null, 1], samples: [2, null, 1] },
  // a gauge: its measurements (3, none, 1)
  {
    metric: { name: 'latency', kind: 'gauge', definition: { service: 'api', metric: 'latency_ms', aggregate: 'avg' } },
    values: [200, null, 90],
    samples: [3, 0, 1],
  },
];

describe('metric samples: each kind stores the number of samples behind its values', () => {
  let t: TestApp;
  let base: number;
  let until: number;
  const metrics = new Map<string, Metric>();

  before(async () => {
    t = await startTestApp();
    until = Math.floor(Date.now() / HOUR) * HOUR;
    base = until - 3 * HOUR;
    const batch = EVENTS.map((e, i) => ({
      type: 'track',
      event: e.event,
      userId: e.userId,
      messageId: `s-${i}`,
      timestamp: new Date(base + e.hour * HOUR + (i + 1) * MINUTE).toISOString(),
      properties: { ...(e.amount !== undefined && { amount: e.amount }), ...(e.plan && { plan: e.plan }) },
    }));
    const r = await postJson(`${t.url}/v1/batch`, { batch }, { authorization: `Bearer ${t.writeKey}` });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const points = [
      [0, 100],
      [0, 200],
      [0, 300],
      [2, 90],
    ].map(([hour, value], i) => ({ service: 'api', metric: 'latency_ms', value, timestamp: base + hour * HOUR + (i + 1) * MINUTE }));
    const m = await postJson(`${t.url}/v1/measurements`, points, { authorization: `Bearer ${t.writeKey}` });
    assert.equal(m.status, 200, JSON.stringify(m.body));
    await t.ctx.flush();
    for (const c of CASES) metrics.set(c.metric.name, await t.ctx.catalog.create(t.project, c.metric));
    metrics.set(
      'revenue_by_plan',
      await t.ctx.catalog.create(t.project, {
        name: 'revenue_by_plan',
        kind: 'aggregation',
        definition: { event: 'Order Completed', property: 'amount', fn: 'sum', breakdowns: ['plan'], breakdownLimit: 1 },
      }),
    );
    while (await t.ctx.worker.runOnce()) {
      /* the backfills */
    }
    for (const [name, m] of metrics) metrics.set(name, await t.ctx.catalog.get(t.project, m.id));
  });
  after(() => t.close());

  const close = (xs: (number | null)[]) => xs.map((x) => (x === null ? null : Math.round(x * 1e9) / 1e9));

  for (const c of CASES) {
    test(`${c.metric.kind} ${c.metric.name}: detection reads the samples counted by hand`, async () => {
      const m = metrics.get(c.metric.name)!;
      assert.equal(m.lastError, null);
      const read = await t.ctx.catalog.totalSeries(t.project, m, base, until);
      assert.deepEqual(close(read.values), close(c.values), 'values');
      assert.deepEqual(read.samples, c.samples, 'samples');
      // the series API shows the same samples beside the values
      const api = await t.ctx.catalog.series(t.project, m.id, { fromMs: base, toMs: until });
      assert.deepEqual(api.series[0].samples, c.samples);
    });
  }

  test('a draft computed for a backtest has the samples its saved metric stores', async () => {
    for (const name of ['buyers_per_signup', 'avg_order', 'orders_sql_by_buyer', 'latency']) {
      const c = CASES.find((x) => x.metric.name === name)!;
      const draft = await t.ctx.catalog.computeSeries(
        t.project,
        { kind: c.metric.kind, definition: c.metric.definition },
        { fromMs: base, toMs: until },
      );
      assert.deepEqual(draft.samples, c.samples, name);
    }
  });

  test('breakdown series carry their own samples: the top key its rows, "other" the rest', async () => {
    const m = metrics.get('revenue_by_plan')!;
    const r = await t.ctx.catalog.series(t.project, m.id, { fromMs: base, toMs: until, breakdown: 'plan' });
    const byKey = Object.fromEntries(r.series.map((s) => [s.key, { values: s.values, samples: s.samples }]));
    // hour 0: team 30 (one order) on top, pro's 10 as other (free has no amount); hour 2: pro 5 alone
    assert.deepEqual(byKey, {
      team: { values: [30, null, null], samples: [1, null, null] },
      pro: { values: [null, null, 5], samples: [null, null, 1] },
      [OTHER_KEY]: { values: [10, null, null], samples: [1, null, null] },
    });
    const total = await t.ctx.catalog.totalSeries(t.project, m, base, until);
    assert.deepEqual(total.samples, [2, 0, 1]);
  });

  test('the series endpoint returns samples beside the values', async () => {
    const key = (await t.ctx.apiKeys.create({ projectId: t.project.id, scopes: ['read'] })).secret;
    const q = new URLSearchParams({ from: new Date(base).toISOString(), to: new Date(until).toISOString() });
    const r = await getJson(`${t.url}/api/projects/shop/metrics/${metrics.get('revenue')!.id}/series?${q}`, key);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.series[0].samples, [2, 0, 1]);
  });

  test('a sql metric whose samples are not a count of 0 or more is refused with a 400 that says so', async () => {
    const key = (await t.ctx.apiKeys.create({ projectId: t.project.id, scopes: ['read', 'write'] })).secret;
    for (const samples of ['-1', "'many'"]) {
      const sql = `SELECT bucket, count(*) AS value, ${samples} AS samples FROM events GROUP BY bucket`;
      const res = await fetch(`${t.url}/api/projects/shop/metrics/preview`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ kind: 'sql', definition: { sql } }),
      });
      const body = await res.json();
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match(body.error.message, /has samples .*; samples must be a number of 0 or more, or null/);
    }
  });
});

describe('metric samples: migration 0018', () => {
  test('values stored before it keep their value with samples unknown (null); down drops the column', async () => {
    const database = TEST_META === 'postgres' ? await createTestDatabase() : undefined;
    const meta = database ? await openPostgresMeta(database.url) : openSqliteMeta(':memory:');
    try {
      const names = Object.keys(migrations(meta.dialect));
      const migrator = new Migrator({ db: meta.db, provider: { getMigrations: async () => migrations(meta.dialect) } });
      const to = async (name: string) => {
        const { error } = await migrator.migrateTo(name);
        if (error) throw error;
      };
      await to(names[names.indexOf('0018-metric-samples') - 1]);
      const T = Date.parse('2026-05-01T10:00:00Z');
      const { id: projectId } = await meta.db
        .insertInto('projects')
        .values({ slug: 'shop', name: 'Shop', time_zone: 'UTC', created_at: T })
        .returning('id')
        .executeTakeFirstOrThrow();
      const { id: metricId } = await meta.db
        .insertInto('metrics')
        .values({
          project_id: projectId,
          name: 'orders',
          display_name: 'orders',
          description: '',
          unit: '',
          owner: '',
          tags: '[]',
          color: '',
          status: 'active',
          interval: '1h',
          kind: 'event',
          definition: '{}',
          detection: '{}',
          version: 1,
          history_from: T,
          collected_until: T + HOUR,
          last_error: null,
          last_error_at: null,
          created_at: T,
          updated_at: T,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await meta.db.insertInto('metric_values').values({ metric_id: metricId, dimension: '', key: '', bucket: T, value: 7 }).execute();
      await migrateMeta(meta);
      const rows = await meta.db.selectFrom('metric_values').select(['value', 'samples']).execute();
      assert.deepEqual(
        rows.map((r) => [Number(r.value), r.samples]),
        [[7, null]],
      );
      await to(names[names.indexOf('0018-metric-samples') - 1]);
      const [row] = await meta.db.selectFrom('metric_values').selectAll().execute();
      assert.deepEqual(Object.keys(row).sort(), ['bucket', 'dimension', 'key', 'metric_id', 'value']);
    } finally {
      await meta.close();
      await database?.drop();
    }
  });
});
