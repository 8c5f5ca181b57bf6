/** The job queue's table and the scheduler's claimed ticks. Times are epoch milliseconds (see src/meta-db.ts). */
import type { Generated } from 'kysely';

export interface JobTable {
  id: Generated<number>;
  kind: string;
  project_id: number | null;
  /** JSON */
  payload: string;
  /** queued | running | done | dead */
  status: string;
  priority: number;
  attempts: number;
  max_attempts: number;
  run_at: number;
  lease_until: number | null;
  locked_by: string | null;
  progress: number | null;
  progress_note: string | null;
  last_error: string | null;
  /** JSON */
  result: string | null;
  dedupe_key: string | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

/** The last tick slot of a periodic task claimed by a scheduler process (src/jobs/scheduler.ts). */
export interface SchedulerTickTable {
  name: string;
  slot: number;
  holder: string;
  claimed_at: number;
}
