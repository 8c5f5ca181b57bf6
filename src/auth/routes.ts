import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ErrorBody, errorResponses } from '../http-schemas.js';
import { VigilError } from '../errors.js';
import { clearSessionCookie, startSession, userForApi, userOf } from './access.js';
import { RateLimiter, rateLimited } from '../http/rate-limit.js';
import type { Config } from '../config.js';
import type { ProjectService } from '../projects/service.js';
import type { AuditLog } from './audit.js';
import { type MembershipService, type Role, ROLES } from './memberships.js';
import type { SessionService } from './sessions.js';
import type { UserService } from './users.js';

const tags = ['auth'];
export const UserSchema = Type.Object({ id: Type.Integer(), email: Type.String(), name: Type.String(), isAdmin: Type.Boolean() });
export const SignedIn = Type.Object({
  user: UserSchema,
  csrfToken: Type.String({ description: `send it back as the X-CSRF-Token header on every change made with the session cookie` }),
});
const Credentials = Type.Object(
  { email: Type.String({ maxLength: 320 }), password: Type.String({ maxLength: 1000 }) },
  { additionalProperties: false },
);
const NewAccount = Type.Object(
  {
    email: Type.String({ maxLength: 320 }),
    password: Type.String({ maxLength: 1000, description: 'at least 12 characters' }),
    name: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
/** A role as a string with an enum, not a union: the serializer writes it unchecked, as it did a plain string. */
const RoleString = Type.Unsafe<Role>({ type: 'string', enum: [...ROLES] });
const errors = { ...errorResponses, 409: ErrorBody, 429: ErrorBody };

/** What these routes use: their own services and the few they name. */
export interface AuthRouteDeps {
  audit: AuditLog;
  config: Config;
  memberships: MembershipService;
  projects: ProjectService;
  sessions: SessionService;
  users: UserService;
}

/** First-run setup, sign-in and sign-out, the signed-in user, password changes and (when open) registration. */
// long because each of its routes declares its schema and access rule inline
export async function authRoutes(root: FastifyInstance, deps: AuthRouteDeps) {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const signinsPerIp = new RateLimiter({ limit: deps.config.signinRateLimit, windowMs: 60_000 });

  app.get(
    '/api/setup',
    {
      config: { access: { public: true } },
      schema: {
        tags,
        summary: 'Whether this instance still needs its first owner',
        response: { 200: Type.Object({ needsOwner: Type.Boolean() }) },
      },
    },
    async () => ({ needsOwner: (await deps.users.count()) === 0 }),
  );

  app.post(
    '/api/setup',
    {
      config: { access: { public: true } },
      schema: {
        tags,
        summary: 'Create the first owner (only while the instance has no user); signs in',
        body: NewAccount,
        response: { 201: SignedIn, ...errors },
      },
    },
    async (request, reply) => {
      const user = await deps.users.createOwner(request.body);
      // the demo and any project made before the owner existed become the owner's
      for (const p of await deps.projects.list()) await deps.memberships.grant(p.id, user.id, 'owner');
      await deps.audit.record(request, {
        action: 'user.create_owner',
        target: { type: 'user', id: user.id },
        after: { email: user.email },
      });
      reply.code(201);
      return startSession(deps, request, reply, user);
    },
  );

  app.post(
    '/api/auth/sign-in',
    {
      config: { access: { public: true } },
      schema: {
        tags,
        summary: 'Sign in with email and password (sets an HTTP-only session cookie)',
        body: Credentials,
        response: { 200: SignedIn, ...errors },
      },
    },
    async (request, reply) => {
      const take = signinsPerIp.take(request.ip);
      if (!take.ok) throw rateLimited(`too many sign-in attempts from this address`, take.retryAfterS);
      const user = await deps.users.signIn(request.body.email, request.body.password, request.ip);
      return startSession(deps, request, reply, user);
    },
  );

  app.post(
    '/api/auth/sign-out',
    {
      config: { access: { signedIn: true } },
      schema: { tags, summary: 'End this session', response: { 204: Type.Null(), ...errors } },
    },
    async (request, reply) => {
      await deps.sessions.revoke(userOf(request).sessionToken);
      clearSessionCookie(deps, request, reply);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/auth/me',
    {
      config: { access: { signedIn: true } },
      schema: {
        tags,
        summary: 'The signed-in user, the projects they belong to, and the CSRF token',
        response: {
          200: Type.Composite([
            SignedIn,
            Type.Object({ projects: Type.Array(Type.Object({ slug: Type.String(), name: Type.String(), role: RoleString })) }),
          ]),
          ...errors,
        },
      },
    },
    async (request) => {
      const user = userOf(request);
      const projects = [];
      for (const m of await deps.memberships.projectsOf(user.id)) {
        const p = await deps.projects.getById(m.projectId);
        projects.push({ slug: p.slug, name: p.name, role: m.role });
      }
      return { user: userForApi(user), csrfToken: deps.sessions.csrfToken(user.sessionToken), projects };
    },
  );

  app.post(
    '/api/auth/password',
    {
      config: { access: { signedIn: true } },
      schema: {
        tags,
        summary: 'Change the password: every session of the user ends, this client gets a new one',
        body: Type.Object(
          { currentPassword: Type.String({ maxLength: 1000 }), newPassword: Type.String({ maxLength: 1000 }) },
          { additionalProperties: false },
        ),
        response: { 200: SignedIn, ...errors },
      },
    },
    async (request, reply) => {
      const user = userOf(request);
      await deps.users.changePassword(user.id, request.body.currentPassword, request.body.newPassword);
      await deps.sessions.revokeAll(user.id);
      await deps.audit.record(request, { action: 'user.change_password', target: { type: 'user', id: user.id } });
      return startSession(deps, request, reply, user);
    },
  );

  app.post(
    '/api/auth/register',
    {
      config: { access: { public: true } },
      schema: {
        tags,
        summary: 'Create an account (only when VIGIL_OPEN_REGISTRATION=true; otherwise join by invitation)',
        body: NewAccount,
        response: { 201: SignedIn, ...errors },
      },
    },
    async (request, reply) => {
      if (!deps.config.openRegistration)
        throw new VigilError('VIGIL_ERR_FORBIDDEN', 'registration is closed on this instance: ask an owner for an invitation');
      const user = await deps.users.create(request.body);
      await deps.audit.record(request, { action: 'user.register', target: { type: 'user', id: user.id }, after: { email: user.email } });
      reply.code(201);
      return startSession(deps, request, reply, user);
    },
  );
}
