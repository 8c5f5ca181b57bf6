import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppContext } from '../app-context.js';
import { projectOf } from '../auth/access.js';
import { SlugParams, errorResponses } from '../http-schemas.js';
import type { Job } from './queue.js';

const JOB_STATUSES = ['queued', 'running', 'done', 'dead'] as const;
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const NullableString = Type.Union([Type.String(), Type.Null()]);

const JobSchema = Type.Object({
  id: Type.Integer(),
  kind: Type.String(),
  status: Type.String(),
  payload: Type.Unknown(),
  attempts: Type.Integer(),
  progress: Type.Union([Type.Number(), Type.Null()], { description: '0 to 1, reported by long jobs such as backfills' }),
  progressNote: NullableString,
  lastError: NullableString,
  result: Type.Unknown(),
  createdAt: Type.String(),
  runAt: Type.String(),
  finishedAt: NullableString,
});

function jobForApi(j: Job) {
  return {
    id: j.id, kind: j.kind, status: j.status, payload: j.payload, attempts: j.attempts, progress: j.progress, progressNote: j.progressNote,
    lastError: j.lastError, result: j.result, createdAt: iso(j.createdAt)!, runAt: iso(j.runAt)!, finishedAt: iso(j.finishedAt),
  };
}

/** A project's background jobs (collections, backfills) with their progress and errors. */
export async function jobRoutes(root: FastifyInstance, { ctx }: { ctx: AppContext }) {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  app.get('/api/projects/:slug/jobs', {
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
  }, async (request) => {
    const project = projectOf(request);
    const jobs = await ctx.jobs.list({ projectId: project.id, kind: request.query.kind, status: request.query.status, limit: request.query.limit });
    return { jobs: jobs.map(jobForApi) };
  });
}
