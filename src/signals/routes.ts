import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { projectOf } from '../auth/access.js';
import { SlugParams, errorResponses } from '../http-schemas.js';
import { parseWindow } from '../time/window.js';
import { SignalPage, SignalsQuery, signalForApi } from './schemas.js';
import type { SignalService } from './service.js';

/** What these routes use: their own services and the few they name. */
export interface SignalRouteDeps {
  signals: SignalService;
}

/** What the detectors raised in a project. */
export async function signalRoutes(root: FastifyInstance, deps: SignalRouteDeps) {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/api/projects/:slug/signals',
    {
      config: { access: { role: 'viewer', keys: true } },
      schema: {
        tags: ['signals'],
        summary: 'Signals (anomalies of metrics, ...) that overlap the window, newest first, a page at a time',
        params: SlugParams,
        querystring: SignalsQuery,
        response: { 200: SignalPage, ...errorResponses },
      },
    },
    async (request) => {
      const { scope, metric, kind, from, to, limit, cursor } = request.query;
      const window = parseWindow(from, to, Date.now());
      const page = await deps.signals.list(projectOf(request), { scope, metricId: metric, kind, ...window, limit, cursor });
      return { signals: page.signals.map(signalForApi), nextCursor: page.nextCursor };
    },
  );
}
