/**
 * A project's settings: name and time zone (src/projects/routes.ts), and its security settings
 * (src/auth/admin-routes.ts): members and roles, invitations, API keys, the audit log.
 */
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, projectPath } from './client';
import { authKeys } from './auth';
import { projectKeys } from './projects';
import type { Project, Role } from './types';

export const ROLES: Role[] = ['viewer', 'editor', 'owner'];
export const KEY_SCOPES = ['ingest', 'read', 'write', 'admin'] as const;
export type KeyScope = (typeof KEY_SCOPES)[number];

export interface Member {
  userId: number;
  email: string;
  name: string;
  role: Role;
  since: string;
}

export interface Invitation {
  id: number;
  email: string;
  role: Role;
  state: 'pending' | 'accepted' | 'expired' | 'revoked';
  invitedBy: number | null;
  createdAt: string;
  expiresAt: string;
  acceptedAt: string | null;
  revokedAt: string | null;
}

export interface ApiKey {
  id: number;
  /** the first characters of the secret */
  prefix: string;
  name: string;
  scopes: KeyScope[];
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: { type: string; id: number | null; label: string };
  action: string;
  target: { type: string; id: string | null };
  summary: { before?: unknown; after?: unknown };
  requestId: string | null;
  ip: string | null;
}

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
    mutationFn: (body: { name?: string; timeZone?: string }) => api.patch<Project>(projectPath(slug), body),
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
    queryFn: ({ signal }) => api.get<{ members: Member[] }>(projectPath(slug, '/members'), undefined, signal),
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
    queryFn: ({ signal }) => api.get<{ invitations: Invitation[] }>(projectPath(slug, '/invitations'), undefined, signal),
    enabled,
  });
}

export function useInvite(slug: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: { email: string; role: Role }) =>
      api.post<{ invitation: Invitation; url: string; token: string; emailed: boolean }>(projectPath(slug, '/invitations'), body),
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
    queryFn: ({ signal }) => api.get<{ keys: ApiKey[] }>(projectPath(slug, '/keys'), undefined, signal),
    enabled,
  });
}

/** The answer holds the key's secret: the only time it is shown. */
export function useCreateApiKey(slug: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: { name: string; scopes: KeyScope[]; expiresAt?: string }) =>
      api.post<{ key: ApiKey; secret: string }>(projectPath(slug, '/keys'), body),
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
    queryFn: ({ signal, pageParam }) =>
      api.get<{ entries: AuditEntry[]; nextCursor: string | null }>(
        projectPath(slug, '/audit'),
        { ...q, limit: 50, cursor: pageParam },
        signal,
      ),
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
