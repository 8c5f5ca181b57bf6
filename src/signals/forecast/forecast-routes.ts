/**
 * The forecast of a metric: the next k buckets after its last collected one, from the pure
 * forecaster (src/detect/forecast.ts) over the stored total series, with a band as wide as the
 * metric's detection threshold. Nothing is stored; a metric without enough history gets no points
 * and says why.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { projectOf } from '../../auth/access.js';
import { errorResponses, RowId } from '../../http-schemas.js';
import { PERIODS } from '../../detect/anomaly.js';
import { MIN_FORECAST_HISTORY, forecast } from '../../detect/forecast.js';
import { clampToRange } from '../../detect/value-range.js';
import type { Project } from '../../projects/service.js';
import { INTERVAL_MS, formatBucket, nextBucket } from '../../time/index.js';
import type { MetricService } from '../../metrics/service.js';
import type { SignalService } from '../service.js';

const MetricParams = Type.Object({ slug: Type.String(), id: RowId() });
const VIEWER = { access: { role: 'viewer', keys: true } } as const;

/** the most buckets one forecast reaches ahead: past a few cycles a seasonal projection says little */
export const MAX_FORECAST_BUCKETS = 500;
const DEFAULT_FORECAST_BUCKETS = 24;
/** whole cycles of the longest period read as history: MSTL needs two, a third steadies the trend */
const HISTORY_CYCLES = 3;
/** history read for a series without seasonal periods (weekly buckets): about a year */
const MIN_HISTORY_BUCKETS = 4 * MIN_FORECAST_HISTORY;

const ForecastResponse = Type.Object({
  metric: Type.Object({ id: Type.Integer(), name: Type.String(), unit: Type.String(), valueKind: Type.String(), interval: Type.String() }),
  timeZone: Type.String(),
  threshold: Type.Number({ description: "the band is ± this many robust spreads (the metric's detection |z|)" }),
  historyFrom: Type.Union([Type.String(), Type.Null()], { description: 'the first bucket of history read' }),
  history: Type.Integer({ description: 'collected buckets (with a value) the forecast was made from' }),
  from: Type.Union([Type.String(), Type.Null()], {
    description: 'the first forecast bucket (right after the last collected one); null before any collection',
  }),
  points: Type.Array(Type.Object({ bucket: Type.String(), value: Type.Number(), lower: Type.Number(), upper: Type.Number() })),
  reason: Type.Union([Type.String(), Type.Null()], { description: 'why there are no points, when there are none' }),
});
type ForecastApi = Static<typeof ForecastResponse>;

/** What these routes use: their own services and the few they name. */
export interface ForecastRouteDeps {
  catalog: MetricService;
  signals: SignalService;
}

/** The forecast of one metric's total series (what the route answers). */
export async function forecastMetric(deps: ForecastRouteDeps, project: Project, metricId: number, k: number): Promise<ForecastApi> {
  const m = await deps.catalog.get(project, metricId);
  const api = deps.catalog.toApi(m);
  const periods = PERIODS[m.interval];
  const settings = await deps.signals.resolve(project.id, m);
  const base = {
    metric: { id: m.id, name: m.name, unit: m.unit, valueKind: api.valueKind, interval: m.interval },
    timeZone: project.timeZone,
    threshold: settings.threshold,
  };
  if (m.collectedUntil === null || m.historyFrom === null)
    return { ...base, historyFrom: null, history: 0, from: null, points: [], reason: 'the metric has not been collected yet' };
  const wanted = Math.max(HISTORY_CYCLES * Math.max(0, ...periods), MIN_HISTORY_BUCKETS);
  const fromMs = Math.max(m.historyFrom, m.collectedUntil - wanted * INTERVAL_MS[m.interval]);
  const read = await deps.catalog.totalSeries(project, m, fromMs, m.collectedUntil);
  const starts: number[] = [];
  for (let s = m.collectedUntil; starts.length < k; s = nextBucket(project.timeZone, m.interval, s)) starts.push(s);
  const fmt = (ms: number) => formatBucket(project.timeZone, m.interval, ms);
  const points = forecast(read.values, periods, k, settings.threshold);
  const history = read.values.filter((v) => v !== null).length;
  return {
    ...base,
    historyFrom: read.starts.length ? fmt(read.starts[0]) : null,
    history,
    from: fmt(starts[0]),
    // within what the metric can take: a count never below 0, a conversion rate within [0, 1]
    points: points.map((p, i) => ({
      bucket: fmt(starts[i]),
      value: clampToRange(p.value, read.range),
      lower: clampToRange(p.lower, read.range),
      upper: clampToRange(p.upper, read.range),
    })),
    reason: points.length
      ? null
      : `a forecast needs at least ${MIN_FORECAST_HISTORY} collected buckets${periods.length ? ` and two whole cycles of ${periods[0]} buckets` : ''}; this metric has ${history}`,
  };
}

/** GET …/metrics/:id/forecast: viewers (read keys) may read it. */
export async function forecastRoutes(root: FastifyInstance, deps: ForecastRouteDeps) {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/api/projects/:slug/metrics/:id/forecast',
    {
      config: VIEWER,
      schema: {
        tags: ['metrics'],
        summary: 'The next k buckets of a metric after its last collected one, with a band (the forecast is not stored)',
        params: MetricParams,
        querystring: Type.Object({
          k: Type.Integer({ minimum: 1, maximum: MAX_FORECAST_BUCKETS, default: DEFAULT_FORECAST_BUCKETS, description: 'buckets ahead' }),
        }),
        response: { 200: ForecastResponse, ...errorResponses },
      },
    },
    async (request) => forecastMetric(deps, projectOf(request), request.params.id, request.query.k),
  );
}
