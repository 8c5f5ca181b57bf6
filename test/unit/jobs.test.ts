import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from 'kysely';
import { openMetaStore, type MetaSchema, type MetaStore } from '../../src/meta-db.js';
import {
  ClusterScheduler,
  JobQueue,
  JobWorker,
  LEASE_EXPIRED_ERROR,
  LeaseLostError,
  TransientJobError,
  backoffMs,
  claimTick,
  type JobHandler,
} from '../../src/jobs/index.js';
import { TEST_META, createTestDatabase, openTestMeta, tempDir } from '../helpers/app.js';

// runs on SQLite, and on PostgreSQL in the test runner's PostgreSQL pass (VIGIL_TEST_META=postgres)

const stores: MetaStore[] = [];
const dirs: string[] = [];
after(async () => {
  for (const s of stores.reverse()) await s.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

async function setup() {
  const meta = await openTestMeta();
  stores.push(meta);
  const clock = { t: 1_000_000 };
  const queue = new JobQueue(meta.db, meta.dialect, () => clock.t);
  return { meta, clock, queue };
}

test('enqueue, claim and complete', async () => {
  const { meta, queue } = await setup();
  const project = await meta.db
    .insertInto('projects')
    .values({ slug: 'shop', name: 'Shop', time_zone: 'UTC', created_at: 1 })
    .returning('id')
    .executeTakeFirstOrThrow();
  const job = await queue.enqueue({ kind: 'collect', projectId: project.id, payload: { metricId: 7 } });
  assert.equal(job.status, 'queued');
  assert.deepEqual(job.payload, { metricId: 7 });
  assert.equal(job.projectId, project.id);
  const claimed = await queue.claim('w1', 30_000);
  assert.equal(claimed?.id, job.id);
  assert.equal(claimed?.status, 'running');
  assert.equal(claimed?.attempts, 1);
  assert.equal(claimed?.lockedBy, 'w1');
  assert.equal(claimed?.leaseUntil, 1_030_000);
  assert.equal(await queue.claim('w2', 30_000), undefined, 'a held job is not claimed twice');
  assert.equal(await queue.complete(job.id, 'w1', { rows: 3 }), true);
  const done = await queue.get(job.id);
  assert.equal(done?.status, 'done');
  assert.deepEqual(done?.result, { rows: 3 });
  assert.equal(done?.finishedAt, 1_000_000);
  assert.equal(await queue.complete(job.id, 'w1'), false, 'completing twice is refused');
  assert.deepEqual(
    (await queue.list({ projectId: project.id })).map((j) => j.id),
    [job.id],
  );
});

test('claims by priority, then run_at, and skips jobs not yet due or of other kinds', async () => {
  const { clock, queue } = await setup();
  const late = await queue.enqueue({ kind: 'a', runAt: clock.t - 10 });
  const early = await queue.enqueue({ kind: 'a', runAt: clock.t - 20 });
  const urgent = await queue.enqueue({ kind: 'a', priority: 5, runAt: clock.t - 1 });
  const future = await queue.enqueue({ kind: 'a', priority: 9, runAt: clock.t + 60_000 });
  const other = await queue.enqueue({ kind: 'b', priority: 9 });
  const order: number[] = [];
  for (let j = await queue.claim('w', 1_000, ['a']); j; j = await queue.claim('w', 1_000, ['a'])) order.push(j.id);
  assert.deepEqual(order, [urgent.id, early.id, late.id]);
  assert.equal((await queue.get(future.id))?.status, 'queued');
  assert.equal((await queue.get(other.id))?.status, 'queued');
  assert.equal(await queue.claim('w', 1_000, []), undefined);
  clock.t += 60_000;
  assert.equal((await queue.claim('w', 1_000, ['a']))?.id, future.id, 'due once its run_at has passed');
});

/** Two stores (two connections or pools) on one database: a SQLite file, or a fresh PostgreSQL database. */
async function openShared(count = 2): Promise<MetaStore[]> {
  let target: string;
  if (TEST_META === 'postgres') {
    const database = await createTestDatabase();
    target = database.url;
    // closed (LIFO in after()) before the database is dropped
    stores.push({ db: undefined as never, dialect: 'postgres', ping: async () => undefined, close: () => database.drop() });
  } else {
    const dir = tempDir('vigil-jobs-');
    dirs.push(dir);
    target = path.join(dir, 'meta.sqlite');
  }
  const opened: MetaStore[] = [];
  for (let i = 0; i < count; i++) opened.push(await openMetaStore(target));
  stores.push(...opened);
  return opened;
}

test(`two queues on one ${TEST_META} database never claim the same job`, async () => {
  const [a, b] = await openShared();
  const qa = new JobQueue(a.db, a.dialect, () => 1_000_000);
  const qb = new JobQueue(b.db, b.dialect, () => 1_000_000);
  for (let i = 0; i < 50; i++) await qa.enqueue({ kind: 'k', payload: { i } });
  const drain = async (q: JobQueue, worker: string) => {
    const ids: number[] = [];
    for (let j = await q.claim(worker, 60_000); j; j = await q.claim(worker, 60_000)) ids.push(j.id);
    return ids;
  };
  const [ida, idb] = await Promise.all([drain(qa, 'a'), drain(qb, 'b')]);
  const all = [...ida, ...idb];
  assert.equal(all.length, 50);
  assert.equal(new Set(all).size, 50, 'each job claimed exactly once');
  assert.ok(ida.length > 0 && idb.length > 0, `both claimed some (${ida.length}/${idb.length})`);
});

test('an expired lease passes the job to another worker and refuses the first', async () => {
  const { clock, queue } = await setup();
  const job = await queue.enqueue({ kind: 'k', maxAttempts: 2 });
  await queue.claim('w1', 10_000);
  clock.t += 9_000;
  assert.equal(await queue.heartbeat(job.id, 'w1', 10_000, { fraction: 0.25, note: 'a quarter' }), true);
  clock.t += 2_000;
  assert.equal(await queue.claim('w2', 10_000), undefined, 'the heartbeat extended the lease');
  const beating = await queue.get(job.id);
  assert.deepEqual([beating?.progress, beating?.progressNote], [0.25, 'a quarter']);
  clock.t += 9_000;
  const taken = await queue.claim('w2', 10_000);
  assert.equal(taken?.id, job.id);
  assert.equal(taken?.lockedBy, 'w2');
  assert.equal(taken?.attempts, 2);
  assert.equal(await queue.heartbeat(job.id, 'w1', 10_000), false);
  assert.equal(await queue.complete(job.id, 'w1', 'stale'), false);
  assert.equal(await queue.fail(job.id, 'w1', 'stale', { retry: false }), false);
  assert.equal((await queue.get(job.id))?.status, 'running');
  // w2 dies too: attempts are used up, so the next claim buries the job instead of running it a third time
  clock.t += 11_000;
  assert.equal(await queue.claim('w3', 10_000), undefined);
  const dead = await queue.get(job.id);
  assert.equal(dead?.status, 'dead');
  assert.equal(dead?.lastError, LEASE_EXPIRED_ERROR);
  assert.equal(await queue.complete(job.id, 'w2'), false);
});

test('a transient failure is retried after a backoff, then dead-lettered after max attempts', async () => {
  const { clock, queue } = await setup();
  const job = await queue.enqueue({ kind: 'k', maxAttempts: 3 });
  for (let attempt = 1; attempt <= 3; attempt++) {
    const claimed = await queue.claim('w', 5_000);
    assert.equal(claimed?.attempts, attempt);
    assert.equal(await queue.fail(job.id, 'w', `timeout ${attempt}`, { retry: true }), true);
    const after = await queue.get(job.id);
    if (attempt < 3) {
      assert.equal(after?.status, 'queued');
      assert.equal(after?.runAt, clock.t + 1_000 * 2 ** (attempt - 1));
      assert.equal(after?.lockedBy, null);
      assert.equal(await queue.claim('w', 5_000), undefined, 'not before the backoff');
      clock.t = after?.runAt ?? clock.t;
    } else {
      assert.equal(after?.status, 'dead');
      assert.equal(after?.lastError, 'timeout 3');
    }
  }
  assert.deepEqual([1, 2, 3, 9, 10, 30].map(backoffMs), [1_000, 2_000, 4_000, 256_000, 300_000, 300_000]);
});

test('a permanent failure is dead-lettered at once; cancel and prune', async () => {
  const { clock, queue } = await setup();
  const job = await queue.enqueue({ kind: 'k' });
  await queue.claim('w', 5_000);
  assert.equal(await queue.fail(job.id, 'w', 'metric definition is invalid', { retry: false }), true);
  const dead = await queue.get(job.id);
  assert.equal(dead?.status, 'dead');
  assert.equal(dead?.lastError, 'metric definition is invalid');
  const queued = await queue.enqueue({ kind: 'k', runAt: clock.t + 1_000 });
  assert.equal(await queue.cancel(queued.id), true);
  assert.equal((await queue.get(queued.id))?.lastError, 'cancelled');
  assert.equal(await queue.cancel(queued.id), false);
  const pending = await queue.enqueue({ kind: 'k', runAt: clock.t + 1_000 });
  clock.t += 10_000;
  assert.equal(await queue.prune(20_000), 0);
  assert.equal(await queue.prune(5_000), 2);
  assert.deepEqual(
    (await queue.list()).map((j) => j.id),
    [pending.id],
  );
});

test('dedupeKey returns the unfinished job, and allows a new one once it finished', async () => {
  const { queue } = await setup();
  const first = await queue.enqueue({ kind: 'collect', dedupeKey: 'metric:7' });
  const again = await queue.enqueue({ kind: 'collect', dedupeKey: 'metric:7', payload: { other: true } });
  assert.equal(again.id, first.id);
  const racing = await Promise.all([1, 2, 3].map(() => queue.enqueue({ kind: 'collect', dedupeKey: 'metric:8' })));
  assert.equal(new Set(racing.map((j) => j.id)).size, 1);
  await queue.claim('w', 5_000, ['collect']);
  assert.equal((await queue.enqueue({ kind: 'collect', dedupeKey: 'metric:7' })).id, first.id, 'running counts as unfinished');
  await queue.complete(first.id, 'w');
  const fresh = await queue.enqueue({ kind: 'collect', dedupeKey: 'metric:7' });
  assert.notEqual(fresh.id, first.id);
  assert.equal(fresh.status, 'queued');
});

test('the PostgreSQL claim locks with FOR UPDATE SKIP LOCKED', () => {
  const db = new Kysely<MetaSchema>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (k) => new PostgresIntrospector(k),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  });
  const { sql } = new JobQueue(db, 'postgres').claimQuery('w', 1_000, 5, ['a']).compile();
  assert.match(
    sql,
    /^update "jobs" set .* where "id" = \(select "id" from "jobs" where .* order by .* limit \$\d+ for update skip locked\) returning \*$/,
  );
  const lite = new JobQueue(db, 'sqlite').claimQuery('w', 1_000, 5).compile().sql;
  assert.doesNotMatch(lite, /for update/);
});

