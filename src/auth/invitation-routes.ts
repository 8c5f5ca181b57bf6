/** A project's invitations: inviting by email, listing, revoking, and the public link (what it is for, accepting it). */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { RowId, SlugParams } from '../http-schemas.js';
import { VigilError } from '../errors.js';
import { projectOf, startSession, userOf } from './access.js';
import { OWNER, RoleSchema, Time, TimeOrNull, errors, iso, isoOrNull, publicErrors } from './admin-schemas.js';
import type { Invitation } from './invitations.js';
import { roleRank } from './memberships.js';
import { SignedIn } from './routes.js';
import { CSRF_HEADER } from './sessions.js';
import { normalizeEmail } from './users.js';
import { invitationMail } from './account-mail.js';
import { linkOrigin, trySend } from './mailer.js';
import type { Config } from '../config.js';
import type { AuditLog } from './audit.js';
import type { InvitationService } from './invitations.js';
import type { Mailer } from './mailer.js';
import type { MembershipService } from './memberships.js';
import type { SessionService } from './sessions.js';
import type { UserService } from './users.js';

const InvitationSchema = Type.Object({
  id: Type.Integer(),
  email: Type.String(),
  role: RoleSchema,
  state: Type.Union([Type.Literal('pending'), Type.Literal('accepted'), Type.Literal('expired'), Type.Literal('revoked')]),
  invitedBy: Type.Union([Type.Integer(), Type.Null()], { description: 'user id of the owner who invited' }),
  createdAt: Time,
  expiresAt: Time,
  acceptedAt: TimeOrNull,
  revokedAt: TimeOrNull,
});
const invitationForApi = (i: Invitation): Static<typeof InvitationSchema> => ({
  id: i.id,
  email: i.email,
  role: i.role,
  state: i.state,
  invitedBy: i.invitedBy,
  createdAt: iso(i.createdAt),
  expiresAt: iso(i.expiresAt),
  acceptedAt: isoOrNull(i.acceptedAt),
  revokedAt: isoOrNull(i.revokedAt),
});

/** What these routes use: their own services and the few they name. */
export interface InvitationRouteDeps {
  audit: AuditLog;
  config: Config;
  invitations: InvitationService;
  mailer: Mailer | undefined;
  memberships: MembershipService;
  sessions: SessionService;
  users: UserService;
}

