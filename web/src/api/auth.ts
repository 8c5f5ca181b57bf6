/** Setup, sign-in, sign-out and the signed-in user (src/auth/routes.ts). */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, api, setCsrfToken } from './client';
import type { ApiBody, ApiResponse } from './schema.gen';
import type { Me, SignedIn } from './types';

export const authKeys = {
  setup: ['setup'] as const,
  me: ['me'] as const,
};

/** Whether the instance still needs its first owner. */
export function useSetupStatus() {
  return useQuery({ queryKey: authKeys.setup, queryFn: () => api.get<ApiResponse<'GET /api/setup'>>('/api/setup'), staleTime: Infinity });
}

/** The signed-in user and their projects; `null` when signed out (a 401). */
export function useMe() {
  return useQuery({
    queryKey: authKeys.me,
    queryFn: async (): Promise<Me | null> => {
      try {
        const me = await api.get<Me>('/api/auth/me');
        setCsrfToken(me.csrfToken);
        return me;
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) return null;
        throw err;
      }
    },
    staleTime: 60_000,
  });
}

/** After a session starts or ends, everything cached belonged to someone else. */
export function useSessionChange() {
  const client = useQueryClient();
  return async () => {
    client.removeQueries({ predicate: (q) => q.queryKey[0] !== 'me' && q.queryKey[0] !== 'setup' });
    await Promise.all([client.invalidateQueries({ queryKey: authKeys.me }), client.invalidateQueries({ queryKey: authKeys.setup })]);
  };
}

export function useCreateOwner() {
  const changed = useSessionChange();
  return useMutation({
    mutationFn: (body: ApiBody<'POST /api/setup'>) => api.post<SignedIn>('/api/setup', body),
    onSuccess: changed,
  });
}

export function useSignIn() {
  const changed = useSessionChange();
  return useMutation({
    mutationFn: (body: ApiBody<'POST /api/auth/sign-in'>) => api.post<SignedIn>('/api/auth/sign-in', body),
    onSuccess: changed,
  });
}

export function useSignOut() {
  const changed = useSessionChange();
  return useMutation({
    mutationFn: () => api.post<void>('/api/auth/sign-out'),
    onSuccess: async () => {
      setCsrfToken(null);
      await changed();
    },
  });
}
