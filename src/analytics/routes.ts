import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { projectOf } from '../auth/access.js';
import { SlugParams, WindowQuery, errorResponses } from '../http-schemas.js';
import { INTERVALS, type Interval } from '../time/index.js';
import { MEASURES, type Measure } from '../storage/events/event-store.js';
import { decodeCursor, encodeCursor, eventForApi, overview, timeseries } from './service.js';
import { parseWindow } from '../time/window.js';
import { parseDimension } from '../storage/events/dimension.js';
import type { EventStore } from '../storage/events/event-store.js';

const Params = SlugParams;
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

const EventSchema = Type.Object({
  messageId: Type.String(),
  type: Type.String(),
  event: Nullable(Type.String()),
  userId: Nullable(Type.String()),
  anonymousId: Nullable(Type.String()),
  distinctId: Type.String(),
  sessionId: Nullable(Type.String()),
  timestamp: Type.String({ format: 'date-time' }),
  receivedAt: Type.String({ format: 'date-time' }),
  properties: Type.Record(Type.String(), Type.Unknown()),
  context: Type.Record(Type.String(), Type.Unknown()),
  pagePath: Nullable(Type.String()),
  referrerHost: Nullable(Type.String()),
  appVersion: Nullable(Type.String()),
  platform: Nullable(Type.String()),
  os: Nullable(Type.String()),
  browser: Nullable(Type.String()),
  deviceType: Nullable(Type.String()),
  country: Nullable(Type.String()),
});

const Totals = Type.Object({ events: Type.Number(), users: Type.Number(), sessions: Type.Number() });
const Change = Type.Object({
  events: Type.Union([Type.Number(), Type.Null()]),
  users: Type.Union([Type.Number(), Type.Null()]),
  sessions: Type.Union([Type.Number(), Type.Null()]),
});

const errors = errorResponses;
const READ = { access: { role: 'viewer', keys: true } } as const;

/** What these routes use: their own services and the few they name. */
export interface AnalyticsRouteDeps {
  events: EventStore;
}

/** Event queries for one project; an API key with the `read` scope bound to that project. */
// long because each of its routes declares its schema and access rule inline
export async function analyticsRoutes(root: FastifyInstance, deps: AnalyticsRouteDeps) {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/api/projects/:slug/events',
    {
      config: READ,
      schema: {
        tags: ['events'],
        summary: 'Stored events, newest first',
        params: Params,
        querystring: Type.Object({
          event: Type.Optional(Type.String()),
          user: Type.Optional(Type.String({ description: 'userId or distinct id' })),
          limit: Type.Integer({ minimum: 1, maximum: 1000, default: 50 }),
          cursor: Type.Optional(Type.String({ description: 'nextCursor of the previous page' })),
        }),
        response: {
          200: Type.Object({ events: Type.Array(EventSchema), nextCursor: Type.Union([Type.String(), Type.Null()]) }),
          ...errors,
        },
      },
    },
    async (request) => {
      const project = projectOf(request);
      const q = request.query;
      const rows = await deps.events.listEvents({
        projectId: project.id,
        event: q.event,
        userId: q.user,
        before: q.cursor ? decodeCursor(q.cursor) : undefined,
        limit: q.limit + 1,
      });
      const page = rows.slice(0, q.limit);
      return { events: page.map(eventForApi), nextCursor: rows.length > q.limit ? encodeCursor(page[page.length - 1]) : null };
    },
  );

  app.get(
    '/api/projects/:slug/timeseries',
    {
      config: READ,
      schema: {
        tags: ['events'],
        summary: 'Event counts per bucket (aligned in the project time zone), optionally broken down',
        params: Params,
        querystring: Type.Object({
          event: Type.Optional(Type.String({ description: 'one event name; all events when omitted' })),
          // an enum (not a union of literals) so a bad value gets one error that lists the allowed values
          interval: Type.Unsafe<Interval>({ type: 'string', enum: [...INTERVALS], default: '1h', description: INTERVALS.join(', ') }),
          measure: Type.Unsafe<Measure>({ type: 'string', enum: [...MEASURES], default: 'events', description: MEASURES.join(', ') }),
          breakdown: Type.Optional(Type.String({ description: 'a column (browser, os, country, page_path, ...) or a property name' })),
          limit: Type.Integer({ minimum: 1, maximum: 50, default: 10, description: 'breakdown values kept; the rest is "other"' }),
          ...WindowQuery,
        }),
        response: {
          200: Type.Object({
            interval: Type.String(),
            timeZone: Type.String(),
            measure: Type.String(),
            from: Type.String(),
            to: Type.String(),
            buckets: Type.Array(Type.String()),
            series: Type.Array(
              Type.Object({ key: Type.String(), label: Type.String(), values: Type.Array(Type.Number()), total: Type.Number() }),
            ),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const project = projectOf(request);
      const q = request.query;
      return timeseries(deps.events, project, {
        event: q.event,
        interval: q.interval,
        window: parseWindow(q.from, q.to, Date.now()),
        measure: q.measure,
        breakdown: q.breakdown ? parseDimension(q.breakdown) : undefined,
        limit: q.limit,
      });
    },
  );

  app.get(
    '/api/projects/:slug/top-events',
    {
      config: READ,
      schema: {
        tags: ['events'],
        summary: 'Events by volume in a window',
        params: Params,
        querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 500, default: 20 }), ...WindowQuery }),
        response: {
          200: Type.Object({
            from: Type.String(),
            to: Type.String(),
            events: Type.Array(Type.Object({ event: Type.String(), count: Type.Number(), users: Type.Number() })),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const project = projectOf(request);
      const window = parseWindow(request.query.from, request.query.to, Date.now());
      const events = await deps.events.topEvents({ projectId: project.id, ...window, limit: request.query.limit });
      return { from: new Date(window.fromMs).toISOString(), to: new Date(window.toMs).toISOString(), events };
    },
  );

  app.get(
    '/api/projects/:slug/overview',
    {
      config: READ,
      schema: {
        tags: ['events'],
        summary: 'Events, unique users and sessions in a window, against the window before it',
        params: Params,
        querystring: Type.Object(WindowQuery),
        response: {
          200: Type.Object({ from: Type.String(), to: Type.String(), current: Totals, previous: Totals, change: Change }),
          ...errors,
        },
      },
    },
    async (request) => {
      const project = projectOf(request);
      return overview(deps.events, project, parseWindow(request.query.from, request.query.to, Date.now()));
    },
  );
}

export type EventApi = Static<typeof EventSchema>;
