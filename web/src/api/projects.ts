/** Projects (src/projects/routes.ts). */
import { queryOptions, useQuery } from '@tanstack/react-query';
import { api, projectPath } from './client';
import type { Project } from './types';

export const projectKeys = {
  one: (slug: string) => ['project', slug] as const,
};

export const projectQuery = (slug: string) => queryOptions({ queryKey: projectKeys.one(slug), queryFn: ({ signal }) => api.get<Project>(projectPath(slug), undefined, signal), staleTime: 5 * 60_000 });

export function useProject(slug: string) {
  return useQuery(projectQuery(slug));
}
