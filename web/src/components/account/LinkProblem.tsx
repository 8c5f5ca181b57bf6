/** Why a link from an e-mail (an invitation, a password reset) cannot be used, in plain words, and what to do next. */
import type { ReactNode } from 'react';
import { ApiError } from '../../api/client';
import { ErrorState } from '../States';

/** The 410's details.state (accepted, revoked, expired, used), or 'unknown' for a 404. */
export function linkState(error: unknown): string | null {
  if (!(error instanceof ApiError)) return null;
  if (error.status === 404) return 'unknown';
  const state = error.details?.state;
  return error.status === 410 && typeof state === 'string' ? state : null;
}

/** `titles` by state; `unknown` says what to check when the link is not known at all (else the server's message). */
export function LinkProblem({
  error,
  titles,
  unknown,
  next,
  onRetry,
}: {
  error: unknown;
  titles: Record<string, string>;
  unknown?: string;
  next: ReactNode;
  onRetry: () => void;
}) {
  const state = linkState(error);
  if (!state || !titles[state]) return <ErrorState error={error} onRetry={onRetry} />;
  const message = state === 'unknown' && unknown ? unknown : (error as ApiError).message;
  return (
    <>
      <h1>{titles[state]}</h1>
      <p>{message.charAt(0).toUpperCase() + message.slice(1)}.</p>
      <p>{next}</p>
    </>
  );
}
