/**
 * The forecast API: the next k buckets after a metric's last collected one follow its daily
 * rhythm, inside a band as wide as its detection threshold; a metric without history gets no
 * points and the reason; bad k values are 400s naming the field.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getJson, postJson, startTestApp, type TestApp } from '../helpers/app.js';
import { HOUR, awayFromHourEnd, ingestHourly, random, rhythm, runJobs } from '../helpers/hourly-events.js';

const DAY = 24 * HOUR;
const DAYS = 21;

describe('forecast', () => {
  let t: TestApp;
  let editorKey: string;
  let until: number;
  const ids: Record<string, number> = {};

  const forecast = (id: number, query = '') => getJson(`${t.url}/api/projects/shop/metrics/${id}/forecast${query}`, t.readKey);
  const create = async (body: object) => {
    const r = await postJson(`${t.url}/api/projects/shop/metrics`, body, { authorization: `Bearer ${editorKey}` });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.id as number;
  };

  before(async () => {
    await awayFromHourEnd();
    t = await startTestApp({ config: { metricsBackfillDays: DAYS } });
    editorKey = (await t.ctx.apiKeys.create({ projectId: t.project.id, scopes: ['write'] })).secret;
    until = Math.floor(Date.now() / HOUR) * HOUR;
    const r = random(11);
    const counts = [];
    for (let hour = until - DAYS * DAY; hour < until; hour += HOUR) {
      counts.push({ event: 'Order Completed', hour, n: Math.round(rhythm(new Date(hour).getUTCHours()) * (1 + 0.03 * (2 * r() - 1))) });
    }
    await ingestHourly(t, counts);
    ids.orders = await create({
      name: 'orders',
      kind: 'event',
      definition: { event: 'Order Completed' },
      detection: { sensitivity: 'high' },
    });
    ids.draft = await create({ name: 'draft', kind: 'event', status: 'draft', definition: { event: 'Order Completed' } });
    await runJobs(t);
  });
  after(() => t.close());

  test('the next 24 hours follow the daily rhythm, each inside its band, from the bucket after the last collected one', async () => {
    const metric = (await getJson(`${t.url}/api/projects/shop/metrics/${ids.orders}`, t.readKey)).body;
    assert.ok(metric.collectedUntil, 'collected');
    const r = await forecast(ids.orders);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const f = r.body;
    assert.deepEqual(
      [f.metric.id, f.metric.interval, f.metric.valueKind, f.timeZone, f.threshold, f.reason],
      [ids.orders, '1h', 'count', 'UTC', 3, null],
    );
    assert.equal(f.points.length, 24, 'k defaults to 24');
    assert.equal(Date.parse(f.from), Date.parse(metric.collectedUntil));
    assert.ok(f.history >= 2 * 168, `read ${f.history} buckets: at least two weeks, for the weekly period`);
    f.points.forEach((p: any, i: number) => {
      const at = Date.parse(metric.collectedUntil) + i * HOUR;
      assert.equal(Date.parse(p.bucket), at, 'consecutive hours');
      assert.ok(p.lower <= p.value && p.value <= p.upper, `band around the value at ${p.bucket}`);
      assert.ok(p.lower >= 0, 'a count is never forecast below 0');
      const want = rhythm(new Date(at).getUTCHours());
      assert.ok(Math.abs(p.value - want) / want < 0.15, `${p.bucket}: forecast ${p.value.toFixed(1)}, rhythm ${want.toFixed(1)}`);
    });
    const nightAndAfternoon = (h: number) => f.points.find((p: any) => new Date(p.bucket).getUTCHours() === h).value;
    assert.ok(nightAndAfternoon(14) > 2 * nightAndAfternoon(2), 'the afternoon peak is forecast above the night');
  });

  test('k sets how far ahead; a wider threshold widens the band', async () => {
    const short = (await forecast(ids.orders, '?k=3')).body;
    assert.equal(short.points.length, 3);
    const patched = await fetch(`${t.url}/api/projects/shop/metrics/${ids.orders}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${editorKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ detection: { sensitivity: 'low' } }),
    });
    assert.equal(patched.status, 200);
    const low = (await forecast(ids.orders, '?k=3')).body;
    assert.equal(low.threshold, 5);
    low.points.forEach((p: any, i: number) => {
      assert.ok(Math.abs(p.value - short.points[i].value) < 1e-9, 'the same centre');
      assert.ok(p.upper - p.lower > short.points[i].upper - short.points[i].lower, 'a wider band');
    });
  });

  test('a metric never collected has no points and says why', async () => {
    const r = await forecast(ids.draft);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual([r.body.points, r.body.from, r.body.history], [[], null, 0]);
    assert.match(r.body.reason, /not been collected/);
  });

  test('bad k values and unknown metrics are 4xx with the field', async () => {
    for (const k of ['0', '501', 'soon']) {
      const r = await forecast(ids.orders, `?k=${k}`);
      assert.equal(r.status, 400, `k=${k}`);
      assert.equal(r.body.error.details.field, 'k');
    }
    const missing = await forecast(999_999);
    assert.equal(missing.status, 404);
  });
});
