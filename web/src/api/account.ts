/**
 * Joining and keeping an account: registration, invitation links, password reset by e-mail
 * (src/auth/password-reset-routes.ts) and changing one's password (src/auth/routes.ts).
 */
import { useMutation, useQuery } from '@tanstack/react-query';
import { api } from './client';
import { useSessionChange } from './auth';
import type { Role, SignedIn } from './types';

/** GET /api/auth/options */
export interface AuthOptions {
  openRegistration: boolean;
  passwordResetByEmail: boolean;
}

/** GET /api/invitations/:token */
export interface InvitationLink {
  project: { slug: string; name: string };
  email: string;
  role: Role;
  expiresAt: string;
  accountExists: boolean;
}

/** POST /api/invitations/:token/accept (with a session when it created the account) */
export interface Accepted {
  project: { slug: string; name: string };
  role: Role;
}

const token = (t: string) => encodeURIComponent(t);

export function useAuthOptions() {
  return useQuery({ queryKey: ['auth-options'], queryFn: () => api.get<AuthOptions>('/api/auth/options'), staleTime: Infinity });
}

export function useRegister() {
  const changed = useSessionChange();
  return useMutation({
    mutationFn: (body: { email: string; name?: string; password: string }) => api.post<SignedIn>('/api/auth/register', body),
    onSuccess: changed,
  });
}

export function useChangePassword() {
  return useMutation({
    mutationFn: (body: { currentPassword: string; newPassword: string }) => api.post<SignedIn>('/api/auth/password', body),
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
    mutationFn: (body: { name?: string; password?: string }) => api.post<Accepted>(`/api/invitations/${token(t)}/accept`, body),
    onSuccess: changed,
  });
}

/** For someone with an account who is signed out: sign in, then accept, as one step. */
export function useSignInAndAccept(t: string) {
  const changed = useSessionChange();
  return useMutation({
    mutationFn: async (body: { email: string; password: string }) => {
      await api.post<SignedIn>('/api/auth/sign-in', body);
      return api.post<Accepted>(`/api/invitations/${token(t)}/accept`, {});
    },
    // signed in even when accepting then failed
    onSettled: changed,
  });
}

// ---- password reset ----

export function useForgotPassword() {
  return useMutation({ mutationFn: (body: { email: string }) => api.post<{ message: string }>('/api/auth/forgot-password', body) });
}

export function useResetLink(t: string) {
  return useQuery({
    queryKey: ['reset-link', t],
    queryFn: () => api.get<{ email: string; expiresAt: string }>(`/api/auth/password-resets/${token(t)}`),
    staleTime: Infinity,
  });
}

export function useResetPassword(t: string) {
  const changed = useSessionChange();
  return useMutation({
    mutationFn: (body: { password: string }) => api.post<{ email: string }>(`/api/auth/password-resets/${token(t)}`, body),
    // every session of the account ended, perhaps this browser's
    onSuccess: changed,
  });
}
