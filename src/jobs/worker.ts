/**
 * Runs jobs from the queue in this process. Each running job keeps its lease alive with a heartbeat
 * every leaseMs/3; if the process dies the heartbeats stop and another worker takes the job over
 * once the lease expires. A handler learns that it lost its lease (progress() throws, its signal
 * aborts) so it stops rather than racing the worker that took over.
 */
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Job, JobQueue } from './queue.js';

export interface JobControl {
  /** Records progress and extends the lease; throws LeaseLostError when the job was taken over. */
  progress(fraction: number, note?: string): Promise<void>;
  /** Aborted on stop() and when the lease is lost. */
  signal: AbortSignal;
}

export type JobHandler = (job: Job, ctl: JobControl) => Promise<unknown>;

export interface JobWorkerLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
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
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private pollAgain = false;

  constructor(private queue: JobQueue, private handlers: Record<string, JobHandler>, opts: JobWorkerOptions = {}) {
    this.workerId = (opts.workerId ?? `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`).slice(0, 100);
    this.pollMs = opts.pollMs ?? 1_000;
    this.leaseMs = opts.leaseMs ?? 60_000;
    this.concurrency = Math.max(1, opts.concurrency ?? 1);
    this.log = opts.log ?? silent;
  }

  /** Starts polling the queue; jobs run in the background until stop(). */
  start(): void {
    if (this.started || this.stopping.signal.aborted) return;
    this.started = true;
    this.wake();
  }

  /** Polls now instead of at the next tick (after an enqueue, say). */
  wake(): void {
    if (!this.started || this.stopping.signal.aborted) return;
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

  /** Stops claiming, aborts running handlers' signals and waits for them to settle. */
  async stop(): Promise<void> {
    this.stopping.abort(new Error('worker stopped'));
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.polling;
    await Promise.allSettled([...this.running]);
  }

  /** Claims and runs one job, if one is due; returns whether one ran. Needs no start(). */
  async runOnce(): Promise<boolean> {
    if (this.stopping.signal.aborted) return false;
    const job = await this.queue.claim(this.workerId, this.leaseMs);
    if (!job) return false;
    await this.track(this.execute(job));
    return true;
  }

  private schedule(): void {
    if (this.stopping.signal.aborted || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.wake();
    }, this.pollMs);
    this.timer.unref();
  }

  /** Claims while there are free slots and due jobs; each finished job wakes the loop again. */
  private async poll(): Promise<void> {
    try {
      while (this.running.size < this.concurrency && !this.stopping.signal.aborted) {
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
    const heartbeats = setInterval(() => {
      beat().catch((err: unknown) => this.log.warn({ ...ctx, err }, 'job heartbeat failed'));
    }, Math.max(1, Math.floor(this.leaseMs / 3)));
    heartbeats.unref();
    const ctl: JobControl = {
      signal: own.signal,
      progress: async (fraction, note) => {
        if (!(await beat({ fraction, note }))) throw new LeaseLostError(job.id);
      },
    };
    try {
      const result = await handler(job, ctl);
      if (!(await this.settle(job, () => this.queue.complete(job.id, this.workerId, result)))) {
        this.log.warn(ctx, 'job finished after its lease was lost; result discarded');
      }
    } catch (err) {
      if (err instanceof LeaseLostError || own.signal.reason instanceof LeaseLostError) {
        this.log.warn({ ...ctx, err }, 'job stopped: lease lost');
      } else {
        // a handler interrupted by stop() is retried, whatever it threw
        const retry = isTransient(err) || this.stopping.signal.aborted;
        if (!retry) this.log.warn({ ...ctx, err }, 'job failed; dead-lettered');
        await this.settle(job, () => this.queue.fail(job.id, this.workerId, errorText(err), { retry }));
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
