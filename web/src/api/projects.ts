/** Projects (src/projects/routes.ts): one project, creating one (instance admin), deleting one (owner). */
import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, projectPath } from './client';
import { authKeys } from './auth';
import type { ApiBody } from './schema.gen';
import type { Project } from './types';

export const projectKeys = {
  one: (slug: string) => ['project', slug] as const,
};

export const projectQuery = (slug: string) =>
  queryOptions({
    queryKey: projectKeys.one(slug),
    queryFn: ({ signal }) => api.get<Project>(projectPath(slug), undefined, signal),
    staleTime: 5 * 60_000,
  });

export function useProject(slug: string) {
  return useQuery(projectQuery(slug));
}

/** The project switcher lists the signed-in user's projects (GET /api/auth/me): it changes with these. */
function useRefreshMe() {
  const client = useQueryClient();
  return () => client.invalidateQueries({ queryKey: authKeys.me });
}

export function useCreateProject() {
  const refreshMe = useRefreshMe();
  return useMutation({
    mutationFn: (body: ApiBody<'POST /api/projects'>) => api.post<Project>('/api/projects', body),
    onSuccess: refreshMe,
  });
}

export function useDeleteProject(slug: string) {
  const client = useQueryClient();
  const refreshMe = useRefreshMe();
  return useMutation({
    mutationFn: () => api.delete(projectPath(slug)),
    onSuccess: async () => {
      client.removeQueries({ queryKey: projectKeys.one(slug) });
      await refreshMe();
    },
  });
}
