/** The instance's users, for its admin: the list, disable and enable, unlock, a password-reset link. */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ErrorBody, RowId, errorResponses } from '../http-schemas.js';
import { userOf } from './access.js';
import { linkOrigin } from './mailer.js';
import type { UserSummary } from './user-admin.js';
import { ResetLinkSchema, UserAdminSchema, type UserAdminApi } from './user-admin-schemas.js';
import type { Config } from '../config.js';
import type { AuditLog } from './audit.js';
import type { UserAdmin } from './user-admin.js';

const ADMIN = { access: { admin: true } } as const;
const tags = ['users'];
const errors = { ...errorResponses, 409: ErrorBody };
const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

const userForAdmin = (u: UserSummary): UserAdminApi => ({
  id: u.id,
  email: u.email,
  name: u.name,
  isAdmin: u.isAdmin,
  disabledAt: isoOrNull(u.disabledAt),
  lockedUntil: isoOrNull(u.lockedUntil),
  lastSignInAt: isoOrNull(u.lastSignInAt),
  projects: u.projects,
  createdAt: iso(u.createdAt),
});
const UserParams = Type.Object({ id: RowId() });

/** What these routes use: their own services and the few they name. */
export interface UserAdminRouteDeps {
  audit: AuditLog;
  config: Config;
  userAdmin: UserAdmin;
}

// long because each of its routes declares its schema and access rule inline
export async function userAdminRoutes(root: FastifyInstance, deps: UserAdminRouteDeps) {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const admin = deps.userAdmin;
  const audit = (request: FastifyRequest, action: string, user: { id: number; email: string }) =>
    deps.audit.record(request, { projectId: null, action, target: { type: 'user', id: user.id }, after: { email: user.email } });

  app.get(
    '/api/admin/users',
    {
      config: ADMIN,
      schema: {
        tags,
        summary: 'Every account of the instance with its state',
        response: { 200: Type.Object({ users: Type.Array(UserAdminSchema) }), ...errors },
      },
    },
    async () => ({ users: (await admin.list()).map(userForAdmin) }),
  );

  app.post(
    '/api/admin/users/:id/disable',
    {
      config: ADMIN,
      schema: {
        tags,
        summary: 'Disable an account: it cannot sign in, and its sessions end (409 for your own)',
        params: UserParams,
        response: { 200: UserAdminSchema, ...errors },
      },
    },
    async (request) => {
      const user = await admin.setDisabled(request.params.id, true, userOf(request));
      await audit(request, 'user.disable', user);
      return userForAdmin(user);
    },
  );

  app.post(
    '/api/admin/users/:id/enable',
    {
      config: ADMIN,
      schema: { tags, summary: 'Enable a disabled account again', params: UserParams, response: { 200: UserAdminSchema, ...errors } },
    },
    async (request) => {
      const user = await admin.setDisabled(request.params.id, false, userOf(request));
      await audit(request, 'user.enable', user);
      return userForAdmin(user);
    },
  );

  app.post(
    '/api/admin/users/:id/unlock',
    {
      config: ADMIN,
      schema: {
        tags,
        summary:
          'Lift the sign-in locks of an account after failed attempts, from every address (the locks are kept per process: in the scaled mode, on the process that answers)',
        params: UserParams,
        response: { 200: UserAdminSchema, ...errors },
      },
    },
    async (request) => {
      const user = await admin.unlock(request.params.id);
      await audit(request, 'user.unlock', user);
      return userForAdmin(user);
    },
  );

  app.post(
    '/api/admin/users/:id/password-reset',
    {
      config: ADMIN,
      schema: {
        tags,
        summary:
          'A single-use link (an hour) for the user to choose a new password, to hand over; their password and sessions stay until it is used',
        params: UserParams,
        response: { 201: ResetLinkSchema, ...errors },
      },
    },
    async (request, reply) => {
      const { user, link } = await admin.resetLink(request.params.id);
      await audit(request, 'user.reset_link', user);
      reply.code(201);
      return { url: `${linkOrigin(deps.config, request)}/reset-password/${link.token}`, expiresAt: iso(link.expiresAt) };
    },
  );
}
