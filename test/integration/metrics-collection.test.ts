/**
 * Metric collection: one event-store scan per cycle for every scan-kind metric, late events within
 * the look-back, idempotent replacement of stored values, the scheduler's due checks, chunked
 * newest-first backfills that stop on a version change, and buckets in a project's own time zone.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DateTime } from 'luxon';
import { getJson, postJson, startTestApp, type TestApp } from '../helpers/app.js';
import { computeMetrics, type Values } from '../../src/metrics/collector.js';
import { toCompute } from '../../src/metrics/collection.js';
import { MetricService } from '../../src/metrics/service.js';
import type { CreateMetric } from '../../src/metrics/schemas.js';
import type { Metric } from '../../src/metrics/store.js';
import type { Project } from '../../src/projects/service.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MINUTE = 60_000;

interface Ev {
  event: string;
  userId: string;
  ts: number;
  plan?: string;
  country?: string;
  amount?: number;
}

function random(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0) / 2 ** 32;
}

/** `perHour` events in each of the `hours` hours from `base`, with plans, countries and amounts. */
function generate(base: number, hours: number, perHour: number, seed = 7): Ev[] {
  const r = random(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
  return Array.from({ length: hours * perHour }, (_, i) => ({
    event: pick(['Page Viewed', 'Page Viewed', 'Signed Up', 'Order Completed']),
    userId: `u${Math.floor(r() * 9)}`,
    ts: base + Math.floor(i / perHour) * HOUR + Math.floor(r() * (HOUR - 1000)),
    plan: pick(['free', 'pro', 'team', 'enterprise', undefined]),
    country: pick(['DE', 'FR', 'US', 'IN', undefined]),
    amount: r() < 0.8 ? Math.round(r() * 400) / 4 : undefined,
  }));
}

let messages = 0;
async function ingest(t: TestApp, evs: Ev[], key = t.writeKey) {
  const batch = evs.map((e) => ({
    type: 'track',
    event: e.event,
    userId: e.userId,
    messageId: `c-${++messages}`,
    timestamp: new Date(e.ts).toISOString(),
    properties: { ...(e.plan && { plan: e.plan }), ...(e.amount !== undefined && { amount: e.amount }) },
    context: e.country ? { location: { country: e.country } } : {},
  }));
  const r = await postJson(`${t.url}/v1/batch`, { batch }, { authorization: `Bearer ${key}` });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await t.ctx.flush();
}

const runJobs = async (t: TestApp) => {
  while (await t.ctx.worker.runOnce()) {
    /* until the queue is empty */
  }
};
const hourFloor = (ms: number) => Math.floor(ms / HOUR) * HOUR;
const deps = (t: TestApp) => ({
  events: t.ctx.events,
  measurements: t.ctx.measurements,
  sqlTimeoutMs: t.ctx.config.metricSqlTimeoutMs,
  sqlMaxRows: t.ctx.config.metricSqlMaxRows,
});
const valueRows = (t: TestApp, metricId: number) =>
  t.ctx.meta.db
    .selectFrom('metric_values')
    .select(['dimension', 'key', 'bucket', 'value'])
    .where('metric_id', '=', metricId)
    .orderBy('dimension')
    .orderBy('key')
    .orderBy('bucket')
    .execute();

/** What is stored for a metric over a window: the total and each breakdown's series by key. */
async function stored(t: TestApp, project: Project, m: Metric, window: { fromMs: number; toMs: number }) {
  const read = async (breakdown?: string) =>
    Object.fromEntries((await t.ctx.catalog.series(project, m.id, { ...window, breakdown })).series.map((s) => [s.key, s.values]));
  const breakdowns = toCompute(m).compiled.breakdowns;
  return {
    total: (await read()).total as Values,
    breakdowns: Object.fromEntries(await Promise.all(breakdowns.map(async (b) => [b, await read(b)] as const))),
  };
}

/** The same metric computed on its own (one scan for just this metric). */
async function alone(t: TestApp, project: Project, m: Metric, window: { fromMs: number; toMs: number }) {
  const {
    results: [r],
  } = await computeMetrics(deps(t), project, m.interval, window, [toCompute(m)]);
  const breakdowns: Record<string, Record<string, Values>> = {};
  for (const b of toCompute(m).compiled.breakdowns) breakdowns[b] = {};
  for (const s of r.breakdowns) breakdowns[s.dimension][s.key] = s.values;
  return { total: r.total, breakdowns };
}

function assertClose(actual: unknown, expected: unknown, what: string) {
  const round = (v: unknown): unknown =>
    typeof v === 'number'
      ? Math.round(v * 1e9) / 1e9
      : Array.isArray(v)
        ? v.map(round)
        : v && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, round(x)]))
          : v;
  assert.deepEqual(round(actual), round(expected), what);
}

