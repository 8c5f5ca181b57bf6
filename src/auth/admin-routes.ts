/**
 * A project's security settings: members, invitations (and accepting one), API keys and the audit
 * log. Every route here refuses API keys (`keys: false`): a leaked key must not be able to mint
 * keys, add members or read who did what.
 */
import type { FastifyInstance } from 'fastify';
import { apiKeyRoutes, type ApiKeyRouteDeps } from './api-key-routes.js';
import { auditRoutes, type AuditRouteDeps } from './audit-routes.js';
import { invitationRoutes, type InvitationRouteDeps } from './invitation-routes.js';
import { memberRoutes, type MemberRouteDeps } from './member-routes.js';

export type AdminRouteDeps = MemberRouteDeps & InvitationRouteDeps & ApiKeyRouteDeps & AuditRouteDeps;

export async function adminRoutes(app: FastifyInstance, deps: AdminRouteDeps) {
  await app.register(memberRoutes, deps);
  await app.register(invitationRoutes, deps);
  await app.register(apiKeyRoutes, deps);
  await app.register(auditRoutes, deps);
}
