/**
 * Live detection of metrics: a backfill (and every later collection) scores the metric's series and
 * stores one signal per episode, anchored at its first bucket; reruns never duplicate; settings
 * (enabled, sensitivity, the project's settling time) change what fires; the signals API and the
 * marks on a metric's series show them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getJson, startTestApp, type TestApp } from '../helpers/app.js';
import { HOUR, awayFromHourEnd, incidentTraffic, ingestHourly, runJobs } from '../helpers/hourly-events.js';
import { MetricService } from '../../src/metrics/service.js';
import type { SignalInput } from '../../src/signals/store.js';

const DAY = 24 * HOUR;
const DAYS = 21;

const ingest = ingestHourly;
const iso = (ms: number) => new Date(ms).toISOString();

describe('signals: live detection of metrics', () => {
  let t: TestApp;
  let editorKey: string;
  let until: number;
  let spike: number, drop: number, moderate: number, newest: number;
  const ids: Record<string, number> = {};
  const signalsOf = async (query: string, key = t.readKey) => {
    const r = await getJson(`${t.url}/api/projects/shop/signals?from=-30d&${query}`, key);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.signals as Record<string, any>[];
  };
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${t.url}/api/projects/shop/${path}`, {
      method,
      headers: { authorization: `Bearer ${editorKey}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  before(async () => {
    await awayFromHourEnd();
    t = await startTestApp({ config: { metricsBackfillDays: DAYS } });
    editorKey = (await t.ctx.apiKeys.create({ projectId: t.project.id, scopes: ['write'] })).secret;
    until = Math.floor(Date.now() / HOUR) * HOUR;
    const start = until - DAYS * DAY;
    const today = Math.floor(until / DAY) * DAY;
    spike = today - 2 * DAY + 14 * HOUR;
    // late in the afternoon: the day after the spike, when its weight has left the level
    drop = today - DAY + 17 * HOUR;
    moderate = until - 40 * HOUR;
    newest = until - HOUR;
    await ingest(t, incidentTraffic(11, { start, until, spike, drop, moderate }));
    const create = async (body: object) => {
      const res = await api('POST', 'metrics', body);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body.id as number;
    };
    ids.orders = await create({ name: 'orders', kind: 'event', definition: { event: 'Order Completed' } });
    ids.quiet = await create({
      name: 'orders_unwatched',
      kind: 'event',
      definition: { event: 'Order Completed' },
      detection: { enabled: false },
    });
    ids.high = await create({
      name: 'checkout_high',
      kind: 'event',
      definition: { event: 'Checkout' },
      detection: { sensitivity: 'high', minExpected: 10 },
    });
    ids.low = await create({
      name: 'checkout_low',
      kind: 'event',
      definition: { event: 'Checkout' },
      detection: { sensitivity: 'low', minExpected: 10 },
    });
    await runJobs(t);
  });
  after(() => t.close());

  test('the backfill detects the spike two days ago and the drop yesterday, anchored at their buckets, with expected and band', async () => {
    for (const id of Object.values(ids))
      assert.equal((await t.ctx.catalog.get(t.project, id)).collectedUntil, until, 'collected up to the hour the data was made for');
    const jobs = await t.ctx.jobs.list({ kind: 'metrics.backfill', limit: 10 });
    assert.ok(
      jobs.every((j) => j.status === 'done' && typeof (j.result as { detectionMs?: unknown }).detectionMs === 'number'),
      JSON.stringify(jobs.map((j) => j.result)),
    );

    const signals = await signalsOf(`metric=${ids.orders}`);
    assert.deepEqual(
      signals.map((s) => [s.kind, s.direction, s.bucket, s.endBucket]),
      [
        ['drop', 'down', iso(drop), iso(drop + HOUR)],
        ['spike', 'up', iso(spike), iso(spike)],
      ],
      'newest first',
    );
    const [d, s] = signals;
    for (const x of signals) {
      assert.equal(x.scope, 'metric');
      assert.equal(x.scopeKey, `metric:${ids.orders}`);
      assert.equal(x.metricId, ids.orders);
      assert.ok(x.lower < x.expected && x.expected < x.upper, JSON.stringify(x));
      assert.ok(x.score > 0.5 && x.score < 1, 'outside the band: the score passes 0.5');
      assert.equal(x.details.threshold, 4);
    }
    assert.equal(s.value, 260);
    assert.ok(s.expected > 105 && s.expected < 135, `the spike's expected value follows the rhythm at 14:00: ${s.expected}`);
    assert.ok(s.value > s.upper && s.z > 5);
    assert.equal(s.severity, 'critical', 'more than double the expected value');
    assert.ok(d.expected > 90 && d.expected < 120, `the drop's expected value at 17:00: ${d.expected}`);
    assert.ok(d.value < d.lower && d.z < -4 && d.z > -8);
    assert.equal(d.severity, 'critical', '60 % below the expected value');
    assert.equal(d.details.flagged, 2);

    // the whole project: the orders' two and the moderate spike at high sensitivity
    const all = await signalsOf('');
    // newest first; the moderate spike (40 hours ago) comes before or after the big one (yesterday's day before, 14:00) by the hour the test runs
    const newestFirst = <T extends [number, number]>(rows: T[]) => rows.sort((a, b) => b[1] - a[1]).map(([id, at]) => [id, iso(at)]);
    assert.deepEqual(
      all.map((x) => [x.metricId, x.bucket]),
      newestFirst([
        [ids.orders, drop],
        [ids.high, moderate],
        [ids.orders, spike],
      ]),
    );
    assert.deepEqual(
      (await signalsOf('kind=spike')).map((x) => x.bucket),
      newestFirst([
        [0, moderate],
        [0, spike],
      ]).map(([, at]) => at),
    );
    assert.deepEqual(await signalsOf('scope=threshold'), []);
  });

  test('detecting again creates no duplicates: a cycle, collect-now twice, a rescan of the whole history', async () => {
    const rows = () =>
      t.ctx.meta.db.selectFrom('signals').select(['id', 'scope_key', 'bucket', 'end_bucket', 'kind', 'z']).orderBy('id').execute();
    const before = await rows();
    assert.equal(before.length, 3);
    const cycle = await t.ctx.catalog.runCycle(t.project, '1h', until);
    assert.equal(cycle.metrics, 4);
    assert.ok(cycle.detectionMs > 0);
    for (let i = 0; i < 2; i++) assert.equal((await api('POST', `metrics/${ids.orders}/collect`)).status, 200);
    for (const id of Object.values(ids)) await t.ctx.signals.detectMetric(t.project, await t.ctx.catalog.get(t.project, id), { until });
    assert.deepEqual(await rows(), before);
  });

  test('a metric with detection disabled gets no signals', async () => {
    assert.deepEqual(await signalsOf(`metric=${ids.quiet}`), []);
    assert.deepEqual((await api('GET', `metrics/${ids.quiet}`)).body.detection, { enabled: false });
  });

  test('the series carries the signals as marks on its buckets', async () => {
    const q = new URLSearchParams({ from: iso(until - 3 * DAY), to: iso(until) });
    const r = await getJson(`${t.url}/api/projects/shop/metrics/${ids.orders}/series?${q}`, t.readKey);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const { buckets, signals } = r.body as { buckets: string[]; signals: Record<string, unknown>[] };
    assert.deepEqual(
      signals.map((m) => ({ ...m, score: typeof m.score })),
      [
        {
          bucket: buckets[(spike - (until - 3 * DAY)) / HOUR],
          endBucket: buckets[(spike - (until - 3 * DAY)) / HOUR],
          kind: 'spike',
          direction: 'up',
          severity: 'critical',
          score: 'number',
        },
        {
          bucket: buckets[(drop - (until - 3 * DAY)) / HOUR],
          endBucket: buckets[(drop + HOUR - (until - 3 * DAY)) / HOUR],
          kind: 'drop',
          direction: 'down',
          severity: 'critical',
          score: 'number',
        },
      ],
    );
    // a window after both: no marks
    const later = await getJson(
      `${t.url}/api/projects/shop/metrics/${ids.orders}/series?from=${iso(drop + 2 * HOUR)}&to=${iso(until)}`,
      t.readKey,
    );
    assert.deepEqual(later.body.signals, []);
  });

  test('PATCH stores detection settings (replacing them) and rejects a bad sensitivity; the history stays', async () => {
    const before = (await api('GET', `metrics/${ids.quiet}`)).body;
    for (const sensitivity of ['extreme', 0.5, 50]) {
      const bad = await api('PATCH', `metrics/${ids.quiet}`, { detection: { sensitivity } });
      assert.equal(bad.status, 400, JSON.stringify(bad.body));
      assert.match(bad.body.error.details.field, /^detection/);
    }
    assert.equal((await api('PATCH', `metrics/${ids.quiet}`, { detection: { unknown: 1 } })).status, 400);
    const custom = await api('PATCH', `metrics/${ids.quiet}`, { detection: { enabled: false, sensitivity: 3.5 } });
    assert.equal(custom.status, 200, JSON.stringify(custom.body));
    assert.deepEqual(custom.body.detection, { enabled: false, sensitivity: 3.5 });
    const named = await api('PATCH', `metrics/${ids.quiet}`, { detection: { enabled: false, sensitivity: 'high' } });
    assert.deepEqual(named.body.detection, { enabled: false, sensitivity: 'high' });
    assert.deepEqual([named.body.version, named.body.collectedUntil], [before.version, before.collectedUntil], 'settings are no new body');
    await assert.rejects(
      t.ctx.catalog.update(t.project, ids.quiet, { detection: { sensitivity: 'loud' as 'high' } }),
      /detection.sensitivity/,
    );
  });

  test('an episode seen again updates its signal (end, kind, peak) and never adds a row; pages follow the cursor', async () => {
    const b = until - 10 * DAY;
    const signal = (from: number, to: number, z: number, kind = 'spike'): SignalInput => ({
      scope: 'metric',
      scopeKey: 'metric:synthetic',
      metricId: null,
      bucket: from,
      endBucket: to,
      kind,
      direction: 'up',
      value: 100 + z,
      expected: 100,
      lower: 90,
      upper: 110,
      z,
      score: z / (z + 4),
      severity: z >= 8 ? 'critical' : 'warning',
      details: {},
    });
    const rows = () =>
      t.ctx.signals.store
        .list(t.project.id, { fromMs: 0, toMs: until, limit: 100 })
        .then((xs) => xs.filter((x) => x.scopeKey === 'metric:synthetic'));
    assert.deepEqual(await t.ctx.signals.upsert(t.project.id, [signal(b, b, 5)]), { inserted: 1, updated: 0 });
    assert.deepEqual(await t.ctx.signals.upsert(t.project.id, [signal(b, b, 5)]), { inserted: 0, updated: 0 }, 'unchanged: not written');
    await t.ctx.signals.upsert(t.project.id, [signal(b, b + 6 * HOUR, 9, 'level_shift')]);
    // seen later from a shorter history that starts inside it, with a smaller peak
    await t.ctx.signals.upsert(t.project.id, [signal(b + 2 * HOUR, b + 8 * HOUR, 6, 'level_shift')]);
    const [one, ...rest] = await rows();
    assert.deepEqual(rest, []);
    assert.deepEqual([one.bucket, one.endBucket, one.kind, one.z, one.severity], [b, b + 8 * HOUR, 'level_shift', 9, 'critical']);
    // apart from it: a second signal
    await t.ctx.signals.upsert(t.project.id, [signal(b + DAY, b + DAY, 5)]);
    assert.equal((await rows()).length, 2);

    const first = await getJson(`${t.url}/api/projects/shop/signals?from=-30d&limit=2`, t.readKey);
    assert.equal(first.body.signals.length, 2);
    const pages = [first.body.signals];
    let cursor = first.body.nextCursor;
    while (cursor) {
      const next = await getJson(`${t.url}/api/projects/shop/signals?from=-30d&limit=2&cursor=${cursor}`, t.readKey);
      pages.push(next.body.signals);
      cursor = next.body.nextCursor;
    }
    const seen = pages.flat().map((x) => x.id);
    assert.equal(seen.length, 5);
    assert.equal(new Set(seen).size, 5);
    const buckets = pages.flat().map((x) => Date.parse(x.bucket));
    assert.deepEqual(
      buckets,
      [...buckets].sort((x, y) => y - x),
      'newest first across pages',
    );
    assert.equal((await getJson(`${t.url}/api/projects/shop/signals?cursor=nonsense`, t.readKey)).status, 400);
    await t.ctx.meta.db.deleteFrom('signals').where('scope_key', '=', 'metric:synthetic').execute();
  });

  test('the signals API: no key is 401, a key of another project 404', async () => {
    assert.equal((await getJson(`${t.url}/api/projects/shop/signals`)).status, 401);
    const other = await t.ctx.projects.create({ slug: 'elsewhere' });
    const key = (await t.ctx.apiKeys.create({ projectId: other.id, scopes: ['read'] })).secret;
    assert.equal((await getJson(`${t.url}/api/projects/shop/signals`, key)).status, 404);
    assert.deepEqual((await getJson(`${t.url}/api/projects/elsewhere/signals`, key)).body, { signals: [], nextCursor: null });
  });

  test('a failing detection is logged and never fails the collection', async () => {
    const warnings: string[] = [];
    const svc = new MetricService({
      events: t.ctx.events,
      measurements: t.ctx.measurements,
      sqlTimeoutMs: t.ctx.config.metricSqlTimeoutMs,
      sqlMaxRows: t.ctx.config.metricSqlMaxRows,
      db: t.ctx.meta.db,
      projects: t.ctx.projects,
      jobs: t.ctx.jobs,
      settings: { lookbackBuckets: 2, backfillDays: DAYS },
      log: { warn: (_obj, msg) => void warnings.push(msg) },
      onCollected: async () => {
        throw new Error('detector down');
      },
    });
    const r = await svc.collectNow(t.project, ids.orders);
    assert.ok(r.buckets >= 2, 'the look-back was collected');
    assert.deepEqual(warnings, ['detection after collection failed']);
  });

  test("sensitivity: a moderate spike fires at high and not at low; the newest bucket waits for the project's settling time", async () => {
    assert.deepEqual(
      (await signalsOf(`metric=${ids.high}`)).map((s) => [s.kind, s.bucket, Math.round(s.z * 10) / 10]),
      [['spike', iso(moderate), 4]],
    );
    assert.deepEqual(await signalsOf(`metric=${ids.low}`), [], 'z ≈ 4 is inside the band at low sensitivity (5)');
    // without settling, the newest bucket (80 against 20) fires for both
    await t.ctx.meta.db
      .updateTable('projects')
      .set({ detection: JSON.stringify({ settlingMinutes: 0 }) })
      .where('id', '=', t.project.id)
      .execute();
    const metrics = await Promise.all([ids.high, ids.low].map((id) => t.ctx.catalog.get(t.project, id)));
    const r = await t.ctx.signals.detectCollected(t.project, metrics, { fromMs: until - 3 * HOUR, toMs: until });
    assert.deepEqual([r.metrics, r.signals, r.failed], [2, 2, 0]);
    assert.deepEqual(
      (await signalsOf(`metric=${ids.high}`)).map((s) => [s.bucket, s.details.closed]),
      [
        [iso(newest), false],
        [iso(moderate), true],
      ],
    );
    assert.deepEqual(
      (await signalsOf(`metric=${ids.low}`)).map((s) => s.bucket),
      [iso(newest)],
    );
  });
});
