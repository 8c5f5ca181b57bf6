/**
 * Incidents of a project (src/incidents/routes.ts): the list, one incident with its signals and
 * timeline, the stats, the actions (one or in bulk), and the series of the metric an incident is
 * about (src/metrics/routes.ts GET /metrics/:id/series) for its chart.
 */
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, projectPath } from './client';
import type { ApiResponse } from './schema.gen';
import type { Incident, IncidentPage } from './types';

export type IncidentStatus = Incident['status'];
export const INCIDENT_STATUSES: IncidentStatus[] = ['open', 'acknowledged', 'resolved'];

export interface IncidentsQuery {
  status?: IncidentStatus;
  severity?: Incident['severity'];
  /** a metric id */
  metric?: number;
  /** a scope key, or a prefix ending in * */
  scope?: string;
  from?: string;
  to?: string;
  limit?: number;
  cursor?: string;
}

/** GET /incidents/:id: the incident, its signals (root first) and its timeline (oldest first) */
export type IncidentDetail = ApiResponse<'GET /api/projects/{slug}/incidents/{id}'>;
export type Signal = IncidentDetail['signals'][number]['signal'];
export type SignalExplanation = IncidentDetail['signals'][number]['explanation'];
export type TimelineEntry = IncidentDetail['timeline'][number];

/** GET /incidents/stats */
export type IncidentStats = ApiResponse<'GET /api/projects/{slug}/incidents/stats'>;
/** A scope (a metric, a threshold rule, an event) and its incidents in the stats' window. */
export type ScopeCount = IncidentStats['noisiest'][number];

/** GET /metrics/:id/series */
export type MetricSeries = ApiResponse<'GET /api/projects/{slug}/metrics/{id}/series'>;

/** The actions of POST /incidents/:id/<action> and /incidents/bulk, with their fields. */
export type IncidentAction =
  | { action: 'acknowledge' | 'resolve' | 'reopen' | 'unmute' | 'false-positive' | 'undo-false-positive' }
  | { action: 'mute'; until: string }
  | { action: 'assign'; userId: number | null }
  | { action: 'comment'; body: string };

export const incidentKeys = {
  all: (slug: string) => ['project', slug, 'incidents'] as const,
  list: (slug: string, q: IncidentsQuery) => [...incidentKeys.all(slug), 'list', q] as const,
  one: (slug: string, id: number) => [...incidentKeys.all(slug), 'one', id] as const,
  stats: (slug: string, days: number) => [...incidentKeys.all(slug), 'stats', days] as const,
  pages: (slug: string, q: IncidentsQuery) => [...incidentKeys.all(slug), 'pages', q] as const,
  series: (slug: string, metricId: number, from: string, to: string) =>
    ['project', slug, 'metrics', metricId, 'series', { from, to }] as const,
  metricNames: (slug: string) => ['project', slug, 'metrics', 'names'] as const,
};

export function useIncidents(slug: string, q: IncidentsQuery) {
  return useQuery({
    queryKey: incidentKeys.list(slug, q),
    queryFn: ({ signal }) => api.get<IncidentPage>(projectPath(slug, '/incidents'), { ...q }, signal),
  });
}

/** The list a page at a time (newest first), for "Load older". */
export function useIncidentPages(slug: string, q: IncidentsQuery) {
  return useInfiniteQuery({
    queryKey: incidentKeys.pages(slug, q),
    queryFn: ({ signal, pageParam }) => api.get<IncidentPage>(projectPath(slug, '/incidents'), { ...q, cursor: pageParam }, signal),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
}

type MetricsList = ApiResponse<'GET /api/projects/{slug}/metrics'>;
export type MetricName = Pick<MetricsList['metrics'][number], 'id' | 'name' | 'displayName' | 'tags' | 'status'>;

/** The catalog's names (GET /metrics), for filters and pickers. */
export function useMetricNames(slug: string) {
  return useQuery({
    queryKey: incidentKeys.metricNames(slug),
    queryFn: async ({ signal }) =>
      (await api.get<MetricsList>(projectPath(slug, '/metrics'), undefined, signal)).metrics.map(
        ({ id, name, displayName, tags, status }) => ({ id, name, displayName, tags, status }),
      ),
    staleTime: 60_000,
  });
}

export function useIncident(slug: string, id: number) {
  return useQuery({
    queryKey: incidentKeys.one(slug, id),
    queryFn: ({ signal }) => api.get<IncidentDetail>(projectPath(slug, `/incidents/${id}`), undefined, signal),
  });
}

export function useIncidentStats(slug: string, days = 30) {
  return useQuery({
    queryKey: incidentKeys.stats(slug, days),
    queryFn: ({ signal }) => api.get<IncidentStats>(projectPath(slug, '/incidents/stats'), { days }, signal),
    staleTime: 60_000,
  });
}

/** A metric's values in [from, to) (ISO times), for the chart at an incident. */
export function useMetricSeries(slug: string, metricId: number | null, from: string, to: string) {
  return useQuery({
    queryKey: incidentKeys.series(slug, metricId ?? 0, from, to),
    queryFn: ({ signal }) => api.get<MetricSeries>(projectPath(slug, `/metrics/${metricId}/series`), { from, to }, signal),
    enabled: metricId !== null,
  });
}

function actionRequest(slug: string, id: number, a: IncidentAction): Promise<Incident> {
  const base = `/incidents/${id}`;
  switch (a.action) {
    case 'comment':
      return api.post<Incident>(projectPath(slug, `${base}/comments`), { body: a.body });
    case 'mute':
      return api.post<Incident>(projectPath(slug, `${base}/mute`), { until: a.until });
    case 'assign':
      return api.post<Incident>(projectPath(slug, `${base}/assign`), { userId: a.userId });
    default:
      return api.post<Incident>(projectPath(slug, `${base}/${a.action}`));
  }
}

/** One action on one incident; the incident's detail and the lists are fetched again after it. */
export function useIncidentAction(slug: string, id: number) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (a: IncidentAction) => actionRequest(slug, id, a),
    // after a 409 too: someone else changed it, and the page should show how it is now
    onSettled: () => client.invalidateQueries({ queryKey: incidentKeys.all(slug) }),
  });
}

/** One action on many incidents, all or nothing (a 409 for one changes none). */
export function useBulkIncidents(slug: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: { ids: number[]; action: 'acknowledge' | 'resolve' }) =>
      api.post<ApiResponse<'POST /api/projects/{slug}/incidents/bulk'>>(projectPath(slug, '/incidents/bulk'), body),
    onSettled: () => client.invalidateQueries({ queryKey: incidentKeys.all(slug) }),
  });
}
