/** Operations endpoints: liveness, readiness, Prometheus metrics, the API docs and the 404 shape. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, postJson, getJson, basic, type TestApp } from '../helpers/app.js';

/** Value of one sample line of Prometheus text, e.g. `name{label="x"} 3`. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text
    .split('\n')
    .find((l) => l.startsWith(name + (labels ? `{${labels}}` : '') + ' ') || (labels === '' && l.startsWith(name + ' ')));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('operations endpoints', () => {
  let t: TestApp;
  before(async () => (t = await startTestApp()));
  after(() => t?.close());

  test('/health answers 200 without a key', async () => {
    const r = await getJson(`${t.url}/health`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { status: 'ok' });
  });

  test('/ready answers 200 when both stores answer', async () => {
    const r = await getJson(`${t.url}/ready`);
    assert.equal(r.status, 200);
    assert.equal(r.body.status, 'ready');
    assert.equal(r.body.metadata, 'ok');
    assert.equal(r.body.events, 'ok');
    assert.equal(r.body.segmentBacklog, 0);
  });

  test('/metrics is Prometheus text with the ingest and HTTP metrics', async () => {
    const batch = Array.from({ length: 7 }, (_, i) => ({ type: 'track', event: 'Pinged', userId: `u${i}`, messageId: `ops-${i}` }));
    assert.equal((await postJson(`${t.url}/v1/batch`, { batch }, basic(t.writeKey))).status, 200);
    // one duplicate and one invalid event, to see them counted as rejected by reason
    const mixed = await postJson(`${t.url}/v1/batch`, { batch: [batch[0], { type: 'track', userId: 'u' }] }, basic(t.writeKey));
    assert.equal(mixed.status, 400);
    await t.ctx.flush();
    await getJson(`${t.url}/api/projects/shop/events?limit=1`, t.readKey);

    const res = await fetch(`${t.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res.text();

    assert.match(text, /^# TYPE vigil_events_accepted_total counter$/m);
    assert.equal(sample(text, 'vigil_events_accepted_total'), 7);
    assert.equal(sample(text, 'vigil_events_rejected_total', 'reason="duplicate"'), 1);
    assert.equal(sample(text, 'vigil_events_rejected_total', 'reason="missing_event"'), 1);

    assert.match(text, /^# TYPE vigil_ingest_commit_seconds histogram$/m);
    assert.ok((sample(text, 'vigil_ingest_commit_seconds_count') ?? 0) >= 1, 'at least one group commit was timed');
    assert.match(text, /^vigil_ingest_commit_seconds_bucket\{le="\+Inf"\} \d+$/m);

    assert.match(text, /^# TYPE vigil_ingest_batch_events histogram$/m);
    assert.equal(sample(text, 'vigil_ingest_batch_events_count'), 2);
    assert.equal(sample(text, 'vigil_ingest_batch_events_sum'), 9);

    assert.match(text, /^# TYPE vigil_http_request_duration_seconds histogram$/m);
    // the route label is the route pattern, not the URL with its values
    assert.match(text, /^vigil_http_request_duration_seconds_count\{method="POST",route="\/v1\/batch",status="200"\} 1$/m);
    assert.match(text, /^vigil_http_request_duration_seconds_count\{method="POST",route="\/v1\/batch",status="400"\} 1$/m);
    assert.match(
      text,
      /^vigil_http_request_duration_seconds_count\{method="GET",route="\/api\/projects\/:slug\/events",status="200"\} 1$/m,
    );
    assert.ok(!/route="\/api\/projects\/shop/.test(text));
    // process metrics carry the prefix too
    assert.match(text, /^vigil_process_cpu_seconds_total /m);
  });

  test('an unmatched request is counted without its URL as a label', async () => {
    await fetch(`${t.url}/no/such/thing?secret=1`);
    const text = await (await fetch(`${t.url}/metrics`)).text();
    assert.match(text, /^vigil_http_request_duration_seconds_count\{method="GET",route="unmatched",status="404"\} \d+$/m);
    assert.ok(!text.includes('/no/such/thing'));
  });

  test('/api/docs serves the Swagger UI and /api/docs/json the OpenAPI document', async () => {
    const ui = await fetch(`${t.url}/api/docs`);
    assert.equal(ui.status, 200);
    assert.match(ui.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await ui.text(), /swagger/i);

    const doc = await getJson(`${t.url}/api/docs/json`);
    assert.equal(doc.status, 200);
    assert.match(doc.body.openapi, /^3\./);
    assert.equal(doc.body.info.title, 'Vigil API');
    const paths = Object.keys(doc.body.paths);
    for (const p of [
      '/v1/batch',
      '/v1/track',
      '/api/projects/{slug}/timeseries',
      '/api/projects/{slug}/events',
      '/api/projects/{slug}/top-events',
      '/api/projects/{slug}/overview',
      '/health',
      '/ready',
      '/metrics',
    ]) {
      assert.ok(paths.includes(p), `${p} is documented`);
    }
    const ts = doc.body.paths['/api/projects/{slug}/timeseries'].get;
    const interval = ts.parameters.find((p: { name: string }) => p.name === 'interval');
    assert.deepEqual(interval.schema.enum, ['5m', '15m', '1h', '6h', '1d', '1w']);
    assert.ok(ts.responses['200'] && ts.responses['400'] && ts.responses['404']);
  });

  test('an unknown route is a 404 with the JSON error shape', async () => {
    for (const [method, path] of [
      ['GET', '/nope'],
      ['POST', '/api/nope'],
      ['DELETE', '/health'],
    ]) {
      const res = await fetch(`${t.url}${path}?q=1`, { method });
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.match(res.headers.get('content-type') ?? '', /application\/json/);
      const body = (await res.json()) as { error: { code: string; message: string; details: unknown } };
      assert.deepEqual(Object.keys(body), ['error']);
      assert.equal(body.error.code, 'VIGIL_ERR_NOT_FOUND');
      assert.equal(body.error.message, `no route ${method} ${path}`);
      assert.equal(body.error.details, null);
    }
  });
});

test('/ready answers 503 and names the store that does not answer', async () => {
  const t = await startTestApp();
  try {
    await t.ctx.events.close();
    const r = await getJson(`${t.url}/ready`);
    assert.equal(r.status, 503);
    assert.equal(r.body.status, 'not ready');
    assert.equal(r.body.metadata, 'ok');
    assert.match(r.body.events, /^error: /);
    assert.equal((await getJson(`${t.url}/health`)).status, 200, 'the process is still alive');
  } finally {
    // closing the event store twice is harmless
    await t.close();
  }
});
