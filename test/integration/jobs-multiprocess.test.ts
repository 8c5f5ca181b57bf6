/**
 * Jobs across processes on one PostgreSQL database: three worker processes claim with
 * FOR UPDATE SKIP LOCKED leases; one is killed with SIGKILL mid-job, its leases expire and the
 * others finish its jobs. Every job is done, and its work recorded, exactly once. Needs PostgreSQL
 * (VIGIL_TEST_POSTGRES_URL, default 127.0.0.1:5432): skipped without it, failed without it in CI.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { openMetaStore, type MetaStore } from '../../src/meta-db.js';
import { JobQueue } from '../../src/jobs/index.js';
import { createTestDatabase, postgresReachable, TEST_POSTGRES_URL, type TestDatabase } from '../helpers/app.js';

const WORKER_SCRIPT = fileURLToPath(new URL('../helpers/queue-worker-process.ts', import.meta.url));
const JOBS = 150;
const JOB_MS = 100;
const LEASE_MS = 2_000;
const CONCURRENCY = 4;
/** the killed worker has started this many jobs when it is killed */
const KILL_AFTER_STARTS = 6;

interface Worker {
  id: string;
  proc: ChildProcess;
  started: number[];
  done: number[];
  ready: Promise<void>;
  exited: Promise<number | null>;
}

function startWorker(url: string, id: string, onLine?: (w: Worker, line: string) => void): Worker {
  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      WORKER_SCRIPT,
      JSON.stringify({ url, workerId: id, concurrency: CONCURRENCY, leaseMs: LEASE_MS, pollMs: 50, record: true }),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let readyNow!: () => void;
  const w: Worker = {
    id,
    proc,
    started: [],
    done: [],
    ready: new Promise((resolve) => (readyNow = resolve)),
    exited: new Promise((resolve) => proc.once('exit', (code) => resolve(code))),
  };
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    const [what, n] = line.split(' ');
    if (what === 'ready') readyNow();
    if (what === 'start') w.started.push(Number(n));
    if (what === 'done') w.done.push(Number(n));
    onLine?.(w, line);
  });
  return w;
}

let reachable = false;
let database: TestDatabase | undefined;
let meta: MetaStore | undefined;
const workers: Worker[] = [];

before(async () => {
  reachable = await postgresReachable();
  if (!reachable && process.env.CI === 'true')
    throw new Error(`PostgreSQL is not reachable at ${TEST_POSTGRES_URL}; CI needs it for the multi-process job tests`);
});

after(async () => {
  for (const w of workers) if (w.proc.exitCode === null && w.proc.signalCode === null) w.proc.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.exited));
  await meta?.close();
  await database?.drop();
});

test('three worker processes do every job exactly once, also after one is killed with SIGKILL mid-job', async (t) => {
  if (!reachable) return t.skip(`PostgreSQL not reachable at ${TEST_POSTGRES_URL}`);
  database = await createTestDatabase();
  meta = await openMetaStore(database.url);
  await sql`CREATE TABLE job_completions (job_id integer NOT NULL, worker varchar(100) NOT NULL, at bigint NOT NULL)`.execute(meta.db);
  const queue = new JobQueue(meta.db, meta.dialect);
  for (let i = 0; i < JOBS; i++) await queue.enqueue({ kind: 'work', payload: { ms: JOB_MS, i } });

  const victim = startWorker(database.url, 'victim', (w, line) => {
    if (line.startsWith('start') && w.started.length === KILL_AFTER_STARTS) w.proc.kill('SIGKILL');
  });
  workers.push(victim, startWorker(database.url, 'w2'), startWorker(database.url, 'w3'));
  await Promise.all(workers.map((w) => w.ready));
  assert.equal(await victim.exited, null, 'the victim was killed');
  // what it held when it died (its leases run LEASE_MS more): claimed, not completed
  const held = await meta.db.selectFrom('jobs').select('id').where('locked_by', '=', 'victim').where('status', '=', 'running').execute();
  const killedAt = held.map((r) => r.id);
  assert.ok(killedAt.length > 0, 'the victim held jobs when it was killed');

  const deadline = Date.now() + 60_000;
  for (;;) {
    const left = await meta.db
      .selectFrom('jobs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', '!=', 'done')
      .executeTakeFirstOrThrow();
    if (Number(left.n) === 0) break;
    assert.ok(Date.now() < deadline, `${left.n} jobs still not done after 60 s`);
    await new Promise((r) => setTimeout(r, 100));
  }

  const completions = (await sql<{ job_id: number; worker: string }>`SELECT job_id, worker FROM job_completions`.execute(meta.db)).rows;
  assert.equal(completions.length, JOBS, 'one completion per job');
  assert.equal(new Set(completions.map((c) => c.job_id)).size, JOBS, 'no job done twice');
  const byJob = new Map(completions.map((c) => [c.job_id, c.worker]));
  for (const id of killedAt) {
    assert.notEqual(byJob.get(id), 'victim', `job ${id} was finished by a surviving worker`);
    const job = await queue.get(id);
    assert.equal(job?.status, 'done');
    assert.ok((job?.attempts ?? 0) >= 2, `job ${id} was claimed again after the victim's lease expired`);
  }
  const perWorker = Object.fromEntries(['victim', 'w2', 'w3'].map((w) => [w, completions.filter((c) => c.worker === w).length]));
  assert.ok(perWorker.w2 > 0 && perWorker.w3 > 0, `both survivors worked: ${JSON.stringify(perWorker)}`);
  t.diagnostic(`completions per worker: ${JSON.stringify(perWorker)}; jobs the victim held when killed: ${killedAt.length}`);

  // a graceful stop: the survivors exit 0 on SIGTERM
  for (const w of workers.slice(1)) w.proc.kill('SIGTERM');
  assert.deepEqual(await Promise.all(workers.slice(1).map((w) => w.exited)), [0, 0]);
});

test('a worker stopped with SIGTERM mid-job hands its job back at once', async (t) => {
  if (!reachable) return t.skip(`PostgreSQL not reachable at ${TEST_POSTGRES_URL}`);
  const db = await createTestDatabase();
  const store = await openMetaStore(db.url);
  try {
    await sql`CREATE TABLE job_completions (job_id integer NOT NULL, worker varchar(100) NOT NULL, at bigint NOT NULL)`.execute(store.db);
    const queue = new JobQueue(store.db, store.dialect);
    // longer than the worker's shutdown grace (2 s): it is interrupted and released, not left to its lease
    const job = await queue.enqueue({ kind: 'work', payload: { ms: 20_000 } });
    const w = startWorker(db.url, 'leaving');
    workers.push(w);
    await w.ready;
    while (!w.started.includes(job.id)) await new Promise((r) => setTimeout(r, 20));
    w.proc.kill('SIGTERM');
    assert.equal(await w.exited, 0);
    const released = await queue.get(job.id);
    assert.deepEqual([released?.status, released?.lockedBy, released?.leaseUntil], ['queued', null, null]);
    assert.ok((released?.runAt ?? Infinity) <= Date.now(), 'due at once');
  } finally {
    await store.close();
    await db.drop();
  }
});
