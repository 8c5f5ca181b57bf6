/** A project's detection defaults (src/signals/detection-routes.ts). */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { DetectionAnswer, ProjectDetectionApi } from '../../../src/signals/detection-schemas';
import { api, projectPath } from './client';

export type ProjectDetection = ProjectDetectionApi;

const detectionKey = (slug: string) => ['project', slug, 'detection'] as const;

export function useDetection(slug: string) {
  return useQuery({ queryKey: detectionKey(slug), queryFn: ({ signal }) => api.get<DetectionAnswer>(projectPath(slug, '/detection'), undefined, signal) });
}

export function useSaveDetection(slug: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (settings: ProjectDetection) => api.put<DetectionAnswer>(projectPath(slug, '/detection'), settings),
    onSuccess: (answer) => client.setQueryData(detectionKey(slug), answer),
  });
}