// ---- one scan per cycle -----------------------------------------------------------------------------

const EIGHT: CreateMetric[] = [
  { name: 'orders', kind: 'event', definition: { event: 'Order Completed' } },
  { name: 'views_by_plan', kind: 'event', definition: { event: 'Page Viewed', breakdowns: ['plan'], breakdownLimit: 2 } },
  { name: 'users', kind: 'event', definition: { measure: 'users' } },
  { name: 'conversion', kind: 'ratio', definition: { numerator: { event: 'Order Completed' }, denominator: { event: 'Signed Up' } } },
  { name: 'events_per_user', kind: 'per_user', definition: {} },
  {
    name: 'revenue_by_country',
    kind: 'aggregation',
    definition: { event: 'Order Completed', property: 'amount', fn: 'sum', breakdowns: ['country'], breakdownLimit: 1 },
  },
  {
    name: 'max_amount_by_plan_country',
    kind: 'aggregation',
    definition: { property: 'amount', fn: 'max', breakdowns: ['plan', 'country'], breakdownLimit: 1 },
  },
  {
    name: 'avg_paid_amount',
    kind: 'aggregation',
    definition: { property: 'amount', fn: 'avg', filters: [{ property: 'plan', op: 'in', value: ['pro', 'team'] }] },
  },
];

