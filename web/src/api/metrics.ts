/**
 * The metrics catalog of a project (src/metrics/routes.ts), its forecast and backtests
 * (src/signals/forecast-routes.ts, backtest-routes.ts) and its signals (src/signals/routes.ts).
 * Their shapes are named here rather than in types.ts: only the Metrics and Monitors pages read them.
 */
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, projectPath } from './client';
import type { ApiBody, ApiResponse } from './schema.gen';
import type { Interval } from './types';

export const METRIC_KINDS = ['event', 'ratio', 'per_user', 'aggregation', 'sql', 'gauge'] as const satisfies readonly MetricKind[];
export type MetricKind = Metric['kind'];
export const METRIC_STATUSES = ['active', 'draft', 'archived'] as const satisfies readonly MetricStatus[];
export type MetricStatus = Metric['status'];
export const INTERVALS: Interval[] = ['5m', '15m', '1h', '6h', '1d', '1w'];
export const SENSITIVITIES = ['low', 'medium', 'high'] as const;
export type Sensitivity = NonNullable<DetectionSettings['sensitivity']>;

/** GET /metrics/:id */
export type Metric = ApiResponse<'GET /api/projects/{slug}/metrics/{id}'>;
export type DetectionSettings = Metric['detection'];

/** GET /metrics: a metric with its latest value and sparkline */
export type MetricSummary = ApiResponse<'GET /api/projects/{slug}/metrics'>['metrics'][number];

/** What POST /metrics and PATCH /metrics/:id take. */
export type MetricInput = ApiBody<'POST /api/projects/{slug}/metrics'>;

/** GET /metrics/:id/series */
export type MetricSeries = ApiResponse<'GET /api/projects/{slug}/metrics/{id}/series'>;
export type NamedSeries = MetricSeries['series'][number];
export type SeriesMark = MetricSeries['signals'][number];

/** POST /metrics/preview */
export type MetricPreview = ApiResponse<'POST /api/projects/{slug}/metrics/preview'>;
export type PreviewInput = ApiBody<'POST /api/projects/{slug}/metrics/preview'>;

/** POST /metrics/:id/backtest */
export type Backtest = ApiResponse<'POST /api/projects/{slug}/metrics/{id}/backtest'>;
export type BacktestInput = ApiBody<'POST /api/projects/{slug}/metrics/{id}/backtest'>;

/** GET /metrics/:id/forecast */
export type Forecast = ApiResponse<'GET /api/projects/{slug}/metrics/{id}/forecast'>;

/** GET /signals */
export type Signal = ApiResponse<'GET /api/projects/{slug}/signals'>['signals'][number];

export const metricKeys = {
  all: (slug: string) => ['project', slug, 'metrics'] as const,
  list: (slug: string, status?: MetricStatus) => [...metricKeys.all(slug), 'list', status ?? 'all'] as const,
  one: (slug: string, id: number) => [...metricKeys.all(slug), 'one', id] as const,
  series: (slug: string, id: number, q: SeriesQuery) => [...metricKeys.all(slug), 'series', id, q] as const,
  expected: (slug: string, id: number, q: BacktestInput) => [...metricKeys.all(slug), 'expected', id, q] as const,
  forecast: (slug: string, id: number, k: number) => [...metricKeys.all(slug), 'forecast', id, k] as const,
  preview: (slug: string, input: PreviewInput | null) => [...metricKeys.all(slug), 'preview', input] as const,
  signals: (slug: string, from: string) => ['project', slug, 'signals', from] as const,
};

export function useMetrics(slug: string, status?: MetricStatus) {
  return useQuery({
    queryKey: metricKeys.list(slug, status),
    queryFn: ({ signal }) => api.get<ApiResponse<'GET /api/projects/{slug}/metrics'>>(projectPath(slug, '/metrics'), { status }, signal),
    placeholderData: keepPreviousData,
  });
}

export function useMetric(slug: string, id: number) {
  return useQuery({
    queryKey: metricKeys.one(slug, id),
    queryFn: ({ signal }) => api.get<Metric>(projectPath(slug, `/metrics/${id}`), undefined, signal),
    enabled: id > 0,
  });
}

