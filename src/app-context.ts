import type { FastifyBaseLogger } from 'fastify';
import type { Config } from './config.js';
import { ApiKeyService } from './auth/api-keys.js';
import { DedupIndex } from './ingest/dedup-index.js';
import { IpSalts } from './ingest/ip-hash.js';
import { SegmentLoader } from './ingest/segment-loader.js';
import { IngestService } from './ingest/service.js';
import { PipelineClient } from './ingest/pipeline-client.js';
import { checkKey } from './auth/request-auth.js';
import { RateLimiter } from './auth/rate-limit.js';
import { WriteBuffer, type IngestLog } from './ingest/write-buffer.js';
import { IngestOutbox } from './ingest/outbox.js';
import { OutboxLoader } from './ingest/outbox-loader.js';
import { createMetrics, type Metrics } from './ops/metrics.js';
import { MeasurementStore } from './metrics/measurements.js';
import { MetricService, type Metric } from './metrics/service.js';
import { SignalService } from './signals/service.js';
import { ThresholdRuleService } from './signals/threshold/threshold-rules.js';
import { BacktestService } from './signals/backtest/backtest.js';
import { JobQueue, JobWorker } from './jobs/index.js';
import { GaugeInProgressDetector } from './signals/anomaly/gauge-in-progress.js';
import { SignalJobs } from './signals/drift/drift-jobs.js';
import { IncidentService } from './incidents/service.js';
import { AlertService } from './alerts/service.js';
import { AppLinks } from './web/app-links.js';
import { UserService } from './auth/users.js';
import { SessionService } from './auth/sessions.js';
import { MembershipService } from './auth/memberships.js';
import { AuditLog } from './auth/audit.js';
import { InvitationService } from './auth/invitations.js';
import { PasswordResetService } from './auth/password-reset.js';
import { UserAdmin } from './auth/user-admin.js';
import { createMailer, type Mailer } from './auth/mailer.js';
import { ProjectService, type Project } from './projects/service.js';
import { LiveFeed } from './analytics/live.js';
import { PostgresLiveRelay } from './analytics/live-relay.js';
import { DuckDbEventStore } from './storage/events/duckdb.js';
import { ClickHouseEventStore } from './storage/events/clickhouse.js';
import type { EventStore } from './storage/events/event-store.js';
import { openMetaStore, type MetaStore } from './storage/meta/db.js';

const JOB_RETENTION_MS = 7 * 86_400_000;
const JOB_PRUNE_EVERY_MS = 3_600_000;

/** Everything a running Vigil holds: stores, services and the ingest pipeline, wired once. */
export interface AppContext {
  config: Config;
  log: FastifyBaseLogger;
  meta: MetaStore;
  events: EventStore;
  projects: ProjectService;
  apiKeys: ApiKeyService;
  ingest: IngestService;
  /** where ingest puts what it acknowledges: the write-ahead buffer, or (scaled mode) the PostgreSQL outbox */
  buffer: IngestLog;
  /** loads write-ahead segments (embedded mode; in the scaled mode only leftovers of an earlier set-up) */
  loader: SegmentLoader;
  /** scaled mode: moves the outbox into ClickHouse (one process at a time loads) */
  outboxLoader?: OutboxLoader;
  metrics: Metrics;
  measurements: MeasurementStore;
  catalog: MetricService;
  signals: SignalService;
  thresholdRules: ThresholdRuleService;
  backtests: BacktestService;
  users: UserService;
  sessions: SessionService;
  memberships: MembershipService;
  audit: AuditLog;
  invitations: InvitationService;
  passwordResets: PasswordResetService;
  /** the instance admin's users page: every account's state, disable, unlock, reset links */
  userAdmin: UserAdmin;
  /** the instance's own e-mail (invitation and reset links), when VIGIL_SMTP_URL is set */
  mailer: Mailer | undefined;
  jobs: JobQueue;
  worker: JobWorker;
  /** the project-wide detectors (drift daily, event volume hourly) and their jobs */
  signalJobs: SignalJobs;
  incidents: IncidentService;
  alerts: AlertService;
  /** links into the web app (alerts); the HTTP server tells it the port it listens on */
  links: AppLinks;
  /** events as ingest accepts them, for the live view */
  live: LiveFeed;
  /** One scheduler tick (what the timer runs every VIGIL_SCHEDULER_TICK_MS), awaited. */
  runSchedulerTick(): Promise<void>;
  /** Makes every acknowledged event visible to queries (tests, import, shutdown). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

const settledValue = <T>(r: PromiseSettledResult<T>) =>
  r.status === 'fulfilled' ? r.value : { error: r.reason instanceof Error ? r.reason.message : String(r.reason) };

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
 * The scaled mode's ingest (PostgreSQL metadata and ClickHouse events): acknowledged events go to
 * the PostgreSQL outbox, so ingest processes keep nothing on their own disks.
 */
export const usesOutbox = (config: Config) => Boolean(config.postgresUrl && config.clickhouseUrl);

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
    return await startPipeline(config, log, meta, events, opts);
  } catch (err) {
    // release the stores (the DuckDB file lock above all) before reporting the failure
    await events.close().catch(() => undefined);
    await meta.close().catch(() => undefined);
    throw err;
  }
}

