/** A project's API keys: listing (never their secrets), creating, revoking. */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { RowId, SlugParams } from '../http-schemas.js';
import { VigilError, badRequest } from '../errors.js';
import { parseTimeInput } from '../time/index.js';
import { projectOf } from './access.js';
import { OWNER, Time, TimeOrNull, errors, iso, isoOrNull } from './admin-schemas.js';
import type { ApiKey } from './api-keys.js';
import type { ApiKeyService } from './api-keys.js';
import type { AuditLog } from './audit.js';

const ScopeSchema = Type.Union([Type.Literal('ingest'), Type.Literal('read'), Type.Literal('write'), Type.Literal('admin')]);

const KeySchema = Type.Object({
  id: Type.Integer(),
  prefix: Type.String({ description: 'the first characters of the secret, to recognise it' }),
  name: Type.String(),
  scopes: Type.Array(ScopeSchema),
  createdAt: Time,
  expiresAt: TimeOrNull,
  revokedAt: TimeOrNull,
  lastUsedAt: TimeOrNull,
});
const keyForApi = (k: ApiKey): Static<typeof KeySchema> => ({
  id: k.id,
  prefix: k.prefix,
  name: k.name,
  scopes: k.scopes,
  createdAt: iso(k.createdAt),
  expiresAt: isoOrNull(k.expiresAt),
  revokedAt: isoOrNull(k.revokedAt),
  lastUsedAt: isoOrNull(k.lastUsedAt),
});

/** What these routes use: their own services and the few they name. */
export interface ApiKeyRouteDeps {
  apiKeys: ApiKeyService;
  audit: AuditLog;
}

// long because each of its three routes declares its schema inline
export async function apiKeyRoutes(root: FastifyInstance, deps: ApiKeyRouteDeps) {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const keyTags = ['keys'];
  const KeyParams = Type.Object({ slug: Type.String(), id: RowId() });

  app.get(
    '/api/projects/:slug/keys',
    {
      config: OWNER,
      schema: {
        tags: keyTags,
        summary: "The project's API keys (never their secrets)",
        params: SlugParams,
        response: { 200: Type.Object({ keys: Type.Array(KeySchema) }), ...errors },
      },
    },
    async (request) => ({ keys: (await deps.apiKeys.list(projectOf(request).id)).map(keyForApi) }),
  );

  app.post(
    '/api/projects/:slug/keys',
    {
      config: OWNER,
      schema: {
        tags: keyTags,
        summary: 'Create an API key; its secret is in this answer only',
        params: SlugParams,
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 200 }),
            scopes: Type.Array(ScopeSchema, {
              minItems: 1,
              maxItems: 4,
              uniqueItems: true,
              description: 'ingest: send events; read, write, admin: act as a viewer, editor, owner',
            }),
            expiresAt: Type.Optional(Type.String({ description: 'ISO 8601 (or relative such as +90d); never expires when absent' })),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ key: KeySchema, secret: Type.String({ description: 'shown once: store it now' }) }), ...errors },
      },
    },
    async (request, reply) => {
      const now = Date.now();
      let expiresAt: number | null = null;
      if (request.body.expiresAt !== undefined) {
        expiresAt = parseTimeInput(request.body.expiresAt, now);
        if (expiresAt === null)
          throw badRequest(
            `"expiresAt" is not a time: "${request.body.expiresAt}" (use ISO 8601 with a zone, such as 2030-01-31T00:00:00Z)`,
            { field: 'expiresAt' },
          );
        if (expiresAt <= now) throw badRequest('"expiresAt" must be in the future', { field: 'expiresAt' });
      }
      const { key, secret } = await deps.apiKeys.create({
        projectId: projectOf(request).id,
        name: request.body.name.trim(),
        scopes: request.body.scopes,
        expiresAt,
      });
      await deps.audit.record(request, {
        action: 'api_key.create',
        target: { type: 'api_key', id: key.id },
        after: { name: key.name, prefix: key.prefix, scopes: key.scopes, expiresAt: isoOrNull(key.expiresAt) },
      });
      reply.code(201);
      return { key: keyForApi(key), secret };
    },
  );

  app.delete(
    '/api/projects/:slug/keys/:id',
    {
      config: OWNER,
      schema: {
        tags: keyTags,
        summary: 'Revoke an API key (at once on this process; other processes within 10 s)',
        params: KeyParams,
        response: { 200: KeySchema, ...errors },
      },
    },
    async (request) => {
      const project = projectOf(request);
      // the key service revokes across projects: look the key up in this one first
      const key = (await deps.apiKeys.list(project.id)).find((k) => k.id === request.params.id);
      if (!key) throw new VigilError('VIGIL_ERR_NOT_FOUND', `API key ${request.params.id} not found in project "${project.slug}"`);
      if (key.revokedAt !== null) return keyForApi(key);
      const revoked = await deps.apiKeys.revoke(key.id);
      await deps.audit.record(request, {
        action: 'api_key.revoke',
        target: { type: 'api_key', id: key.id },
        before: { name: key.name, prefix: key.prefix, revokedAt: null },
        after: { name: key.name, prefix: key.prefix, revokedAt: isoOrNull(revoked.revokedAt) },
      });
      return keyForApi(revoked);
    },
  );
}
