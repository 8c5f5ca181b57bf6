// Ingest throughput over loopback: /v1/batch (100 events, 32 connections) and single /v1/track.
// Counts only events whose request was answered 200 (acknowledged = durable). Prints its figures.
import { Pool } from 'undici';
import * as hdr from 'hdr-histogram-js';
import { cpuSeconds, peakRssMb, startServer } from './server-process.js';

const CONNECTIONS = Number(process.env.CONNECTIONS ?? 32);
const BATCH = Number(process.env.BATCH ?? 100);
const BENCH_SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const WARMUP_BENCH_SECONDS = 3;

const UAS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
];
const EVENTS = ['Product Viewed', 'Product Added', 'Checkout Started', 'Order Completed', 'Search'];

/** A realistic event (about 550 bytes) whose messageId is filled in per request. */
function eventTemplate(i: number): string {
  return JSON.stringify({
    type: i % 5 === 0 ? 'page' : 'track',
    event: EVENTS[i % EVENTS.length],
    name: 'Pricing',
    messageId: '\u0000',
    anonymousId: `anon-${i % 997}`,
    userId: i % 3 === 0 ? `user_${i % 331}` : undefined,
    timestamp: new Date().toISOString(),
    properties: {
      product_id: `p-${i % 50}`,
      price: 19.99 + (i % 7),
      currency: 'USD',
      plan: ['free', 'pro', 'team'][i % 3],
      path: '/pricing',
    },
    context: {
      ip: `203.0.113.${i % 200}`,
      userAgent: UAS[i % UAS.length],
      library: { name: 'analytics.js', version: '5.2.0' },
      page: { path: '/pricing', referrer: 'https://www.google.com/', url: 'https://shop.example.com/pricing', title: 'Pricing' },
      locale: 'en-US',
    },
  });
}

/** Splits the batch body at each messageId so a request only joins strings. */
function bodyFactory(size: number, single = false) {
  const template = single ? eventTemplate(0) : `{"batch":[${Array.from({ length: size }, (_, i) => eventTemplate(i)).join(',')}]}`;
  const parts = template.split('"\\u0000"');
  let request = 0;
  return () => {
    const prefix = `"b${process.pid}-${request++}-`;
    let body = parts[0];
    for (let i = 1; i < parts.length; i++) body += prefix + i + '"' + parts[i];
    return body;
  };
}

async function load(
  url: string,
  path: string,
  headers: Record<string, string>,
  nextBody: () => string,
  eventsPerRequest: number,
  seconds: number,
) {
  const pool = new Pool(url, { connections: CONNECTIONS, pipelining: 1 });
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  let acknowledged = 0,
    failed = 0,
    measuring = false;
  const warmupEnd = Date.now() + WARMUP_BENCH_SECONDS * 1000;
  const end = warmupEnd + seconds * 1000;
  let measureStart = 0,
    serverCpuStart = 0,
    ownCpuStart = 0;
  const worker = async () => {
    while (Date.now() < end) {
      const body = nextBody();
      const started = performance.now();
      const res = await pool.request({ path, method: 'POST', headers, body });
      await res.body.dump();
      const now = Date.now();
      if (!measuring && now >= warmupEnd) {
        measuring = true;
        measureStart = performance.now();
        serverCpuStart = cpuSeconds(serverPid);
        ownCpuStart = process.cpuUsage().user + process.cpuUsage().system;
      }
      if (!measuring) continue;
      if (res.statusCode === 200) {
        acknowledged += eventsPerRequest;
        histogram.recordValue(Math.round((performance.now() - started) * 1000));
      } else failed++;
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  const elapsed = (performance.now() - measureStart) / 1000;
  const serverCpu = (cpuSeconds(serverPid) - serverCpuStart) / elapsed;
  const ownCpu = (process.cpuUsage().user + process.cpuUsage().system - ownCpuStart) / 1e6 / elapsed;
  await pool.close();
  return {
    perSecond: Math.round(acknowledged / elapsed),
    requestsPerSecond: Math.round(histogram.totalCount / elapsed),
    p50ms: histogram.getValueAtPercentile(50) / 1000,
    p99ms: histogram.getValueAtPercentile(99) / 1000,
    failed,
    cpu: `server ${(serverCpu * 100).toFixed(0)}% of a core, load generator ${(ownCpu * 100).toFixed(0)}%`,
  };
}

/** What the server's own metrics say about the load so far. */
async function reportServerMetrics(url: string) {
  const metrics = await (await fetch(`${url}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN);
  const commits = value('vigil_ingest_commit_seconds_count');
  console.log(
    `group commits: ${commits}, mean ${((value('vigil_ingest_commit_seconds_sum') / commits) * 1000).toFixed(1)} ms (write + fdatasync), mean ${Math.round(value('vigil_ingest_commit_events_sum') / commits)} events each`,
  );
  const route = (suffix: string) => {
    const re = new RegExp(`^vigil_http_request_duration_seconds_${suffix}\\{[^}]*route="/v1/batch"[^}]*status="200"[^}]*\\} (\\S+)$`, 'm');
    return Number(re.exec(metrics)?.[1] ?? NaN);
  };
  console.log(
    `server-side /v1/batch time: mean ${((route('sum') / route('count')) * 1000).toFixed(1)} ms (from receiving the request to sending the answer)`,
  );
  console.log(
    `wait for durability per request: mean ${((value('vigil_ingest_durable_wait_seconds_sum') / value('vigil_ingest_durable_wait_seconds_count')) * 1000).toFixed(1)} ms`,
  );
  const loads = value('vigil_segment_load_seconds_count');
  console.log(`segment loads into DuckDB: ${loads}, mean ${((value('vigil_segment_load_seconds_sum') / loads) * 1000).toFixed(0)} ms each`);
}

const server = await startServer(
  Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('VIGIL_'))) as Record<string, string>,
);
const serverPid = server.child.pid!;
const auth = { 'content-type': 'application/json', authorization: 'Basic ' + Buffer.from(server.writeKey + ':').toString('base64') };
try {
  const batch = await load(server.url, '/v1/batch', auth, bodyFactory(BATCH), BATCH, BENCH_SECONDS);
  console.log(
    `/v1/batch  ${BATCH} events/request, ${CONNECTIONS} connections, ${BENCH_SECONDS}s: ${batch.perSecond} acknowledged events/s, ${batch.requestsPerSecond} req/s, p50 ${batch.p50ms.toFixed(1)} ms, p99 ${batch.p99ms.toFixed(1)} ms, non-200: ${batch.failed}; CPU: ${batch.cpu}`,
  );
  await reportServerMetrics(server.url);
  const single = await load(server.url, '/v1/track', auth, bodyFactory(1, true), 1, Math.min(BENCH_SECONDS, 10));
  console.log(
    `/v1/track  1 event/request, ${CONNECTIONS} connections: ${single.requestsPerSecond} req/s, p50 ${single.p50ms.toFixed(1)} ms, p99 ${single.p99ms.toFixed(1)} ms, non-200: ${single.failed}; CPU: ${single.cpu}`,
  );
  console.log(`server peak RSS: ${peakRssMb(server.child.pid!)} MB`);
} finally {
  await server.stop();
}
