import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppContext } from '../app-context.js';
import { projectOf } from '../auth/access.js';
import { SlugParams, errorResponses } from '../http-schemas.js';
import { parseWindow } from '../analytics/service.js';
import { SignalPage, SignalsQuery, type SignalApi } from './schemas.js';
import type { Signal } from './store.js';

const iso = (ms: number) => new Date(ms).toISOString();

export function signalForApi(s: Signal): SignalApi {
  return {
    id: s.id,
    scope: s.scope,
    scopeKey: s.scopeKey,
    metricId: s.metricId,
    bucket: iso(s.bucket),
    endBucket: iso(s.endBucket),
    kind: s.kind,
    direction: s.direction,
    value: s.value,
    expected: s.expected,
    lower: s.lower,
    upper: s.upper,
    z: s.z,
    score: s.score,
    severity: s.severity,
    details: s.details,
    createdAt: iso(s.createdAt),
    updatedAt: iso(s.updatedAt),
  };
}

/** What the detectors raised in a project. */
export async function signalRoutes(root: FastifyInstance, { ctx }: { ctx: AppContext }) {
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
      const page = await ctx.signals.list(projectOf(request), { scope, metricId: metric, kind, ...window, limit, cursor });
      return { signals: page.signals.map(signalForApi), nextCursor: page.nextCursor };
    },
  );
}
