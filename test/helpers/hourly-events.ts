/** Hourly event traffic for detection tests: a seeded random source, a daily rhythm, and ingest through the API. */
import assert from 'node:assert/strict';
import { postJson, type TestApp } from './app.js';

export const HOUR = 3_600_000;

export function random(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0) / 2 ** 32;
}

/** Orders per hour of the day: 40 at night, rising to 120 at 14:00 UTC. */
export const rhythm = (hour: number) => 40 + 80 * Math.max(0, Math.sin((Math.PI * (hour - 6)) / 16));

let messages = 0;

/** Sends `n` events of each hour, spread evenly over it, then waits until they are queryable. */
export async function ingestHourly(t: TestApp, counts: { event: string; hour: number; n: number }[]) {
  const batch: object[] = [];
  for (const { event, hour, n } of counts) {
    for (let j = 0; j < n; j++) {
      batch.push({ type: 'track', event, userId: `u${j % 50}`, messageId: `h-${++messages}`, timestamp: new Date(hour + Math.floor(((j + 0.5) * HOUR) / n)).toISOString() });
    }
  }
  for (let i = 0; i < batch.length; i += 2500) {
    const r = await postJson(`${t.url}/v1/batch`, { batch: batch.slice(i, i + 2500) }, { authorization: `Bearer ${t.writeKey}` });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }
  await t.ctx.flush();
}

export async function runJobs(t: TestApp) {
  while (await t.ctx.worker.runOnce()) {
    // until the queue is empty
  }
}
