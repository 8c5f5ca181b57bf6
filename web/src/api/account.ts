/**
 * Joining and keeping an account: registration, invitation links, password reset by e-mail
 * (src/auth/password-reset-routes.ts) and changing one's password (src/auth/routes.ts).
 */
import { useMutation, useQuery } from '@tanstack/react-query';
import { api } from './client';
import { useSessionChange } from './auth';
import type { ApiBody, ApiResponse } from './schema.gen';
import type { SignedIn } from './types';

export type AuthOptions = ApiResponse<'GET /api/auth/options'>;

/** GET /api/invitations/:token */
export type InvitationLink = ApiResponse<'GET /api/invitations/{token}'>;

/** POST /api/invitations/:token/accept (with a session when it created the account) */
export type Accepted = ApiResponse<'POST /api/invitations/{token}/accept'>;

const token = (t: string) => encodeURIComponent(t);

export function useAuthOptions() {
  return useQuery({ queryKey: ['auth-options'], queryFn: () => api.get<AuthOptions>('/api/auth/options'), staleTime: Infinity });
}

export function useRegister() {
  const changed = useSessionChange();
  return useMutation({
    mutationFn: (body: ApiBody<'POST /api/auth/register'>) => api.post<SignedIn>('/api/auth/register', body),
    onSuccess: changed,
  });
}

export function useChangePassword() {
  return useMutation({
    mutationFn: (body: ApiBody<'POST /api/auth/password'>) => api.post<ApiResponse<'POST /api/auth/password'>>('/api/auth/password', body),
  });
}

// ---- invitation links ----

export function useInvitationLink(t: string) {
  return useQuery({
    queryKey: ['invitation-link', t],
    queryFn: () => api.get<InvitationLink>(`/api/invitations/${token(t)}`),
    staleTime: Infinity,
  });
}

/** Accepts as the signed-in user (no body), or creates the account (name and password) and signs in. */
export function useAcceptInvitation(t: string) {
  const changed = useSessionChange();
  return useMutation({
    mutationFn: (body: ApiBody<'POST /api/invitations/{token}/accept'>) => api.post<Accepted>(`/api/invitations/${token(t)}/accept`, body),
    onSuccess: changed,
  });
}

/** For someone with an account who is signed out: sign in, then accept, as one step. */
export function useSignInAndAccept(t: string) {
  const changed = useSessionChange();
  return useMutation({
    mutationFn: async (body: ApiBody<'POST /api/auth/sign-in'>) => {
      await api.post<SignedIn>('/api/auth/sign-in', body);
      return api.post<Accepted>(`/api/invitations/${token(t)}/accept`, {});
    },
    // signed in even when accepting then failed
    onSettled: changed,
  });
}

// ---- password reset ----

export function useForgotPassword() {
  return useMutation({
    mutationFn: (body: ApiBody<'POST /api/auth/forgot-password'>) =>
      api.post<ApiResponse<'POST /api/auth/forgot-password'>>('/api/auth/forgot-password', body),
  });
}

export function useResetLink(t: string) {
  return useQuery({
    queryKey: ['reset-link', t],
    queryFn: () => api.get<ApiResponse<'GET /api/auth/password-resets/{token}'>>(`/api/auth/password-resets/${token(t)}`),
    staleTime: Infinity,
  });
}

export function useResetPassword(t: string) {
  const changed = useSessionChange();
  return useMutation({
    mutationFn: (body: ApiBody<'POST /api/auth/password-resets/{token}'>) =>
      api.post<ApiResponse<'POST /api/auth/password-resets/{token}'>>(`/api/auth/password-resets/${token(t)}`, body),
    // every session of the account ended, perhaps this browser's
    onSuccess: changed,
  });
}
