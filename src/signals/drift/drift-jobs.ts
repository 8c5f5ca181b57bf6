/**
 * The project-wide detectors as durable jobs: drift once a day (for yesterday, once its settling
 * time has passed) and event volume once an hour. The scheduler's tick enqueues what is due; the
 * end of what each detector covered is kept per project (detector_runs), so a finished day or hour
 * is not enqueued again and an hourly run scores only the hours since the last one.
 */
import type { EventStore } from '../../storage/events/event-store.js';
import type { MetaDb } from '../../meta-db.js';
import type { Project, ProjectService } from '../../projects/service.js';
import type { Job, JobHandler, JobQueue } from '../../jobs/index.js';
import { bucketFloor, nextBucket } from '../../time/index.js';
import { DriftDetector, type DriftResult } from './drift.js';
import { EventVolumeDetector, type EventVolumeResult } from '../volume/event-volume.js';
import { EarlyOutageDetector } from '../volume/early-outage.js';
import type { SignalService } from '../service.js';

export const JOB_DRIFT = 'signals.drift';
export const JOB_EVENT_VOLUME = 'signals.event_volume';
type Detector = typeof JOB_DRIFT | typeof JOB_EVENT_VOLUME;

export interface SignalJobsDeps {
  db: MetaDb;
  events: EventStore;
  projects: ProjectService;
  signals: SignalService;
  jobs: JobQueue;
  now?: () => number;
}

export class SignalJobs {
  readonly drift: DriftDetector;
  readonly eventVolume: EventVolumeDetector;
  readonly earlyOutage: EarlyOutageDetector;
  private now: () => number;

  constructor(private deps: SignalJobsDeps) {
    this.now = deps.now ?? Date.now;
    this.drift = new DriftDetector({ db: deps.db, events: deps.events, signals: deps.signals, now: this.now });
    this.eventVolume = new EventVolumeDetector({ events: deps.events, signals: deps.signals, now: this.now });
    this.earlyOutage = new EarlyOutageDetector({ events: deps.events, signals: deps.signals, now: this.now });
  }

  /**
   * Enqueues, per project, the event-volume run of the newest settled hour and the drift run of
   * yesterday (once the project's settling time has passed today) unless they are done; returns
   * how many jobs were enqueued (an unfinished one is not repeated).
   */
  async scheduleDue(): Promise<number> {
    const now = this.now();
    const done = new Map(
      (await this.deps.db.selectFrom('detector_runs').select(['project_id', 'detector', 'done_until']).execute()).map((r) => [
        `${r.project_id}:${r.detector}`,
        Number(r.done_until),
      ]),
    );
    const doneUntil = (p: Project, d: Detector) => done.get(`${p.id}:${d}`) ?? -Infinity;
    let enqueued = 0;
    const enqueue = async (p: Project, kind: Detector, payload: Record<string, number>, at: number) => {
      const job = await this.deps.jobs.enqueue({ kind, projectId: p.id, payload, dedupeKey: `${kind}:${p.id}:${at}` });
      if (job.created) enqueued++;
    };
    for (const p of await this.deps.projects.list()) {
      const { settlingMinutes } = await this.deps.signals.resolve(p.id, null);
      // an hour is scored once it has settled: 13:00-14:00 at 14:03 when events settle in 3 minutes
      const hour = bucketFloor(p.timeZone, '1h', now - settlingMinutes * 60_000);
      if (doneUntil(p, JOB_EVENT_VOLUME) < hour) await enqueue(p, JOB_EVENT_VOLUME, { until: hour }, hour);
      const today = bucketFloor(p.timeZone, '1d', now);
      if (doneUntil(p, JOB_DRIFT) >= today) continue;
      if (now < today + settlingMinutes * 60_000) continue;
      const day = bucketFloor(p.timeZone, '1d', today - 1);
      await enqueue(p, JOB_DRIFT, { day }, day);
    }
    return enqueued;
  }

  /** Schema and distribution drift of a day; afterwards the day counts as done. */
  async runDrift(project: Project, day: number): Promise<DriftResult> {
    const r = await this.drift.detectDay(project, day);
    await this.markDone(project.id, JOB_DRIFT, nextBucket(project.timeZone, '1d', r.day));
    return r;
  }

  /** Event volume up to `until`, scoring the hours since the previous run (all of the history read on the first). */
  async runEventVolume(project: Project, until: number): Promise<EventVolumeResult & { since: number | null }> {
    const since = await this.doneUntil(project.id, JOB_EVENT_VOLUME);
    if (since !== undefined && since >= until)
      return { events: 0, totalEpisodes: 0, episodes: 0, inserted: 0, updated: 0, skipped: 'already detected', ms: 0, since };
    const r = await this.eventVolume.detect(project, { until, since });
    // also when skipped (disabled, no events): the hour is not scheduled again
    await this.markDone(project.id, JOB_EVENT_VOLUME, bucketFloor(project.timeZone, '1h', until));
    return { ...r, since: since ?? null };
  }

  /** Handlers for the job worker; each returns its counts and duration. */
  jobHandlers(): Record<string, JobHandler> {
    return {
      [JOB_DRIFT]: async (job: Job) => {
        const { day } = job.payload as { day: number };
        return this.runDrift(await this.deps.projects.getById(job.projectId!), day);
      },
      [JOB_EVENT_VOLUME]: async (job: Job) => {
        const { until } = job.payload as { until: number };
        return this.runEventVolume(await this.deps.projects.getById(job.projectId!), until);
      },
    };
  }

  private async doneUntil(projectId: number, detector: Detector): Promise<number | undefined> {
    const row = await this.deps.db
      .selectFrom('detector_runs')
      .select('done_until')
      .where('project_id', '=', projectId)
      .where('detector', '=', detector)
      .executeTakeFirst();
    return row ? Number(row.done_until) : undefined;
  }

  /** Moves a detector's mark forward (never back: an older run finishing late changes nothing). */
  private async markDone(projectId: number, detector: Detector, until: number): Promise<void> {
    const t = this.now();
    await this.deps.db
      .insertInto('detector_runs')
      .values({ project_id: projectId, detector, done_until: until, updated_at: t })
      .onConflict((oc) =>
        oc
          .columns(['project_id', 'detector'])
          .doUpdateSet({ done_until: until, updated_at: t })
          .where('detector_runs.done_until', '<', until),
      )
      .execute();
  }
}