describe('a collection cycle scans the event store once for all scan-kind metrics', () => {
  let t: TestApp;
  let until: number;
  let base: number;
  const metrics: Metric[] = [];
  const cycleQueries = async () => {
    const q0 = t.ctx.events.queryCount;
    const r = await t.ctx.catalog.collection.runCycle(t.project, '1h', until);
    return { queries: t.ctx.events.queryCount - q0, ...r };
  };

  before(async () => {
    t = await startTestApp();
    until = hourFloor(Date.now());
    base = until - 6 * HOUR;
    await ingest(t, generate(base, 6, 40));
    for (const input of EIGHT) metrics.push(await t.ctx.catalog.create(t.project, input));
    await runJobs(t);
    until = (await t.ctx.catalog.get(t.project, metrics[0].id)).collectedUntil!;
    base = until - 6 * HOUR;
  });
  after(() => t.close());

  test('eight metrics of four kinds, with breakdowns: one query per cycle, and the values each metric gets alone', async () => {
    const r = await cycleQueries();
    assert.equal(r.queries, 1);
    assert.equal(r.metrics, 8);
    // the same shared path over the whole window of events, then each metric on its own
    const window = { fromMs: base, toMs: until };
    const q0 = t.ctx.events.queryCount;
    const current = await t.ctx.catalog.store.list({ projectId: t.project.id });
    await t.ctx.catalog.collection.collect(t.project, '1h', window, current, { skipFailed: false });
    assert.equal(t.ctx.events.queryCount - q0, 1);
    for (const m of current) {
      const [got, expected] = [await stored(t, t.project, m, window), await alone(t, t.project, m, window)];
      assertClose(got, expected, m.name);
      assert.ok(
        got.total.some((v) => v !== null && v !== 0),
        `${m.name} has values`,
      );
    }
  });

  test('a gauge adds no event-store query', async () => {
    const m = await postJson(
      `${t.url}/v1/measurements`,
      [{ service: 'api', metric: 'latency_ms', value: 120, timestamp: until - 30 * MINUTE }],
      { authorization: `Bearer ${t.writeKey}` },
    );
    assert.equal(m.status, 200);
    const gauge = await t.ctx.catalog.create(t.project, {
      name: 'latency',
      kind: 'gauge',
      definition: { service: 'api', metric: 'latency_ms' },
    });
    await runJobs(t);
    const withGauge = await cycleQueries();
    assert.deepEqual([withGauge.queries, withGauge.metrics], [1, 9]);
    assert.deepEqual((await t.ctx.catalog.series(t.project, gauge.id, { fromMs: until - HOUR, toMs: until })).series[0].values, [120]);
    await t.ctx.catalog.archive(t.project, gauge.id);
  });

  test('a sql metric adds exactly one query to the cycle', async () => {
    const sql = await t.ctx.catalog.create(t.project, {
      name: 'signups_sql',
      kind: 'sql',
      definition: { sql: "SELECT bucket, count(*) AS value FROM events WHERE event = 'Signed Up' GROUP BY bucket" },
    });
    await runJobs(t);
    try {
      const r = await cycleQueries();
      assert.equal(r.metrics, 9);
      assert.equal(r.queries, 2);
    } finally {
      await t.ctx.catalog.archive(t.project, sql.id);
    }
  });

  test('breakdowns of distinct counts and percentiles add one more scan for all their "other" values, exact as computed alone', async () => {
    const extra = [
      await t.ctx.catalog.create(t.project, {
        name: 'users_by_country',
        kind: 'event',
        definition: { measure: 'users', breakdowns: ['country'], breakdownLimit: 1 },
      }),
      await t.ctx.catalog.create(t.project, {
        name: 'p90_by_plan',
        kind: 'aggregation',
        definition: { property: 'amount', fn: 'p90', breakdowns: ['plan'], breakdownLimit: 1 },
      }),
    ];
    await runJobs(t);
    const r = await cycleQueries();
    assert.deepEqual([r.queries, r.metrics], [2, 10]);
    const window = { fromMs: until - 2 * HOUR, toMs: until };
    for (const m of extra) {
      const got = await stored(t, t.project, m, window);
      assertClose(got, await alone(t, t.project, m, window), m.name);
      assert.ok(
        Object.values(got.breakdowns)[0].$other?.every((v) => v !== null),
        `${m.name} has an "other" in each bucket`,
      );
    }
  });
  test("a breakdown's keys do not depend on which other metrics share the scan", async () => {
    await ingest(t, [
      { event: 'Rare', userId: 'r1', ts: until - HOUR + 5 * MINUTE, plan: 'pro' },
      { event: 'Rare', userId: 'r2', ts: until - HOUR + 6 * MINUTE, plan: 'pro' },
    ]);
    const m = await t.ctx.catalog.create(t.project, {
      name: 'rare_by_plan',
      kind: 'event',
      definition: { event: 'Rare', breakdowns: ['plan'], breakdownLimit: 3 },
    });
    await runJobs(t);
    await t.ctx.catalog.collection.runCycle(t.project, '1h', until);
    const window = { fromMs: until - 2 * HOUR, toMs: until };
    assert.deepEqual(await stored(t, t.project, m, window), { total: [0, 2], breakdowns: { plan: { pro: [null, 2] } } });
  });
});

// ---- late events, replacement, backfill, time zones ----------------------------------------------------

