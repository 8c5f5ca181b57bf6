/**
 * A project's security settings: members, invitations (and accepting one), API keys and the audit
 * log. Every route here refuses API keys (`keys: false`): a leaked key must not be able to mint
 * keys, add members or read who did what.
 */
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../app-context.js';
import { apiKeyRoutes } from './api-key-routes.js';
import { auditRoutes } from './audit-routes.js';
import { invitationRoutes } from './invitation-routes.js';
import { memberRoutes } from './member-routes.js';

export async function adminRoutes(app: FastifyInstance, opts: { ctx: AppContext }) {
  await app.register(memberRoutes, opts);
  await app.register(invitationRoutes, opts);
  await app.register(apiKeyRoutes, opts);
  await app.register(auditRoutes, opts);
}
