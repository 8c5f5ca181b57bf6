import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppContext } from './app-context.js';
import { VigilError } from './errors.js';
import { ingestRoutes } from './ingest/routes.js';
import { exportRoutes } from './ingest/export-route.js';
import { analyticsRoutes } from './analytics/routes.js';
import { opsRoutes } from './ops/routes.js';
import { ROLES, restrictToRoles, type Role } from './ops/roles.js';
import { metricRoutes } from './metrics/routes.js';
import { signalRoutes } from './signals/routes.js';
import { thresholdRoutes } from './signals/threshold/threshold-routes.js';
import { backtestRoutes } from './signals/backtest/backtest-routes.js';
import { forecastRoutes } from './signals/forecast/forecast-routes.js';
import { jobRoutes } from './jobs/routes.js';
import { incidentRoutes } from './incidents/routes.js';
import { alertRoutes } from './alerts/routes.js';
import { addSecurityHooks } from './http/security.js';
import { validationMessage } from './http/validation-message.js';
import { addFiniteNumberCheck } from './http/finite-numbers.js';
import cookie from '@fastify/cookie';
import compress from '@fastify/compress';
import { addAccessControl, type RouteAccess } from './auth/access.js';
import { authRoutes } from './auth/routes.js';
import { webRoutes } from './web/static.js';
import { liveRoutes } from './analytics/live.js';
import { trackingPlanRoutes } from './analytics/tracking-plan.js';
import { sdkRoutes } from './web/sdk-route.js';
import { adminRoutes } from './auth/admin-routes.js';
import { userAdminRoutes } from './auth/user-admin-routes.js';
import { detectionRoutes } from './signals/detection-routes.js';
import { passwordResetRoutes } from './auth/password-reset-routes.js';
import { projectRoutes } from './projects/routes.js';
import { testEventRoutes } from './ingest/test-event-route.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** every route with its access rule (the permission tests walk it) */
    routeTable: RouteAccess[];
  }
}

/** Fastify's own 4xx errors, mapped to the catalog so every error has the same shape. */
function fromFastifyError(err: FastifyError, request: FastifyRequest): VigilError | null {
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return new VigilError(
      'VIGIL_ERR_PAYLOAD_TOO_LARGE',
      'the request body is larger than this endpoint accepts (32 KB for one event, 500 KB for a batch)',
    );
  if (err.code === 'FST_ERR_VALIDATION') {
    const context = err.validationContext;
    const schema = context ? (request.routeOptions.schema as Record<string, unknown> | undefined)?.[context] : undefined;
    const { field, message } = validationMessage(err.validation ?? [], context, schema);
    return new VigilError('VIGIL_ERR_BAD_REQUEST', message, { field, validation: err.validation });
  }
  if (err.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH')
    return new VigilError('VIGIL_ERR_BAD_REQUEST', 'the body does not match its Content-Length');
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500)
    return new VigilError(err.statusCode === 415 ? 'VIGIL_ERR_UNSUPPORTED_MEDIA_TYPE' : 'VIGIL_ERR_BAD_REQUEST', err.message);
  return null;
}

/** roles: the routes of the api and ingest roles this process serves (default both; src/ops/roles.ts). */
export async function buildServer(ctx: AppContext, opts: { roles?: readonly Role[] } = {}): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.log,
    trustProxy: ctx.config.trustProxy,
    requestIdHeader: 'x-request-id',
    ajv: { customOptions: { coerceTypes: true, removeAdditional: false, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const known = err instanceof VigilError ? err : fromFastifyError(err, request);
    if (known) {
      const wait = (known.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
      if (typeof wait === 'number') reply.header('retry-after', String(Math.max(1, Math.ceil(wait))));
      return reply.code(known.status).send({ error: { code: known.code, message: known.message, details: known.details ?? null } });
    }
    request.log.error({ err }, 'unexpected error');
    return reply.code(500).send({
      error: {
        code: 'VIGIL_ERR_INTERNAL',
        message: 'an unexpected error occurred; it has been logged',
        details: { requestId: request.id },
      },
    });
  });
  app.setNotFoundHandler((request, reply) => {
    reply
      .code(404)
      .send({ error: { code: 'VIGIL_ERR_NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}`, details: null } });
  });

  // first: a route of a role this process does not serve is not found, before authentication
  restrictToRoles(app, opts.roles ?? ROLES);
  // before every route, so its headers and CORS rules reach the whole app
  addSecurityHooks(app, ctx.config);
  // after validation, before every handler: Infinity and 1e999 are a 400, never a 500
  addFiniteNumberCheck(app);
  await app.register(cookie);
  // answers over 1 KB go out compressed when the client takes it (brotli at quality 4, or gzip);
  // request bodies are not touched: ingest decodes its own gzip with its own limits
  await app.register(compress, { threshold: 1024, encodings: ['br', 'gzip'], globalDecompression: false });
  app.decorate('routeTable', addAccessControl(app, ctx));
  // alerts link to this server when VIGIL_PUBLIC_URL is not set
  app.addHook('onListen', async () => ctx.links.listeningOn(app.server.address()));

  app.addHook('onResponse', async (request, reply) => {
    ctx.metrics.httpSeconds.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Vigil API',
        version: '0.1.0',
        description: 'Segment-compatible ingest, event queries, the metrics catalog and operations.',
      },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' }, writeKey: { type: 'http', scheme: 'basic' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });

  await app.register(opsRoutes, { ctx });
  await app.register(ingestRoutes, { ctx });
  await app.register(exportRoutes, { ctx });
  await app.register(analyticsRoutes, { ctx });
  await app.register(liveRoutes, { ctx });
  await app.register(trackingPlanRoutes, { ctx });
  await app.register(metricRoutes, { ctx });
  await app.register(signalRoutes, { ctx });
  await app.register(thresholdRoutes, { ctx });
  await app.register(backtestRoutes, { ctx });
  await app.register(forecastRoutes, { ctx });
  await app.register(jobRoutes, { ctx });
  await app.register(incidentRoutes, { ctx });
  await app.register(alertRoutes, { ctx });
  await app.register(authRoutes, { ctx });
  await app.register(sdkRoutes, { ctx });
  await app.register(adminRoutes, { ctx });
  await app.register(userAdminRoutes, { ctx });
  await app.register(detectionRoutes, { ctx });
  await app.register(passwordResetRoutes, { ctx });
  await app.register(projectRoutes, { ctx });
  await app.register(testEventRoutes, { ctx });
  // last: the web app answers GETs no other route takes (its own 404s go to the handler above)
  await app.register(webRoutes, {});
  return app;
}
