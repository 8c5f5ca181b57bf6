/** Incidents of a project (src/incidents/routes.ts). The Incidents pages add their hooks here. */
import { useQuery } from '@tanstack/react-query';
import { api, projectPath } from './client';
import type { IncidentPage } from './types';

export interface IncidentsQuery {
  status?: 'open' | 'acknowledged' | 'resolved';
  severity?: 'minor' | 'significant' | 'major';
  limit?: number;
}

export const incidentKeys = {
  all: (slug: string) => ['project', slug, 'incidents'] as const,
  list: (slug: string, q: IncidentsQuery) => [...incidentKeys.all(slug), 'list', q] as const,
};

export function useIncidents(slug: string, q: IncidentsQuery) {
  return useQuery({ queryKey: incidentKeys.list(slug, q), queryFn: ({ signal }) => api.get<IncidentPage>(projectPath(slug, '/incidents'), { ...q }, signal) });
}
