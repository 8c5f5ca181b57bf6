/**
 * Detection once a metric's newest buckets have settled: a metric whose buckets settle before its
 * next collection (a 1h metric whose events settle in 3 minutes) is scored again at that moment,
 * through a durable job, rather than an interval later.
 */
import type { Job, JobHandler, JobQueue } from '../../jobs/index.js';
import type { Metric, MetricService } from '../../metrics/service.js';
import type { Project, ProjectService } from '../../projects/service.js';
import { INTERVAL_MS, bucketFloor } from '../../time/index.js';
import type { SignalService } from '../service.js';

/** A metric's detection and threshold rules again once its newest collected buckets have settled. */
export const JOB_DETECT_SETTLED = 'signals.detect_settled';

/** After a collection: a job for each metric whose newest buckets settle before its next collection. Returns the jobs queued. */
export async function scheduleSettledDetection(
  signals: Pick<SignalService, 'resolve' | 'projectDetection'>,
  jobs: Pick<JobQueue, 'enqueue'>,
  project: Project,
  metrics: Metric[],
): Promise<number> {
  const defaults = await signals.projectDetection(project.id);
  let queued = 0;
  for (const m of metrics) {
    if (m.status !== 'active' || m.collectedUntil === null) continue;
    const { settlingMinutes } = await signals.resolve(project.id, m, defaults);
    const settlingMs = settlingMinutes * 60_000;
    if (settlingMs <= 0 || settlingMs >= INTERVAL_MS[m.interval]) continue;
    const job = await jobs.enqueue({
      kind: JOB_DETECT_SETTLED,
      projectId: project.id,
      payload: { metricId: m.id, until: m.collectedUntil },
      runAt: m.collectedUntil + settlingMs,
      dedupeKey: `${JOB_DETECT_SETTLED}:${m.id}:${m.collectedUntil}`,
    });
    if (job.created) queued++;
  }
  return queued;
}

/**
 * The handler of those jobs: `rerun` gets the metric and the window of its newest bucket (the
 * app runs detection and threshold rules through it, as after a collection).
 */
export function settledDetectionHandlers(
  catalog: Pick<MetricService, 'get'>,
  projects: Pick<ProjectService, 'getById'>,
  rerun: (project: Project, metrics: Metric[], window: { fromMs: number; toMs: number }) => Promise<void>,
): Record<string, JobHandler> {
  return {
    [JOB_DETECT_SETTLED]: async (job: Job) => {
      const { metricId, until } = job.payload as { metricId: number; until: number };
      const project = await projects.getById(job.projectId!);
      const m = await catalog.get(project, metricId);
      if (m.collectedUntil === null) return { skipped: 'not collected' };
      await rerun(project, [m], { fromMs: bucketFloor(project.timeZone, m.interval, until - 1), toMs: m.collectedUntil });
      return { metricId, until: m.collectedUntil };
    },
  };
}
