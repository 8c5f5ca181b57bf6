/**
 * The ingest domain: what `/v1/*` acknowledges goes to the write-ahead log (embedded) or the
 * PostgreSQL outbox (scaled), and from there into the event store.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.js';
import type { ApiKeyService } from '../auth/api-keys.js';
import { checkKey } from '../auth/request-auth.js';
import { RateLimiter } from '../http/rate-limit.js';
import type { Metrics } from '../ops/metrics.js';
import type { EventStore } from '../storage/events/event-store.js';
import type { MetaStore } from '../meta-db.js';
import type { RoutesPlugin } from '../domain-module.js';
import { DedupIndex } from './dedup-index.js';
import { IpSalts } from './ip-hash.js';
import { SegmentLoader } from './segment-loader.js';
import { IngestService, type IngestDeps } from './service.js';
import { PipelineClient } from './pipeline-client.js';
import { WriteBuffer, type IngestLog } from './write-buffer.js';
import { IngestOutbox } from './outbox.js';
import { OutboxLoader } from './outbox-loader.js';
import { MeasurementStore } from './measurement-store.js';
import { ingestRoutes } from './routes.js';
import { exportRoutes } from './export-route.js';
import { testEventRoutes } from './test-event-route.js';

export interface IngestModuleDeps {
  config: Config;
  log: FastifyBaseLogger;
  meta: MetaStore;
  events: EventStore;
  metrics: Metrics;
  apiKeys: ApiKeyService;
  /** where accepted events go for the live view */
  live: IngestDeps['live'];
  /** scaled mode: whether this process contends to load the outbox into ClickHouse (default true) */
  loadEvents?: boolean;
}

/**
 * The scaled mode's ingest (PostgreSQL metadata and ClickHouse events): acknowledged events go to
 * the PostgreSQL outbox, so ingest processes keep nothing on their own disks.
 */
export const usesOutbox = (config: Config) => Boolean(config.postgresUrl && config.clickhouseUrl);

/**
 * Where acknowledged events go: the PostgreSQL outbox in the scaled mode, else the write-ahead
 * buffer, whose dedup index is first rebuilt from the events of the dedup window.
 */
async function openIngestLog(
  { config, log, meta, events, metrics, loadEvents }: IngestModuleDeps,
  loader: SegmentLoader,
  dedup: DedupIndex,
  windowMs: number,
): Promise<{ buffer: IngestLog; outboxLoader?: OutboxLoader }> {
  const onCommit = (lines: number, seconds: number) => {
    metrics.commitSeconds.observe(seconds);
    metrics.commitEvents.observe(lines);
  };
  if (usesOutbox(config)) {
    // the index here (not rebuilt) only keeps a retry to this same process out of the outbox; the
    // loader's own index, rebuilt from ClickHouse when it takes over, drops every duplicate
    // wherever it arrived
    const outboxLoader = new OutboxLoader({
      url: config.postgresUrl!,
      db: meta.db,
      events,
      dedupWindowMs: windowMs,
      log,
      onLoaded: (_rows, seconds) => metrics.segmentLoadSeconds.observe(seconds),
    });
    if (loadEvents !== false) outboxLoader.start();
    return { buffer: new IngestOutbox(meta.db, onCommit), outboxLoader };
  }
  for await (const rows of events.recentMessageIds(Date.now() - windowMs)) for (const [p, m] of rows) dedup.add(Number(p), m);
  const buffer = new WriteBuffer({
    dir: config.walDir,
    maxSegmentBytes: config.ingestSegmentBytes,
    maxSegmentAgeMs: config.ingestFlushMs,
    deferAgeRotation: () => loader.busy,
    onSegmentClosed: (segment) => {
      loader.enqueue(segment);
      metrics.segmentBacklog.set(loader.backlog);
    },
    onCommit,
  });
  return { buffer };
}

export async function createIngestModule(deps: IngestModuleDeps) {
  const { config, log, meta, events, metrics, apiKeys } = deps;
  const loader = new SegmentLoader(events, log, (_rows, seconds) => {
    metrics.segmentLoadSeconds.observe(seconds);
    metrics.segmentBacklog.set(loader.backlog);
  });
  // replay before the dedup index is rebuilt and before anything new is written to the directory
  const recovered = await loader.recover(config.walDir);
  if (recovered.segments) log.info(recovered, 'replayed write-ahead segments into the event store');

  const windowMs = config.dedupWindowHours * 3600_000;
  const dedup = new DedupIndex(windowMs);
  const { buffer, outboxLoader } = await openIngestLog(deps, loader, dedup, windowMs);
  const pipeline = new PipelineClient(log);
  // VIGIL_INGEST_RATE_LIMIT per second, sustained, over a 10 s bucket: a key may burst to ten
  // seconds' worth (a fleet of clients flushing together after a network blip) but not keep it up
  const keyLimiter = new RateLimiter({ limit: config.ingestRateLimit * 10, windowMs: 10_000 });
  const ingest = new IngestService({
    buffer,
    dedup,
    ipSalts: new IpSalts(meta.db),
    pipeline,
    metrics,
    keyLimiter,
    live: deps.live,
    verifyKey: (secret, address) => checkKey(apiKeys, secret, 'ingest', address),
  });
  const measurements = new MeasurementStore(meta.db);

  const routes: RoutesPlugin = async (app) => {
    await app.register(ingestRoutes, { apiKeys, config, ingest, measurements });
    await app.register(exportRoutes, { events });
    await app.register(testEventRoutes, { ingest });
  };
  return {
    ingest,
    buffer,
    loader,
    outboxLoader,
    measurements,
    routes,
    /** Makes every acknowledged event visible to queries (tests, import, shutdown). */
    async flush() {
      await buffer.flush();
      await loader.idle();
      await outboxLoader?.waitLoaded();
    },
    async close() {
      await buffer.close();
      await pipeline.close();
      await loader.stop();
      // the outbox is durable in PostgreSQL: what is not loaded yet, another process loads
      await outboxLoader?.stop();
    },
  };
}

export type IngestModule = Awaited<ReturnType<typeof createIngestModule>>;