test('JobWorker.runOnce stores results, records progress, re-queues transient errors and dead-letters the rest', async () => {
  const { clock, queue } = await setup();
  const notes: Array<number | null> = [];
  const handlers: Record<string, JobHandler> = {
    ok: async (job, ctl) => {
      await ctl.progress(0.5, 'half way');
      const seen = await queue.get(job.id);
      notes.push(seen?.progress ?? null);
      assert.equal(seen?.progressNote, 'half way');
      return { sum: 42 };
    },
    flaky: async () => {
      throw new TransientJobError('event store unavailable');
    },
    flagged: async () => {
      throw Object.assign(new Error('connection reset'), { transient: true });
    },
    broken: async () => {
      throw new Error('bad definition');
    },
  };
  const worker = new JobWorker(queue, handlers, { workerId: 'w1' });
  assert.equal(await worker.runOnce(), false, 'nothing to do');
  const ids = Object.fromEntries(
    await Promise.all(
      ['ok', 'flaky', 'flagged', 'broken', 'mystery'].map(async (kind) => [kind, (await queue.enqueue({ kind })).id] as const),
    ),
  );
  for (let i = 0; i < 5; i++) assert.equal(await worker.runOnce(), true);
  assert.equal(await worker.runOnce(), false, 're-queued jobs wait for their backoff');
  const ok = await queue.get(ids.ok);
  assert.equal(ok?.status, 'done');
  assert.deepEqual(ok?.result, { sum: 42 });
  assert.deepEqual(notes, [0.5]);
  for (const kind of ['flaky', 'flagged']) {
    const j = await queue.get(ids[kind]);
    assert.equal(j?.status, 'queued', kind);
    assert.equal(j?.runAt, clock.t + 1_000);
  }
  assert.equal((await queue.get(ids.flaky))?.lastError, 'event store unavailable');
  assert.deepEqual(await queue.get(ids.broken).then((j) => [j?.status, j?.lastError]), ['dead', 'bad definition']);
  assert.deepEqual(await queue.get(ids.mystery).then((j) => [j?.status, j?.lastError]), ['dead', 'no handler for kind mystery']);
});

