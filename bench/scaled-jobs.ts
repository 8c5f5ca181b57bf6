/**
 * Jobs per second claimed and completed by three worker processes on one PostgreSQL database
 * (FOR UPDATE SKIP LOCKED claims with leases, src/jobs/queue.ts). The jobs do no work, so the
 * figure is the queue's own cost: claim, complete, and the poll after each.
 *
 *   npm run bench:scaled-jobs [-- --jobs 5000 --workers 3 --concurrency 1,4,8]
 * PostgreSQL: VIGIL_BENCH_POSTGRES_URL, else VIGIL_TEST_POSTGRES_URL, else postgres://postgres@127.0.0.1:5432/postgres
 * (a fresh database is created and dropped).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { openMetaStore, type MetaStore } from '../src/meta-db.js';
import { createTestDatabase } from '../test/helpers/app.js';

const WORKER_SCRIPT = fileURLToPath(new URL('../test/helpers/queue-worker-process.ts', import.meta.url));
/** Jobs become due this long after they are inserted, so every worker is polling when they do. */
const START_DELAY_MS = 1_500;
const INSERT_BATCH = 1_000;

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '5000' },
    workers: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '1,4,8' },
  },
});
const jobs = Number(values.jobs);
const workerCount = Number(values.workers);
const concurrencies = values.concurrency.split(',').map(Number);
if (process.env.VIGIL_BENCH_POSTGRES_URL) process.env.VIGIL_TEST_POSTGRES_URL = process.env.VIGIL_BENCH_POSTGRES_URL;

interface Worker {
  proc: ChildProcess;
  ready: Promise<void>;
  exited: Promise<unknown>;
}

function startWorker(url: string, id: string, concurrency: number): Worker {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', WORKER_SCRIPT, JSON.stringify({ url, workerId: id, concurrency, leaseMs: 30_000, pollMs: 20 })],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const ready = new Promise<void>((resolve) =>
    createInterface({ input: proc.stdout! }).on('line', (line) => line === 'ready' && resolve()),
  );
  return { proc, ready, exited: new Promise((resolve) => proc.once('exit', resolve)) };
}

async function round(meta: MetaStore, url: string, concurrency: number): Promise<void> {
  await sql`TRUNCATE jobs`.execute(meta.db);
  const workers = Array.from({ length: workerCount }, (_, i) => startWorker(url, `bench-${i + 1}`, concurrency));
  await Promise.all(workers.map((w) => w.ready));
  const due = Date.now() + START_DELAY_MS;
  for (let i = 0; i < jobs; i += INSERT_BATCH) {
    const rows = Array.from({ length: Math.min(INSERT_BATCH, jobs - i) }, (_, k) => ({
      kind: 'work',
      payload: JSON.stringify({ ms: 0, i: i + k }),
      status: 'queued',
      priority: 0,
      attempts: 0,
      max_attempts: 5,
      run_at: due,
      created_at: due,
      updated_at: due,
    }));
    await meta.db.insertInto('jobs').values(rows).execute();
  }
  if (Date.now() > due) console.warn('  (inserting took longer than the start delay: the figure includes some insert time)');
  for (;;) {
    const left = await meta.db
      .selectFrom('jobs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', '!=', 'done')
      .executeTakeFirstOrThrow();
    if (Number(left.n) === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const spread = await meta.db
    .selectFrom('jobs')
    .select(['locked_by', (eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.max('finished_at').as('last')])
    .groupBy('locked_by')
    .orderBy('locked_by')
    .execute();
  const seconds = (Math.max(...spread.map((r) => Number(r.last))) - due) / 1000;
  const twice = await meta.db
    .selectFrom('jobs')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('attempts', '>', 1)
    .executeTakeFirstOrThrow();
  console.log(
    `  ${workerCount} workers × concurrency ${concurrency}: ${jobs} jobs in ${seconds.toFixed(2)} s = ${Math.round(jobs / seconds)} jobs/s ` +
      `(per worker ${spread.map((r) => r.n).join(' / ')}; claimed more than once: ${twice.n})`,
  );
  for (const w of workers) w.proc.kill('SIGTERM');
  await Promise.all(workers.map((w) => w.exited));
}

const database = await createTestDatabase('vigil_bench');
const meta = await openMetaStore(database.url);
try {
  console.log(`scaled jobs: ${workerCount} worker processes on one PostgreSQL database (${database.name}), no-op jobs, claim + complete`);
  for (const c of concurrencies) await round(meta, database.url, c);
} finally {
  await meta.close();
  await database.drop();
}
