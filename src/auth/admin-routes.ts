/**
 * A project's security settings: members, invitations (and accepting one), API keys and the audit
 * log. Every route here refuses API keys (`keys: false`): a leaked key must not be able to mint
 * keys, add members or read who did what.
 */
import { Readable } from 'node:stream';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { MetaDb } from '../meta-db.js';
import { ErrorBody, SlugParams, errorResponses, RowId } from '../http-schemas.js';
import { VigilError, badRequest } from '../errors.js';
import { parseTimeInput } from '../time/index.js';
import { projectOf, startSession, userOf } from './access.js';
import type { ApiKey } from './api-keys.js';
import type { AuditEntry, AuditFilter } from './audit.js';
import type { Invitation } from './invitations.js';
import { roleRank, type Member } from './memberships.js';
import { SignedIn } from './routes.js';
import { CSRF_HEADER } from './sessions.js';
import { normalizeEmail } from './users.js';
import { invitationMail } from './account-mail.js';
import { linkOrigin, trySend } from './mailer.js';
import type { Config } from '../config.js';
import type { ApiKeyService } from './api-keys.js';
import type { AuditLog } from './audit.js';
import type { InvitationService } from './invitations.js';
import type { Mailer } from './mailer.js';
import type { MembershipService } from './memberships.js';
import type { SessionService } from './sessions.js';
import type { UserService } from './users.js';

const OWNER = { access: { role: 'owner', keys: false } } as const;
const VIEWER = { access: { role: 'viewer', keys: false } } as const;
const errors = { ...errorResponses, 409: ErrorBody };
const publicErrors = { ...errors, 410: ErrorBody };

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));
const Time = Type.String({ description: 'ISO 8601, UTC' });
const TimeOrNull = Type.Union([Time, Type.Null()]);

const RoleSchema = Type.Union([Type.Literal('viewer'), Type.Literal('editor'), Type.Literal('owner')]);
const ScopeSchema = Type.Union([Type.Literal('ingest'), Type.Literal('read'), Type.Literal('write'), Type.Literal('admin')]);

const MemberSchema = Type.Object({ userId: Type.Integer(), email: Type.String(), name: Type.String(), role: RoleSchema, since: Time });
const memberForApi = (m: Member): Static<typeof MemberSchema> => ({
  userId: m.userId,
  email: m.email,
  name: m.name,
  role: m.role,
  since: iso(m.since),
});

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

const KeySchema = Type.Object({
  id: Type.Integer(),
  prefix: Type.String({ description: 'the first characters of the secret, to recognise it' }),
  name: Type.String(),
  scopes: Type.Array(ScopeSchema),
  createdAt: Time,
  expiresAt: TimeOrNull,
  revokedAt: TimeOrNull,
  lastUsedAt: TimeOrNull,
});
const keyForApi = (k: ApiKey): Static<typeof KeySchema> => ({
  id: k.id,
  prefix: k.prefix,
  name: k.name,
  scopes: k.scopes,
  createdAt: iso(k.createdAt),
  expiresAt: isoOrNull(k.expiresAt),
  revokedAt: isoOrNull(k.revokedAt),
  lastUsedAt: isoOrNull(k.lastUsedAt),
});

const AuditEntrySchema = Type.Object({
  id: Type.Integer(),
  at: Time,
  actor: Type.Object({
    type: Type.String(),
    id: Type.Union([Type.Integer(), Type.Null()]),
    label: Type.String({ description: 'email of a user, prefix and name of an API key' }),
  }),
  action: Type.String(),
  target: Type.Object({ type: Type.String(), id: Type.Union([Type.String(), Type.Null()]) }),
  summary: Type.Object(
    { before: Type.Optional(Type.Unknown()), after: Type.Optional(Type.Unknown()) },
    { description: 'the fields that changed' },
  ),
  requestId: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
});
const entryForApi = (e: AuditEntry): Static<typeof AuditEntrySchema> => ({
  id: e.id,
  at: iso(e.at),
  actor: e.actor,
  action: e.action,
  target: e.target,
  summary: e.summary,
  requestId: e.requestId,
  ip: e.ip,
});

const AuditFilterQuery = {
  action: Type.Optional(Type.String({ maxLength: 64, description: 'e.g. metric.update' })),
  actor: Type.Optional(Type.String({ maxLength: 320, description: "a user's email (or an API key's label)" })),
  targetType: Type.Optional(Type.String({ maxLength: 32, description: 'e.g. metric, member, api_key' })),
  from: Type.Optional(Type.String({ description: 'inclusive: ISO 8601, epoch ms, or relative such as -7d' })),
  to: Type.Optional(Type.String({ description: 'exclusive; same forms as from' })),
};
type AuditFilterInput = { action?: string; actor?: string; targetType?: string; from?: string; to?: string };