test('progress() throws LeaseLostError once another worker took the job', async () => {
  const { clock, queue } = await setup();
  const job = await queue.enqueue({ kind: 'slow' });
  let thrown: unknown;
  const worker = new JobWorker(
    queue,
    {
      slow: async (_job, ctl) => {
        clock.t += 120_000;
        assert.equal((await queue.claim('thief', 60_000))?.id, job.id);
        try {
          await ctl.progress(0.9);
        } catch (err) {
          thrown = err;
          throw err;
        }
      },
    },
    { workerId: 'w1', leaseMs: 60_000 },
  );
  assert.equal(await worker.runOnce(), true);
  assert.ok(thrown instanceof LeaseLostError);
  const j = await queue.get(job.id);
  assert.equal(j?.lockedBy, 'thief');
  assert.equal(j?.status, 'running', "the first worker's outcome is not recorded");
});

test('stop() aborts a long handler and the interrupted job is re-queued', async () => {
  const { queue } = await setup();
  const job = await queue.enqueue({ kind: 'long' });
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  const worker = new JobWorker(
    queue,
    {
      long: (_job, ctl) =>
        new Promise((_resolve, reject) => {
          started();
          ctl.signal.addEventListener('abort', () => reject(ctl.signal.reason));
        }),
    },
    { workerId: 'w1' },
  );
  const ran = worker.runOnce();
  await running;
  await worker.stop();
  assert.equal(await ran, true);
  const j = await queue.get(job.id);
  assert.equal(j?.status, 'queued');
  assert.equal(j?.lastError, 'worker stopped');
  assert.equal(await worker.runOnce(), false, 'a stopped worker claims nothing');
});

