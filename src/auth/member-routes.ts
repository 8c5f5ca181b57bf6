/** A project's members: who they are, their role, changing it and removing them. */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { RowId, SlugParams } from '../http-schemas.js';
import { projectOf } from './access.js';
import { OWNER, RoleSchema, Time, VIEWER, errors, iso } from './admin-schemas.js';
import type { Member } from './memberships.js';
import type { AuditLog } from './audit.js';
import type { MembershipService } from './memberships.js';

const MemberSchema = Type.Object({ userId: Type.Integer(), email: Type.String(), name: Type.String(), role: RoleSchema, since: Time });
const memberForApi = (m: Member): Static<typeof MemberSchema> => ({
  userId: m.userId,
  email: m.email,
  name: m.name,
  role: m.role,
  since: iso(m.since),
});

/** What these routes use: their own services and the few they name. */
export interface MemberRouteDeps {
  audit: AuditLog;
  memberships: MembershipService;
}

export async function memberRoutes(root: FastifyInstance, deps: MemberRouteDeps) {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const MemberParams = Type.Object({ slug: Type.String(), userId: RowId() });
  const memberTags = ['members'];

  app.get(
    '/api/projects/:slug/members',
    {
      config: VIEWER,
      schema: {
        tags: memberTags,
        summary: "The project's members with their role",
        params: SlugParams,
        response: { 200: Type.Object({ members: Type.Array(MemberSchema) }), ...errors },
      },
    },
    async (request) => ({ members: (await deps.memberships.list(projectOf(request).id)).map(memberForApi) }),
  );

  app.patch(
    '/api/projects/:slug/members/:userId',
    {
      config: OWNER,
      schema: {
        tags: memberTags,
        summary: "Change a member's role (409 when the project would be left without an owner)",
        params: MemberParams,
        body: Type.Object({ role: RoleSchema }, { additionalProperties: false }),
        response: { 200: MemberSchema, ...errors },
      },
    },
    async (request) => {
      const { before, after } = await deps.memberships.setRole(projectOf(request).id, request.params.userId, request.body.role);
      if (before.role !== after.role)
        await deps.audit.record(request, {
          action: 'member.update',
          target: { type: 'member', id: after.userId },
          before: { email: before.email, role: before.role },
          after: { email: after.email, role: after.role },
        });
      return memberForApi(after);
    },
  );

  app.delete(
    '/api/projects/:slug/members/:userId',
    {
      config: OWNER,
      schema: {
        tags: memberTags,
        summary: 'Remove a member (409 for the last owner)',
        params: MemberParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      const before = await deps.memberships.remove(projectOf(request).id, request.params.userId);
      await deps.audit.record(request, {
        action: 'member.remove',
        target: { type: 'member', id: before.userId },
        before: { email: before.email, role: before.role },
      });
      return reply.code(204).send(null);
    },
  );
}
