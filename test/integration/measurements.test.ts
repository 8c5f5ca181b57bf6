import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { aggregateGauge } from '../../src/ingest/measurement-store.js';
import { parseMeasurements } from '../../src/ingest/measurements.js';
import { generateDemoMeasurements } from '../../src/demo/measurements.js';
import { demoIncidents } from '../../src/demo/traffic.js';
import { seedDemo } from '../../src/demo/seed.js';
import { VigilError } from '../../src/errors.js';
import { basic, postJson, startTestApp, type TestApp, send } from '../helpers/app.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A fresh service name per call, so tests sharing one app never see each other's points. */
const svc = () => `svc-${crypto.randomUUID().slice(0, 8)}`;

/** Asserts the error shape every 4xx has, and returns its code, message and details. */
function errorOf(r: { status: number; body: any }, status: number) {
  assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${JSON.stringify(r.body)}`);
  assert.deepEqual(Object.keys(r.body), ['error']);
  assert.deepEqual(Object.keys(r.body.error).sort(), ['code', 'details', 'message']);
  assert.ok(r.body.error.message.length > 0);
  return r.body.error as { code: string; message: string; details: any };
}

describe('measurements: POST /v1/measurements', () => {
  let t: TestApp;
  let url: string;
  before(async () => {
    t = await startTestApp();
    url = `${t.url}/v1/measurements`;
  });
  after(() => t.close());

  const stored = (service: string, metric = 'latency_ms', tags?: Record<string, string>) =>
    t.ctx.measurements.points({ projectId: t.project.id, service, metric, fromMs: 0, toMs: Date.now() + 2 * HOUR, tags });

  for (const [label, headers] of [
    ['Basic (write key as user name)', (k: string) => basic(k)],
    ['Bearer', (k: string) => ({ authorization: `Bearer ${k}` })],
    ['X-API-Key', (k: string) => ({ 'x-api-key': k })],
  ] as const) {
    test(`a JSON array is stored, authenticated with ${label}`, async () => {
      const service = svc();
      const ts = Date.now() - 60_000;
      const r = await postJson(
        url,
        [
          { service, metric: 'latency_ms', value: 120.5, timestamp: ts },
          { service, metric: 'latency_ms', value: 130, timestamp: ts + 1000 },
        ],
        headers(t.writeKey),
      );
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(r.body, { success: true, accepted: 2 });
      assert.deepEqual(await stored(service), [
        { ts, value: 120.5 },
        { ts: ts + 1000, value: 130 },
      ]);
    });
  }

  test('the object form {measurements: [...]} is stored', async () => {
    const service = svc();
    const r = await postJson(
      url,
      { measurements: [{ service, metric: 'error_rate', value: 0.004, timestamp: Date.now() - 1000 }] },
      basic(t.writeKey),
    );
    assert.deepEqual(r.body, { success: true, accepted: 1 });
    assert.deepEqual(
      (await stored(service, 'error_rate')).map((p) => p.value),
      [0.004],
    );
  });

  test('points read back in time order, filtered by every given tag', async () => {
    const service = svc();
    const base = Date.now() - HOUR;
    const batch = [
      { service, metric: 'latency_ms', value: 3, timestamp: base + 3000, tags: { region: 'eu', host: 'a' } },
      { service, metric: 'latency_ms', value: 1, timestamp: base + 1000, tags: { region: 'eu', host: 'b' } },
      { service, metric: 'latency_ms', value: 2, timestamp: base + 2000, tags: { region: 'us', host: 'a' } },
      { service, metric: 'latency_ms', value: 4, timestamp: base + 4000 },
      { service, metric: 'other', value: 5, timestamp: base + 5000, tags: { region: 'eu' } },
    ];
    assert.equal((await postJson(url, batch, basic(t.writeKey))).status, 200);
    assert.deepEqual(
      (await stored(service)).map((p) => p.value),
      [1, 2, 3, 4],
    );
    assert.deepEqual(await stored(service, 'latency_ms', { region: 'eu' }), [
      { ts: base + 1000, value: 1 },
      { ts: base + 3000, value: 3 },
    ]);
    assert.deepEqual(
      (await stored(service, 'latency_ms', { region: 'eu', host: 'a' })).map((p) => p.value),
      [3],
    );
    assert.deepEqual(await stored(service, 'latency_ms', { region: 'ap' }), []);
    assert.deepEqual(await stored(service, 'latency_ms', {}), await stored(service));
    // the range is half-open [fromMs, toMs)
    const range = await t.ctx.measurements.points({
      projectId: t.project.id,
      service,
      metric: 'latency_ms',
      fromMs: base + 2000,
      toMs: base + 4000,
    });
    assert.deepEqual(
      range.map((p) => p.value),
      [2, 3],
    );
  });

  test('a missing timestamp is the time of receipt; ISO 8601 with a zone and epoch ms are read', async () => {
    const service = svc();
    const before = Date.now();
    const r = await postJson(
      url,
      [
        { service, metric: 'm1', value: 1 },
        { service, metric: 'm2', value: 2, timestamp: '2026-01-15T12:00:00.250+02:00' },
        { service, metric: 'm3', value: 3, timestamp: '2026-01-15T10:00:00Z' },
        { service, metric: 'm4', value: 4, timestamp: 1_768_471_200_000 },
        { service, metric: 'm5', value: 5, timestamp: '2026-01-15T12:00:00+0200' },
      ],
      basic(t.writeKey),
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const [m1] = await stored(service, 'm1');
    assert.ok(m1.ts >= before && m1.ts <= Date.now(), `${m1.ts} within the request`);
    assert.equal((await stored(service, 'm2'))[0].ts, Date.UTC(2026, 0, 15, 10, 0, 0, 250));
    assert.equal((await stored(service, 'm3'))[0].ts, Date.UTC(2026, 0, 15, 10));
    assert.equal((await stored(service, 'm4'))[0].ts, Date.UTC(2026, 0, 15, 10));
    assert.equal((await stored(service, 'm5'))[0].ts, Date.UTC(2026, 0, 15, 10));
  });

  test('series lists each (service, metric) with its point count and last time', async () => {
    const service = svc();
    const ts = Date.now() - 10_000;
    await postJson(
      url,
      [
        { service, metric: 'a', value: 1, timestamp: ts },
        { service, metric: 'a', value: 1, timestamp: ts + 5 },
        { service, metric: 'b', value: 1, timestamp: ts + 9 },
      ],
      basic(t.writeKey),
    );
    const mine = (await t.ctx.measurements.series(t.project.id)).filter((s) => s.service === service);
    assert.deepEqual(mine, [
      { service, metric: 'a', count: 2, lastTs: ts + 5 },
      { service, metric: 'b', count: 1, lastTs: ts + 9 },
    ]);
  });

  // one valid item at index 0 and the invalid one at index 1: the whole request is refused
  const now = Date.now();
  const cases: [string, Record<string, unknown>, string][] = [
    ['a service name with a space', { service: 'checkout api', metric: 'm', value: 1 }, 'service'],
    ['a service name of 201 characters', { service: 'x'.repeat(201), metric: 'm', value: 1 }, 'service'],
    ['a missing service', { metric: 'm', value: 1 }, 'service'],
    ['an empty metric name', { service: 's', metric: '', value: 1 }, 'metric'],
    ['a metric name that is a number', { service: 's', metric: 7, value: 1 }, 'metric'],
    ['a numeric string value', { service: 's', metric: 'm', value: '12.5' }, 'value'],
    ['the string "NaN" as value', { service: 's', metric: 'm', value: 'NaN' }, 'value'],
    ['a missing value', { service: 's', metric: 'm' }, 'value'],
    ['a boolean value', { service: 's', metric: 'm', value: true }, 'value'],
    ['a timestamp 2 hours in the future', { service: 's', metric: 'm', value: 1, timestamp: now + 2 * HOUR }, 'timestamp'],
    [
      'an ISO timestamp 2 hours in the future',
      { service: 's', metric: 'm', value: 1, timestamp: new Date(now + 2 * HOUR).toISOString() },
      'timestamp',
    ],
    ['an ISO timestamp without a zone', { service: 's', metric: 'm', value: 1, timestamp: '2026-01-15T10:00:00' }, 'timestamp'],
    ['a date that does not exist', { service: 's', metric: 'm', value: 1, timestamp: '2026-02-30T10:00:00Z' }, 'timestamp'],
    ['a timestamp in epoch seconds', { service: 's', metric: 'm', value: 1, timestamp: Math.floor(now / 1000) }, 'timestamp'],
    ['a text timestamp', { service: 's', metric: 'm', value: 1, timestamp: 'yesterday' }, 'timestamp'],
    [
      '21 tags',
      { service: 's', metric: 'm', value: 1, tags: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, 'v'])) },
      'tags',
    ],
    ['tags as an array', { service: 's', metric: 'm', value: 1, tags: ['a'] }, 'tags'],
    ['a number as tag value', { service: 's', metric: 'm', value: 1, tags: { region: 3 } }, 'tags.region'],
    ['a tag value of 501 characters', { service: 's', metric: 'm', value: 1, tags: { region: 'x'.repeat(501) } }, 'tags.region'],
    ['a tag name of 101 characters', { service: 's', metric: 'm', value: 1, tags: { ['k'.repeat(101)]: 'v' } }, 'tags'],
  ];
  for (const [label, bad, field] of cases) {
    test(`${label} → 400 naming index 1 and field "${field}", nothing stored`, async () => {
      const service = svc();
      const r = await postJson(url, [{ service, metric: 'latency_ms', value: 1 }, bad], basic(t.writeKey));
      const err = errorOf(r, 400);
      assert.equal(err.code, 'VIGIL_ERR_INVALID_MEASUREMENTS');
      assert.equal(err.message, '1 measurement(s) are invalid; nothing was stored');
      assert.equal(err.details.rejected.length, 1);
      assert.equal(err.details.rejected[0].index, 1);
      assert.equal(err.details.rejected[0].field, field);
      assert.equal(typeof err.details.rejected[0].message, 'string');
      assert.deepEqual(await stored(service), [], 'the valid item was not stored either');
    });
  }

  test('every invalid item is listed, up to 100', async () => {
    const service = svc();
    const items = Array.from({ length: 300 }, (_, i) =>
      i % 2 ? { service, metric: 'latency_ms', value: String(i) } : { service, metric: 'latency_ms', value: i },
    );
    const err = errorOf(await postJson(url, items, basic(t.writeKey)), 400);
    assert.equal(err.message, '150 measurement(s) are invalid; nothing was stored');
    assert.equal(err.details.rejected.length, 100);
    assert.deepEqual(
      err.details.rejected.slice(0, 3).map((r: any) => [r.index, r.field]),
      [
        [1, 'value'],
        [3, 'value'],
        [5, 'value'],
      ],
    );
    assert.deepEqual(await stored(service), []);
  });

  test('1000 items are accepted; 1001 are refused whole', async () => {
    const service = svc();
    const base = Date.now() - DAY;
    const items = (n: number) => Array.from({ length: n }, (_, i) => ({ service, metric: 'latency_ms', value: i, timestamp: base + i }));
    const err = errorOf(await postJson(url, items(1001), basic(t.writeKey)), 400);
    assert.equal(err.code, 'VIGIL_ERR_INVALID_MEASUREMENTS');
    assert.match(err.message, /1001.*at most 1000/);
    assert.equal(err.details.field, 'measurements');
    assert.deepEqual(await stored(service), []);
    assert.deepEqual((await postJson(url, items(1000), basic(t.writeKey))).body, { success: true, accepted: 1000 });
    assert.equal((await stored(service)).length, 1000);
  });

  for (const [label, body] of [
    ['an object without measurements', { service: 's', metric: 'm', value: 1 }],
    ['measurements that is not an array', { measurements: { service: 's', metric: 'm', value: 1 } }],
    ['a JSON string', 'just text'],
    ['a JSON number', 42],
    ['null', null],
    ['an empty array', []],
  ] as const) {
    test(`${label} → 400 VIGIL_ERR_INVALID_MEASUREMENTS`, async () => {
      const err = errorOf(await send(url, JSON.stringify(body), { 'content-type': 'application/json', ...basic(t.writeKey) }), 400);
      assert.equal(err.code, 'VIGIL_ERR_INVALID_MEASUREMENTS');
      assert.equal(err.details.field, 'measurements');
      assert.match(err.message, /nothing was stored/);
    });
  }

  test('invalid JSON (or no body) → 400 VIGIL_ERR_INVALID_JSON, nothing stored', async () => {
    const service = svc();
    const err = errorOf(
      await send(url, `[{"service": "${service}", "metric": "latency_ms", "value": 1},`, {
        'content-type': 'application/json',
        ...basic(t.writeKey),
      }),
      400,
    );
    assert.equal(err.code, 'VIGIL_ERR_INVALID_JSON');
    assert.match(err.message, /not valid JSON/);
    // JSON has no NaN
    assert.equal(
      errorOf(await send(url, `[{"service": "${service}", "metric": "latency_ms", "value": NaN}]`, basic(t.writeKey)), 400).code,
      'VIGIL_ERR_INVALID_JSON',
    );
    assert.equal(errorOf(await send(url, '', basic(t.writeKey)), 400).code, 'VIGIL_ERR_INVALID_JSON');
    assert.deepEqual(await stored(service), []);
  });

  test('a read-scope key → 403, no key or an unknown key → 401, nothing stored', async () => {
    const service = svc();
    const body = [{ service, metric: 'latency_ms', value: 1 }];
    assert.equal(errorOf(await postJson(url, body, { authorization: `Bearer ${t.readKey}` }), 403).code, 'VIGIL_ERR_FORBIDDEN');
    assert.equal(errorOf(await postJson(url, body), 401).code, 'VIGIL_ERR_UNAUTHORIZED');
    assert.equal(
      errorOf(await postJson(url, body, { 'x-api-key': 'vk_' + crypto.randomBytes(24).toString('base64url') }), 401).code,
      'VIGIL_ERR_UNAUTHORIZED',
    );
    assert.deepEqual(await stored(service), []);
  });

  test('authentication comes before validation: no key and a bad body → 401', async () => {
    assert.equal(errorOf(await send(url, 'not json'), 401).code, 'VIGIL_ERR_UNAUTHORIZED');
  });

  test('a gzip body, a text/plain body and a body with no content-type are stored', async () => {
    const service = svc();
    const body = (value: number) => JSON.stringify([{ service, metric: 'latency_ms', value, timestamp: Date.now() - 1000 + value }]);
    const zipped = await send(url, zlib.gzipSync(body(1)), {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
      ...basic(t.writeKey),
    });
    assert.deepEqual(zipped.body, { success: true, accepted: 1 });
    assert.deepEqual((await send(url, body(2), { 'content-type': 'text/plain', ...basic(t.writeKey) })).body, {
      success: true,
      accepted: 1,
    });
    assert.deepEqual((await send(url, Buffer.from(body(3)), basic(t.writeKey))).body, { success: true, accepted: 1 });
    assert.deepEqual(
      (await stored(service)).map((p) => p.value),
      [1, 2, 3],
    );
  });

  test('a body over 500 KB → 413', async () => {
    const items = Array.from({ length: 1000 }, () => ({ service: 's', metric: 'm', value: 1, tags: { pad: 'x'.repeat(500) } }));
    assert.equal(errorOf(await postJson(url, items, basic(t.writeKey)), 413).code, 'VIGIL_ERR_PAYLOAD_TOO_LARGE');
  });

  test('a browser origin gets CORS headers, also on errors', async () => {
    const ok = await postJson(url, [{ service: svc(), metric: 'm', value: 1 }], { ...basic(t.writeKey), origin: 'https://status.example' });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('access-control-allow-origin'), 'https://status.example');
    const denied = await postJson(url, [], { origin: 'https://status.example' });
    assert.equal(denied.status, 401);
    assert.equal(denied.headers.get('access-control-allow-origin'), 'https://status.example');
  });

  test('the route is in the OpenAPI document', async () => {
    const res = await fetch(`${t.url}/api/docs/json`);
    const doc = (await res.json()) as any;
    assert.ok(doc.paths['/v1/measurements']?.post, 'documented');
  });

  test('seedDemo stores the demo measurements and counts them', async () => {
    const endMs = Date.UTC(2026, 2, 10, 8, 0);
    const result = await seedDemo(t.ctx, { slug: 'demo-gauges', endMs, days: 5, scale: 0.01 });
    assert.equal(result.measurements, 5 * 288 * 3);
    const series = await t.ctx.measurements.series(result.project.id);
    assert.deepEqual(
      series.map((s) => [s.service, s.metric, s.count]),
      [
        ['checkout-api', 'error_rate', 1440],
        ['checkout-api', 'latency_ms', 1440],
        ['web', 'uptime', 1440],
      ],
    );
  });
});

describe('measurements: parseMeasurements (pure)', () => {
  const now = Date.UTC(2026, 0, 15, 12);
  const rejectedOf = (body: unknown) => {
    try {
      parseMeasurements(body, now);
    } catch (err) {
      assert.ok(err instanceof VigilError);
      assert.equal(err.code, 'VIGIL_ERR_INVALID_MEASUREMENTS');
      return (err.details as { rejected: { index: number; field: string }[] }).rejected;
    }
    assert.fail('expected a rejection');
  };

  test('NaN and ±Infinity values are refused (they can reach here from code, not from JSON)', () => {
    for (const value of [NaN, Infinity, -Infinity]) {
      assert.deepEqual(
        rejectedOf([{ service: 's', metric: 'm', value }]).map((r) => [r.index, r.field]),
        [[0, 'value']],
      );
    }
  });

  test('a timestamp at most 1 hour ahead is accepted; null timestamp and tags are defaults', () => {
    assert.deepEqual(
      parseMeasurements(
        [
          { service: 's', metric: 'm', value: 0, timestamp: now + HOUR, tags: null },
          { service: 's', metric: 'm', value: -1.5, timestamp: null },
        ],
        now,
      ),
      [
        { service: 's', metric: 'm', value: 0, ts: now + HOUR, tags: {} },
        { service: 's', metric: 'm', value: -1.5, ts: now, tags: {} },
      ],
    );
    assert.deepEqual(
      rejectedOf([{ service: 's', metric: 'm', value: 0, timestamp: now + HOUR + 1 }]).map((r) => r.field),
      ['timestamp'],
    );
  });

  test('a "__proto__" tag stays an ordinary tag', () => {
    const [m] = parseMeasurements(JSON.parse('[{"service":"s","metric":"m","value":1,"tags":{"__proto__":"x"}}]'), now);
    assert.equal(JSON.stringify(m.tags), '{"__proto__":"x"}');
  });

  test('a list that is not an item → index and empty field', () => {
    assert.deepEqual(
      rejectedOf([{ service: 's', metric: 'm', value: 1 }, [1, 2], 'x']).map((r) => [r.index, r.field]),
      [
        [1, ''],
        [2, ''],
      ],
    );
  });
});

describe('measurements: aggregateGauge', () => {
  const starts = [0, 10, 20, 30];
  const pts = [
    { ts: 0, value: 5 }, // first instant of bucket 0
    { ts: 9, value: 1 },
    { ts: 4, value: 3 },
    { ts: 10, value: 7 }, // a boundary belongs to the bucket it starts
    { ts: 19, value: 2 },
    { ts: 35, value: 4 }, // last bucket runs to toMs
    { ts: -1, value: 100 }, // before starts[0]: ignored
    { ts: 40, value: 100 }, // at toMs: ignored (half-open)
    { ts: 50, value: 100 },
  ];

  test('last: the value of the latest point in each bucket, in any input order', () => {
    assert.deepEqual(aggregateGauge(pts, starts, 40, 'last'), [1, 2, null, 4]);
  });

  test('avg: the mean per bucket', () => {
    assert.deepEqual(aggregateGauge(pts, starts, 40, 'avg'), [3, 4.5, null, 4]);
  });

  test('max: the largest per bucket, negatives included', () => {
    assert.deepEqual(aggregateGauge(pts, starts, 40, 'max'), [5, 7, null, 4]);
    assert.deepEqual(
      aggregateGauge(
        [
          { ts: 1, value: -3 },
          { ts: 2, value: -2 },
        ],
        [0],
        10,
        'max',
      ),
      [-2],
    );
  });

  test('an empty input, no buckets, and a tie in time (the later in the array wins for last)', () => {
    assert.deepEqual(aggregateGauge([], starts, 40, 'avg'), [null, null, null, null]);
    assert.deepEqual(aggregateGauge(pts, [], 40, 'last'), []);
    assert.deepEqual(
      aggregateGauge(
        [
          { ts: 5, value: 1 },
          { ts: 5, value: 2 },
        ],
        [0],
        10,
        'last',
      ),
      [2],
    );
  });

  test('uneven buckets (a DST day) are found by binary search', () => {
    const uneven = [0, 100, 250, 260, 1000];
    const many = Array.from({ length: 2000 }, (_, ts) => ({ ts, value: ts }));
    assert.deepEqual(aggregateGauge(many, uneven, 1500, 'max'), [99, 249, 259, 999, 1499]);
    assert.deepEqual(aggregateGauge(many, uneven, 1500, 'last'), [99, 249, 259, 999, 1499]);
    assert.deepEqual(aggregateGauge(many, uneven, 1500, 'avg'), [49.5, 174.5, 254.5, 629.5, 1249.5]);
  });
});

describe('measurements: generateDemoMeasurements', () => {
  const opts = { endMs: Date.UTC(2026, 2, 10, 8, 0), days: 30 };
  const points = generateDemoMeasurements(opts);
  const incidents = demoIncidents(opts);
  const inWindow = (name: string, ts: number) => {
    const i = incidents.find((w) => w.name === name)!;
    return ts >= i.startMs && ts < i.endMs;
  };
  const values = (service: string, metric: string, keep: (ts: number) => boolean) =>
    points.filter((p) => p.service === service && p.metric === metric && keep(p.ts)).map((p) => p.value);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

  test('is deterministic, and the seed changes it', () => {
    assert.deepEqual(generateDemoMeasurements(opts), points);
    const other = generateDemoMeasurements({ ...opts, seed: 7 });
    assert.equal(other.length, points.length);
    assert.notDeepEqual(other, points);
  });

  test('one point per series every 5 minutes over the period', () => {
    assert.equal(points.length, 30 * 288 * 3);
    const latency = points.filter((p) => p.metric === 'latency_ms');
    assert.equal(latency[0].ts, opts.endMs - 30 * DAY);
    assert.ok(latency.every((p, i) => i === 0 || p.ts - latency[i - 1].ts === 300_000));
    assert.ok(latency[latency.length - 1].ts < opts.endMs);
  });

  test('checkout-api latency and errors rise during the "checkout drop" incident', () => {
    const inside = (ts: number) => inWindow('checkout drop', ts);
    const latencyIn = values('checkout-api', 'latency_ms', inside);
    const latencyOut = values('checkout-api', 'latency_ms', (ts) => !inside(ts));
    assert.equal(latencyIn.length, 6 * 12);
    assert.ok(mean(latencyIn) > 700, `incident latency ${mean(latencyIn)}`);
    assert.ok(mean(latencyOut) > 90 && mean(latencyOut) < 150, `normal latency ${mean(latencyOut)}`);
    assert.ok(Math.min(...latencyIn) > 3 * Math.max(...latencyOut), 'every incident point stands out');
    const errorsIn = mean(values('checkout-api', 'error_rate', inside));
    const errorsOut = values('checkout-api', 'error_rate', (ts) => !inside(ts));
    assert.ok(errorsIn > 0.06 && errorsIn < 0.1, `incident error rate ${errorsIn}`);
    assert.ok(
      Math.min(...errorsOut) >= 0.002 && Math.max(...errorsOut) <= 0.0055,
      `normal error rate ${Math.min(...errorsOut)}..${Math.max(...errorsOut)}`,
    );
  });

  test('web uptime is 1 except one 10-minute blip inside the "error burst" incident', () => {
    const down = points.filter((p) => p.service === 'web' && p.metric === 'uptime' && p.value !== 1);
    assert.equal(down.length, 2);
    assert.ok(down.every((p) => p.value === 0 && inWindow('error burst', p.ts)));
    assert.equal(down[1].ts - down[0].ts, 300_000);
  });
});
