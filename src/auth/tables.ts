/** The tables of accounts and access: API keys, users, sessions, memberships, invitations, password resets, the audit log. Times are epoch milliseconds (see src/meta-db.ts). */
import type { Generated } from 'kysely';

export interface ApiKeyTable {
  id: Generated<number>;
  project_id: number;
  name: string;
  prefix: string;
  secret_hash: string;
  scopes: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
}

export interface UserTable {
  id: Generated<number>;
  email: string;
  name: string;
  password_hash: string;
  is_admin: number;
  failed_signins: number;
  locked_until: number | null;
  password_changed_at: number;
  created_at: number;
  /** set while an admin has disabled the account: it cannot sign in */
  disabled_at: number | null;
  last_signin_at: number | null;
}

export interface SessionTable {
  id: Generated<number>;
  user_id: number;
  token_hash: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  user_agent: string;
}

export interface MembershipTable {
  project_id: number;
  user_id: number;
  /** owner | editor | viewer */
  role: string;
  created_at: number;
}

export interface InvitationTable {
  id: Generated<number>;
  project_id: number;
  email: string;
  role: string;
  token_hash: string;
  invited_by: number | null;
  created_at: number;
  expires_at: number;
  accepted_at: number | null;
  revoked_at: number | null;
}

/** A password-reset link: only its token's HMAC; `used_at` once it (or another link of the same user) set a password. */
export interface PasswordResetTable {
  id: Generated<number>;
  user_id: number;
  token_hash: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: number;
  project_id: number | null;
  actor_type: string;
  actor_id: number | null;
  actor_label: string;
  action: string;
  target_type: string;
  target_id: string | null;
  /** JSON { before?, after? } */
  summary: string;
  request_id: string | null;
  ip: string | null;
}