export interface SeriesQuery {
  from?: string;
  to?: string;
  breakdown?: string;
}

export function useMetricSeries(slug: string, id: number, q: SeriesQuery, enabled = true) {
  return useQuery({
    queryKey: metricKeys.series(slug, id, q),
    queryFn: ({ signal }) => api.get<MetricSeries>(projectPath(slug, `/metrics/${id}/series`), { ...q }, signal),
    placeholderData: keepPreviousData,
    enabled,
  });
}

/**
 * The expected band of a window: the series API has none per bucket, so it comes from a backtest
 * of the same window (the live detector's expected/lower/upper per bucket, nothing stored).
 */
export function useExpected(slug: string, id: number, q: BacktestInput, enabled = true) {
  return useQuery({
    queryKey: metricKeys.expected(slug, id, q),
    queryFn: () => api.post<Backtest>(projectPath(slug, `/metrics/${id}/backtest`), q),
    placeholderData: keepPreviousData,
    enabled,
    retry: false,
  });
}

export function useForecast(slug: string, id: number, k: number, enabled = true) {
  return useQuery({
    queryKey: metricKeys.forecast(slug, id, k),
    queryFn: ({ signal }) => api.get<Forecast>(projectPath(slug, `/metrics/${id}/forecast`), { k }, signal),
    enabled,
  });
}

/** The live preview of an unsaved definition; null (an incomplete form) asks for nothing. */
export function usePreview(slug: string, input: PreviewInput | null) {
  return useQuery({
    queryKey: metricKeys.preview(slug, input),
    queryFn: () => api.post<MetricPreview>(projectPath(slug, '/metrics/preview'), input),
    enabled: input !== null,
    placeholderData: keepPreviousData,
    retry: false,
    staleTime: 60_000,
  });
}

/** Signals overlapping the window (newest first), for the catalog's "signal" column. */
export function useRecentSignals(slug: string, from: string) {
  return useQuery({
    queryKey: metricKeys.signals(slug, from),
    queryFn: ({ signal }) =>
      api.get<ApiResponse<'GET /api/projects/{slug}/signals'>>(projectPath(slug, '/signals'), { from, limit: 500 }, signal),
  });
}

function useInvalidateMetrics(slug: string) {
  const qc = useQueryClient();
  return () => qc.invalidateQueries({ queryKey: metricKeys.all(slug) });
}

export function useCreateMetric(slug: string) {
  const invalidate = useInvalidateMetrics(slug);
  return useMutation({ mutationFn: (input: MetricInput) => api.post<Metric>(projectPath(slug, '/metrics'), input), onSuccess: invalidate });
}

export function useUpdateMetric(slug: string, id: number) {
  const invalidate = useInvalidateMetrics(slug);
  return useMutation({
    mutationFn: (patch: Partial<MetricInput>) => api.patch<Metric>(projectPath(slug, `/metrics/${id}`), patch),
    onSuccess: invalidate,
  });
}

export function useArchiveMetric(slug: string, id: number) {
  const invalidate = useInvalidateMetrics(slug);
  return useMutation({ mutationFn: () => api.post<Metric>(projectPath(slug, `/metrics/${id}/archive`)), onSuccess: invalidate });
}

export function useCollectMetric(slug: string, id: number) {
  const invalidate = useInvalidateMetrics(slug);
  return useMutation({
    mutationFn: () => api.post<ApiResponse<'POST /api/projects/{slug}/metrics/{id}/collect'>>(projectPath(slug, `/metrics/${id}/collect`)),
    onSuccess: invalidate,
  });
}

export function useBacktest(slug: string, id: number) {
  return useMutation({ mutationFn: (input: BacktestInput) => api.post<Backtest>(projectPath(slug, `/metrics/${id}/backtest`), input) });
}

/** Whether a role may change metrics and rules (editors and owners; API keys with write scope). */
export const canEdit = (role: string | null) => role === 'editor' || role === 'owner';
