/**
 * The scheduler tick, once per slot cluster-wide. Time is cut into slots of tickMs; every
 * scheduler process wakes at each slot boundary and tries to claim the slot with one conditional
 * UPDATE of a shared row (`slot < this slot`). The database serializes the claims (PostgreSQL
 * re-checks the condition after the row lock is released; SQLite has one writer), so exactly one
 * process runs each slot, however many schedulers run, with no lock held while the tick runs.
 * A process that dies mid-tick loses only that slot: the next one is claimed as usual.
 */
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import type { MetaDb } from '../meta-db.js';

export interface SchedulerLog {
  error(obj: object, msg: string): void;
}

export interface ClusterSchedulerOptions {
  db: MetaDb;
  /** the row's name: one per periodic task */
  name?: string;
  tickMs: number;
  /** one tick's work (the app context's runSchedulerTick) */
  run: () => Promise<void>;
  holder?: string;
  now?: () => number;
  log?: SchedulerLog;
}

export interface SchedulerStatus {
  holder: string;
  tickMs: number;
  /** slots this process claimed and ran */
  ticksRun: number;
  /** epoch ms of the last slot this process ran, and whether that run failed */
  lastTickAt: number | null;
  lastError: string | null;
}

/** Claims `slot` of the task `name` for `holder`; true for exactly one caller per slot. */
export async function claimTick(db: MetaDb, name: string, slot: number, holder: string, at: number): Promise<boolean> {
  const res = await db
    .updateTable('scheduler_ticks')
    .set({ slot, holder, claimed_at: at })
    .where('name', '=', name)
    .where('slot', '<', slot)
    .executeTakeFirst();
  if (res.numUpdatedRows > 0n) return true;
  // the first claim of a task creates its row; a concurrent creator makes this insert a no-op
  const created = await db
    .insertInto('scheduler_ticks')
    .values({ name, slot, holder, claimed_at: at })
    .onConflict((oc) => oc.column('name').doNothing())
    .executeTakeFirst();
  return (created.numInsertedOrUpdatedRows ?? 0n) > 0n;
}

export class ClusterScheduler {
  readonly holder: string;
  private readonly name: string;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private started = false;
  private stopped = false;
  private ticksRun = 0;
  private lastTickAt: number | null = null;
  private lastError: string | null = null;

  constructor(private opts: ClusterSchedulerOptions) {
    this.holder = (opts.holder ?? `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`).slice(0, 100);
    this.name = opts.name ?? 'due';
    this.now = opts.now ?? Date.now;
  }

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    void this.tick();
  }

  /** Claims the current slot and runs it when this process won it; false when another did (or a tick is still running here). */
  async tick(): Promise<boolean> {
    if (this.ticking || this.stopped) {
      this.schedule();
      return false;
    }
    let ran = false;
    this.ticking = (async () => {
      const at = this.now();
      try {
        if (!(await claimTick(this.opts.db, this.name, Math.floor(at / this.opts.tickMs), this.holder, at))) return;
        ran = true;
        await this.opts.run();
        this.lastError = null;
      } catch (err) {
        this.lastError = err instanceof Error ? err.message : String(err);
        this.opts.log?.error({ err, holder: this.holder }, 'scheduler tick failed');
      } finally {
        if (ran) {
          this.ticksRun++;
          this.lastTickAt = at;
        }
      }
    })();
    await this.ticking;
    this.ticking = undefined;
    this.schedule();
    return ran;
  }

  /** Stops the timer and waits for a tick in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.ticking;
  }

  status(): SchedulerStatus {
    return {
      holder: this.holder,
      tickMs: this.opts.tickMs,
      ticksRun: this.ticksRun,
      lastTickAt: this.lastTickAt,
      lastError: this.lastError,
    };
  }

  /** Wakes just after the next slot boundary, so processes whose timers drift still see every slot. */
  private schedule(): void {
    if (!this.started || this.stopped) return;
    clearTimeout(this.timer);
    const t = this.now();
    const next = (Math.floor(t / this.opts.tickMs) + 1) * this.opts.tickMs;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        void this.tick();
      },
      next - t + SLOT_SLACK_MS,
    );
    this.timer.unref();
  }
}

/** Wake a little after the boundary, so a clock a few ms behind the others still lands in the new slot. */
const SLOT_SLACK_MS = 20;