test('start() polls, runs jobs concurrently and wakes up on wake()', async () => {
  const { queue } = await setup();
  const done: string[] = [];
  let active = 0;
  let peak = 0;
  const worker = new JobWorker(
    queue,
    {
      k: async (job) => {
        peak = Math.max(peak, ++active);
        // long enough for the other claims to land (a PostgreSQL claim is a network round trip)
        await new Promise((r) => setTimeout(r, 50));
        active--;
        done.push((job.payload as { n: string }).n);
      },
    },
    { pollMs: 60_000, concurrency: 3 },
  );
  for (const n of ['a', 'b', 'c', 'd']) await queue.enqueue({ kind: 'k', payload: { n } });
  worker.start();
  const waitFor = async (count: number) => {
    for (let i = 0; i < 200 && done.length < count; i++) await new Promise((r) => setTimeout(r, 5));
  };
  await waitFor(4);
  assert.deepEqual([...done].sort(), ['a', 'b', 'c', 'd']);
  assert.equal(peak, 3, 'up to concurrency handlers at once');
  await queue.enqueue({ kind: 'k', payload: { n: 'e' } });
  worker.wake();
  await waitFor(5);
  assert.equal(done.length, 5, 'wake() polls without waiting for pollMs');
  await worker.stop();
  assert.equal((await queue.list({ status: 'done' })).length, 5);
});

test('stop() with a grace period lets a running job finish; a handler that ignores the abort has its job released', async () => {
  const { queue } = await setup();
  const quick = await queue.enqueue({ kind: 'quick' });
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  const graceful = new JobWorker(
    queue,
    {
      quick: async () => {
        started();
        await new Promise((r) => setTimeout(r, 50));
        return 'finished';
      },
    },
    { workerId: 'w1' },
  );
  const ran = graceful.runOnce();
  await running;
  await graceful.stop({ graceMs: 5_000 });
  await ran;
  assert.deepEqual(await queue.get(quick.id).then((j) => [j?.status, j?.result]), ['done', 'finished'], 'finished within the grace period');

  const stuck = await queue.enqueue({ kind: 'stuck' });
  let release!: () => void;
  const hung = new Promise<void>((resolve) => (release = resolve));
  let stuckStarted!: () => void;
  const stuckRunning = new Promise<void>((resolve) => (stuckStarted = resolve));
  const stubborn = new JobWorker(
    queue,
    {
      stuck: async () => {
        stuckStarted();
        await hung; // ignores its signal
      },
    },
    { workerId: 'w2' },
  );
  const stuckRun = stubborn.runOnce();
  await stuckRunning;
  assert.equal(stubborn.status().activeJobs, 1);
  await stubborn.stop({ graceMs: 10, releaseAfterMs: 10 });
  const released = await queue.get(stuck.id);
  assert.deepEqual(
    [released?.status, released?.lockedBy, released?.leaseUntil],
    ['queued', null, null],
    'released without waiting for the lease',
  );
  assert.equal((await queue.claim('w3', 1_000))?.id, stuck.id, 'another worker takes it at once');
  release();
  await stuckRun;
  assert.equal((await queue.get(stuck.id))?.lockedBy, 'w3', "the stopped worker's late outcome is not recorded");
});

