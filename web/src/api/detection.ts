/** A project's detection defaults, and a metric's settings in force (src/signals/detection-routes.ts). */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, projectPath } from './client';
import type { ApiBody, ApiResponse } from './schema.gen';

/** GET and PUT /detection: the project's settings, the defaults and the settling times in force */
type DetectionAnswer = ApiResponse<'GET /api/projects/{slug}/detection'>;
export type ProjectDetection = ApiBody<'PUT /api/projects/{slug}/detection'>;
type MetricDetectionAnswer = ApiResponse<'GET /api/projects/{slug}/metrics/{id}/detection'>;
type EffectiveSettling = MetricDetectionAnswer['effective']['settling'];

const detectionKey = (slug: string) => ['project', slug, 'detection'] as const;

export function useDetection(slug: string) {
  return useQuery({
    queryKey: detectionKey(slug),
    queryFn: ({ signal }) => api.get<DetectionAnswer>(projectPath(slug, '/detection'), undefined, signal),
  });
}

export function useSaveDetection(slug: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (settings: ProjectDetection) => api.put<DetectionAnswer>(projectPath(slug, '/detection'), settings),
    onSuccess: (answer) => client.setQueryData(detectionKey(slug), answer),
  });
}

/** Where a settling time in force comes from, in words. */
export const SETTLING_SOURCE_LABELS: Record<EffectiveSettling['source'], string> = {
  metric: 'set on metric',
  project: 'project default',
  observed: 'observed lateness p99',
  pushed: 'pushed measurements',
  default: 'fixed default: too few recent events to observe their lateness',
};

export const describeSettling = (s: EffectiveSettling) => `${s.minutes} min (${SETTLING_SOURCE_LABELS[s.source]})`;

export function useMetricDetection(slug: string, id: number) {
  return useQuery({
    queryKey: ['project', slug, 'metric-detection', id] as const,
    queryFn: ({ signal }) => api.get<MetricDetectionAnswer>(projectPath(slug, `/metrics/${id}/detection`), undefined, signal),
    enabled: id > 0,
  });
}
