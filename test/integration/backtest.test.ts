/**
 * Backtests: the live detector run over a window of a metric's stored series (or of a draft
 * definition's computed values) reports what would have fired, and agrees with what live
 * detection stored for the same window; sensitivity changes the count; nothing is stored; bad
 * windows are 400s.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getJson, postJson, startTestApp, type TestApp } from '../helpers/app.js';
import { HOUR, awayFromHourEnd, incidentTraffic, ingestHourly, runJobs } from '../helpers/hourly-events.js';

const DAY = 24 * HOUR;
const DAYS = 21;

const ingest = ingestHourly;
const iso = (ms: number) => new Date(ms).toISOString();
const utc = (s: string) => iso(Date.parse(s));
const SPIKE_RULE = { condition: { operator: '>', value: 200 }, severity: 'critical' };

describe('backtests', () => {
  let t: TestApp;
  let editorKey: string;
  let until: number, start: number, spike: number, drop: number, moderate: number;
  const ids: Record<string, number> = {};

  const backtest = async (path: string, body: object, key = t.readKey) => {
    const r = await postJson(`${t.url}/api/projects/shop/metrics/${path}`, body, { authorization: `Bearer ${key}` });
    return r as { status: number; body: any };
  };
  const ok = async (path: string, body: object) => {
    const r = await backtest(path, body);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  };
  const stored = async (metricId: number, scope: string, fromMs: number, toMs: number) => {
    const r = await getJson(
      `${t.url}/api/projects/shop/signals?metric=${metricId}&scope=${scope}&from=${iso(fromMs)}&to=${iso(toMs)}&limit=500`,
      t.readKey,
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    // the API lists signals overlapping the window; a backtest reports those anchored in it
    return (r.body.signals as any[]).filter((s) => Date.parse(s.bucket) >= fromMs).reverse();
  };
  const shape = (s: any) => [
    s.kind,
    s.direction,
    utc(s.bucket),
    utc(s.endBucket),
    s.severity,
    s.z === null ? null : Math.round(s.z * 1000) / 1000,
  ];

  before(async () => {
    await awayFromHourEnd();
    t = await startTestApp({ config: { metricsBackfillDays: DAYS } });
    editorKey = (await t.ctx.apiKeys.create({ projectId: t.project.id, scopes: ['write'] })).secret;
    until = Math.floor(Date.now() / HOUR) * HOUR;
    start = until - DAYS * DAY;
    const today = Math.floor(until / DAY) * DAY;
    spike = today - 2 * DAY + 14 * HOUR;
    drop = today - DAY + 17 * HOUR;
    moderate = until - 40 * HOUR;
    await ingest(t, incidentTraffic(7, { start, until, spike, drop, moderate }));
    const create = async (body: object) => {
      const res = await fetch(`${t.url}/api/projects/shop/metrics`, {
        method: 'POST',
        headers: { authorization: `Bearer ${editorKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const json = (await res.json()) as any;
      assert.equal(res.status, 201, JSON.stringify(json));
      return json.id as number;
    };
    ids.orders = await create({ name: 'orders', kind: 'event', definition: { event: 'Order Completed' } });
    ids.checkout = await create({
      name: 'checkout',
      kind: 'event',
      definition: { event: 'Checkout' },
      detection: { sensitivity: 'high', minExpected: 10 },
    });
    const rule = await fetch(`${t.url}/api/projects/shop/metrics/${ids.orders}/rules`, {
      method: 'POST',
      headers: { authorization: `Bearer ${editorKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'over-200', rule: SPIKE_RULE }),
    });
    assert.equal(rule.status, 201);
    await runJobs(t);
  });
  after(() => t.close());

  test('live and backtest agree: the same signals over the whole history and over the last week', async () => {
    const live = await stored(ids.orders, 'metric', start, until);
    assert.deepEqual(
      live.map((s) => [s.kind, utc(s.bucket)]),
      [
        ['spike', iso(spike)],
        ['drop', iso(drop)],
      ],
      'the data holds a spike and a drop',
    );
    for (const from of [start, until - 7 * DAY, spike]) {
      const body = await ok(`${ids.orders}/backtest`, { from: iso(from), to: iso(until) });
      assert.deepEqual(body.signals.map(shape), (await stored(ids.orders, 'metric', from, until)).map(shape), `from ${iso(from)}`);
      assert.equal(body.count, body.signals.length);
      assert.ok(body.signals.every((s: any) => s.scope === 'metric'));
    }
    const week = await ok(`${ids.orders}/backtest`, { from: iso(until - 7 * DAY), to: iso(until) });
    assert.deepEqual([week.interval, week.valueKind, week.threshold, week.minExpected, week.timeZone], ['1h', 'count', 4, 10, 'UTC']);
    assert.equal(week.buckets.length, 7 * 24);
    assert.deepEqual(
      week.points.map((p: any) => p.bucket),
      week.buckets,
      'one point per bucket of the window; the history read before it is not reported',
    );
    assert.equal(utc(week.buckets[0]), iso(until - 7 * DAY));
    const peak = week.points.find((p: any) => utc(p.bucket) === iso(spike));
    const [liveSpike] = live;
    assert.deepEqual([peak.value, peak.isAnomaly, peak.expected, peak.upper], [260, true, liveSpike.expected, liveSpike.upper]);
    assert.ok(peak.score > 0.5);
    // the settling buckets are read but never flagged
    assert.ok(week.points.slice(-2).every((p: any) => !p.isAnomaly));
  });

  test('a rule in the backtest fires where the live rule did', async () => {
    const live = await stored(ids.orders, 'threshold', start, until);
    assert.deepEqual(
      live.map((s) => [s.kind, utc(s.bucket)]),
      [
        ['breach', iso(spike)],
        ['recovery', iso(spike + HOUR)],
      ],
    );
    const body = await ok(`${ids.orders}/backtest`, { from: iso(until - 7 * DAY), to: iso(until), rule: SPIKE_RULE });
    const fired = body.signals.filter((s: any) => s.scope === 'threshold');
    assert.deepEqual(
      fired.map((s: any) => [s.kind, utc(s.bucket), s.direction, s.severity, s.value, s.compared]),
      live.map((s) => [s.kind, utc(s.bucket), s.direction, s.severity, s.value, s.details.compared]),
    );
    assert.equal(body.count, body.signals.filter((s: any) => s.scope === 'metric').length + 2);
    const bad = await backtest(`${ids.orders}/backtest`, {
      from: '-7d',
      to: iso(until),
      rule: { condition: { operator: '~', value: 1 }, severity: 'info' },
    });
    assert.deepEqual([bad.status, bad.body.error.details.field], [400, 'rule.condition.operator']);
  });

  test('sensitivity changes what fires: the moderate spike at high, not at low; the settling newest bucket at neither', async () => {
    const window = { from: iso(until - 7 * DAY), to: iso(until) };
    const high = await ok(`${ids.checkout}/backtest`, window);
    assert.deepEqual(
      high.signals.map((s: any) => [s.kind, utc(s.bucket)]),
      [['spike', iso(moderate)]],
      "the metric's own sensitivity (high)",
    );
    assert.deepEqual(high.signals.map(shape), (await stored(ids.checkout, 'metric', until - 7 * DAY, until)).map(shape));
    const low = await ok(`${ids.checkout}/backtest`, { ...window, sensitivity: 'low' });
    assert.deepEqual([low.count, low.threshold], [0, 5]);
    const custom = await ok(`${ids.checkout}/backtest`, { ...window, sensitivity: 3.1 });
    assert.deepEqual([custom.count, custom.threshold], [1, 3.1]);
    const noisy = await ok(`${ids.checkout}/backtest`, { ...window, sensitivity: 'high', minExpected: 100 });
    assert.equal(noisy.count, 0, 'below the minimum samples nothing fires');
    const newest = high.points[high.points.length - 1];
    assert.deepEqual([newest.value, newest.isAnomaly], [80, false], 'the newest bucket is still settling');
  });

  test('a draft definition is computed for the window and its history and detected the same way', async () => {
    const window = { from: iso(until - 7 * DAY), to: iso(until) };
    const saved = await ok(`${ids.orders}/backtest`, window);
    const draft = await ok('backtest', { kind: 'event', definition: { event: 'Order Completed' }, ...window });
    assert.deepEqual(draft.buckets, saved.buckets);
    assert.deepEqual(
      draft.points.map((p: any) => p.value),
      saved.points.map((p: any) => p.value),
      'the same values as the collected metric',
    );
    // its history starts where a saved metric's would (the default backfill, 21 days here): the same answer
    assert.deepEqual(draft.points, saved.points);
    assert.deepEqual(draft.signals, saved.signals);
    assert.deepEqual(
      draft.signals.map((s: any) => [s.kind, utc(s.bucket)]),
      [
        ['spike', iso(spike)],
        ['drop', iso(drop)],
      ],
    );
    // a window reaching past the current bucket: the incomplete and future buckets are gaps
    const ahead = await ok('backtest', {
      kind: 'event',
      definition: { event: 'Checkout' },
      interval: '1h',
      from: iso(until - 3 * HOUR),
      to: iso(until + 2 * HOUR),
      rule: { condition: { operator: '>', value: 70 }, severity: 'info' },
      sensitivity: 'high',
      minExpected: 10,
    });
    assert.deepEqual(
      ahead.points.map((p: any) => p.value),
      [20, 20, 80, null, null],
    );
    assert.deepEqual(ahead.signals, [], 'the newest buckets settle: neither the detector nor the rule fires on them');
    const daily = await ok('backtest', {
      kind: 'event',
      definition: { event: 'Order Completed' },
      interval: '1d',
      from: iso(until - 14 * DAY),
      to: iso(until),
    });
    assert.equal(daily.interval, '1d');
    assert.ok(daily.buckets.length >= 14 && daily.buckets.length <= 15);
    const bad = await backtest('backtest', {
      kind: 'event',
      definition: { event: 'Checkout', filters: [{ property: 'plan', op: 'resembles', value: 'pro' }] },
      ...window,
    });
    assert.equal(bad.status, 400, JSON.stringify(bad.body));
  });

  test('bad windows are 400s that name the field; nothing is stored by any backtest', async () => {
    const before = await t.ctx.meta.db.selectFrom('signals').select(['id', 'updated_at']).orderBy('id').execute();
    const cases: [object, string][] = [
      [{ from: iso(until), to: iso(until - DAY) }, 'from'],
      [{ from: iso(until), to: iso(until) }, 'from'],
      [{ from: '-300d', to: iso(until) }, 'from'],
      [{ from: 'yesterday-ish', to: iso(until) }, 'from'],
      [{ from: '-1d', to: 'soon' }, 'to'],
      [{ to: iso(until) }, 'from'],
      [{ from: '-1d', to: iso(until), sensitivity: 'extreme' }, 'sensitivity'],
      [{ from: '-1d', to: iso(until), minExpected: -1 }, 'minExpected'],
    ];
    for (const [body, field] of cases) {
      for (const path of [`${ids.orders}/backtest`, 'backtest']) {
        const r = await backtest(path, path === 'backtest' ? { kind: 'event', definition: { event: 'Checkout' }, ...body } : body);
        assert.equal(r.status, 400, `${path} ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
        assert.match(
          String(r.body.error.details?.field),
          new RegExp(`^${field}`),
          `${path} ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`,
        );
      }
    }
    // 5,000 buckets is the limit: 208 days of hours pass, 209 do not
    assert.equal((await backtest(`${ids.orders}/backtest`, { from: iso(until - 208 * DAY), to: iso(until) })).status, 200);
    assert.equal((await backtest(`${ids.orders}/backtest`, { from: iso(until - 209 * DAY), to: iso(until) })).status, 400);
    assert.deepEqual(await t.ctx.meta.db.selectFrom('signals').select(['id', 'updated_at']).orderBy('id').execute(), before);
  });

  test("access: a read key may backtest; no key 401; another project's key 404, and so is another project's metric", async () => {
    const window = { from: '-1d', to: iso(until) };
    assert.equal((await postJson(`${t.url}/api/projects/shop/metrics/${ids.orders}/backtest`, window)).status, 401);
    assert.equal(
      (await postJson(`${t.url}/api/projects/shop/metrics/backtest`, { kind: 'event', definition: { event: 'Checkout' }, ...window }))
        .status,
      401,
    );
    const other = await t.ctx.projects.create({ slug: 'elsewhere' });
    const key = (await t.ctx.apiKeys.create({ projectId: other.id, scopes: ['admin'] })).secret;
    assert.equal((await backtest(`${ids.orders}/backtest`, window, key)).status, 404);
    assert.equal((await backtest('backtest', { kind: 'event', definition: { event: 'Checkout' }, ...window }, key)).status, 404);
    const theirs = await t.ctx.catalog.create(other, { name: 'theirs', kind: 'event', status: 'draft', definition: { event: 'Checkout' } });
    assert.equal((await backtest(`${theirs.id}/backtest`, window)).status, 404);
    // their own project: allowed, and a metric never collected has only gaps
    const r = await postJson(`${t.url}/api/projects/elsewhere/metrics/${theirs.id}/backtest`, window, { authorization: `Bearer ${key}` });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.ok(r.body.points.every((p: any) => p.value === null) && r.body.count === 0);
  });
});
