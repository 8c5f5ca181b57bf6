/**
 * The durable job table. Workers claim a job with a lease (locked_by + lease_until) rather than a
 * lock held for the job's whole run: a worker that dies leaves a lease that simply expires, and
 * another worker claims the job again, with no coordinator and no broker. A worker acts on a job
 * (heartbeat, complete, fail) only while it still holds it, so a stale worker cannot overwrite the
 * outcome of the one that took over.
 */
import { sql, type Selectable } from 'kysely';
import type { Dialect } from '../storage/meta/db.js';
import type { JobTable } from './tables.js';
import type { MetaDb } from '../meta-db.js';
import { VigilError, badRequest, notFound } from '../errors.js';

export type JobStatus = 'queued' | 'running' | 'done' | 'dead';

export interface Job {
  id: number;
  kind: string;
  projectId: number | null;
  payload: unknown;
  status: JobStatus;
  priority: number;
  attempts: number;
  maxAttempts: number;
  runAt: number;
  /** who holds a running job, and until when (epoch ms) */
  leaseUntil: number | null;
  lockedBy: string | null;
  progress: number | null;
  progressNote: string | null;
  lastError: string | null;
  result: unknown;
  dedupeKey: string | null;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
}

export interface EnqueueInput {
  kind: string;
  projectId?: number | null;
  payload?: unknown;
  runAt?: number;
  priority?: number;
  maxAttempts?: number;
  /** at most one unfinished (queued or running) job per key */
  dedupeKey?: string;
}

export interface JobFilter {
  projectId?: number;
  kind?: string;
  status?: string;
  limit?: number;
}

/** Retry delays double from 1 s and stop growing at 5 min, so a long outage costs few attempts. */
const BACKOFF_BASE_MS = 1_000;
const BACKOFF_MAX_MS = 5 * 60_000;
/** Column widths from migration 0003, which PostgreSQL enforces. */
const MAX_KIND = 40;
const MAX_DEDUPE_KEY = 300;
const MAX_NOTE = 500;
const MAX_ERROR = 4_000;

/** Burying is a scan of running jobs: once a second per queue is enough, rather than before every claim. */
const BURY_EVERY_MS = 1_000;

export const LEASE_EXPIRED_ERROR = 'lease expired too many times';

export function backoffMs(attempts: number): number {
  return Math.min(BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1), BACKOFF_MAX_MS);
}

const nullableNumber = (v: number | string | null): number | null => (v === null ? null : Number(v));
const parseJson = (text: string | null): unknown => (text === null ? null : JSON.parse(text));

/** PostgreSQL returns bigint columns as strings, hence the Number() calls. */
function toJob(r: Selectable<JobTable>): Job {
  return {
    id: Number(r.id),
    kind: r.kind,
    projectId: nullableNumber(r.project_id),
    payload: parseJson(r.payload),
    status: r.status as JobStatus,
    priority: Number(r.priority),
    attempts: Number(r.attempts),
    maxAttempts: Number(r.max_attempts),
    runAt: Number(r.run_at),
    leaseUntil: nullableNumber(r.lease_until),
    lockedBy: r.locked_by,
    progress: nullableNumber(r.progress),
    progressNote: r.progress_note,
    lastError: r.last_error,
    result: parseJson(r.result),
    dedupeKey: r.dedupe_key,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    finishedAt: nullableNumber(r.finished_at),
  };
}

function codeOf(err: unknown): unknown {
  return typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
}

const isUniqueViolation: Record<Dialect, (err: unknown) => boolean> = {
  sqlite: (err) => codeOf(err) === 'SQLITE_CONSTRAINT_UNIQUE',
  postgres: (err) => codeOf(err) === '23505',
};

export class JobQueue {
  /** when this queue last buried jobs whose holders died too often */
  private buriedAt = -Infinity;

  constructor(
    private db: MetaDb,
    private dialect: Dialect,
    private now: () => number = Date.now,
  ) {}

