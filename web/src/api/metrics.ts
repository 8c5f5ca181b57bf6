/**
 * The metrics catalog of a project (src/metrics/routes.ts), its forecast and backtests
 * (src/signals/forecast-routes.ts, backtest-routes.ts) and its signals (src/signals/routes.ts).
 * The response shapes live here rather than in types.ts: they mirror src/metrics/schemas.ts and
 * the backtest/forecast routes' schemas, and only the Metrics and Monitors pages read them.
 */
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, projectPath } from './client';
import type { Interval } from './types';

export const METRIC_KINDS = ['event', 'ratio', 'per_user', 'aggregation', 'sql', 'gauge'] as const;
export type MetricKind = (typeof METRIC_KINDS)[number];
export const METRIC_STATUSES = ['active', 'draft', 'archived'] as const;
export type MetricStatus = (typeof METRIC_STATUSES)[number];
export const INTERVALS: Interval[] = ['5m', '15m', '1h', '6h', '1d', '1w'];
export const SENSITIVITIES = ['low', 'medium', 'high'] as const;
export type Sensitivity = (typeof SENSITIVITIES)[number] | number;

/** src/metrics/schemas.ts DetectionSettings */
export interface DetectionSettings {
  enabled?: boolean;
  sensitivity?: Sensitivity;
  minExpected?: number;
  /** minutes the newest buckets wait for late events; left out: the project's, else derived */
  settlingMinutes?: number;
}

/** src/metrics/schemas.ts MetricSchema */
export interface Metric {
  id: number;
  name: string;
  displayName: string;
  description: string;
  unit: string;
  owner: string;
  tags: string[];
  color: string;
  interval: Interval;
  status: MetricStatus;
  kind: MetricKind;
  definition: Record<string, unknown>;
  valueKind: 'count' | 'fraction';
  breakdowns: string[];
  version: number;
  historyFrom: string | null;
  collectedUntil: string | null;
  lastError: { message: string; at: string } | null;
  detection: DetectionSettings;
  createdAt: string;
  updatedAt: string;
}

/** GET /metrics: MetricSummarySchema */
export interface MetricSummary extends Metric {
  latest: { bucket: string; value: number | null } | null;
  change: number | null;
  sparkline: (number | null)[];
}

/** What POST /metrics and PATCH /metrics/:id take (CreateMetric). */
export interface MetricInput {
  name: string;
  displayName?: string;
  description?: string;
  unit?: string;
  owner?: string;
  tags?: string[];
  interval?: Interval;
  status?: MetricStatus;
  kind: MetricKind;
  definition: unknown;
  detection?: DetectionSettings;
}

export interface NamedSeries {
  key: string;
  label: string;
  values: (number | null)[];
  /** per bucket, the observations behind the value (series endpoint only; null: not known) */
  samples?: (number | null)[];
}

/** SeriesMarkSchema */
export interface SeriesMark {
  bucket: string;
  endBucket: string;
  kind: string;
  direction: string | null;
  severity: string;
  score: number;
}

/** GET /metrics/:id/series: SeriesResultSchema */
export interface MetricSeries {
  metric: { id: number; name: string; unit: string; valueKind: string; interval: Interval };
  timeZone: string;
  from: string;
  to: string;
  buckets: string[];
  breakdown: string | null;
  series: NamedSeries[];
  collectedUntil: string | null;
  signals: SeriesMark[];
}

/** POST /metrics/preview */
export interface MetricPreview {
  interval: Interval;
  timeZone: string;
  valueKind: string;
  buckets: string[];
  total: (number | null)[];
  breakdown: string | null;
  series: NamedSeries[];
}

export interface PreviewInput {
  kind: MetricKind;
  definition: unknown;
  interval?: Interval;
  buckets?: number;
}

/** POST /metrics/:id/backtest (src/signals/backtest-routes.ts BacktestResponse) */
export interface Backtest {
  interval: Interval;
  timeZone: string;
  valueKind: string;
  threshold: number;
  minExpected: number;
  from: string;
  to: string;
  buckets: string[];
  points: {
    bucket: string;
    value: number | null;
    expected: number | null;
    lower: number | null;
    upper: number | null;
    z: number | null;
    score: number;
    isAnomaly: boolean;
  }[];
  signals: {
    scope: string;
    bucket: string;
    endBucket: string;
    kind: string;
    direction: string | null;
    severity: string;
    z: number | null;
    value: number;
    compared: number | null;
  }[];
  count: number;
}

export interface BacktestInput {
  from: string;
  to: string;
  sensitivity?: Sensitivity;
  minExpected?: number;
  rule?: unknown;
}

/** GET /metrics/:id/forecast (src/signals/forecast-routes.ts) */
export interface Forecast {
  metric: { id: number; name: string; unit: string; valueKind: string; interval: Interval };
  timeZone: string;
  threshold: number;
  historyFrom: string | null;
  history: number;
  from: string | null;
  points: { bucket: string; value: number; lower: number; upper: number }[];
  reason: string | null;
}

/** src/signals/schemas.ts SignalSchema (the fields the catalog shows) */
export interface Signal {
  id: number;
  scope: string;
  metricId: number | null;
  bucket: string;
  endBucket: string;
  kind: string;
  direction: string | null;
  value: number;
  severity: string;
  createdAt: string;
}

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
    queryFn: ({ signal }) => api.get<{ metrics: MetricSummary[] }>(projectPath(slug, '/metrics'), { status }, signal),
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
      api.get<{ signals: Signal[]; nextCursor: string | null }>(projectPath(slug, '/signals'), { from, limit: 500 }, signal),
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
    mutationFn: () => api.post<{ from: string; to: string; buckets: number; metric: Metric }>(projectPath(slug, `/metrics/${id}/collect`)),
    onSuccess: invalidate,
  });
}

export function useBacktest(slug: string, id: number) {
  return useMutation({ mutationFn: (input: BacktestInput) => api.post<Backtest>(projectPath(slug, `/metrics/${id}/backtest`), input) });
}

/** Whether a role may change metrics and rules (editors and owners; API keys with write scope). */
export const canEdit = (role: string | null) => role === 'editor' || role === 'owner';
