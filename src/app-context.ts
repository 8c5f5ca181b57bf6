/**
 * The composition root: opens the stores, calls each domain's factory in order, wires the
 * reactions between domains (src/domain-events.ts) and the scheduler tick. Nothing else in src/
 * imports this file but the entry points (server.ts, serve.ts, cli.ts).
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from './config.js';
import { EventBus } from './bus.js';
import { wireReactions, type DomainEvents } from './domain-events.js';
import type { RoutesPlugin } from './domain-module.js';
import { createMetrics, type Metrics } from './ops/metrics.js';
import { everyRole, type ProcessState } from './ops/roles.js';
import { JobQueue, JobWorker } from './jobs/index.js';
import { jobRoutes } from './jobs/routes.js';
import { opsRoutes } from './ops/routes.js';
import { sdkRoutes } from './web/sdk-route.js';
import { AppLinks } from './http/app-links.js';
import { createProjectsModule } from './projects/module.js';
import { createAuthModule, type AuthModule } from './auth/module.js';
import { createIngestModule, type IngestModule } from './ingest/module.js';
import { createAnalyticsModule } from './analytics/module.js';
import { createMetricsModule } from './metrics/module.js';
import { createSignalsModule, type SignalsModule } from './signals/module.js';
import { createTrackingPlanModule } from './tracking-plan/module.js';
import { createIncidentsModule } from './incidents/module.js';
import { createAlertsModule } from './alerts/module.js';
import type { ProjectService } from './projects/service.js';
import type { MetricService } from './metrics/service.js';
import type { IncidentService } from './incidents/service.js';
import type { AlertService } from './alerts/service.js';
import type { LiveFeed } from './analytics/live.js';
import { DuckDbEventStore } from './storage/events/duckdb.js';
import { ClickHouseEventStore } from './storage/events/clickhouse.js';
import type { EventStore } from './storage/events/event-store.js';
import { openMetaStore, type MetaStore } from './meta-db.js';

const JOB_RETENTION_MS = 7 * 86_400_000;
const JOB_PRUNE_EVERY_MS = 3_600_000;

/**
 * Everything a running Vigil holds: the stores, and each domain's services, wired once. The entry
 * points and the tests read it; routes never do (each gets only the services it names).
 */
