import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { projectOf } from '../auth/access.js';
import { ErrorBody, SlugParams, WindowQuery, errorResponses, RowId } from '../http-schemas.js';
import { parseWindow } from '../time/window.js';
import {
  CreateMetric,
  MetricSchema,
  MetricSummarySchema,
  METRIC_STATUSES,
  PreviewMetric,
  SeriesResultSchema,
  SeriesSchema,
  UpdateMetric,
  type MetricStatus,
} from './schemas.js';
import type { AuditLog } from '../auth/audit.js';
import type { MetricService } from './service.js';

const IdParams = Type.Object({ slug: Type.String(), id: RowId() });
const errors = { ...errorResponses, 409: ErrorBody };
const tags = ['metrics'];
// viewers (read keys) read; editors (write keys) change definitions; owners (admin keys) delete
const VIEWER = { access: { role: 'viewer', keys: true } } as const;
const EDITOR = { access: { role: 'editor', keys: true } } as const;
const OWNER = { access: { role: 'owner', keys: true } } as const;

/** What these routes use: their own services and the few they name. */
export interface MetricRouteDeps {
  audit: AuditLog;
  catalog: MetricService;
}

/** The metrics catalog of a project. */
// long because each of its routes declares its schema and access rule inline
export async function metricRoutes(root: FastifyInstance, deps: MetricRouteDeps) {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const catalog = deps.catalog;

  app.get(
    '/api/projects/:slug/metrics',
    {
      config: VIEWER,
      schema: {
        tags,
        summary: "The catalog, with each metric's latest value, its change and a 24-point sparkline",
        params: SlugParams,
        querystring: Type.Object({ status: Type.Optional(Type.Unsafe<MetricStatus>({ type: 'string', enum: [...METRIC_STATUSES] })) }),
        response: { 200: Type.Object({ metrics: Type.Array(MetricSummarySchema) }), ...errors },
      },
    },
    async (request) => ({ metrics: await catalog.list(projectOf(request), request.query.status) }),
  );

  app.post(
    '/api/projects/:slug/metrics',
    {
      config: EDITOR,
      schema: {
        tags,
        summary: 'Define a metric (an active one is backfilled in the background)',
        params: SlugParams,
        body: CreateMetric,
        response: { 201: MetricSchema, ...errors },
      },
    },
    async (request, reply) => {
      const metric = catalog.toApi(await catalog.create(projectOf(request), request.body));
      await deps.audit.record(request, { action: 'metric.create', target: { type: 'metric', id: metric.id }, after: metric });
      reply.code(201);
      return metric;
    },
  );

  app.post(
    '/api/projects/:slug/metrics/preview',
    {
      config: VIEWER,
      schema: {
        tags,
        summary: 'Compute an unsaved definition over the last complete buckets',
        params: SlugParams,
        body: PreviewMetric,
        response: {
          200: Type.Object({
            interval: Type.String(),
            timeZone: Type.String(),
            valueKind: Type.String(),
            buckets: Type.Array(Type.String()),
            total: Type.Array(Type.Union([Type.Number(), Type.Null()])),
            breakdown: Type.Union([Type.String(), Type.Null()]),
            series: Type.Array(SeriesSchema),
          }),
          ...errors,
        },
      },
    },
    async (request) => catalog.preview(projectOf(request), request.body),
  );

  app.get(
    '/api/projects/:slug/metrics/:id',
    {
      config: VIEWER,
      schema: { tags, summary: 'One metric', params: IdParams, response: { 200: MetricSchema, ...errors } },
    },
    async (request) => catalog.toApi(await catalog.get(projectOf(request), request.params.id)),
  );

  app.patch(
    '/api/projects/:slug/metrics/:id',
    {
      config: EDITOR,
      schema: {
        tags,
        summary: 'Change a metric; a changed kind, definition or interval recomputes its history',
        params: IdParams,
        body: UpdateMetric,
        response: { 200: MetricSchema, ...errors },
      },
    },
    async (request) => {
      const project = projectOf(request);
      const before = catalog.toApi(await catalog.get(project, request.params.id));
      const after = catalog.toApi(await catalog.update(project, request.params.id, request.body));
      await deps.audit.record(request, { action: 'metric.update', target: { type: 'metric', id: after.id }, before, after });
      return after;
    },
  );

  app.post(
    '/api/projects/:slug/metrics/:id/archive',
    {
      config: EDITOR,
      schema: {
        tags,
        summary: 'Archive a metric: no longer collected, values kept',
        params: IdParams,
        response: { 200: MetricSchema, ...errors },
      },
    },
    async (request) => {
      const project = projectOf(request);
      const before = catalog.toApi(await catalog.get(project, request.params.id));
      const after = catalog.toApi(await catalog.archive(project, request.params.id));
      await deps.audit.record(request, {
        action: 'metric.archive',
        target: { type: 'metric', id: after.id },
        before: { status: before.status },
        after: { status: after.status },
      });
      return after;
    },
  );

  app.delete(
    '/api/projects/:slug/metrics/:id',
    {
      config: OWNER,
      schema: { tags, summary: 'Delete a metric and its values', params: IdParams, response: { 204: Type.Null(), ...errors } },
    },
    async (request, reply) => {
      const project = projectOf(request);
      const before = catalog.toApi(await catalog.get(project, request.params.id));
      await catalog.remove(project, request.params.id);
      await deps.audit.record(request, {
        action: 'metric.delete',
        target: { type: 'metric', id: before.id },
        before: { name: before.name, kind: before.kind, definition: before.definition },
      });
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/projects/:slug/metrics/:id/series',
    {
      config: VIEWER,
      schema: {
        tags,
        summary: "Collected values: every bucket of the window, optionally one breakdown's series",
        params: IdParams,
        querystring: Type.Object({
          ...WindowQuery,
          breakdown: Type.Optional(Type.String({ description: "one of the metric's breakdowns" })),
        }),
        response: { 200: SeriesResultSchema, ...errors },
      },
    },
    async (request) => {
      const window = parseWindow(request.query.from, request.query.to, Date.now());
      return catalog.series(projectOf(request), request.params.id, { ...window, breakdown: request.query.breakdown });
    },
  );

  app.post(
    '/api/projects/:slug/metrics/:id/collect',
    {
      config: EDITOR,
      schema: {
        tags,
        summary: 'Collect now: the history when there is none, else the latest buckets plus the look-back',
        params: IdParams,
        response: {
          200: Type.Object({ from: Type.String(), to: Type.String(), buckets: Type.Integer(), metric: MetricSchema }),
          ...errors,
        },
      },
    },
    async (request) => catalog.collectNow(projectOf(request), request.params.id),
  );
}
