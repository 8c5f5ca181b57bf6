/** The instance admin's users page (src/auth/user-admin-routes.ts). */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ResetLinkApi, UserAdminApi } from '../../../src/auth/user-admin-schemas';
import { api } from './client';

export type InstanceUser = UserAdminApi;
export type UserAction = 'disable' | 'enable' | 'unlock';

const usersKey = ['admin', 'users'] as const;

export function useInstanceUsers() {
  return useQuery({
    queryKey: usersKey,
    queryFn: ({ signal }) => api.get<{ users: InstanceUser[] }>('/api/admin/users', undefined, signal),
  });
}

export function useUserAction() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, action }: { id: number; action: UserAction }) => api.post<InstanceUser>(`/api/admin/users/${id}/${action}`),
    onSuccess: () => client.invalidateQueries({ queryKey: usersKey }),
  });
}

/** A single-use link for the user to choose a new password; the answer is the only time it is shown. */
export function useResetLink() {
  return useMutation({ mutationFn: (id: number) => api.post<ResetLinkApi>(`/api/admin/users/${id}/password-reset`) });
}
