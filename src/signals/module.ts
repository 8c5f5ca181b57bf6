/**
 * The signals domain: the detectors (anomalies, threshold rules, drift, event volume, early
 * outages, gauges in progress) and the signals they write; backtests and forecasts read them.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { MetaStore } from '../meta-db.js';
import type { EventStore } from '../storage/events/event-store.js';
import type { Project, ProjectService } from '../projects/service.js';
import type { Metric, MetricService } from '../metrics/service.js';
import type { JobQueue } from '../jobs/index.js';
import type { AuditLog } from '../auth/audit.js';
import type { RoutesPlugin } from '../domain-module.js';
import { SignalService } from './service.js';
import { ThresholdRuleService } from './threshold/threshold-rules.js';
import { BacktestService } from './backtest/backtest.js';
import { SignalJobs } from './drift/drift-jobs.js';
import { GaugeInProgressDetector } from './anomaly/gauge-in-progress.js';
import { signalRoutes } from './routes.js';
import { thresholdRoutes } from './threshold/threshold-routes.js';
import { backtestRoutes } from './backtest/backtest-routes.js';
import { forecastRoutes } from './forecast/forecast-routes.js';
import { detectionRoutes } from './detection-routes.js';

export interface SignalsModuleDeps {
  log: FastifyBaseLogger;
  meta: MetaStore;
  events: EventStore;
  projects: ProjectService;
  catalog: MetricService;
  jobs: JobQueue;
  audit: AuditLog;
  now: () => number;
}

const settledValue = <T>(r: PromiseSettledResult<T>) =>
  r.status === 'fulfilled' ? r.value : { error: r.reason instanceof Error ? r.reason.message : String(r.reason) };

export function createSignalsModule(deps: SignalsModuleDeps) {
  const { log, events, projects, catalog, jobs, audit, now } = deps;
  const db = deps.meta.db;
  const signals = new SignalService({ db, catalog, projects, events, jobs, log, now });
  const thresholdRules = new ThresholdRuleService({ db, catalog, signals, log, now });
  /** the project-wide detectors (drift daily, event volume hourly) and their jobs */
  const signalJobs = new SignalJobs({ db, events, projects, signals, jobs, now });
  const backtests = new BacktestService({ catalog, signals });
  const gaugesInProgress = new GaugeInProgressDetector({ catalog, signals, log, now });

  /**
   * Anomaly detection and threshold rules on freshly collected buckets; one failing does not keep
   * the other from running (the first failure is thrown afterwards, so the collection job reports it).
   */
  const detectCollected = async (project: Project, collected: Metric[], window: { fromMs: number; toMs: number }) => {
    const [anomalies, rules] = await Promise.allSettled([
      signals.detectCollected(project, collected, window),
      thresholdRules.evaluateCollected(project, collected, window),
    ]);
    log.debug({ projectId: project.id, anomalies: settledValue(anomalies), rules: settledValue(rules) }, 'detection after collection');
    for (const r of [anomalies, rules]) if (r.status === 'rejected') throw r.reason;
  };

  /** Threshold rules and anomalies of pushed measurements, and early outages of event volume: signals raised now. */
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

  const routes: RoutesPlugin = async (app) => {
    await app.register(signalRoutes, { signals });
    await app.register(thresholdRoutes, { audit, thresholdRules });
    await app.register(backtestRoutes, { backtests });
    await app.register(forecastRoutes, { catalog, signals });
    await app.register(detectionRoutes, { audit, catalog, signals });
  };
  return {
    signals,
    thresholdRules,
    signalJobs,
    backtests,
    detectCollected,
    detectInProgress,
    routes,
    jobHandlers: { ...signalJobs.jobHandlers(), ...signals.settledJobHandlers(projects, detectCollected) },
  };
}

export type SignalsModule = ReturnType<typeof createSignalsModule>;