async function startPipeline(
  config: Config,
  log: FastifyBaseLogger,
  meta: MetaStore,
  events: EventStore,
  opts: AppContextOptions,
): Promise<AppContext> {
  const now = opts.now ?? Date.now;
  const metrics = createMetrics();
  const loader = new SegmentLoader(events, log, (_rows, seconds) => {
    metrics.segmentLoadSeconds.observe(seconds);
    metrics.segmentBacklog.set(loader.backlog);
  });
  // replay before the dedup index is rebuilt and before anything new is written to the directory
  const recovered = await loader.recover(config.walDir);
  if (recovered.segments) log.info(recovered, 'replayed write-ahead segments into the event store');

  const windowMs = config.dedupWindowHours * 3600_000;
  const dedup = new DedupIndex(windowMs);
  const onCommit = (lines: number, seconds: number) => {
    metrics.commitSeconds.observe(seconds);
    metrics.commitEvents.observe(lines);
  };
  let buffer: IngestLog;
  let outboxLoader: OutboxLoader | undefined;
  if (usesOutbox(config)) {
    // the index here (not rebuilt) only keeps a retry to this same process out of the outbox; the
    // loader's own index, rebuilt from ClickHouse when it takes over, drops every duplicate
    // wherever it arrived
    buffer = new IngestOutbox(meta.db, onCommit);
    outboxLoader = new OutboxLoader({
      url: config.postgresUrl!,
      db: meta.db,
      events,
      dedupWindowMs: windowMs,
      log,
      onLoaded: (_rows, seconds) => metrics.segmentLoadSeconds.observe(seconds),
    });
    if (opts.loadEvents !== false) outboxLoader.start();
  } else {
    for await (const rows of events.recentMessageIds(Date.now() - windowMs)) for (const [p, m] of rows) dedup.add(Number(p), m);
    buffer = new WriteBuffer({
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
  }
  const apiKeys = new ApiKeyService(meta.db, Date.now, new RateLimiter({ limit: config.keyFailureRateLimit, windowMs: 60_000 }));
  const pipeline = new PipelineClient(log);
  // VIGIL_INGEST_RATE_LIMIT per second, sustained, over a 10 s bucket: a key may burst to ten
  // seconds' worth (a fleet of clients flushing together after a network blip) but not keep it up
  const keyLimiter = new RateLimiter({ limit: config.ingestRateLimit * 10, windowMs: 10_000 });
  const live = new LiveFeed();
  // scaled mode: the live view shows what every process's ingest accepted (NOTIFY/LISTEN)
  const liveRelay = config.postgresUrl ? await PostgresLiveRelay.start(config.postgresUrl, live, log) : undefined;
  const ingest = new IngestService({
    buffer,
    dedup,
    ipSalts: new IpSalts(meta.db),
    pipeline,
    metrics,
    keyLimiter,
    live: liveRelay ?? live,
    verifyKey: (secret, address) => checkKey(apiKeys, secret, 'ingest', address),
  });

  const measurements = new MeasurementStore(meta.db);
  const projects = new ProjectService(meta.db);
  const jobs = new JobQueue(meta.db, meta.dialect, now);
  const catalog: MetricService = new MetricService({
    db: meta.db,
    events,
    measurements,
    projects,
    jobs,
    sqlTimeoutMs: config.metricSqlTimeoutMs,
    sqlMaxRows: config.metricSqlMaxRows,
    settings: { lookbackBuckets: config.metricsLookbackBuckets, backfillDays: config.metricsBackfillDays },
    log,
    now,
    // detection and threshold rules after every collection, and their signals as marks on series:
    // metrics never import signals; one failing does not keep the other from running
    onCollected: async (project, collected, window) => {
      await detectAfterCollection(project, collected, window);
      // and again once the newest buckets have settled, when that comes before the next collection
      await signals.scheduleSettled(project, collected);
    },
    marksFor: (metricId, fromMs, toMs) => signals.marksFor(metricId, fromMs, toMs),
  });
  const detectAfterCollection = async (project: Project, collected: Metric[], window: { fromMs: number; toMs: number }) => {
    const [anomalies, rules] = await Promise.allSettled([
      signals.detectCollected(project, collected, window),
      thresholdRules.evaluateCollected(project, collected, window),
    ]);
    log.debug({ projectId: project.id, anomalies: settledValue(anomalies), rules: settledValue(rules) }, 'detection after collection');
    for (const r of [anomalies, rules]) if (r.status === 'rejected') throw r.reason;
  };
  const signals: SignalService = new SignalService({ db: meta.db, catalog, events, jobs, log, now });
  const thresholdRules: ThresholdRuleService = new ThresholdRuleService({ db: meta.db, catalog, signals, log, now });
  const signalJobs = new SignalJobs({ db: meta.db, events, projects, signals, jobs, now });
  // incidents and alerts each need the other: alerts write deliveries inside incident changes,
  // and read incidents back when they send
  const links = new AppLinks(config);
  const alerts: AlertService = new AlertService({
    db: meta.db,
    dialect: meta.dialect,
    config,
    jobs,
    projects,
    catalog,
    incidents: () => incidents,
    log,
    now,
    links,
  });
  const incidents: IncidentService = new IncidentService({
    db: meta.db,
    dialect: meta.dialect,
    catalog,
    signals,
    projects,
    log,
    onChange: (tx, change) => alerts.onIncidentChange(tx, change),
    now,
    eventCounts: (project, event, fromMs, toMs) => signalJobs.eventVolume.hourlyCounts(project, event, fromMs, toMs),
  });
  signals.onSignals((projectId, written, covered) => incidents.onSignals(projectId, written, covered));
  const worker = new JobWorker(
    jobs,
    {
      ...catalog.jobHandlers(),
      ...signalJobs.jobHandlers(),
      ...signals.settledJobHandlers(projects, detectAfterCollection),
      ...alerts.jobHandlers(),
    },
    { log },
  );
  // threshold rules and anomalies of pushed measurements, and early outages of event volume: signals raised now
  const gaugesInProgress = new GaugeInProgressDetector({ catalog, signals, log, now });
  const detectInProgress = async () => {
    let raised = 0;
    for (const p of await projects.list()) {
      const results = await Promise.allSettled([
        thresholdRules.evaluateInProgress(p),
        gaugesInProgress.check(p),
        signalJobs.earlyOutage.checkDue(p).then((r) => r.raised),
      ]);
      for (const r of results) {
        if (r.status === 'fulfilled') raised += r.value;
        else log.warn({ projectId: p.id, error: settledValue(r) }, 'detection on buckets in progress failed');
      }
    }
    return raised;
  };
  let prunedAt = 0;
  // one scheduler tick: what is due is queued for the worker; a step that fails is logged and the others go on
  const scheduleDue = async () => {
    const steps: [string, () => Promise<number | void>][] = [
      ['scheduling metric collections', () => catalog.scheduleDue()],
      ['scheduling drift and event-volume detection', () => signalJobs.scheduleDue()],
      // in the tick itself, not queued: an alert on the bucket in progress should not wait behind a backfill
      ['detection on buckets in progress', () => detectInProgress()],
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

  const users = new UserService(meta.db, config.passwordScryptLogN, now);
  const sessions = new SessionService(meta.db, config.secretKey, config.sessionDays * 86_400_000);
  const passwordResets = new PasswordResetService(meta.db, users, sessions, config.secretKey);
  let closing: Promise<void> | null = null;
  return {
    config,
    log,
    meta,
    events,
    projects,
    apiKeys,
    ingest,
    buffer,
    loader,
    outboxLoader,
    metrics,
    measurements,
    catalog,
    signals,
    thresholdRules,
    backtests: new BacktestService({ catalog, signals }),
    users,
    sessions,
    memberships: new MembershipService(meta.db),
    audit: new AuditLog(meta.db),
    invitations: new InvitationService(meta.db, projects, config.secretKey, config.invitationDays * 86_400_000),
    passwordResets,
    userAdmin: new UserAdmin(meta.db, users, sessions, passwordResets, now),
    mailer: createMailer(config),
    jobs,
    worker,
    signalJobs,
    incidents,
    alerts,
    links,
    live,
    runSchedulerTick: scheduleDue,
    async flush() {
      await buffer.flush();
      await loader.idle();
      await outboxLoader?.waitLoaded();
    },
    close() {
      closing ??= (async () => {
        await worker.stop();
        await buffer.close();
        await pipeline.close();
        await loader.stop();
        // the outbox is durable in PostgreSQL: what is not loaded yet, another process loads
        await outboxLoader?.stop();
        await liveRelay?.stop();
        await events.close();
        await meta.close();
      })();
      return closing;
    },
  };
}
