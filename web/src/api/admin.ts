/** The instance admin's users page (src/auth/user-admin-routes.ts). */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from './client';
import type { ApiResponse } from './schema.gen';

type UserList = ApiResponse<'GET /api/admin/users'>;
export type InstanceUser = UserList['users'][number];
export type UserAction = 'disable' | 'enable' | 'unlock';

const usersKey = ['admin', 'users'] as const;

export function useInstanceUsers() {
  return useQuery({
    queryKey: usersKey,
    queryFn: ({ signal }) => api.get<UserList>('/api/admin/users', undefined, signal),
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
  return useMutation({
    mutationFn: (id: number) => api.post<ApiResponse<'POST /api/admin/users/{id}/password-reset'>>(`/api/admin/users/${id}/password-reset`),
  });
}
