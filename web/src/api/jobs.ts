/** A project's background jobs (src/jobs/routes.ts). */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, projectPath } from './client';
import type { ApiResponse } from './schema.gen';

type JobList = ApiResponse<'GET /api/projects/{slug}/jobs'>;
export type Job = JobList['jobs'][number];

const jobsKey = (slug: string) => ['project', slug, 'jobs'] as const;
/** while a job is queued or running, the list refreshes this often (progress moves) */
const LIVE_REFRESH_MS = 2_000;

export function useJobs(slug: string) {
  return useQuery({
    queryKey: jobsKey(slug),
    queryFn: ({ signal }) => api.get<JobList>(projectPath(slug, '/jobs'), { limit: 200 }, signal),
    refetchInterval: (q) => (q.state.data?.jobs.some((j) => j.status === 'queued' || j.status === 'running') ? LIVE_REFRESH_MS : false),
  });
}

export function useRetryJob(slug: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: number) => api.post<Job>(projectPath(slug, `/jobs/${id}/retry`)),
    onSuccess: () => client.invalidateQueries({ queryKey: jobsKey(slug) }),
  });
}
