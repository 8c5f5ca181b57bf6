import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import type { OutboxLoader } from '../ingest/outbox-loader.js';
import type { SegmentLoader } from '../ingest/segment-loader.js';
import type { JobWorker } from '../jobs/index.js';
import type { EventStore } from '../storage/events/event-store.js';
import type { MetaStore } from '../meta-db.js';
import type { Metrics } from './metrics.js';
import type { ProcessState } from './roles.js';

/** A dependency that has not answered in this long is reported as down (a load balancer's check must not hang). */
const READY_CHECK_TIMEOUT_MS = 3_000;

/** 'ok', or the error of a ping that failed or took too long. */
async function check(ping: () => Promise<void>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>(
    (_resolve, reject) =>
      (timer = setTimeout(() => reject(new Error(`no answer within ${READY_CHECK_TIMEOUT_MS} ms`)), READY_CHECK_TIMEOUT_MS)),
  );
  try {
    await Promise.race([ping(), timeout]);
    return 'ok';
  } catch (err) {
    return `error: ${err instanceof Error ? err.message : String(err)}`;
  } finally {
    clearTimeout(timer);
  }
}

async function outboxState(deps: OpsRouteDeps) {
  const loader = deps.outboxLoader;
  if (!loader) return null;
  const backlog = await loader
    .backlog()
    .catch(() => ({ batches: 0, events: 0, oldestAgeMs: null, quarantinedLoads: 0, quarantinedLines: 0 }));
  return { ...backlog, ...loader.status() };
}

const readySchema = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ready', 'not ready', 'draining'] },
    roles: { type: 'array', items: { type: 'string' } },
    metadata: { type: 'string', description: "'ok' or the error of the metadata store" },
    events: { type: 'string', description: "'ok' or the error of the event store" },
    engines: { type: 'object', properties: { metadata: { type: 'string' }, events: { type: 'string' } } },
    segmentBacklog: { type: 'integer' },
    wal: {
      type: 'object',
      description:
        "embedded mode: lines of acknowledged segments the event store refused, kept in the WAL's quarantine (see `vigil wal list`), and whether loading keeps failing",
      properties: {
        quarantinedFiles: { type: 'integer' },
        quarantinedLines: { type: 'integer' },
        loadFailures: { type: 'integer' },
        lastLoadError: { type: ['string', 'null'] },
        failing: { type: 'boolean' },
      },
    },
    outbox: {
      type: ['object', 'null'],
      description:
        'scaled mode: acknowledged events waiting in PostgreSQL (cluster-wide), and whether this process is the one loading them into ClickHouse',
      properties: {
        batches: { type: 'integer' },
        events: { type: 'integer' },
        oldestAgeMs: { type: ['integer', 'null'] },
        loading: { type: 'boolean' },
        loadedRows: { type: 'integer' },
        lastLoadAt: { type: ['integer', 'null'] },
        lastError: { type: ['string', 'null'] },
        failing: { type: 'boolean' },
        quarantinedLoads: { type: 'integer' },
        quarantinedLines: { type: 'integer', description: 'lines ClickHouse refused, kept in the table ingest_quarantine' },
      },
    },
    worker: {
      type: ['object', 'null'],
      properties: {
        workerId: { type: 'string' },
        state: { type: 'string' },
        activeJobs: { type: 'integer' },
        concurrency: { type: 'integer' },
      },
    },
    scheduler: {
      type: ['object', 'null'],
      properties: {
        holder: { type: 'string' },
        tickMs: { type: 'integer' },
        ticksRun: { type: 'integer' },
        lastTickAt: { type: ['integer', 'null'] },
        lastError: { type: ['string', 'null'] },
      },
    },
  },
} as const;

/** What these routes use: their own services and the few they name. */
export interface OpsRouteDeps {
  config: Config;
  events: EventStore;
  loader: SegmentLoader;
  meta: MetaStore;
  metrics: Metrics;
  outboxLoader?: OutboxLoader;
  process: ProcessState;
  worker: JobWorker;
}

/** Liveness, readiness and Prometheus metrics: unauthenticated, for load balancers and scrapers. */
export async function opsRoutes(app: FastifyInstance, deps: OpsRouteDeps) {
  app.get(
    '/health',
    {
      logLevel: 'warn',
      config: { access: { public: true } },
      schema: {
        tags: ['operations'],
        summary: 'The process is alive',
        response: { 200: { type: 'object', properties: { status: { type: 'string' } } } },
      },
    },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/ready',
    {
      logLevel: 'warn',
      config: { access: { public: true } },
      schema: {
        tags: ['operations'],
        summary: "This process's roles and the dependencies they need",
        response: { 200: readySchema, 503: readySchema },
      },
    },
    async (_request, reply) => {
      const state = deps.process;
      const [metadata, events, outbox] = await Promise.all([
        check(() => deps.meta.ping()),
        check(() => deps.events.ping()),
        outboxState(deps),
      ]);
      // a scheduler needs only the metadata store; every other role reads or writes events too
      const needsEvents = state.roles.some((r) => r !== 'scheduler');
      const wal = deps.loader.status();
      // acknowledged events that cannot be loaded are not "ready", whatever a ping of the store says
      const ready = !state.draining && metadata === 'ok' && (!needsEvents || (events === 'ok' && !wal.failing && !outbox?.failing));
      return reply.code(ready ? 200 : 503).send({
        status: ready ? 'ready' : state.draining ? 'draining' : 'not ready',
        roles: [...state.roles],
        metadata,
        events,
        engines: { metadata: deps.meta.dialect, events: deps.config.clickhouseUrl ? 'clickhouse' : 'duckdb' },
        segmentBacklog: deps.loader.backlog,
        wal,
        outbox,
        worker: state.roles.includes('worker') ? deps.worker.status() : null,
        scheduler: state.scheduler?.() ?? null,
      });
    },
  );

  app.get(
    '/metrics',
    { logLevel: 'warn', config: { access: { public: true } }, schema: { tags: ['operations'], summary: 'Prometheus metrics' } },
    async (_request, reply) => {
      reply.header('content-type', deps.metrics.registry.contentType);
      return deps.metrics.registry.metrics();
    },
  );
}