describe('late events, idempotent replacement and backfills', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  const ticks = (ts: number, n: number, plan: string): Ev[] =>
    Array.from({ length: n }, (_, i) => ({ event: 'Tick', userId: `t${i}`, ts: ts + i * 1000, plan }));

  test('a late event inside the look-back is picked up by the next cycle, an older one only by a backfill; cycles replace values', async () => {
    const now = hourFloor(Date.now());
    await ingest(t, [
      ...ticks(now - 3 * HOUR + 10 * MINUTE, 1, 'a'),
      ...ticks(now - 2 * HOUR + 10 * MINUTE, 1, 'a'),
      ...ticks(now - HOUR + 10 * MINUTE, 2, 'a'),
      ...ticks(now - HOUR + 20 * MINUTE, 1, 'b'),
    ]);
    const m = await t.ctx.catalog.create(t.project, {
      name: 'ticks',
      kind: 'event',
      definition: { event: 'Tick', breakdowns: ['plan'], breakdownLimit: 1 },
    });
    await runJobs(t);
    const until = (await t.ctx.catalog.get(t.project, m.id)).collectedUntil!;
    const window = { fromMs: until - 3 * HOUR, toMs: until };
    const read = async () => stored(t, t.project, await t.ctx.catalog.get(t.project, m.id), window);
    assert.deepEqual(await read(), { total: [1, 1, 3], breakdowns: { plan: { a: [1, 1, 2], $other: [null, null, 1] } } });

    // two hours ago (inside the default look-back of 2 buckets), three hours ago (outside), and a new top value
    await ingest(t, [
      ...ticks(until - 2 * HOUR + 30 * MINUTE, 1, 'a'),
      ...ticks(until - 3 * HOUR + 30 * MINUTE, 1, 'a'),
      ...ticks(until - HOUR + 30 * MINUTE, 3, 'b'),
    ]);
    const cycle = await t.ctx.catalog.collection.runCycle(t.project, '1h', until);
    assert.equal(cycle.buckets, 2);
    const afterCycle = await read();
    assert.deepEqual(
      afterCycle,
      { total: [1, 2, 6], breakdowns: { plan: { a: [1, 2, null], b: [null, null, 4], $other: [null, null, 2] } } },
      '"a" left the top of the last bucket: its row is gone',
    );

    const rows = await valueRows(t, m.id);
    await t.ctx.catalog.collection.runCycle(t.project, '1h', until);
    assert.deepEqual(await valueRows(t, m.id), rows, 'a second cycle stores exactly the same rows');
    assert.equal(rows.filter((r) => r.bucket === until - HOUR).length, 3, 'total, b and other');

    await t.ctx.catalog.backfill(t.project, await t.ctx.catalog.get(t.project, m.id), window);
    assert.deepEqual((await read()).total, [2, 2, 6]);
  });

  test('backfill reports increasing progress, computes the newest chunk first, and matches the reference', async () => {
    const now = hourFloor(Date.now());
    const evs: Ev[] = Array.from({ length: 30 }, (_, d) =>
      ticks(now - d * DAY - ((d % 5) + 1) * HOUR + MINUTE, (d % 3) + 1, 'x').map((e) => ({ ...e, event: 'Old Tick' })),
    ).flat();
    await ingest(t, evs);
    const m = await t.ctx.catalog.create(t.project, {
      name: 'old_ticks',
      status: 'draft',
      kind: 'event',
      definition: { event: 'Old Tick' },
    });
    const progress: { done: number; total: number; historyFrom: number | null; collectedUntil: number | null }[] = [];
    const r = await t.ctx.catalog.backfill(t.project, m, { fromMs: now - 30 * DAY, toMs: now + HOUR }, async (done, total) => {
      const current = await t.ctx.catalog.get(t.project, m.id);
      progress.push({ done, total, historyFrom: current.historyFrom, collectedUntil: current.collectedUntil });
    });
    const toMs = r.toMs;
    assert.ok(toMs === now || toMs === now + HOUR, 'clamped to the last complete bucket');
    const total = (toMs - (now - 30 * DAY)) / HOUR;
    assert.deepEqual(
      progress.map((p) => p.done),
      [168, 336, 504, 672, total],
    );
    assert.ok(progress.every((p) => p.total === total));
    assert.ok(
      progress.every((p) => p.collectedUntil === toMs),
      'the newest bucket is collected from the first chunk on',
    );
    assert.deepEqual(
      progress.map((p) => p.historyFrom),
      progress.map((p) => toMs - p.done * HOUR),
      'each chunk extends the history further back',
    );
    assert.deepEqual([r.buckets, r.stopped], [total, false]);

    const starts = Array.from({ length: total }, (_, i) => now - 30 * DAY + i * HOUR);
    const expected = starts.map((s) => evs.filter((e) => e.ts >= s && e.ts < s + HOUR).length);
    assert.deepEqual((await t.ctx.catalog.series(t.project, m.id, { fromMs: starts[0], toMs })).series[0].values, expected);
  });

  test('backfill stops when the definition changes in between, and stores nothing for the old version', async () => {
    const m = await t.ctx.catalog.create(t.project, {
      name: 'changing',
      status: 'draft',
      kind: 'event',
      definition: { event: 'Old Tick' },
    });
    const calls: number[] = [];
    const now = Date.now();
    const r = await t.ctx.catalog.backfill(t.project, m, { fromMs: now - 30 * DAY, toMs: now }, async (done) => {
      calls.push(done);
      if (calls.length === 1) await t.ctx.catalog.update(t.project, m.id, { definition: { event: 'Tick' } });
    });
    assert.deepEqual(calls, [168]);
    assert.deepEqual([r.buckets, r.stopped], [168, true]);
    const current = await t.ctx.catalog.get(t.project, m.id);
    assert.deepEqual([current.version, current.historyFrom, current.collectedUntil], [2, null, null]);
    assert.deepEqual(await valueRows(t, m.id), []);
  });

  test('a project in Asia/Kolkata gets 1h buckets on local hours (:30 UTC) and 1d buckets from local midnight; Europe/Berlin days too', async () => {
    const cases = [
      { slug: 'kolkata', zone: 'Asia/Kolkata', offset: '+05:30' },
      { slug: 'berlin', zone: 'Europe/Berlin', offset: '' },
    ];
    for (const { slug, zone, offset } of cases) {
      const project = await t.ctx.projects.create({ slug, timeZone: zone });
      const key = (await t.ctx.apiKeys.create({ projectId: project.id, scopes: ['ingest', 'read', 'write'] })).secret;
      const local = DateTime.now().setZone(zone);
      const hourStarts = Array.from({ length: 6 }, (_, k) =>
        local
          .startOf('hour')
          .minus({ hours: 6 - k })
          .toMillis(),
      );
      const dayStarts = Array.from({ length: 4 }, (_, k) =>
        local
          .startOf('day')
          .minus({ days: 4 - k })
          .toMillis(),
      );
      // around each local boundary: events just before and just after, with distinct users
      const evs: Ev[] = [
        ...hourStarts.flatMap((s, k) => [
          ...Array.from({ length: k + 1 }, (_, i) => ({ event: 'Tick', userId: `h${k}-${i}`, ts: s + 5 * MINUTE + i * 1000 })),
          { event: 'Tick', userId: `h${k}-late`, ts: s + 55 * MINUTE },
        ]),
        ...dayStarts.flatMap((s, k) => [
          ...Array.from({ length: k + 2 }, (_, i) => ({ event: 'Day', userId: `d${k}-${i}`, ts: s + 10 * MINUTE + i * 1000 })),
          { event: 'Day', userId: `d${k}-eve`, ts: s - 10 * MINUTE },
        ]),
      ];
      await ingest(t, evs, key);
      const create = async (body: object) => {
        const res = await postJson(`${t.url}/api/projects/${slug}/metrics`, body, { authorization: `Bearer ${key}` });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        return res.body.id as number;
      };
      const hourly = await create({ name: 'ticks', kind: 'event', definition: { event: 'Tick' } });
      const daily = await create({ name: 'day_users', interval: '1d', kind: 'event', definition: { event: 'Day', measure: 'users' } });
      await runJobs(t);

      const check = async (id: number, unit: 'hour' | 'day', starts: number[], event: string) => {
        const size = unit === 'hour' ? HOUR : DAY;
        const q = new URLSearchParams({
          from: new Date(starts[0]).toISOString(),
          to: new Date(starts[starts.length - 1] + size).toISOString(),
        });
        const res = await getJson(`${t.url}/api/projects/${slug}/metrics/${id}/series?${q}`, key);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(res.body.timeZone, zone);
        assert.deepEqual(
          res.body.buckets.map((b: string) => Date.parse(b)),
          starts,
          `${zone} ${unit} bucket starts`,
        );
        if (offset)
          assert.ok(
            res.body.buckets.every((b: string) => b.endsWith(offset)),
            res.body.buckets.join(),
          );
        if (unit === 'day')
          assert.ok(
            res.body.buckets.every((b: string) => b.includes('T00:00:00')),
            res.body.buckets.join(),
          );
        const bucketOf = (ts: number) => DateTime.fromMillis(ts, { zone }).startOf(unit).toMillis();
        const expected = starts.map((s) => new Set(evs.filter((e) => e.event === event && bucketOf(e.ts) === s).map((e) => e.userId)).size);
        assert.deepEqual(res.body.series[0].values, expected, `${zone} ${unit} values`);
      };
      await check(hourly, 'hour', hourStarts, 'Tick');
      await check(daily, 'day', dayStarts, 'Day');
    }
  });
});