test('enqueue with a dedupeKey inside a transaction returns the existing job without aborting the transaction', async () => {
  const { meta, queue } = await setup();
  const ids = await meta.db.transaction().execute(async (tx) => {
    const inTx = new JobQueue(tx, meta.dialect, () => 1_000_000);
    const first = await inTx.enqueue({ kind: 'collect', dedupeKey: 'metric:1' });
    const second = await inTx.enqueue({ kind: 'collect', dedupeKey: 'metric:1' });
    const other = await inTx.enqueue({ kind: 'collect', dedupeKey: 'metric:2' });
    return [first.id, second.id, other.id];
  });
  assert.equal(ids[0], ids[1]);
  assert.notEqual(ids[0], ids[2]);
  assert.equal((await queue.list()).length, 2);
});

test(`claimTick: one claimer per slot among concurrent stores on one ${TEST_META} database`, async () => {
  const shared = await openShared(3);
  for (const slot of [100, 101, 105]) {
    const won = await Promise.all(shared.flatMap((m, i) => [0, 1].map((k) => claimTick(m.db, 'due', slot, `s${i}.${k}`, slot * 1_000))));
    assert.equal(won.filter(Boolean).length, 1, `slot ${slot}: ${won}`);
  }
  assert.equal(await claimTick(shared[0].db, 'due', 104, 'late', 0), false, 'an older slot is not claimed again');
  assert.equal(await claimTick(shared[1].db, 'other', 104, 'x', 0), true, 'each task has its own row');
});

test('three ClusterSchedulers run each tick once between them', async () => {
  const shared = await openShared(3);
  const clock = { t: 10_000_000 };
  const runs: string[] = [];
  const schedulers = shared.map(
    (m, i) =>
      new ClusterScheduler({
        db: m.db,
        tickMs: 10_000,
        holder: `s${i}`,
        now: () => clock.t,
        run: async () => void runs.push(`s${i}@${clock.t}`),
      }),
  );
  for (let tick = 0; tick < 5; tick++) {
    const ran = await Promise.all(schedulers.map((s) => s.tick()));
    assert.equal(ran.filter(Boolean).length, 1, `tick ${tick}`);
    assert.equal(await schedulers[0].tick(), false, 'the same slot does not run twice');
    clock.t += 10_000;
  }
  assert.equal(runs.length, 5);
  assert.equal(
    schedulers.reduce((n, s) => n + s.status().ticksRun, 0),
    5,
  );
  for (const s of schedulers) await s.stop();
});

test('ctl.commit writes the effects and completes the job in one transaction, and not at all once the job was taken over', async () => {
  const { meta, clock, queue } = await setup();
  // ip_salts.day is varchar(10), which PostgreSQL enforces
  const effect = (tx: typeof meta.db, day: string) => tx.insertInto('ip_salts').values({ day, salt: 'x' }).execute();
  const salts = async () => (await meta.db.selectFrom('ip_salts').select('day').orderBy('day').execute()).map((r) => r.day);
  const kept = await queue.enqueue({ kind: 'kept' });
  const taken = await queue.enqueue({ kind: 'taken' });
  const failing = await queue.enqueue({ kind: 'failing' });
  const worker = new JobWorker(
    queue,
    {
      kept: async (_job, ctl) => ctl.commit((tx) => effect(tx, 'kept')),
      taken: async (job, ctl) => {
        clock.t += 120_000;
        assert.equal((await queue.claim('thief', 60_000))?.id, job.id);
        await ctl.commit((tx) => effect(tx, 'taken'));
      },
      failing: async (_job, ctl) =>
        ctl.commit(async (tx) => {
          await effect(tx, 'rolledback');
          throw new Error('broke half way');
        }),
    },
    { workerId: 'w1', leaseMs: 60_000 },
  );
  for (let i = 0; i < 3; i++) assert.equal(await worker.runOnce(), true);
  assert.deepEqual(await salts(), ['kept'], 'only the committed effect is stored');
  assert.deepEqual(await queue.get(kept.id).then((j) => [j?.status, j?.lockedBy]), ['done', 'w1']);
  assert.deepEqual(await queue.get(taken.id).then((j) => [j?.status, j?.lockedBy]), ['running', 'thief']);
  assert.deepEqual(
    await queue.get(failing.id).then((j) => [j?.status, j?.lastError]),
    ['dead', 'broke half way'],
    'a failed commit rolls back the completion too',
  );
});
