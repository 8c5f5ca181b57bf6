/**
 * What a domain module hands the composition root (src/app-context.ts): its routes, as one Fastify
 * plugin that registers them with the services they name, and the handlers of its background jobs.
 */
import type { FastifyInstance } from 'fastify';

export type RoutesPlugin = (app: FastifyInstance) => Promise<void>;

/** A background job's handler by job type (src/jobs/worker.ts's JobHandler, kept structural here). */
export type JobHandlers = Record<string, (job: never, ctl: never) => Promise<unknown>>;

export interface DomainModule {
  routes?: RoutesPlugin;
  jobHandlers?: JobHandlers;
}
