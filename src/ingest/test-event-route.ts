/**
 * `POST /api/projects/:slug/test-event`: one track event sent from the app, through the same
 * pipeline as /v1/track (validation, enrichment, dedup, durable write), so a new team sees the
 * Live page and the Overview react before their own code sends anything.
 */
import { randomUUID } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { projectOf, userOf } from '../auth/access.js';
import { SlugParams, errorResponses } from '../http-schemas.js';
import type { IngestService } from './service.js';

export const TEST_EVENT_NAME = 'Vigil Test Event';

/** What these routes use: their own services and the few they name. */
export interface TestEventRouteDeps {
  ingest: IngestService;
}

export async function testEventRoutes(root: FastifyInstance, deps: TestEventRouteDeps) {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    '/api/projects/:slug/test-event',
    {
      config: { access: { role: 'editor', keys: true } },
      schema: {
        tags: ['ingest'],
        summary: `Send one "${TEST_EVENT_NAME}" track event into the project, as an SDK would`,
        params: SlugParams,
        response: { 201: Type.Object({ messageId: Type.String(), event: Type.String() }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const project = projectOf(request);
      const messageId = randomUUID();
      const sentBy = request.principal.type === 'user' ? userOf(request).email : 'an API key';
      await deps.ingest.ingest(
        project.id,
        [
          {
            type: 'track',
            event: TEST_EVENT_NAME,
            messageId,
            userId: 'vigil-test-user',
            properties: { sentBy, note: 'sent from the Vigil app to check that events arrive' },
            context: { library: { name: 'vigil-app', version: '1' } },
          },
        ],
        'track',
        {},
        { receivedAt: Date.now(), ip: request.ip },
      );
      reply.code(201);
      return { messageId, event: TEST_EVENT_NAME };
    },
  );
}
