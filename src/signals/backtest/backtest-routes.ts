import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { projectOf } from '../../auth/access.js';
import { SlugParams, errorResponses, RowId } from '../../http-schemas.js';
import { parseWindow } from '../../time/window.js';
import { DetectionSettings, PreviewMetric } from '../../metrics/schemas.js';
import { MAX_BACKTEST_BUCKETS } from './backtest.js';
import { RuleInput } from '../threshold/threshold-routes.js';
import type { BacktestService } from './backtest.js';

const MetricParams = Type.Object({ slug: Type.String(), id: RowId() });
const tags = ['backtests'];
const VIEWER = { access: { role: 'viewer', keys: true } } as const;

const Options = {
  from: Type.String({
    description: `start of the window (inclusive): ISO 8601, epoch ms, or relative such as -7d; at most ${MAX_BACKTEST_BUCKETS} buckets`,
  }),
  to: Type.String({ description: 'end of the window (exclusive)' }),
  sensitivity: DetectionSettings.properties.sensitivity,
  minExpected: DetectionSettings.properties.minExpected,
  rule: Type.Optional(RuleInput),
};
const BacktestBody = Type.Object(Options, { additionalProperties: false });
const DraftBacktestBody = Type.Object(
  {
    kind: PreviewMetric.properties.kind,
    definition: PreviewMetric.properties.definition,
    interval: PreviewMetric.properties.interval,
    ...Options,
  },
  { additionalProperties: false },
);

const Nullable = Type.Union([Type.Number(), Type.Null()]);
const BacktestResponse = Type.Object({
  interval: Type.String(),
  timeZone: Type.String(),
  valueKind: Type.String(),
  threshold: Type.Number({ description: 'the |z| at which a bucket was flagged' }),
  minExpected: Type.Number(),
  from: Type.String({ description: 'the first bucket of the window' }),
  to: Type.String(),
  buckets: Type.Array(Type.String()),
  points: Type.Array(
    Type.Object({
      bucket: Type.String(),
      value: Nullable,
      expected: Nullable,
      lower: Nullable,
      upper: Nullable,
      z: Nullable,
      score: Type.Number(),
      isAnomaly: Type.Boolean(),
    }),
    { description: 'one per bucket of the window (the history read before it is not reported)' },
  ),
  signals: Type.Array(
    Type.Object({
      scope: Type.String({ description: 'metric (the anomaly detector) or threshold (the rule)' }),
      bucket: Type.String({ description: 'where the signal would have been anchored' }),
      endBucket: Type.String(),
      kind: Type.String({ description: 'spike, drop, level_shift, outage, breach, recovery' }),
      direction: Type.Union([Type.String(), Type.Null()]),
      severity: Type.String(),
      z: Nullable,
      value: Type.Number(),
      compared: Nullable,
    }),
    { description: 'what would have fired in the window, oldest first' },
  ),
  count: Type.Integer({ description: 'how many signals' }),
});

/** What these routes use: their own services and the few they name. */
export interface BacktestRouteDeps {
  backtests: BacktestService;
}

/** Backtests: what detection (and a rule) would have fired over a window; nothing is stored. */
export async function backtestRoutes(root: FastifyInstance, deps: BacktestRouteDeps) {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/api/projects/:slug/metrics/:id/backtest',
    {
      config: VIEWER,
      schema: {
        tags,
        summary: "Run the live detector (and a rule, when given) over a window of the metric's stored series: what would have fired",
        params: MetricParams,
        body: BacktestBody,
        response: { 200: BacktestResponse, ...errorResponses },
      },
    },
    async (request) => {
      const { from, to, ...options } = request.body;
      return deps.backtests.metric(projectOf(request), request.params.id, { ...parseWindow(from, to, Date.now()), ...options });
    },
  );

  app.post(
    '/api/projects/:slug/metrics/backtest',
    {
      config: VIEWER,
      schema: {
        tags,
        summary:
          "Backtest a draft definition: its values are computed for the window (and the history before it) and detected as a saved metric's would be",
        params: SlugParams,
        body: DraftBacktestBody,
        response: { 200: BacktestResponse, ...errorResponses },
      },
    },
    async (request) => {
      const { from, to, ...options } = request.body;
      return deps.backtests.draft(projectOf(request), { ...parseWindow(from, to, Date.now()), ...options });
    },
  );
}