export interface AppContext
  extends Omit<AuthModule, 'routes' | 'access'>,
    Pick<IngestModule, 'ingest' | 'buffer' | 'loader' | 'outboxLoader' | 'measurements'>,
    Pick<SignalsModule, 'signals' | 'thresholdRules' | 'backtests' | 'signalJobs'> {
  config: Config;
  log: FastifyBaseLogger;
  meta: MetaStore;
  events: EventStore;
  projects: ProjectService;
  metrics: Metrics;
  catalog: MetricService;
  jobs: JobQueue;
  worker: JobWorker;
  incidents: IncidentService;
  alerts: AlertService;
  /** links into the web app (alerts); the HTTP server tells it the port it listens on */
  links: AppLinks;
  live: LiveFeed;
  /** what /ready reports of this process: serve.ts fills in its roles and scheduler */
  process: ProcessState;
  /** every domain's routes, and what the access hook reads, for the HTTP server */
  http: { routes: RoutesPlugin[]; access: AuthModule['access'] };
  /** One scheduler tick (what the timer runs every VIGIL_SCHEDULER_TICK_MS), awaited. */
  runSchedulerTick(): Promise<void>;
  /** Makes every acknowledged event visible to queries (tests, import, shutdown). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export function openMeta(config: Config, log?: FastifyBaseLogger): Promise<MetaStore> {
  return openMetaStore(config.postgresUrl ?? config.metaFile, {
    onIdleError: (err) => log?.warn({ err }, 'an idle PostgreSQL connection failed (the server restarted?); the pool opens a new one'),
  });
}

/** The event store the configuration names: ClickHouse when VIGIL_EVENTS_URL is clickhouse://, else the DuckDB file. */
export async function openEvents(config: Config): Promise<DuckDbEventStore | ClickHouseEventStore> {
  if (config.clickhouseUrl)
    return ClickHouseEventStore.open({ url: config.clickhouseUrl, cluster: config.eventsCluster, queryTimeoutMs: config.queryTimeoutMs });
  return DuckDbEventStore.open({
    file: config.eventsFile,
    memoryLimit: config.duckdbMemoryLimit,
    threads: config.duckdbThreads,
    queryTimeoutMs: config.queryTimeoutMs,
  });
}

export interface AppContextOptions {
  /** the clock of scheduling, collection, detection, incidents and alerts (tests move it; ingest keeps the real one) */
  now?: () => number;
  /** scaled mode: whether this process contends to load the outbox into ClickHouse (default true) */
  loadEvents?: boolean;
}

/**
 * Opens the stores, replays what the write-ahead directory still holds, rebuilds the dedup index
 * and starts the ingest pipeline.
 */
export async function createAppContext(config: Config, log: FastifyBaseLogger, opts: AppContextOptions = {}): Promise<AppContext> {
  const meta = await openMeta(config, log);
  let events: EventStore;
  try {
    events = await openEvents(config);
  } catch (err) {
    await meta.close().catch(() => undefined);
    throw err;
  }
  try {
    return await compose(config, log, meta, events, opts);
  } catch (err) {
    // release the stores (the DuckDB file lock above all) before reporting the failure
    await events.close().catch(() => undefined);
    await meta.close().catch(() => undefined);
    throw err;
  }
}

// long because it is the composition root: one factory call per domain, in dependency order
async function compose(config: Config, log: FastifyBaseLogger, meta: MetaStore, events: EventStore, opts: AppContextOptions) {
  const now = opts.now ?? Date.now;
  const metrics = createMetrics();
  const bus = new EventBus<DomainEvents>();
  const links = new AppLinks(config);
  const jobs = new JobQueue(meta.db, meta.dialect, now);
  // the worker exists once every domain has given its job handlers; routes only wake it
  let worker: JobWorker | undefined;
  const wakeWorker = { wake: () => worker?.wake() };

  const projectsModule = createProjectsModule({ meta });
  const { projects } = projectsModule;
  const auth = createAuthModule({ config, meta, projects, now });
  const { audit, memberships, apiKeys } = auth;
  const analytics = await createAnalyticsModule({ config, log, events });
  const ingestModule = await createIngestModule({
    config,
    log,
    meta,
    events,
    metrics,
    apiKeys,
    live: analytics.liveSink,
    loadEvents: opts.loadEvents,
  });
  const { ingest, measurements } = ingestModule;
  let signalsModule: SignalsModule | undefined;
  const metricsModule = createMetricsModule({
    config,
    log,
    meta,
    events,
    measurements,
    projects,
    jobs,
    audit,
    now,
    onCollected: bus.emitter('metric.collected'),
    marksFor: (metricId, fromMs, toMs) => signalsModule!.signals.marksFor(metricId, fromMs, toMs),
  });
  const { catalog } = metricsModule;
  signalsModule = createSignalsModule({ log, meta, events, projects, catalog, jobs, audit, now });
  const { signals, signalJobs } = signalsModule;
  signals.onSignals(bus.emitter('signals.written'));
  const trackingPlan = createTrackingPlanModule({ signals, signalJobs });
  let incidentsModule: ReturnType<typeof createIncidentsModule> | undefined;
  const alertsModule = createAlertsModule({
    config,
    log,
    meta,
    projects,
    catalog,
    jobs,
    audit,
    links,
    now,
    incidents: () => incidentsModule!.incidents,
    worker: wakeWorker,
  });
  incidentsModule = createIncidentsModule({
    log,
    meta,
    projects,
    catalog,
    signals,
    audit,
    memberships,
    now,
    onChange: bus.emitter('incident.changed'),
    eventCounts: (project, event, fromMs, toMs) => signalJobs.eventVolume.hourlyCounts(project, event, fromMs, toMs),
  });
  const { incidents } = incidentsModule;
  const { alerts } = alertsModule;
  wireReactions(bus, { signals: signalsModule, incidents, alerts });

  worker = new JobWorker(jobs, { ...metricsModule.jobHandlers, ...signalsModule.jobHandlers, ...alertsModule.jobHandlers }, { log });
  const process: ProcessState = everyRole();
  const flush = () => ingestModule.flush();

  let prunedAt = 0;
  // one scheduler tick: what is due is queued for the worker; a step that fails is logged and the others go on
  const runSchedulerTick = async () => {
    const steps: [string, () => Promise<unknown>][] = [
      ['scheduling metric collections', () => catalog.scheduleDue()],
      ['scheduling drift and event-volume detection', () => signalJobs.scheduleDue()],
      // in the tick itself, not queued: an alert on the bucket in progress should not wait behind a backfill
      ['detection on buckets in progress', () => signalsModule.detectInProgress()],
      ['the incidents tick', () => incidents.tick()],
      ['scheduling alert repeats and digests', () => alerts.scheduleDue()],
    ];
    // finished jobs are kept a week (their progress and errors stay readable), then removed, hourly
    if (now() - prunedAt > JOB_PRUNE_EVERY_MS) {
      prunedAt = now();
      steps.push(['pruning finished jobs', () => jobs.prune(JOB_RETENTION_MS)]);
    }
    for (const [what, step] of steps) {
      try {
        if (await step()) worker.wake();
      } catch (err) {
        log.error({ err }, `${what} failed`);
      }
    }
  };

  const { loader, outboxLoader } = ingestModule;
  const routes: RoutesPlugin[] = [
    async (app) => {
      await app.register(opsRoutes, { config, events, loader, meta, metrics, outboxLoader, process, worker });
    },
    ingestModule.routes,
    analytics.routes,
    trackingPlan.routes,
    metricsModule.routes,
    signalsModule.routes,
    async (app) => {
      await app.register(jobRoutes, { audit, jobs, worker: wakeWorker });
    },
    incidentsModule.routes,
    alertsModule.routes,
    auth.routes,
    async (app) => {
      await app.register(sdkRoutes);
    },
    projectsModule.routes({ apiKeys, audit, events, flush, memberships }),
  ];

  let closing: Promise<void> | null = null;
  const { routes: _authRoutes, access, ...authServices } = auth;
  const context: AppContext = {
    config,
    log,
    meta,
    events,
    projects,
    ...authServices,
    ingest,
    buffer: ingestModule.buffer,
    loader,
    outboxLoader,
    measurements,
    metrics,
    catalog,
    signals,
    thresholdRules: signalsModule.thresholdRules,
    backtests: signalsModule.backtests,
    signalJobs,
    jobs,
    worker,
    incidents,
    alerts,
    links,
    live: analytics.live,
    process,
    http: { routes, access },
    runSchedulerTick,
    flush,
    close() {
      closing ??= (async () => {
        await worker!.stop();
        await ingestModule.close();
        await analytics.close();
        await events.close();
        await meta.close();
      })();
      return closing;
    },
  };
  return context;
}
