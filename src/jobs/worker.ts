/**
 * Runs jobs from the queue in this process. Each running job keeps its lease alive with a heartbeat
 * every leaseMs/3; if the process dies the heartbeats stop and another worker takes the job over
 * once the lease expires. A handler learns that it lost its lease (progress() throws, its signal
 * aborts) so it stops rather than racing the worker that took over.
 */
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import type { MetaDb } from '../meta-db.js';
import type { Job, JobQueue } from './queue.js';

export interface JobControl {
  /** Records progress and extends the lease; throws LeaseLostError when the job was taken over. */
  progress(fraction: number, note?: string): Promise<void>;
  /** Aborted on stop() and when the lease is lost. */
  signal: AbortSignal;
  /**
   * Runs fn in the transaction that completes the job: fn's writes and the completion commit
   * together, exactly once (JobQueue.completeWith). Throws LeaseLostError, without running fn, when
   * the job was taken over. The handler's return value is then not stored.
   */
  commit<T>(fn: (tx: MetaDb) => Promise<T>): Promise<T>;
}

export type JobHandler = (job: Job, ctl: JobControl) => Promise<unknown>;

export interface JobWorkerLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface WorkerStopOptions {
  /** how long running jobs may go on before their handlers are aborted */
  graceMs?: number;
  /** after the abort, how long to wait for handlers before releasing their jobs and returning (default: wait for them) */
  releaseAfterMs?: number;
}

/** Whether every promise settled within ms. */
async function settledWithin(promises: Promise<unknown>[], ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([Promise.allSettled(promises).then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface JobWorkerOptions {
  workerId?: string;
  pollMs?: number;
  leaseMs?: number;
  concurrency?: number;
  log?: JobWorkerLog;
}

/** A failure worth retrying (a dependency unavailable); any error with `transient: true` counts too. */
export class TransientJobError extends Error {
  readonly transient = true;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TransientJobError';
  }
}

export class LeaseLostError extends Error {
  constructor(readonly jobId: number) {
    super(`lease on job ${jobId} was lost`);
    this.name = 'LeaseLostError';
  }
}

export function isTransient(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { transient?: unknown }).transient === true;
}

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));
const silent: JobWorkerLog = { warn: () => undefined, error: () => undefined };

export class JobWorker {
  readonly workerId: string;
  private readonly pollMs: number;
  private readonly leaseMs: number;
  private readonly concurrency: number;
  private readonly log: JobWorkerLog;
  private readonly stopping = new AbortController();
  private readonly running = new Set<Promise<void>>();
  private started = false;
  /** set by stop(): no more claims */
  private draining = false;
  private stopped: Promise<void> | undefined;
  /** the jobs whose handlers are running, by id */
  private readonly holding = new Map<number, Job>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private pollAgain = false;

  constructor(
    private queue: JobQueue,
    private handlers: Record<string, JobHandler>,
    opts: JobWorkerOptions = {},
  ) {
    this.workerId = (opts.workerId ?? `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`).slice(0, 100);
    this.pollMs = opts.pollMs ?? 1_000;
    this.leaseMs = opts.leaseMs ?? 60_000;
    this.concurrency = Math.max(1, opts.concurrency ?? 1);
    this.log = opts.log ?? silent;
  }

  /** Starts polling the queue; jobs run in the background until stop(). */
  start(): void {
    if (this.started || this.draining) return;
    this.started = true;
    this.wake();
  }

  /** Polls now instead of at the next tick (after an enqueue, say). */
  wake(): void {
    if (!this.started || this.draining) return;
    if (this.polling) {
      this.pollAgain = true;
      return;
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    this.polling = this.poll().finally(() => {
      this.polling = undefined;
      if (this.pollAgain) {
        this.pollAgain = false;
        this.wake();
      } else this.schedule();
    });
  }

  /**
   * Stops claiming; lets running jobs finish for up to graceMs (default 0), then aborts their
   * handlers' signals (an interrupted job goes back to the queue, due at once) and waits for them
   * to settle, for up to releaseAfterMs when given: the jobs of handlers still running then are
   * released, so another worker takes them over without waiting for their leases to expire.
   */
  stop(opts: WorkerStopOptions = {}): Promise<void> {
    // a second call (the app context's close after a graceful stop) waits for the first, not for handlers it gave up on
    this.stopped ??= this.drain(opts);
    return this.stopped;
  }

  private async drain(opts: WorkerStopOptions): Promise<void> {
    this.draining = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.polling;
    if (opts.graceMs && this.running.size) await settledWithin([...this.running], opts.graceMs);
    this.stopping.abort(new Error('worker stopped'));
    if (opts.releaseAfterMs === undefined) {
      await Promise.allSettled([...this.running]);
      return;
    }
    if (await settledWithin([...this.running], opts.releaseAfterMs)) return;
    for (const job of this.holding.values()) {
      const released = await this.queue.release(job.id, this.workerId, 'worker stopped').catch(() => false);
      this.log.warn(
        { jobId: job.id, kind: job.kind, workerId: this.workerId, released },
        'job still running at shutdown: its lease was released',
      );
    }
  }

  /** What this worker is doing, for /ready. */
  status(): { workerId: string; state: 'idle' | 'running' | 'stopping'; activeJobs: number; concurrency: number } {
    const state = this.draining ? 'stopping' : this.started ? 'running' : 'idle';
    return { workerId: this.workerId, state, activeJobs: this.running.size, concurrency: this.concurrency };
  }

  /** Claims and runs one job, if one is due; returns whether one ran. Needs no start(). */
  async runOnce(): Promise<boolean> {
    if (this.draining) return false;
    const job = await this.queue.claim(this.workerId, this.leaseMs);
    if (!job) return false;
    await this.track(this.execute(job));
    return true;
  }

  private schedule(): void {
    if (this.draining || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.wake();
    }, this.pollMs);
    this.timer.unref();
  }

