/**
 * A SQL metric's preview over HTTP, as a read key may call it: a result too large for a response is
 * refused inside the engine with a 400, and the process stays responsive while several run.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { postJson, startTestApp, type TestApp } from '../helpers/app.js';

/** One row in the last complete hour whose breakdown is a 32 MB string. */
const HUGE_CELL = "SELECT date_trunc('hour', now()) - INTERVAL 1 HOUR AS bucket, 1 AS value, repeat('x', 33554432) AS breakdown";

let t: TestApp;
before(async () => {
  t = await startTestApp();
});
after(() => t.close());

const preview = (sql: string) =>
  postJson(`${t.url}/api/projects/shop/metrics/preview`, { kind: 'sql', definition: { sql } }, { authorization: `Bearer ${t.readKey}` });

test('a 32 MB value in a preview is refused quickly with a 400 that says the result is too large', async () => {
  const started = Date.now();
  const r = await preview(HUGE_CELL);
  const took = Date.now() - started;
  assert.equal(r.status, 400, JSON.stringify(r.body).slice(0, 300));
  assert.equal(r.body.error.code, 'VIGIL_ERR_METRIC_SQL_TOO_LARGE');
  assert.match(r.body.error.message, /a value in the metric's SQL result is longer than 4096 bytes/);
  assert.ok(took < 3000, `answered after ${took} ms`);
});

test('/health answers within 500 ms while four such previews run at once', async () => {
  let running = true;
  let slowest = 0;
  const probe = (async () => {
    while (running) {
      const started = Date.now();
      const res = await fetch(`${t.url}/health`);
      assert.equal(res.status, 200);
      await res.text();
      slowest = Math.max(slowest, Date.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  const answers = await Promise.all(Array.from({ length: 4 }, () => preview(HUGE_CELL)));
  running = false;
  await probe;
  assert.ok(slowest < 500, `/health took ${slowest} ms at worst`);
  assert.deepEqual(
    answers.map((r) => r.status),
    [400, 400, 400, 400],
  );
});
