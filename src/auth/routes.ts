import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppContext } from '../app-context.js';
import { ErrorBody, errorResponses } from '../http-schemas.js';
import { VigilError } from '../errors.js';
import { clearSessionCookie, startSession, userForApi, userOf } from './access.js';
import { type Role, ROLES } from './memberships.js';
import { RateLimiter, rateLimited } from './rate-limit.js';

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

/** First-run setup, sign-in and sign-out, the signed-in user, password changes and (when open) registration. */
export async function authRoutes(root: FastifyInstance, { ctx }: { ctx: AppContext }) {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const signinsPerIp = new RateLimiter({ limit: ctx.config.signinRateLimit, windowMs: 60_000 });

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
    async () => ({ needsOwner: (await ctx.users.count()) === 0 }),
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
      const user = await ctx.users.createOwner(request.body);
      // the demo and any project made before the owner existed become the owner's
      for (const p of await ctx.projects.list()) await ctx.memberships.grant(p.id, user.id, 'owner');
      await ctx.audit.record(request, { action: 'user.create_owner', target: { type: 'user', id: user.id }, after: { email: user.email } });
      reply.code(201);
      return startSession(ctx, request, reply, user);
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
      const user = await ctx.users.signIn(request.body.email, request.body.password, request.ip);
      return startSession(ctx, request, reply, user);
    },
  );

  app.post(
    '/api/auth/sign-out',
    {
      config: { access: { signedIn: true } },
      schema: { tags, summary: 'End this session', response: { 204: Type.Null(), ...errors } },
    },
    async (request, reply) => {
      await ctx.sessions.revoke(userOf(request).sessionToken);
      clearSessionCookie(ctx, request, reply);
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
      for (const m of await ctx.memberships.projectsOf(user.id)) {
        const p = await ctx.projects.getById(m.projectId);
        projects.push({ slug: p.slug, name: p.name, role: m.role });
      }
      return { user: userForApi(user), csrfToken: ctx.sessions.csrfToken(user.sessionToken), projects };
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
      await ctx.users.changePassword(user.id, request.body.currentPassword, request.body.newPassword);
      await ctx.sessions.revokeAll(user.id);
      await ctx.audit.record(request, { action: 'user.change_password', target: { type: 'user', id: user.id } });
      return startSession(ctx, request, reply, user);
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
      if (!ctx.config.openRegistration)
        throw new VigilError('VIGIL_ERR_FORBIDDEN', 'registration is closed on this instance: ask an owner for an invitation');
      const user = await ctx.users.create(request.body);
      await ctx.audit.record(request, { action: 'user.register', target: { type: 'user', id: user.id }, after: { email: user.email } });
      reply.code(201);
      return startSession(ctx, request, reply, user);
    },
  );
}
