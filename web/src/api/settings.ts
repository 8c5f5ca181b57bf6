/**
 * A project's settings: name and time zone (src/projects/routes.ts), and its security settings
 * (src/auth/admin-routes.ts): members and roles, invitations, API keys, the audit log.
 */
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, projectPath } from './client';
import { authKeys } from './auth';
import { projectKeys } from './projects';
import type { ApiBody, ApiResponse } from './schema.gen';
import type { Project, Role } from './types';

export const ROLES: Role[] = ['viewer', 'editor', 'owner'];
export const KEY_SCOPES = ['ingest', 'read', 'write', 'admin'] as const satisfies readonly KeyScope[];
export type KeyScope = ApiKey['scopes'][number];

type MemberList = ApiResponse<'GET /api/projects/{slug}/members'>;
export type Member = MemberList['members'][number];

type InvitationList = ApiResponse<'GET /api/projects/{slug}/invitations'>;
export type Invitation = InvitationList['invitations'][number];

type KeyList = ApiResponse<'GET /api/projects/{slug}/keys'>;
export type ApiKey = KeyList['keys'][number];

type AuditPage = ApiResponse<'GET /api/projects/{slug}/audit'>;
export type AuditEntry = AuditPage['entries'][number];

export interface AuditQuery {
  action?: string;
  actor?: string;
  targetType?: string;
}

export const settingsKeys = {
  members: (slug: string) => ['project', slug, 'members'] as const,
  invitations: (slug: string) => ['project', slug, 'invitations'] as const,
  keys: (slug: string) => ['project', slug, 'keys'] as const,
  audit: (slug: string, q: AuditQuery) => ['project', slug, 'audit', q] as const,
};

export function useUpdateProject(slug: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: ApiBody<'PATCH /api/projects/{slug}'>) => api.patch<Project>(projectPath(slug), body),
    onSuccess: (project) => {
      client.setQueryData(projectKeys.one(slug), project);
      // the project switcher shows the name
      void client.invalidateQueries({ queryKey: authKeys.me });
    },
  });
}

// ---- members and invitations ----

export function useMembers(slug: string) {
  return useQuery({
    queryKey: settingsKeys.members(slug),
    queryFn: ({ signal }) => api.get<MemberList>(projectPath(slug, '/members'), undefined, signal),
    staleTime: 60_000,
  });
}

export function useSetRole(slug: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ userId, role }: { userId: number; role: Role }) => api.patch<Member>(projectPath(slug, `/members/${userId}`), { role }),
    onSettled: () => client.invalidateQueries({ queryKey: settingsKeys.members(slug) }),
  });
}

export function useRemoveMember(slug: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (userId: number) => api.delete(projectPath(slug, `/members/${userId}`)),
    onSuccess: () => client.invalidateQueries({ queryKey: settingsKeys.members(slug) }),
  });
}

export function useInvitations(slug: string, enabled = true) {
  return useQuery({
    queryKey: settingsKeys.invitations(slug),
    queryFn: ({ signal }) => api.get<InvitationList>(projectPath(slug, '/invitations'), undefined, signal),
    enabled,
  });
}

export function useInvite(slug: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: ApiBody<'POST /api/projects/{slug}/invitations'>) =>
      api.post<ApiResponse<'POST /api/projects/{slug}/invitations'>>(projectPath(slug, '/invitations'), body),
    onSuccess: () => client.invalidateQueries({ queryKey: settingsKeys.invitations(slug) }),
  });
}

export function useRevokeInvitation(slug: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: number) => api.delete<Invitation>(projectPath(slug, `/invitations/${id}`)),
    onSuccess: () => client.invalidateQueries({ queryKey: settingsKeys.invitations(slug) }),
  });
}

// ---- API keys ----

export function useApiKeys(slug: string, enabled = true) {
  return useQuery({
    queryKey: settingsKeys.keys(slug),
    queryFn: ({ signal }) => api.get<KeyList>(projectPath(slug, '/keys'), undefined, signal),
    enabled,
  });
}

/** The answer holds the key's secret: the only time it is shown. */
export function useCreateApiKey(slug: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: ApiBody<'POST /api/projects/{slug}/keys'>) =>
      api.post<ApiResponse<'POST /api/projects/{slug}/keys'>>(projectPath(slug, '/keys'), body),
    onSuccess: () => client.invalidateQueries({ queryKey: settingsKeys.keys(slug) }),
  });
}

export function useRevokeApiKey(slug: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: number) => api.delete<ApiKey>(projectPath(slug, `/keys/${id}`)),
    onSuccess: () => client.invalidateQueries({ queryKey: settingsKeys.keys(slug) }),
  });
}

// ---- audit log ----

export function useAuditLog(slug: string, q: AuditQuery, enabled = true) {
  return useInfiniteQuery({
    queryKey: settingsKeys.audit(slug, q),
    queryFn: ({ signal, pageParam }) => api.get<AuditPage>(projectPath(slug, '/audit'), { ...q, limit: 50, cursor: pageParam }, signal),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    enabled,
  });
}

/** The NDJSON export of the entries matching `q` (a download link). */
export const auditExportUrl = (slug: string, q: AuditQuery) => {
  const params = new URLSearchParams(Object.entries(q).filter(([, v]) => v) as [string, string][]).toString();
  return projectPath(slug, '/audit/export') + (params ? `?${params}` : '');
};

const RANK: Record<Role, number> = { viewer: 0, editor: 1, owner: 2 };

/** Whether the caller's role (the project's `role`) is at least `least`: what the server's access rules ask. */
export function hasRole(role: Role | null | undefined, least: Role): boolean {
  return !!role && RANK[role] >= RANK[least];
}
