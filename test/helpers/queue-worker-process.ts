/**
 * A job worker process on a shared metadata database, for the multi-process tests and the
 * scaled-jobs benchmark. Argument: JSON { url, workerId, concurrency?, leaseMs?, pollMs?, record? }.
 * Runs jobs of kind `work` (payload { ms }): waits ms, then, with record, inserts a row into
 * job_completions (created by the parent) in the transaction that completes the job (ctl.commit). Prints `ready`, then `start <jobId>` as each job starts
 * and `done <jobId>` as it is recorded. SIGTERM stops it gracefully (running jobs finish or are released).
 */
import { sql } from 'kysely';
import { openMetaStore } from '../../src/meta-db.js';
import { JobQueue, JobWorker } from '../../src/jobs/index.js';

interface Options {
  url: string;
  workerId: string;
  concurrency?: number;
  leaseMs?: number;
  pollMs?: number;
  record?: boolean;
}

const opts = JSON.parse(process.argv[2] ?? '{}') as Options;
const meta = await openMetaStore(opts.url, { poolMax: (opts.concurrency ?? 1) + 2 });
const queue = new JobQueue(meta.db, meta.dialect);
const say = (line: string) => process.stdout.write(`${line}\n`);

const worker = new JobWorker(
  queue,
  {
    work: async (job, ctl) => {
      const { ms = 0 } = (job.payload ?? {}) as { ms?: number };
      say(`start ${job.id}`);
      if (ms > 0) await new Promise((r) => setTimeout(r, ms));
      if (!opts.record) return null;
      // the record and the job's completion commit together, and only while this worker holds the job
      await ctl.commit((tx) =>
        sql`INSERT INTO job_completions (job_id, worker, at) VALUES (${job.id}, ${opts.workerId}, ${Date.now()})`.execute(tx),
      );
      say(`done ${job.id}`);
      return null;
    },
  },
  { workerId: opts.workerId, concurrency: opts.concurrency ?? 1, leaseMs: opts.leaseMs ?? 60_000, pollMs: opts.pollMs ?? 100 },
);

process.once('SIGTERM', () => {
  void (async () => {
    await worker.stop({ graceMs: 2_000, releaseAfterMs: 1_000 });
    await meta.close();
    process.exit(0);
  })();
});

worker.start();
say('ready');
