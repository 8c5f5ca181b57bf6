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
      batch.push({
        type: 'track',
        event,
        userId: `u${j % 50}`,
        messageId: `h-${++messages}`,
        timestamp: new Date(hour + Math.floor(((j + 0.5) * HOUR) / n)).toISOString(),
      });
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

/** Backfills end at the current hour: close to an hour's end, wait for the next, so data and jobs share one hour. */
export async function awayFromHourEnd() {
  const left = HOUR - (Date.now() % HOUR);
  if (left < 3 * 60_000) await new Promise((r) => setTimeout(r, left + 2000));
}

/**
 * The detection tests' traffic over [start, until): Order Completed on the daily rhythm (±3 %),
 * 260 at `spike`, 40 % for two hours from `drop`; Checkout a flat 20 an hour, 46 at `moderate`
 * (z ≈ 4 on the Poisson scale: a spike at high sensitivity, not at low) and 80 in the newest hour.
 */
export function incidentTraffic(seed: number, w: { start: number; until: number; spike: number; drop: number; moderate: number }) {
  const r = random(seed);
  const counts: { event: string; hour: number; n: number }[] = [];
  for (let hour = w.start; hour < w.until; hour += HOUR) {
    let orders = Math.round(rhythm(new Date(hour).getUTCHours()) * (1 + 0.03 * (2 * r() - 1)));
    if (hour === w.spike) orders = 260;
    if (hour >= w.drop && hour < w.drop + 2 * HOUR) orders = Math.round(orders * 0.4);
    counts.push({ event: 'Order Completed', hour, n: orders });
    counts.push({ event: 'Checkout', hour, n: hour === w.moderate ? 46 : hour === w.until - HOUR ? 80 : 20 });
  }
  return counts;
}