// long because each of its five routes declares its schema inline; the accepting itself is InvitationService's
export async function invitationRoutes(root: FastifyInstance, deps: InvitationRouteDeps) {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const invitations = deps.invitations;
  const invitationTags = ['invitations'];
  const TokenParams = Type.Object({ token: Type.String({ maxLength: 100 }) });
  const Accepted = Type.Object({ project: Type.Object({ slug: Type.String(), name: Type.String() }), role: RoleSchema });

  app.get(
    '/api/projects/:slug/invitations',
    {
      config: OWNER,
      schema: {
        tags: invitationTags,
        summary: "The project's invitations, newest first, with their state",
        params: SlugParams,
        response: { 200: Type.Object({ invitations: Type.Array(InvitationSchema) }), ...errors },
      },
    },
    async (request) => ({ invitations: (await invitations.list(projectOf(request).id)).map(invitationForApi) }),
  );

  app.post(
    '/api/projects/:slug/invitations',
    {
      config: OWNER,
      schema: {
        tags: invitationTags,
        summary: `Invite someone by email; the link is e-mailed when VIGIL_SMTP_URL is set (emailed), and the answer's url (with the token) is shown only this once`,
        params: SlugParams,
        body: Type.Object({ email: Type.String({ maxLength: 320 }), role: RoleSchema }, { additionalProperties: false }),
        response: {
          201: Type.Object({
            invitation: InvitationSchema,
            url: Type.String(),
            token: Type.String(),
            emailed: Type.Boolean({ description: 'whether the link was e-mailed to the invitee' }),
          }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const project = projectOf(request);
      const email = normalizeEmail(request.body.email);
      const user = await deps.users.findByEmail(email);
      const current = user && (await deps.memberships.roleOf(project.id, user.id));
      if (current && roleRank(current) >= roleRank(request.body.role))
        throw new VigilError('VIGIL_ERR_CONFLICT', `${email} is already ${current === 'editor' ? 'an' : 'a'} ${current} of this project`, {
          field: 'email',
        });
      const { invitation, token } = await invitations.create(project.id, { email, role: request.body.role }, userOf(request).id);
      await deps.audit.record(request, {
        action: 'invitation.create',
        target: { type: 'invitation', id: invitation.id },
        after: { email, role: invitation.role, expiresAt: iso(invitation.expiresAt) },
      });
      const url = `${linkOrigin(deps.config, request)}/invite/${token}`;
      const mail = invitationMail({
        to: email,
        projectName: project.name,
        role: invitation.role,
        url,
        expiresAt: invitation.expiresAt,
        invitedBy: userOf(request).name || userOf(request).email,
      });
      const emailed = await trySend(deps.mailer, mail, request.log);
      reply.code(201);
      return { invitation: invitationForApi(invitation), url, token, emailed };
    },
  );

  app.delete(
    '/api/projects/:slug/invitations/:id',
    {
      config: OWNER,
      schema: {
        tags: invitationTags,
        summary: 'Revoke an invitation (its link stops working)',
        params: Type.Object({ slug: Type.String(), id: RowId() }),
        response: { 200: InvitationSchema, ...errors },
      },
    },
    async (request) => {
      const { before, after } = await invitations.revoke(projectOf(request).id, request.params.id);
      if (before.state !== after.state)
        await deps.audit.record(request, {
          action: 'invitation.revoke',
          target: { type: 'invitation', id: after.id },
          before: { email: before.email, state: before.state },
          after: { email: after.email, state: after.state },
        });
      return invitationForApi(after);
    },
  );

  app.get(
    '/api/invitations/:token',
    {
      config: { access: { public: true } },
      schema: {
        tags: invitationTags,
        summary: 'What an invitation link is for (404 unknown; 410 expired, revoked or already accepted)',
        params: TokenParams,
        response: {
          200: Type.Object({
            project: Type.Object({ slug: Type.String(), name: Type.String() }),
            email: Type.String(),
            role: RoleSchema,
            expiresAt: Time,
            accountExists: Type.Boolean(),
          }),
          ...publicErrors,
        },
      },
    },
    async (request) => {
      const { invitation, project } = await invitations.find(request.params.token);
      return {
        project: { slug: project.slug, name: project.name },
        email: invitation.email,
        role: invitation.role,
        expiresAt: iso(invitation.expiresAt),
        accountExists: Boolean(await deps.users.findByEmail(invitation.email)),
      };
    },
  );

  app.post(
    '/api/invitations/:token/accept',
    {
      config: { access: { public: true } },
      schema: {
        tags: invitationTags,
        summary:
          'Accept an invitation: signed in as the invited email (send the X-CSRF-Token header) → 200; without an account → creates it, signs in → 201',
        params: TokenParams,
        body: Type.Object(
          {
            name: Type.Optional(Type.String({ maxLength: 200 })),
            password: Type.Optional(Type.String({ maxLength: 1000, description: 'for a new account: at least 12 characters' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Accepted, 201: Type.Composite([Accepted, SignedIn]), ...publicErrors },
      },
      // a signed-in accept needs no body at all
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request, reply) => {
      const { token } = request.params;
      const found = await invitations.find(token);
      const principal = request.principal;
      const accounts = { users: deps.users, memberships: deps.memberships };
      if (principal.type === 'key')
        throw new VigilError('VIGIL_ERR_FORBIDDEN', 'API keys cannot accept invitations: open the link in a browser');
      if (principal.type === 'user') {
        // public routes skip the access hook's CSRF check, but a signed-in accept changes memberships
        if (!deps.sessions.checkCsrf(principal.sessionToken, request.headers[CSRF_HEADER] as string | undefined)) {
          throw new VigilError(
            'VIGIL_ERR_FORBIDDEN',
            `accepting while signed in needs the ${CSRF_HEADER} header (its value comes with sign-in and GET /api/auth/me)`,
          );
        }
        const { user, ...result } = await invitations.acceptAsUser(token, found, principal.user, accounts);
        await recordAccept(request, found.invitation.id, found.project.id, user, result.role, false);
        return result;
      }
      const { user, ...result } = await invitations.acceptWithNewAccount(token, found, request.body, accounts);
      await recordAccept(request, found.invitation.id, found.project.id, user, result.role, true);
      reply.code(201);
      return { ...result, ...(await startSession(deps, request, reply, user)) };
    },
  );

  const recordAccept = (
    request: FastifyRequest,
    invitationId: number,
    projectId: number,
    user: { id: number; email: string },
    role: string,
    newAccount: boolean,
  ) =>
    deps.audit.record(request, {
      projectId,
      actor: { type: 'user', id: user.id, label: user.email },
      action: 'invitation.accept',
      target: { type: 'invitation', id: invitationId },
      after: { email: user.email, role, newAccount },
    });
}
