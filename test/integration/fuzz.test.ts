/**
 * Hostile requests over every /v1 route and every /api route of the OpenAPI document, as an
 * anonymous caller, the ingest key, a read key and viewer, editor and owner sessions, against a real
 * `vigil serve` (test/helpers/fuzz/). Fails on any 5xx, an exit of the process, /health not
 * answering, or an acknowledged event that is not in the event store after a graceful stop.
 * A fixed seed and a few thousand requests keep it under a minute; `npm run fuzz` runs 100,000.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSummary, runFuzz } from '../helpers/fuzz/runner.js';

const SEED = 20261207;
const REQUESTS = 2500;

test(`fuzz: ${REQUESTS} hostile requests (seed ${SEED}): no 5xx, no exit, every acknowledged event loads`, {
  timeout: 180_000,
}, async () => {
  const summary = await runFuzz({ seed: SEED, requests: REQUESTS, concurrency: 6 });
  console.log(formatSummary(summary));
  assert.ok(summary.sent >= REQUESTS, `every request was sent (${summary.sent})`);
  assert.ok(summary.acknowledgedEvents > 500, `the run acknowledged events to check (${summary.acknowledgedEvents})`);
  assert.deepEqual(
    summary.failures.map((f) => `${f.kind}: ${f.message}`),
    [],
  );
});
