import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../app-context.js';

/** Liveness, readiness and Prometheus metrics: unauthenticated, for load balancers and scrapers. */
export async function opsRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  app.get('/health', { logLevel: 'warn', config: { access: { public: true } }, schema: { tags: ['operations'], summary: 'The process is alive', response: { 200: { type: 'object', properties: { status: { type: 'string' } } } } } }, async () => ({ status: 'ok' }));

  app.get('/ready', { logLevel: 'warn', config: { access: { public: true } }, schema: { tags: ['operations'], summary: 'Both stores answer' } }, async (_request, reply) => {
    const check = async (ping: () => Promise<void>) => ping().then(() => 'ok', (err: Error) => `error: ${err.message}`);
    const [metadata, events] = await Promise.all([check(() => ctx.meta.ping()), check(() => ctx.events.ping())]);
    const ready = metadata === 'ok' && events === 'ok';
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', metadata, events, segmentBacklog: ctx.loader.backlog });
  });

  app.get('/metrics', { logLevel: 'warn', config: { access: { public: true } }, schema: { tags: ['operations'], summary: 'Prometheus metrics' } }, async (_request, reply) => {
    reply.header('content-type', ctx.metrics.registry.contentType);
    return ctx.metrics.registry.metrics();
  });
}
