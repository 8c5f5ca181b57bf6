/** A project's audit log: who changed what, a page at a time or exported whole. */
import { Readable } from 'node:stream';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { SlugParams } from '../http-schemas.js';
import { badRequest } from '../errors.js';
import { parseTimeInput } from '../time/index.js';
import { projectOf } from './access.js';
import { OWNER, Time, errors, iso } from './admin-schemas.js';
import type { AuditEntry, AuditFilter } from './audit.js';
import type { AuditLog } from './audit.js';

const AuditEntrySchema = Type.Object({
  id: Type.Integer(),
  at: Time,
  actor: Type.Object({
    type: Type.String(),
    id: Type.Union([Type.Integer(), Type.Null()]),
    label: Type.String({ description: 'email of a user, prefix and name of an API key' }),
  }),
  action: Type.String(),
  target: Type.Object({ type: Type.String(), id: Type.Union([Type.String(), Type.Null()]) }),
  summary: Type.Object(
    { before: Type.Optional(Type.Unknown()), after: Type.Optional(Type.Unknown()) },
    { description: 'the fields that changed' },
  ),
  requestId: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
});
const entryForApi = (e: AuditEntry): Static<typeof AuditEntrySchema> => ({
  id: e.id,
  at: iso(e.at),
  actor: e.actor,
  action: e.action,
  target: e.target,
  summary: e.summary,
  requestId: e.requestId,
  ip: e.ip,
});

const AuditFilterQuery = {
  action: Type.Optional(Type.String({ maxLength: 64, description: 'e.g. metric.update' })),
  actor: Type.Optional(Type.String({ maxLength: 320, description: "a user's email (or an API key's label)" })),
  targetType: Type.Optional(Type.String({ maxLength: 32, description: 'e.g. metric, member, api_key' })),
  from: Type.Optional(Type.String({ description: 'inclusive: ISO 8601, epoch ms, or relative such as -7d' })),
  to: Type.Optional(Type.String({ description: 'exclusive; same forms as from' })),
};
type AuditFilterInput = { action?: string; actor?: string; targetType?: string; from?: string; to?: string };

function auditFilter(q: AuditFilterInput, now: number): Omit<AuditFilter, 'limit' | 'beforeId'> {
  const at = (field: 'from' | 'to') => {
    const text = q[field];
    if (text === undefined) return undefined;
    const ms = parseTimeInput(text, now);
    if (ms === null)
      throw badRequest(`"${field}" is not a time: "${text}" (use ISO 8601, epoch milliseconds, or a relative time such as -7d)`, { field });
    return ms;
  };
  const fromMs = at('from');
  const toMs = at('to');
  if (fromMs !== undefined && toMs !== undefined && fromMs >= toMs) throw badRequest('"from" must be before "to"', { field: 'from' });
  return { action: q.action, actor: q.actor, targetType: q.targetType, fromMs, toMs };
}

/** What these routes use: their own services and the few they name. */
export interface AuditRouteDeps {
  audit: AuditLog;
}

export async function auditRoutes(root: FastifyInstance, deps: AuditRouteDeps) {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const auditTags = ['audit'];

  app.get(
    '/api/projects/:slug/audit',
    {
      config: OWNER,
      schema: {
        tags: auditTags,
        summary: 'Who changed what, newest first, a page at a time',
        params: SlugParams,
        querystring: Type.Object({
          ...AuditFilterQuery,
          limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
          cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', description: 'nextCursor of the previous page' })),
        }),
        response: {
          200: Type.Object({ entries: Type.Array(AuditEntrySchema), nextCursor: Type.Union([Type.String(), Type.Null()]) }),
          ...errors,
        },
      },
    },
    async (request) => {
      const { limit, cursor, ...filters } = request.query;
      const page = await deps.audit.list(projectOf(request).id, {
        ...auditFilter(filters, Date.now()),
        beforeId: cursor === undefined ? undefined : Number(cursor),
        limit: limit + 1,
      });
      const entries = page.slice(0, limit);
      return { entries: entries.map(entryForApi), nextCursor: page.length > limit ? String(entries[entries.length - 1].id) : null };
    },
  );

  app.get(
    '/api/projects/:slug/audit/export',
    {
      config: OWNER,
      schema: {
        tags: auditTags,
        summary: 'Every matching entry, oldest first, as NDJSON (one JSON object per line)',
        params: SlugParams,
        querystring: Type.Object(AuditFilterQuery),
        response: {
          200: Type.Unsafe<Readable>({
            description: 'one audit entry per line',
            content: { 'application/x-ndjson': { schema: AuditEntrySchema } },
          }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const project = projectOf(request);
      const filter = auditFilter(request.query, Date.now());
      async function* lines() {
        for await (const page of deps.audit.export(project.id, filter))
          yield page.map((e) => JSON.stringify(entryForApi(e)) + '\n').join('');
      }
      return reply
        .type('application/x-ndjson; charset=utf-8')
        .header('content-disposition', `attachment; filename="audit-${project.slug}.ndjson"`)
        .send(Readable.from(lines()));
    },
  );
}
