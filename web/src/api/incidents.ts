/**
 * Incidents of a project (src/incidents/routes.ts): the list, one incident with its signals and
 * timeline, the stats, the actions (one or in bulk), and the series of the metric an incident is
 * about (src/metrics/routes.ts GET /metrics/:id/series) for its chart.
 */
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, projectPath } from './client';
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

/** src/signals/schemas.ts SignalSchema */
export interface Signal {
  id: number;
  scope: string;
  scopeKey: string;
  metricId: number | null;
  bucket: string;
  endBucket: string;
  kind: string;
  direction: string | null;
  value: number;
  expected: number | null;
  lower: number | null;
  upper: number | null;
  z: number;
  score: number;
  severity: string;
  details: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

/** src/incidents/schemas.ts TimelineEntry */
export interface TimelineEntry {
  id: number;
  type:
    | 'created'
    | 'signal_added'
    | 'status'
    | 'severity'
    | 'assigned'
    | 'comment'
    | 'muted'
    | 'false_positive'
    | 'false_positive_undone'
    | 'alert_sent'
    | string;
  actorId: number | null;
  data: Record<string, unknown>;
  at: string;
}

/** src/incidents/schemas.ts SignalExplanationSchema: why a signal fired, in words */
export interface SignalExplanation {
  subject: string;
  observed: string;
  expected: string | null;
  band: string | null;
  samples: number | null;
  detector: string;
  sentence: string;
}

/** GET /incidents/:id */
export interface IncidentDetail {
  incident: Incident;
  /** root first */
  signals: { role: 'root' | 'same_scope' | 'related' | string; addedAt: string; signal: Signal; explanation: SignalExplanation }[];
  /** oldest first */
  timeline: TimelineEntry[];
}

interface Duration {
  count: number;
  meanMs: number | null;
  medianMs: number | null;
}

/** A scope (a metric, a threshold rule, an event) and its incidents in the stats' window. */
export interface ScopeCount {
  scopeKey: string;
  metricId: number | null;
  title: string;
  incidents: number;
  falsePositives: number;
}

/** GET /incidents/stats */
export interface IncidentStats {
  days: number;
  total: number;
  byStatus: Record<string, number>;
  bySeverity: Record<string, number>;
  byResolution: Record<string, number>;
  noisiest: ScopeCount[];
  topRules: (ScopeCount & { ruleId: number })[];
  timeToAcknowledge: Duration;
  timeToResolve: Duration;
}

/** src/metrics/schemas.ts SeriesResultSchema */
export interface MetricSeries {
  metric: { id: number; name: string; unit: string; valueKind: string; interval: string };
  timeZone: string;
  from: string;
  to: string;
  buckets: string[];
  breakdown: string | null;
  series: { key: string; label: string; values: (number | null)[] }[];
  collectedUntil: string | null;
  signals: { bucket: string; endBucket: string; kind: string; direction: string | null; severity: string; score: number }[];
}

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

export interface MetricName {
  id: number;
  name: string;
  displayName: string;
  tags: string[];
  status: string;
}

/** The catalog's names (GET /metrics), for filters and pickers. */
export function useMetricNames(slug: string) {
  return useQuery({
    queryKey: incidentKeys.metricNames(slug),
    queryFn: async ({ signal }) =>
      (await api.get<{ metrics: MetricName[] }>(projectPath(slug, '/metrics'), undefined, signal)).metrics.map(
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
      api.post<{ incidents: Incident[] }>(projectPath(slug, '/incidents/bulk'), body),
    onSettled: () => client.invalidateQueries({ queryKey: incidentKeys.all(slug) }),
  });
}
