/** Event queries of a project (src/analytics/routes.ts, tracking-plan.ts). */
import { keepPreviousData, useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, projectPath } from './client';
import type { ApiResponse } from './schema.gen';
import type { EventPage, Interval, Overview, Timeseries, TopEvents, TrackingPlan } from './types';

/** A window as the API takes it: `from`/`to` are ISO, epoch ms or relative (-7d). */
export interface Window {
  from?: string;
  to?: string;
}

export const analyticsKeys = {
  all: (slug: string) => ['project', slug, 'analytics'] as const,
  overview: (slug: string, w: Window) => [...analyticsKeys.all(slug), 'overview', w] as const,
  timeseries: (slug: string, q: TimeseriesQuery) => [...analyticsKeys.all(slug), 'timeseries', q] as const,
  topEvents: (slug: string, q: Window & { limit?: number }) => [...analyticsKeys.all(slug), 'top-events', q] as const,
  events: (slug: string, q: EventsQuery) => [...analyticsKeys.all(slug), 'events', q] as const,
  trackingPlan: (slug: string, days: number) => [...analyticsKeys.all(slug), 'tracking-plan', days] as const,
};

export function useOverview(slug: string, w: Window) {
  return useQuery({
    queryKey: analyticsKeys.overview(slug, w),
    queryFn: ({ signal }) => api.get<Overview>(projectPath(slug, '/overview'), { ...w }, signal),
    placeholderData: keepPreviousData,
  });
}

export interface TimeseriesQuery extends Window {
  interval: Interval;
  event?: string;
  measure?: 'events' | 'users' | 'sessions';
  breakdown?: string;
  limit?: number;
}

export function useTimeseries(slug: string, q: TimeseriesQuery) {
  return useQuery({
    queryKey: analyticsKeys.timeseries(slug, q),
    queryFn: ({ signal }) => api.get<Timeseries>(projectPath(slug, '/timeseries'), { ...q }, signal),
    placeholderData: keepPreviousData,
  });
}

export function useTopEvents(slug: string, q: Window & { limit?: number }) {
  return useQuery({
    queryKey: analyticsKeys.topEvents(slug, q),
    queryFn: ({ signal }) => api.get<TopEvents>(projectPath(slug, '/top-events'), { ...q }, signal),
    placeholderData: keepPreviousData,
  });
}

export interface EventsQuery {
  event?: string;
  user?: string;
  /** epoch ms: only events before it */
  beforeMs?: number;
  limit?: number;
}

/**
 * GET /events has no time filter yet: "before a time" is a keyset cursor built here the way
 * src/analytics/service.ts encodeCursor builds it ([timestamp, messageId] as base64url JSON).
 * TODO(api): give GET /events `from`/`to` and drop this.
 */
export function cursorBefore(ms: number): string {
  return btoa(JSON.stringify([ms, '']))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

/** Pages of events, newest first; `fetchNextPage` continues with the server's cursor. */
export function useEvents(slug: string, q: EventsQuery) {
  return useInfiniteQuery({
    queryKey: analyticsKeys.events(slug, q),
    initialPageParam: q.beforeMs === undefined ? undefined : cursorBefore(q.beforeMs),
    queryFn: ({ pageParam, signal }) =>
      api.get<EventPage>(projectPath(slug, '/events'), { event: q.event, user: q.user, limit: q.limit ?? 50, cursor: pageParam }, signal),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
}

export function useTrackingPlan(slug: string, days: number) {
  return useQuery({
    queryKey: analyticsKeys.trackingPlan(slug, days),
    queryFn: ({ signal }) => api.get<TrackingPlan>(projectPath(slug, '/tracking-plan'), { days }, signal),
    placeholderData: keepPreviousData,
  });
}

/** Sends one "Vigil Test Event" through ingest; the project's charts are read again once it has had time to load. */
export function useSendTestEvent(slug: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => api.post<ApiResponse<'POST /api/projects/{slug}/test-event'>>(projectPath(slug, '/test-event'), {}),
    onSuccess: () => {
      setTimeout(() => void client.invalidateQueries({ queryKey: analyticsKeys.all(slug) }), 2000);
    },
  });
}