  /** Adds a job; `created` is false when an unfinished job with the same dedupeKey was returned instead. */
  async enqueue(input: EnqueueInput): Promise<Job & { created: boolean }> {
    if (!input.kind || input.kind.length > MAX_KIND) throw badRequest(`job kind must be 1-${MAX_KIND} characters`, { field: 'kind' });
    if (input.dedupeKey !== undefined && (!input.dedupeKey || input.dedupeKey.length > MAX_DEDUPE_KEY))
      throw badRequest(`dedupeKey must be 1-${MAX_DEDUPE_KEY} characters`, { field: 'dedupeKey' });
    const maxAttempts = input.maxAttempts ?? 5;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1)
      throw badRequest('maxAttempts must be a positive integer', { field: 'maxAttempts' });
    // the existing job may finish between a failed insert and the select: then insert again
    for (let round = 0; round < 3; round++) {
      if (input.dedupeKey !== undefined) {
        const existing = await this.findUnfinished(input.dedupeKey);
        if (existing) return { ...existing, created: false };
      }
      const t = this.now();
      try {
        const row = await this.db
          .insertInto('jobs')
          .values({
            kind: input.kind,
            project_id: input.projectId ?? null,
            payload: JSON.stringify(input.payload ?? {}),
            status: 'queued',
            priority: input.priority ?? 0,
            attempts: 0,
            max_attempts: maxAttempts,
            run_at: input.runAt ?? t,
            dedupe_key: input.dedupeKey ?? null,
            created_at: t,
            updated_at: t,
          })
          // a concurrent enqueue of the same key makes this a no-op rather than an error, which in
          // PostgreSQL would abort the caller's transaction; the loop then returns that job
          .$if(input.dedupeKey !== undefined, (qb) =>
            qb.onConflict((oc) =>
              oc.column('dedupe_key').where(sql<boolean>`dedupe_key IS NOT NULL AND status IN ('queued', 'running')`).doNothing(),
            ),
          )
          .returningAll()
          .executeTakeFirst();
        if (row) return { ...toJob(row), created: true };
      } catch (err) {
        if (input.dedupeKey === undefined || !isUniqueViolation[this.dialect](err)) throw err;
      }
    }
    throw new Error(`could not enqueue job with dedupeKey "${input.dedupeKey}": it kept changing`);
  }

  /** Takes the most urgent due job (or one whose holder's lease expired), leased to workerId. */
  async claim(workerId: string, leaseMs: number, kinds?: string[]): Promise<Job | undefined> {
    if (kinds?.length === 0) return undefined;
    const t = this.now();
    if (t - this.buriedAt >= BURY_EVERY_MS || t < this.buriedAt) {
      this.buriedAt = t;
      await this.buryExpired(t);
    }
    const row = await this.claimQuery(workerId, leaseMs, t, kinds).executeTakeFirst();
    return row ? toJob(row) : undefined;
  }

  /** The claim statement: one UPDATE whose subquery picks the job (exposed so tests can read its SQL). */
  claimQuery(workerId: string, leaseMs: number, t: number, kinds?: string[]) {
    const pick = this.db
      .selectFrom('jobs')
      .select('id')
      .where((eb) =>
        eb.or([
          eb.and([eb('status', '=', 'queued'), eb('run_at', '<=', t)]),
          // a job whose attempts are used up is buried by buryExpired instead
          eb.and([eb('status', '=', 'running'), eb('lease_until', '<', t), eb('attempts', '<', eb.ref('max_attempts'))]),
        ]),
      )
      .$if(kinds !== undefined, (qb) => qb.where('kind', 'in', kinds ?? []))
      .orderBy('priority', 'desc')
      .orderBy('run_at')
      .orderBy('id')
      .limit(1);
    // SQLite serializes writers, so the UPDATE is atomic; PostgreSQL lets concurrent claimers skip a row another holds
    const locked: Record<Dialect, typeof pick> = { sqlite: pick, postgres: pick.forUpdate().skipLocked() };
    return this.db
      .updateTable('jobs')
      .set((eb) => ({ status: 'running', locked_by: workerId, lease_until: t + leaseMs, attempts: eb('attempts', '+', 1), updated_at: t }))
      .where('id', '=', locked[this.dialect])
      .returningAll();
  }

  /** Extends the lease and records progress; false when workerId no longer holds the job. */
  async heartbeat(id: number, workerId: string, leaseMs: number, progress?: { fraction: number; note?: string }): Promise<boolean> {
    const t = this.now();
    const fraction = progress && Number.isFinite(progress.fraction) ? Math.min(1, Math.max(0, progress.fraction)) : null;
    const res = await this.held(id, workerId)
      .set({
        lease_until: t + leaseMs,
        updated_at: t,
        ...(progress ? { progress: fraction, progress_note: progress.note?.slice(0, MAX_NOTE) ?? null } : {}),
      })
      .executeTakeFirst();
    return res.numUpdatedRows > 0n;
  }

  async complete(id: number, workerId: string, result?: unknown): Promise<boolean> {
    const t = this.now();
    const res = await this.held(id, workerId)
      .set({
        status: 'done',
        result: result === undefined ? null : JSON.stringify(result),
        progress: 1,
        lease_until: null,
        finished_at: t,
        updated_at: t,
      })
      .executeTakeFirst();
    return res.numUpdatedRows > 0n;
  }

  /**
   * Completes job id inside a transaction that also runs fn: the job's row is marked done first
   * (which in PostgreSQL also locks it until the commit), then fn writes its effects, and both
   * commit together or not at all. So work whose effects live in this database is done exactly
   * once even when leases expire or workers die. `held` is false (and fn does not run) when
   * workerId no longer holds the job.
   */
  async completeWith<T>(id: number, workerId: string, fn: (tx: MetaDb) => Promise<T>): Promise<{ held: true; value: T } | { held: false }> {
    return this.db.transaction().execute(async (tx) => {
      const t = this.now();
      const res = await tx
        .updateTable('jobs')
        .set({ status: 'done', result: null, progress: 1, lease_until: null, finished_at: t, updated_at: t })
        .where('id', '=', id)
        .where('status', '=', 'running')
        .where('locked_by', '=', workerId)
        .executeTakeFirst();
      if (res.numUpdatedRows === 0n) return { held: false as const };
      return { held: true as const, value: await fn(tx) };
    });
  }

  /** retry: a transient failure, run again after a backoff while attempts remain; otherwise dead-lettered. */
  async fail(id: number, workerId: string, error: string, opts: { retry: boolean }): Promise<boolean> {
    const job = await this.get(id);
    if (job?.status !== 'running' || job.lockedBy !== workerId) return false;
    const t = this.now();
    const lastError = error.slice(0, MAX_ERROR);
    const again = opts.retry && job.attempts < job.maxAttempts;
    const res = await this.held(id, workerId)
      .where('attempts', '=', job.attempts)
      .set(
        again
          ? {
              status: 'queued',
              run_at: t + backoffMs(job.attempts),
              lease_until: null,
              locked_by: null,
              last_error: lastError,
              updated_at: t,
            }
          : { status: 'dead', lease_until: null, last_error: lastError, finished_at: t, updated_at: t },
      )
      .executeTakeFirst();
    return res.numUpdatedRows > 0n;
  }

  /**
   * Hands a running job back to the queue at once (its holder is shutting down): queued and due
   * now, so another worker takes it without waiting for the lease to expire. The attempt counts.
   */
  async release(id: number, workerId: string, reason: string): Promise<boolean> {
    const t = this.now();
    const res = await this.held(id, workerId)
      .set({ status: 'queued', run_at: t, lease_until: null, locked_by: null, last_error: reason.slice(0, MAX_ERROR), updated_at: t })
      .executeTakeFirst();
    return res.numUpdatedRows > 0n;
  }

  async get(id: number): Promise<Job | undefined> {
    const row = await this.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toJob(row) : undefined;
  }

  /** Newest first. */
  async list(filter: JobFilter = {}): Promise<Job[]> {
    const rows = await this.db
      .selectFrom('jobs')
      .selectAll()
      .$if(filter.projectId !== undefined, (qb) => qb.where('project_id', '=', filter.projectId ?? 0))
      .$if(filter.kind !== undefined, (qb) => qb.where('kind', '=', filter.kind ?? ''))
      .$if(filter.status !== undefined, (qb) => qb.where('status', '=', filter.status ?? ''))
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(Math.min(Math.max(1, filter.limit ?? 100), 1_000))
      .execute();
    return rows.map(toJob);
  }

  /** Dead-letters a queued job; a running one cannot be cancelled (false). */
  async cancel(id: number): Promise<boolean> {
    const t = this.now();
    const res = await this.db
      .updateTable('jobs')
      .set({ status: 'dead', last_error: 'cancelled', finished_at: t, updated_at: t })
      .where('id', '=', id)
      .where('status', '=', 'queued')
      .executeTakeFirst();
    return res.numUpdatedRows > 0n;
  }

  /**
   * Queues a dead job again, due now, with its attempts back to none (its last error stays until
   * the next attempt). A 409 when it is not dead, or when an equal job (same dedupeKey) is queued
   * or running already.
   */
  async retry(id: number): Promise<Job> {
    const job = await this.get(id);
    if (!job) throw notFound(`job ${id}`);
    if (job.status !== 'dead') throw new VigilError('VIGIL_ERR_CONFLICT', `job ${id} is ${job.status}: only a dead job can be retried`);
    const t = this.now();
    try {
      const row = await this.db
        .updateTable('jobs')
        .set({
          status: 'queued',
          attempts: 0,
          run_at: t,
          lease_until: null,
          locked_by: null,
          progress: null,
          progress_note: null,
          finished_at: null,
          updated_at: t,
        })
        .where('id', '=', id)
        .where('status', '=', 'dead')
        .returningAll()
        .executeTakeFirst();
      if (!row) throw new VigilError('VIGIL_ERR_CONFLICT', `job ${id} changed meanwhile: reload and try again`);
      return toJob(row);
    } catch (err) {
      if (isUniqueViolation[this.dialect](err))
        throw new VigilError('VIGIL_ERR_CONFLICT', `an equal ${job.kind} job is queued or running already: it does this job's work`);
      throw err;
    }
  }

  /** Deletes done and dead jobs that finished more than olderThanMs ago; returns how many. */
  async prune(olderThanMs: number): Promise<number> {
    const res = await this.db
      .deleteFrom('jobs')
      .where('status', 'in', ['done', 'dead'])
      .where('finished_at', '<', this.now() - olderThanMs)
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  private async findUnfinished(dedupeKey: string): Promise<Job | undefined> {
    const row = await this.db
      .selectFrom('jobs')
      .selectAll()
      .where('dedupe_key', '=', dedupeKey)
      .where('status', 'in', ['queued', 'running'])
      .executeTakeFirst();
    return row ? toJob(row) : undefined;
  }

  /** An update of job id that matches only while workerId holds it. */
  private held(id: number, workerId: string) {
    return this.db.updateTable('jobs').where('id', '=', id).where('status', '=', 'running').where('locked_by', '=', workerId);
  }

  /** Jobs whose holders died once too often go to dead rather than being claimed again. */
  private async buryExpired(t: number): Promise<void> {
    await this.db
      .updateTable('jobs')
      .set({ status: 'dead', last_error: LEASE_EXPIRED_ERROR, lease_until: null, finished_at: t, updated_at: t })
      .where('status', '=', 'running')
      .where('lease_until', '<', t)
      .where((eb) => eb('attempts', '>=', eb.ref('max_attempts')))
      .execute();
  }
}
