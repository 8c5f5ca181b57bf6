/** An append waiting for its write: complete NDJSON lines, or '' for a barrier. */
export interface PendingAppend {
  text: string;
  lines: number;
  hasIdentify: boolean;
}

interface Waiting extends PendingAppend {
  /** the queue's failure count when the append was made */
  failuresAtCall: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

export interface GroupCommitOptions {
  /** Makes one batch durable (all of it or, by throwing, none of it as far as callers know). */
  write: (batch: PendingAppend[]) => Promise<void>;
  /** Runs after a batch's callers are answered (the write-ahead buffer rotates segments here). */
  afterCommit?: () => Promise<void>;
  /** Runs each commit in this wrapper (the write-ahead buffer's serial chain of file operations). */
  serial?: (fn: () => Promise<void>) => Promise<void>;
}

/**
 * Group commit: one write in flight at a time, and every append that arrives meanwhile joins the
 * next, so concurrent requests share one durable write. An empty append is a barrier: it resolves
 * once everything appended before it is durable, and rejects if any of that (still unanswered when
 * the barrier was made) failed, so a duplicate can be acknowledged exactly when, and only if, its
 * first copy is durable.
 */
export class GroupCommit {
  private pending: Waiting[] = [];
  private draining: Promise<void> | null = null;
  /** failed writes so far: a barrier made before a failure is answered with that failure */
  private failures = 0;

  constructor(private opts: GroupCommitOptions) {}

  append(text: string, lines: number, hasIdentify: boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ text, lines, hasIdentify, failuresAtCall: this.failures, resolve, reject });
      this.draining ??= this.drain();
    });
  }

  /** Waits until every append made before it is durable or has failed; never rejects. */
  barrier(): Promise<void> {
    return this.append('', 0, false).catch(() => undefined);
  }

  /** Resolves once no append is waiting or being written. */
  async drained(): Promise<void> {
    await this.draining;
  }

  private async drain(): Promise<void> {
    try {
      // let every request parsed in this turn of the event loop join the same write
      await new Promise((r) => setImmediate(r));
      const serial = this.opts.serial ?? ((fn) => fn());
      while (this.pending.length) {
        const batch = this.pending;
        this.pending = [];
        await serial(() => this.commit(batch));
      }
    } finally {
      this.draining = null;
    }
  }

  /** Writes one batch, then answers its callers. Never throws. */
  private async commit(batch: Waiting[]): Promise<void> {
    if (batch.some((p) => p.text !== '')) {
      try {
        await this.opts.write(batch);
      } catch (err) {
        this.failures++;
        for (const p of batch) p.reject(err as Error);
        return;
      }
    }
    for (const p of batch) {
      if (p.text === '' && p.failuresAtCall !== this.failures) p.reject(new Error('an earlier write this one waited for failed'));
      else p.resolve();
    }
    await this.opts.afterCommit?.();
  }
}
