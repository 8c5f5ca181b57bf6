import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppContext } from '../app-context.js';
import { projectForKey } from '../auth/request-auth.js';
import type { Scope } from '../auth/api-keys.js';
import { ErrorBody, SlugParams, WindowQuery, errorResponses } from '../http-schemas.js';
import { parseWindow } from '../analytics/service.js';
import { CreateMetric, MetricSchema, MetricSummarySchema, METRIC_STATUSES, PreviewMetric, SeriesResultSchema, SeriesSchema, UpdateMetric, type MetricStatus } from './schemas.js';

const IdParams = Type.Object({ slug: Type.String(), id: Type.Integer({ minimum: 1 }) });
const errors = { ...errorResponses, 409: ErrorBody };
const tags = ['metrics'];

/** The metrics catalog of a project: API keys with `read` to read, `write` to change. */
export async function metricRoutes(root: FastifyInstance, { ctx }: { ctx: AppContext }) {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const project = (request: FastifyRequest, slug: string, scope: Scope) => projectForKey(ctx, request, slug, scope);
  const catalog = ctx.catalog;

  app.get('/api/projects/:slug/metrics', {
    schema: {
      tags,
      summary: 'The catalog, with each metric\'s latest value, its change and a 24-point sparkline',
      params: SlugParams,
      querystring: Type.Object({ status: Type.Optional(Type.Unsafe<MetricStatus>({ type: 'string', enum: [...METRIC_STATUSES] })) }),
      response: { 200: Type.Object({ metrics: Type.Array(MetricSummarySchema) }), ...errors },
    },
  }, async (request) => ({ metrics: await catalog.list(await project(request, request.params.slug, 'read'), request.query.status) }));

  app.post('/api/projects/:slug/metrics', {
    schema: { tags, summary: 'Define a metric (an active one is backfilled in the background)', params: SlugParams, body: CreateMetric, response: { 201: MetricSchema, ...errors } },
  }, async (request, reply) => {
    const p = await project(request, request.params.slug, 'write');
    reply.code(201);
    return catalog.toApi(await catalog.create(p, request.body));
  });

  app.post('/api/projects/:slug/metrics/preview', {
    schema: {
      tags,
      summary: 'Compute an unsaved definition over the last complete buckets',
      params: SlugParams,
      body: PreviewMetric,
      response: {
        200: Type.Object({
          interval: Type.String(), timeZone: Type.String(), valueKind: Type.String(), buckets: Type.Array(Type.String()),
          total: Type.Array(Type.Union([Type.Number(), Type.Null()])), breakdown: Type.Union([Type.String(), Type.Null()]), series: Type.Array(SeriesSchema),
        }),
        ...errors,
      },
    },
  }, async (request) => catalog.preview(await project(request, request.params.slug, 'read'), request.body));

  app.get('/api/projects/:slug/metrics/:id', {
    schema: { tags, summary: 'One metric', params: IdParams, response: { 200: MetricSchema, ...errors } },
  }, async (request) => catalog.toApi(await catalog.get(await project(request, request.params.slug, 'read'), request.params.id)));

  app.patch('/api/projects/:slug/metrics/:id', {
    schema: { tags, summary: 'Change a metric; a changed kind, definition or interval recomputes its history', params: IdParams, body: UpdateMetric, response: { 200: MetricSchema, ...errors } },
  }, async (request) => catalog.toApi(await catalog.update(await project(request, request.params.slug, 'write'), request.params.id, request.body)));

  app.post('/api/projects/:slug/metrics/:id/archive', {
    schema: { tags, summary: 'Archive a metric: no longer collected, values kept', params: IdParams, response: { 200: MetricSchema, ...errors } },
  }, async (request) => catalog.toApi(await catalog.archive(await project(request, request.params.slug, 'write'), request.params.id)));

  app.delete('/api/projects/:slug/metrics/:id', {
    schema: { tags, summary: 'Delete a metric and its values', params: IdParams, response: { 204: Type.Null(), ...errors } },
  }, async (request, reply) => {
    await catalog.remove(await project(request, request.params.slug, 'write'), request.params.id);
    return reply.code(204).send(null);
  });

  app.get('/api/projects/:slug/metrics/:id/series', {
    schema: {
      tags,
      summary: 'Collected values: every bucket of the window, optionally one breakdown\'s series',
      params: IdParams,
      querystring: Type.Object({ ...WindowQuery, breakdown: Type.Optional(Type.String({ description: 'one of the metric\'s breakdowns' })) }),
      response: { 200: SeriesResultSchema, ...errors },
    },
  }, async (request) => {
    const p = await project(request, request.params.slug, 'read');
    const window = parseWindow(request.query.from, request.query.to, Date.now());
    return catalog.series(p, request.params.id, { ...window, breakdown: request.query.breakdown });
  });

  app.post('/api/projects/:slug/metrics/:id/collect', {
    schema: {
      tags,
      summary: 'Collect now: the history when there is none, else the latest buckets plus the look-back',
      params: IdParams,
      response: { 200: Type.Object({ from: Type.String(), to: Type.String(), buckets: Type.Integer(), metric: MetricSchema }), ...errors },
    },
  }, async (request) => catalog.collectNow(await project(request, request.params.slug, 'write'), request.params.id));
}