// ---- the scheduler ---------------------------------------------------------------------------------

describe('scheduleDue enqueues one job per (project, interval) with a newly complete bucket', () => {
  let t: TestApp;
  let svc: MetricService;
  const T0 = Date.now();
  const clock = { now: T0 };
  const collectJobs = async () =>
    (await t.ctx.jobs.list({ kind: 'metrics.collect', limit: 1000 })).map((j) => ({
      status: j.status,
      ...(j.payload as { projectId: number; interval: string; until: number }),
    }));
  const dayFloor = (ms: number) => Math.floor(ms / DAY) * DAY;

  before(async () => {
    t = await startTestApp();
    // the same catalog with a clock the test moves
    svc = new MetricService({
      ...deps(t),
      db: t.ctx.meta.db,
      projects: t.ctx.projects,
      jobs: t.ctx.jobs,
      settings: { lookbackBuckets: 2, backfillDays: 30 },
      log: { warn() {} },
      now: () => clock.now,
    });
    const two = await t.ctx.projects.create({ slug: 'two' });
    const define = async (project: Project, name: string, interval: Metric['interval'], status: Metric['status'], collect = true) => {
      const m = await svc.store.insert(
        project.id,
        {
          name,
          displayName: name,
          description: '',
          unit: '',
          owner: '',
          tags: [],
          color: '',
          status,
          interval,
          kind: 'event',
          definition: {},
        },
        T0,
      );
      if (collect) await svc.backfill(project, m, { fromMs: T0 - 2 * DAY, toMs: T0 });
    };
    await define(t.project, 'a', '1h', 'active');
    await define(t.project, 'b', '1h', 'active');
    await define(t.project, 'c', '1d', 'active');
    await define(t.project, 'draft', '15m', 'draft');
    await define(t.project, 'never_collected', '5m', 'active', false);
    await define(two, 'e', '1h', 'active');
  });
  after(() => t.close());

  test('nothing is due while every active metric is up to date', async () => {
    assert.equal(await svc.scheduleDue(), 0);
    assert.deepEqual(await collectJobs(), []);
  });

  test('an hour later: one job per project for 1h (1d only past midnight); a second check adds none', async () => {
    clock.now = T0 + HOUR;
    const expected = [
      { projectId: t.project.id, interval: '1h', until: hourFloor(clock.now) },
      ...(dayFloor(clock.now) > dayFloor(T0) ? [{ projectId: t.project.id, interval: '1d', until: dayFloor(clock.now) }] : []),
      { projectId: (await t.ctx.projects.getBySlug('two')).id, interval: '1h', until: hourFloor(clock.now) },
    ];
    const sorted = <T extends { projectId: number; interval: string }>(xs: T[]) =>
      [...xs].sort((x, y) => x.projectId - y.projectId || x.interval.localeCompare(y.interval));
    assert.equal(await svc.scheduleDue(), expected.length);
    assert.deepEqual(sorted(await collectJobs()), sorted(expected.map((e) => ({ status: 'queued', ...e }))));
    await svc.scheduleDue();
    assert.equal((await collectJobs()).length, expected.length, 'no duplicate while the job has not run');
  });

  test('scheduleDue returns how many jobs it enqueued: 0 when the due jobs are already queued', async () => {
    assert.equal(await svc.scheduleDue(), 0);
  });

  test('after the jobs ran, nothing is due until the next bucket completes; a day later every interval with a new bucket is due', async () => {
    await runJobs(t);
    const ran = await collectJobs();
    assert.ok(
      ran.every((j) => j.status === 'done'),
      JSON.stringify(ran),
    );
    assert.equal(await svc.scheduleDue(), 0);
    assert.equal((await collectJobs()).length, ran.length);
    clock.now = T0 + DAY;
    // 1d is due unless the hour test's clock had already crossed midnight (T0 in the day's last hour)
    const expected = dayFloor(T0 + DAY) > dayFloor(T0 + HOUR) ? ['1d', '1h', '1h'] : ['1h', '1h'];
    assert.equal(await svc.scheduleDue(), expected.length);
    assert.deepEqual(
      (await collectJobs())
        .filter((j) => j.status === 'queued')
        .map((j) => j.interval)
        .sort(),
      expected,
    );
  });
});
