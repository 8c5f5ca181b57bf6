/** The accounts domain: users, sessions, API keys, memberships, invitations, password resets and the audit log. */
import type { Config } from '../config.js';
import type { MetaStore } from '../meta-db.js';
import type { ProjectService } from '../projects/service.js';
import type { RoutesPlugin } from '../domain-module.js';
import { ApiKeyService } from './api-keys.js';
import { RateLimiter } from '../http/rate-limit.js';
import { UserService } from './users.js';
import { SessionService } from './sessions.js';
import { MembershipService } from './memberships.js';
import { AuditLog } from './audit.js';
import { InvitationService } from './invitations.js';
import { PasswordResetService } from './password-reset.js';
import { UserAdmin } from './user-admin.js';
import { createMailer } from './mailer.js';
import { authRoutes } from './routes.js';
import { passwordResetRoutes } from './password-reset-routes.js';
import { adminRoutes } from './admin-routes.js';
import { userAdminRoutes } from './user-admin-routes.js';
import type { AccessDeps } from './access.js';

export interface AuthModuleDeps {
  config: Config;
  meta: MetaStore;
  projects: ProjectService;
  now: () => number;
}

export function createAuthModule({ config, meta, projects, now }: AuthModuleDeps) {
  const db = meta.db;
  const apiKeys = new ApiKeyService(db, Date.now, new RateLimiter({ limit: config.keyFailureRateLimit, windowMs: 60_000 }));
  const users = new UserService(db, config.passwordScryptLogN, now);
  const sessions = new SessionService(db, config.secretKey, config.sessionDays * 86_400_000);
  const passwordResets = new PasswordResetService(db, users, sessions, config.secretKey);
  const memberships = new MembershipService(db);
  const audit = new AuditLog(db);
  const invitations = new InvitationService(db, projects, config.secretKey, config.invitationDays * 86_400_000);
  /** the instance admin's users page: every account's state, disable, unlock, reset links */
  const userAdmin = new UserAdmin(db, users, sessions, passwordResets, now);
  /** the instance's own e-mail (invitation and reset links), when VIGIL_SMTP_URL is set */
  const mailer = createMailer(config);
  const access: AccessDeps = { apiKeys, config, memberships, projects, sessions, users };

  const routes: RoutesPlugin = async (app) => {
    await app.register(authRoutes, { audit, config, memberships, projects, sessions, users });
    await app.register(adminRoutes, { apiKeys, audit, config, invitations, mailer, memberships, sessions, users });
    await app.register(userAdminRoutes, { audit, config, userAdmin });
    await app.register(passwordResetRoutes, { audit, config, mailer, passwordResets });
  };
  return { apiKeys, users, sessions, passwordResets, memberships, audit, invitations, userAdmin, mailer, access, routes };
}

export type AuthModule = ReturnType<typeof createAuthModule>;