  /** Claims while there are free slots and due jobs; each finished job wakes the loop again. */
  private async poll(): Promise<void> {
    try {
      while (this.running.size < this.concurrency && !this.draining) {
        const job = await this.queue.claim(this.workerId, this.leaseMs);
        if (!job) return;
        void this.track(this.execute(job)).then(() => this.wake());
      }
    } catch (err) {
      this.log.error({ err, workerId: this.workerId }, 'claiming a job failed');
    }
  }

  private track(run: Promise<void>): Promise<void> {
    this.running.add(run);
    return run.finally(() => this.running.delete(run));
  }

  /** Runs a claimed job's handler and records its outcome; never throws. */
  private async execute(job: Job): Promise<void> {
    this.holding.set(job.id, job);
    try {
      await this.executeHeld(job);
    } finally {
      this.holding.delete(job.id);
    }
  }

  private async executeHeld(job: Job): Promise<void> {
    const ctx = { jobId: job.id, kind: job.kind, workerId: this.workerId };
    const handler = this.handlers[job.kind];
    if (!handler) {
      await this.settle(job, () => this.queue.fail(job.id, this.workerId, `no handler for kind ${job.kind}`, { retry: false }));
      return;
    }
    const own = new AbortController();
    const onStop = () => own.abort(this.stopping.signal.reason);
    this.stopping.signal.addEventListener('abort', onStop, { once: true });
    if (this.stopping.signal.aborted) onStop();
    const lost = () => {
      if (!own.signal.aborted) own.abort(new LeaseLostError(job.id));
    };
    const beat = async (progress?: { fraction: number; note?: string }): Promise<boolean> => {
      const held = await this.queue.heartbeat(job.id, this.workerId, this.leaseMs, progress);
      if (!held) lost();
      return held;
    };
    const heartbeats = setInterval(
      () => {
        beat().catch((err: unknown) => this.log.warn({ ...ctx, err }, 'job heartbeat failed'));
      },
      Math.max(1, Math.floor(this.leaseMs / 3)),
    );
    heartbeats.unref();
    let committed = false;
    const ctl: JobControl = {
      signal: own.signal,
      progress: async (fraction, note) => {
        if (!(await beat({ fraction, note }))) throw new LeaseLostError(job.id);
      },
      commit: async (fn) => {
        if (committed) throw new Error(`job ${job.id} was already committed`);
        const outcome = await this.queue.completeWith(job.id, this.workerId, fn);
        if (!outcome.held) {
          lost();
          throw new LeaseLostError(job.id);
        }
        committed = true;
        return outcome.value;
      },
    };
    try {
      const result = await handler(job, ctl);
      if (committed) return;
      if (!(await this.settle(job, () => this.queue.complete(job.id, this.workerId, result)))) {
        this.log.warn(ctx, 'job finished after its lease was lost; result discarded');
      }
    } catch (err) {
      if (err instanceof LeaseLostError || own.signal.reason instanceof LeaseLostError) {
        this.log.warn({ ...ctx, err }, 'job stopped: lease lost');
      } else {
        if (this.stopping.signal.aborted) {
          // a handler interrupted by stop() goes back to the queue, due at once, whatever it threw
          await this.settle(job, () => this.queue.release(job.id, this.workerId, errorText(err)));
        } else {
          const retry = isTransient(err);
          if (!retry) this.log.warn({ ...ctx, err }, 'job failed; dead-lettered');
          await this.settle(job, () => this.queue.fail(job.id, this.workerId, errorText(err), { retry }));
        }
      }
    } finally {
      clearInterval(heartbeats);
      this.stopping.signal.removeEventListener('abort', onStop);
    }
  }

  /** Records an outcome; a failure to write it is logged, and the lease will hand the job on. */
  private async settle(job: Job, write: () => Promise<boolean>): Promise<boolean> {
    try {
      return await write();
    } catch (err) {
      this.log.error({ jobId: job.id, kind: job.kind, workerId: this.workerId, err }, 'recording a job outcome failed');
      return false;
    }
  }
}
