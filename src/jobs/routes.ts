import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { projectOf } from '../auth/access.js';
import { ErrorBody, RowId, SlugParams, errorResponses } from '../http-schemas.js';
import { notFound } from '../errors.js';
import type { Job } from './queue.js';
import { JOB_STATUSES, JobSchema, type JobApi } from './schemas.js';
import type { AuditLog } from '../auth/audit.js';
import type { JobQueue, JobWorker } from './index.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function jobForApi(j: Job): JobApi {
  return {
    id: j.id,
    kind: j.kind,
    status: j.status,
    payload: j.payload,
    attempts: j.attempts,
    maxAttempts: j.maxAttempts,
    progress: j.progress,
    progressNote: j.progressNote,
    lastError: j.lastError,
    result: j.result,
    createdAt: iso(j.createdAt)!,
    runAt: iso(j.runAt)!,
    finishedAt: iso(j.finishedAt),
  };
}

/** What these routes use: their own services and the few they name. */
export interface JobRouteDeps {
  audit: AuditLog;
  jobs: JobQueue;
  worker: Pick<JobWorker, 'wake'>;
}

/** A project's background jobs (collections, backfills) with their progress and errors. */
export async function jobRoutes(root: FastifyInstance, deps: JobRouteDeps) {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/api/projects/:slug/jobs',
    {
      config: { access: { role: 'viewer', keys: true } },
      schema: {
        tags: ['jobs'],
        summary: 'Background jobs of the project, newest first',
        params: SlugParams,
        querystring: Type.Object({
          kind: Type.Optional(Type.String({ maxLength: 40, description: 'e.g. metrics.backfill, metrics.collect' })),
          status: Type.Optional(Type.Unsafe<(typeof JOB_STATUSES)[number]>({ type: 'string', enum: [...JOB_STATUSES] })),
          limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
        }),
        response: { 200: Type.Object({ jobs: Type.Array(JobSchema) }), ...errorResponses },
      },
    },
    async (request) => {
      const project = projectOf(request);
      const jobs = await deps.jobs.list({
        projectId: project.id,
        kind: request.query.kind,
        status: request.query.status,
        limit: request.query.limit,
      });
      return { jobs: jobs.map(jobForApi) };
    },
  );

  app.post(
    '/api/projects/:slug/jobs/:id/retry',
    {
      config: { access: { role: 'editor', keys: true } },
      schema: {
        tags: ['jobs'],
        summary: 'Run a dead job again, now, with all its attempts (409 when it is not dead, or an equal job is queued or running)',
        params: Type.Object({ slug: Type.String(), id: RowId() }),
        response: { 200: JobSchema, ...errorResponses, 409: ErrorBody },
      },
    },
    async (request) => {
      const job = await deps.jobs.get(request.params.id);
      if (!job || job.projectId !== projectOf(request).id) throw notFound(`job ${request.params.id}`);
      const queued = await deps.jobs.retry(job.id);
      await deps.audit.record(request, {
        action: 'job.retry',
        target: { type: 'job', id: job.id },
        before: { kind: job.kind, status: job.status, lastError: job.lastError },
      });
      deps.worker.wake();
      return jobForApi(queued);
    },
  );
}
