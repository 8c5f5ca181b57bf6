/**
 * The schema profile of a day that has not settled yet (today, mostly), remembered for a minute:
 * the tracking plan asks for it on every visit, and profiling a whole day of events each time
 * would cost more than everything else it reads together. Requests that arrive while it is being
 * computed share that computation. Always the whole day so far, so an event that arrives late
 * (a mobile SDK's batch) is counted at the next refresh.
 */
import type { DayProfile } from '../../detect/schema-drift.js';

/** how long a running day's profile is served before it is computed again */
export const RUNNING_DAY_TTL_MS = 60_000;
/** days remembered at most, over all projects (least recently asked dropped first) */
const MAX_DAYS = 2_000;

type Running = { computedAt: number; profile: Promise<DayProfile> };

/** Today, and yesterday until it has settled: the days of a project not stored yet. */
export class RunningDayProfiles {
  private byDay = new Map<string, Running>();

  /** The profile of `day` ([day, dayEnd)) as of at most a minute before `now`; `profile` reads [fromMs, toMs) from the event store. */
  get(
    projectId: number,
    day: number,
    dayEnd: number,
    now: number,
    profile: (fromMs: number, toMs: number) => Promise<DayProfile>,
  ): Promise<DayProfile> {
    const key = `${projectId}:${day}`;
    let running = this.byDay.get(key);
    if (!running || now - running.computedAt >= RUNNING_DAY_TTL_MS || now < running.computedAt) {
      running = { computedAt: now, profile: profile(day, Math.min(now, dayEnd)) };
      // a failed computation is not remembered
      const failed = running;
      running.profile.catch(() => this.byDay.get(key) === failed && this.byDay.delete(key));
    }
    this.byDay.delete(key);
    this.byDay.set(key, running);
    if (this.byDay.size > MAX_DAYS) this.byDay.delete(this.byDay.keys().next().value as string);
    return running.profile;
  }

  /** Forgets a day of a project (its profile has been stored). */
  forget(projectId: number, day: number): void {
    this.byDay.delete(`${projectId}:${day}`);
  }
}