function auditFilter(q: AuditFilterInput, now: number): Omit<AuditFilter, 'limit' | 'beforeId'> {
  const at = (field: 'from' | 'to') => {
    const text = q[field];
    if (text === undefined) return undefined;
    const ms = parseTimeInput(text, now);
    if (ms === null)
      throw badRequest(`"${field}" is not a time: "${text}" (use ISO 8601, epoch milliseconds, or a relative time such as -7d)`, { field });
    return ms;
  };
  const fromMs = at('from');
  const toMs = at('to');
  if (fromMs !== undefined && toMs !== undefined && fromMs >= toMs) throw badRequest('"from" must be before "to"', { field: 'from' });
  return { action: q.action, actor: q.actor, targetType: q.targetType, fromMs, toMs };
}

/** What these routes use: their own services and the few they name. */
export interface AdminRouteDeps {
  apiKeys: ApiKeyService;
  audit: AuditLog;
  config: Config;
  invitations: InvitationService;
  mailer: Mailer | undefined;
  memberships: MembershipService;
  sessions: SessionService;
  users: UserService;
}

export async function adminRoutes(root: FastifyInstance, deps: AdminRouteDeps) {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const invitations = deps.invitations;

  // ---- members ----
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

  // ---- invitations ----
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
      const { invitation, project } = await invitations.find(token);
      const principal = request.principal;
      const record = (user: { id: number; email: string }, role: string, newAccount: boolean) =>
        deps.audit.record(request, {
          projectId: project.id,
          actor: { type: 'user', id: user.id, label: user.email },
          action: 'invitation.accept',
          target: { type: 'invitation', id: invitation.id },
          after: { email: user.email, role, newAccount },
        });
      const accepted = async (userId: number, tx: MetaDb) => {
        await deps.memberships.grant(project.id, userId, invitation.role, tx);
        // grant never lowers a role: report the one the user now has
        return {
          project: { slug: project.slug, name: project.name },
          role: (await deps.memberships.roleOf(project.id, userId, tx)) ?? invitation.role,
        };
      };
      const accountExists = () =>
        new VigilError(
          'VIGIL_ERR_CONFLICT',
          `an account for ${invitation.email} already exists: sign in as ${invitation.email}, then open the link again`,
        );

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
        const user = principal.user;
        if (user.email !== invitation.email)
          throw new VigilError(
            'VIGIL_ERR_FORBIDDEN',
            `this invitation is for ${invitation.email}, but you are signed in as ${user.email}: sign out, then open the link again`,
          );
        const result = await invitations.accept(token, (tx) => accepted(user.id, tx));
        await record(user, result.role, false);
        return result;
      }

      if (await deps.users.findByEmail(invitation.email)) throw accountExists();
      const { password, name } = request.body;
      if (password === undefined)
        throw badRequest('choose a password for your new account (at least 12 characters)', { field: 'password' });
      const newUser = await deps.users.prepare({ email: invitation.email, password, name });
      // one transaction claims the link, makes the account and grants the membership: an accept of
      // another link for the same email at the same moment gets a 409 and leaves its link unused
      const { user, result } = await invitations.accept(token, async (tx) => {
        const user = await deps.users.insert(newUser, tx).catch((err) => {
          throw err instanceof VigilError && err.status === 409 ? accountExists() : err;
        });
        return { user, result: await accepted(user.id, tx) };
      });
      await record(user, result.role, true);
      reply.code(201);
      return { ...result, ...(await startSession(deps, request, reply, user)) };
    },
  );

  // ---- API keys ----
  const keyTags = ['keys'];
  const KeyParams = Type.Object({ slug: Type.String(), id: RowId() });

  app.get(
    '/api/projects/:slug/keys',
    {
      config: OWNER,
      schema: {
        tags: keyTags,
        summary: "The project's API keys (never their secrets)",
        params: SlugParams,
        response: { 200: Type.Object({ keys: Type.Array(KeySchema) }), ...errors },
      },
    },
    async (request) => ({ keys: (await deps.apiKeys.list(projectOf(request).id)).map(keyForApi) }),
  );

  app.post(
    '/api/projects/:slug/keys',
    {
      config: OWNER,
      schema: {
        tags: keyTags,
        summary: 'Create an API key; its secret is in this answer only',
        params: SlugParams,
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 200 }),
            scopes: Type.Array(ScopeSchema, {
              minItems: 1,
              maxItems: 4,
              uniqueItems: true,
              description: 'ingest: send events; read, write, admin: act as a viewer, editor, owner',
            }),
            expiresAt: Type.Optional(Type.String({ description: 'ISO 8601 (or relative such as +90d); never expires when absent' })),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ key: KeySchema, secret: Type.String({ description: 'shown once: store it now' }) }), ...errors },
      },
    },
    async (request, reply) => {
      const now = Date.now();
      let expiresAt: number | null = null;
      if (request.body.expiresAt !== undefined) {
        expiresAt = parseTimeInput(request.body.expiresAt, now);
        if (expiresAt === null)
          throw badRequest(
            `"expiresAt" is not a time: "${request.body.expiresAt}" (use ISO 8601 with a zone, such as 2030-01-31T00:00:00Z)`,
            { field: 'expiresAt' },
          );
        if (expiresAt <= now) throw badRequest('"expiresAt" must be in the future', { field: 'expiresAt' });
      }
      const { key, secret } = await deps.apiKeys.create({
        projectId: projectOf(request).id,
        name: request.body.name.trim(),
        scopes: request.body.scopes,
        expiresAt,
      });
      await deps.audit.record(request, {
        action: 'api_key.create',
        target: { type: 'api_key', id: key.id },
        after: { name: key.name, prefix: key.prefix, scopes: key.scopes, expiresAt: isoOrNull(key.expiresAt) },
      });
      reply.code(201);
      return { key: keyForApi(key), secret };
    },
  );

  app.delete(
    '/api/projects/:slug/keys/:id',
    {
      config: OWNER,
      schema: {
        tags: keyTags,
        summary: 'Revoke an API key (at once on this process; other processes within 10 s)',
        params: KeyParams,
        response: { 200: KeySchema, ...errors },
      },
    },
    async (request) => {
      const project = projectOf(request);
      // the key service revokes across projects: look the key up in this one first
      const key = (await deps.apiKeys.list(project.id)).find((k) => k.id === request.params.id);
      if (!key) throw new VigilError('VIGIL_ERR_NOT_FOUND', `API key ${request.params.id} not found in project "${project.slug}"`);
      if (key.revokedAt !== null) return keyForApi(key);
      const revoked = await deps.apiKeys.revoke(key.id);
      await deps.audit.record(request, {
        action: 'api_key.revoke',
        target: { type: 'api_key', id: key.id },
        before: { name: key.name, prefix: key.prefix, revokedAt: null },
        after: { name: key.name, prefix: key.prefix, revokedAt: isoOrNull(revoked.revokedAt) },
      });
      return keyForApi(revoked);
    },
  );

  // ---- audit log ----
  const auditTags = ['audit'];

  app.get(
    '/api/projects/:slug/audit',
    {
      config: OWNER,
      schema: {
        tags: auditTags,
        summary: 'Who changed what, newest first, a page at a time',
        params: SlugParams,
        querystring: Type.Object({
          ...AuditFilterQuery,
          limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
          cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', description: 'nextCursor of the previous page' })),
        }),
        response: {
          200: Type.Object({ entries: Type.Array(AuditEntrySchema), nextCursor: Type.Union([Type.String(), Type.Null()]) }),
          ...errors,
        },
      },
    },
    async (request) => {
      const { limit, cursor, ...filters } = request.query;
      const page = await deps.audit.list(projectOf(request).id, {
        ...auditFilter(filters, Date.now()),
        beforeId: cursor === undefined ? undefined : Number(cursor),
        limit: limit + 1,
      });
      const entries = page.slice(0, limit);
      return { entries: entries.map(entryForApi), nextCursor: page.length > limit ? String(entries[entries.length - 1].id) : null };
    },
  );

  app.get(
    '/api/projects/:slug/audit/export',
    {
      config: OWNER,
      schema: {
        tags: auditTags,
        summary: 'Every matching entry, oldest first, as NDJSON (one JSON object per line)',
        params: SlugParams,
        querystring: Type.Object(AuditFilterQuery),
        response: {
          200: Type.Unsafe<Readable>({
            description: 'one audit entry per line',
            content: { 'application/x-ndjson': { schema: AuditEntrySchema } },
          }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const project = projectOf(request);
      const filter = auditFilter(request.query, Date.now());
      async function* lines() {
        for await (const page of deps.audit.export(project.id, filter))
          yield page.map((e) => JSON.stringify(entryForApi(e)) + '\n').join('');
      }
      return reply
        .type('application/x-ndjson; charset=utf-8')
        .header('content-disposition', `attachment; filename="audit-${project.slug}.ndjson"`)
        .send(Readable.from(lines()));
    },
  );
}
