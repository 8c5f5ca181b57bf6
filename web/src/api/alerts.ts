/**
 * Alerting (src/alerts/routes.ts): destinations (with "send test"), rules (with the simulator)
 * and the delivery log (with retry).
 */
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, projectPath } from './client';
import type { ApiBody, ApiResponse } from './schema.gen';

export const DESTINATION_KINDS = ['webhook', 'slack', 'telegram', 'email', 'jira', 'linear', 'pagerduty', 'teams'] as const;
export type DestinationKind = (typeof DESTINATION_KINDS)[number];

/** A destination: secrets say only which fields are set */
export type Destination = ApiResponse<'GET /api/projects/{slug}/alert-destinations/{id}'>;

/** POST/PATCH body: on PATCH, secrets left out are kept and null removes one */
export type DestinationInput = ApiBody<'PATCH /api/projects/{slug}/alert-destinations/{id}'>;

/** The receiver's answer to a test message */
export type TestResult = ApiResponse<'POST /api/projects/{slug}/alert-destinations/test'>;

export const SCOPE_KINDS = ['anomaly', 'threshold', 'schema', 'distribution'] as const;
export const DIRECTIONS = ['any', 'up', 'down'] as const;

export type AlertRule = ApiResponse<'GET /api/projects/{slug}/alert-rules/{id}'>;
export type RuleInput = ApiBody<'PATCH /api/projects/{slug}/alert-rules/{id}'>;

/** What a rule would have sent */
export type Simulation = ApiResponse<'POST /api/projects/{slug}/alert-rules/simulate'>;

export const DELIVERY_STATUSES = ['pending', 'sent', 'failed'] as const;
export const DELIVERY_EVENTS = ['opened', 'reopened', 'repeat', 'resolved', 'digest', 'test'] as const;

type DeliveryPage = ApiResponse<'GET /api/projects/{slug}/alert-deliveries'>;
export type Delivery = DeliveryPage['deliveries'][number];

export interface DeliveryQuery {
  status?: string;
  event?: string;
  rule?: number;
  destination?: number;
  incident?: number;
  limit?: number;
}

export const alertKeys = {
  all: (slug: string) => ['project', slug, 'alerts'] as const,
  destinations: (slug: string) => [...alertKeys.all(slug), 'destinations'] as const,
  rules: (slug: string) => [...alertKeys.all(slug), 'rules'] as const,
  deliveries: (slug: string, q: DeliveryQuery) => [...alertKeys.all(slug), 'deliveries', q] as const,
};

// ---- destinations ----

export function useDestinations(slug: string) {
  return useQuery({
    queryKey: alertKeys.destinations(slug),
    queryFn: ({ signal }) =>
      api.get<ApiResponse<'GET /api/projects/{slug}/alert-destinations'>>(projectPath(slug, '/alert-destinations'), undefined, signal),
  });
}

/** Creates (no id) or changes (id) a destination. */
export function useSaveDestination(slug: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, input }: { id?: number; input: DestinationInput }) =>
      id === undefined
        ? api.post<Destination>(projectPath(slug, '/alert-destinations'), input)
        : api.patch<Destination>(projectPath(slug, `/alert-destinations/${id}`), input),
    onSuccess: () => client.invalidateQueries({ queryKey: alertKeys.destinations(slug) }),
  });
}

export function useDeleteDestination(slug: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: number) => api.delete(projectPath(slug, `/alert-destinations/${id}`)),
    onSuccess: () => client.invalidateQueries({ queryKey: alertKeys.destinations(slug) }),
  });
}

/** Sends a test message: to a saved destination (id), or to unsaved settings (input). */
export function useTestDestination(slug: string) {
  return useMutation({
    mutationFn: (target: { id: number } | { input: DestinationInput }) =>
      'id' in target
        ? api.post<TestResult>(projectPath(slug, `/alert-destinations/${target.id}/test`))
        : api.post<TestResult>(projectPath(slug, '/alert-destinations/test'), target.input),
  });
}

// ---- rules ----

export function useAlertRules(slug: string) {
  return useQuery({
    queryKey: alertKeys.rules(slug),
    queryFn: ({ signal }) =>
      api.get<ApiResponse<'GET /api/projects/{slug}/alert-rules'>>(projectPath(slug, '/alert-rules'), undefined, signal),
  });
}

export function useSaveRule(slug: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, input }: { id?: number; input: RuleInput }) =>
      id === undefined
        ? api.post<AlertRule>(projectPath(slug, '/alert-rules'), input)
        : api.patch<AlertRule>(projectPath(slug, `/alert-rules/${id}`), input),
    onSuccess: () => client.invalidateQueries({ queryKey: alertKeys.rules(slug) }),
  });
}

export function useDeleteRule(slug: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: number) => api.delete(projectPath(slug, `/alert-rules/${id}`)),
    onSuccess: () => client.invalidateQueries({ queryKey: alertKeys.rules(slug) }),
  });
}

/** What a rule would have sent over the last `days` days: a saved one (id) or a draft (input). */
export function useSimulateRule(slug: string) {
  return useMutation({
    mutationFn: ({ id, input, days }: { id?: number; input?: RuleInput; days: number }) =>
      id !== undefined
        ? api.post<Simulation>(projectPath(slug, `/alert-rules/${id}/simulate`), { days })
        : api.post<Simulation>(projectPath(slug, '/alert-rules/simulate'), { ...input, days }),
  });
}

// ---- deliveries ----

export function useDeliveries(slug: string, q: DeliveryQuery) {
  const limit = q.limit ?? 50;
  return useInfiniteQuery({
    queryKey: alertKeys.deliveries(slug, q),
    queryFn: ({ signal, pageParam }) =>
      api.get<DeliveryPage>(projectPath(slug, '/alert-deliveries'), { ...q, limit, cursor: pageParam }, signal),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
}

export function useRetryDelivery(slug: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: number) =>
      api.post<ApiResponse<'POST /api/projects/{slug}/alert-deliveries/{id}/retry'>>(projectPath(slug, `/alert-deliveries/${id}/retry`)),
    onSuccess: () => client.invalidateQueries({ queryKey: [...alertKeys.all(slug), 'deliveries'] }),
  });
}
