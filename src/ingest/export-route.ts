/**
 * GET /api/projects/:slug/export: a project's events as Segment-format NDJSON (one message a line,
 * importable again), streamed as the store reads them — never held in memory whole. `vigil export
 * --url` calls it and writes the same bytes the local export writes.
 */
import { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { projectOf } from '../auth/access.js';
import { badRequest } from '../errors.js';
import { SlugParams, errorResponses } from '../http-schemas.js';
import { parseTimeInput } from '../time/index.js';
import { exportChunks } from './import-export.js';
import type { EventStore } from '../storage/events/event-store.js';

/** The latest instant a JavaScript Date can hold: "no end", so events with a clock-skewed future time are kept. */
const NO_END_MS = 8.64e15;
const ISO_DATE_START = /^\d{4}-\d{2}-\d{2}/;

/** An ISO 8601 date or date-time with its zone; a 400 naming the field otherwise. */
function isoTime(value: string | undefined, field: 'from' | 'to'): number | undefined {
  if (value === undefined) return undefined;
  const ms = ISO_DATE_START.test(value.trim()) ? parseTimeInput(value, 0) : null;
  if (ms === null)
    throw badRequest(
      `${field} "${value}" is not a time: give an ISO 8601 date, or a date and time with its zone, such as 2026-05-01 or 2026-05-01T10:00:00Z`,
      { field },
    );
  return ms;
}

/** The export's window, [from, to): from the first event to the last when not given. */
function exportWindow(query: { from?: string; to?: string }): { fromMs: number; toMs: number } {
  const fromMs = isoTime(query.from, 'from') ?? 0;
  const toMs = isoTime(query.to, 'to') ?? NO_END_MS;
  if (fromMs >= toMs) throw badRequest(`from (${query.from}) must be before to (${query.to})`, { field: 'from' });
  return { fromMs, toMs };
}

/** What these routes use: their own services and the few they name. */
export interface ExportRouteDeps {
  events: EventStore;
}

export async function exportRoutes(root: FastifyInstance, deps: ExportRouteDeps) {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/api/projects/:slug/export',
    {
      config: { access: { role: 'viewer', keys: true } },
      schema: {
        tags: ['events'],
        summary: "The project's events as Segment-format NDJSON (one message a line, oldest first), streamed",
        params: SlugParams,
        querystring: Type.Object(
          {
            from: Type.Optional(
              Type.String({
                description: 'start (inclusive), ISO 8601 such as 2026-05-01 or 2026-05-01T10:00:00Z; default: the first event',
              }),
            ),
            to: Type.Optional(Type.String({ description: 'end (exclusive), ISO 8601; default: no end' })),
          },
          { additionalProperties: false },
        ),
        // a stream is sent as it is (no serialization); documented as the text it is
        response: {
          200: Type.Unsafe<Readable>({ type: 'string', description: 'application/x-ndjson: one Segment message per line' }),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const project = projectOf(request);
      const q = { projectId: project.id, ...exportWindow(request.query) };
      const lines = Readable.from(
        (async function* () {
          for await (const chunk of exportChunks(deps.events, q)) yield chunk.text;
        })(),
      );
      return reply
        .type('application/x-ndjson; charset=utf-8')
        .header('content-disposition', `attachment; filename="${project.slug}-events.ndjson"`)
        .send(lines);
    },
  );
}
