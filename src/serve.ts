import type { IncomingMessage, ServerResponse } from 'node:http';
import { pino } from 'pino';
import type { Config } from './config.js';
import { createAppContext } from './app-context.js';
import { buildServer } from './server.js';
import { seedDemo } from './demo/seed.js';
import { lowerBackgroundThreadPriority } from './ops/thread-priority.js';
import { foregroundThreads } from './ingest/pipeline-client.js';
import { ROLES, type Role } from './ops/roles.js';
import { ClusterScheduler } from './jobs/index.js';

/** How long a shutdown waits for requests in flight before closing their connections. */
const SHUTDOWN_GRACE_MS = 10_000;
/** Threads started after start-up (DuckDB, libuv) are found and lowered this often. */
const PRIORITY_CHECK_MS = 10_000;
/** On shutdown, running jobs may finish for this long; then they are interrupted and handed back to the queue. */
const JOB_SHUTDOWN_GRACE_MS = 15_000;
/** A handler still running this long after its interruption has its job released, and the process exits anyway. */
const JOB_RELEASE_AFTER_MS = 5_000;

/** The roles a process runs when none are given: all, or all but the background ones when VIGIL_WORKER=false. */
export function defaultRoles(c: Config): Role[] {
  return c.worker ? [...ROLES] : ['api', 'ingest'];
}

/**
 * `vigil serve`: opens the stores, seeds the demo on a first start, serves until SIGTERM/SIGINT.
 * roles: api (the HTTP API and web app), ingest (/v1), worker (the job worker), scheduler (the
 * tick that queues due work, run once per tick across every scheduler process).
 */
// long because it is the process's start and shutdown sequence, read top to bottom
export async function serve(c: Config, opts: { roles?: readonly Role[] } = {}): Promise<void> {
  const roles = opts.roles ?? defaultRoles(c);
  const log = pino({ level: c.logLevel });
  // scaled mode: processes that take events in or do background work contend to load the outbox
  const ctx = await createAppContext(c, log, { loadEvents: roles.includes('ingest') || roles.includes('worker') });
  // several processes may start at once in scaled mode: only one serving the API seeds the demo
  if (c.demo && roles.includes('api') && (await ctx.projects.list()).length === 0) {
    log.info('no project yet: seeding the demo project with 30 days of traffic');
    const demo = await seedDemo(ctx, { seed: c.demoSeed });
    log.info({ project: demo.project.slug, events: demo.events, writeKey: demo.writeKey, readKey: demo.readKey }, 'demo project ready');
  }
  const app = await buildServer(ctx, { roles });
  const scheduler = roles.includes('scheduler')
    ? new ClusterScheduler({ db: ctx.meta.db, tickMs: c.schedulerTickMs, run: () => ctx.runSchedulerTick(), log })
    : undefined;
  const state = Object.assign(ctx.process, { roles, scheduler: scheduler && (() => scheduler.status()) });
  if (roles.includes('worker')) ctx.worker.start();
  scheduler?.start();
  log.info({ roles, metadata: ctx.meta.dialect }, 'roles started');
  if ((await ctx.users.count()) === 0) {
    log.info('no user yet: create the owner on the first-run page, with POST /api/setup, or with `vigil users create-owner --email <you>`');
  }
  // responses not yet sent, so a shutdown can ask their clients to drop the connection
  const unsent = new Set<ServerResponse>();
  app.server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    unsent.add(res);
    res.once('finish', () => unsent.delete(res)).once('close', () => unsent.delete(res));
  });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    state.draining = true;
    log.info({ signal }, 'shutting down: draining requests, finishing jobs and flushing events');
    let code = 0;
    // no new ticks or claims; running jobs finish (or are handed back) while the HTTP server drains
    const background = Promise.all([
      scheduler?.stop(),
      ctx.worker.stop({ graceMs: JOB_SHUTDOWN_GRACE_MS, releaseAfterMs: JOB_RELEASE_AFTER_MS }),
    ]).catch((err: unknown) => log.error({ err }, 'stopping the worker or scheduler failed'));
    // app.close() waits for every connection to end, but a keep-alive connection whose request
    // was in flight stays open after its answer (until keepAliveTimeout, 72 s). So: answers still
    // to come tell the client to close, connections that turn idle are closed, and after a grace
    // period whatever is left (a client that never finishes its body) is cut.
    for (const res of unsent) if (!res.headersSent) res.setHeader('connection', 'close');
    const reaper = setInterval(() => app.server.closeIdleConnections(), 100);
    const cut = setTimeout(() => {
      log.warn({ graceMs: SHUTDOWN_GRACE_MS }, 'requests still open after the grace period: closing their connections');
      app.server.closeAllConnections();
    }, SHUTDOWN_GRACE_MS);
    try {
      // answer the requests in flight, refuse new ones ...
      await app.close();
    } catch (err) {
      code = 1;
      log.error({ err }, 'closing the HTTP server failed');
    } finally {
      clearInterval(reaper);
      clearTimeout(cut);
    }
    await background;
    try {
      // ... then make every acknowledged event durable in the event store and release the files
      await ctx.close();
    } catch (err) {
      code = 1;
      log.error({ err }, 'closing the stores failed; acknowledged events left in the write-ahead directory are replayed at the next start');
    }
    process.exit(code);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  const lower = () => lowerBackgroundThreadPriority(foregroundThreads);
  setTimeout(lower, 1000).unref();
  setInterval(lower, PRIORITY_CHECK_MS).unref();
  try {
    await app.listen({ port: c.port, host: c.host });
  } catch (err) {
    // e.g. the port is taken: release the event store before the process exits
    await scheduler?.stop().catch(() => undefined);
    await ctx.close().catch(() => undefined);
    throw err;
  }
}
