/**
 * What the sign-in page offers besides signing in (registration, reset by e-mail), and the
 * "forgot password" flow: ask for a link by e-mail, see what a link is for, set the new password.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ErrorBody, errorResponses } from '../http-schemas.js';
import { VigilError } from '../errors.js';
import { passwordResetMail } from './account-mail.js';
import { linkOrigin, trySend } from './mailer.js';
import type { Config } from '../config.js';
import type { AuditLog } from './audit.js';
import type { Mailer } from './mailer.js';
import type { PasswordResetService } from './password-reset.js';

const tags = ['auth'];
const PUBLIC = { access: { public: true } } as const;
const errors = { ...errorResponses, 410: ErrorBody, 429: ErrorBody, 503: ErrorBody };
const TokenParams = Type.Object({ token: Type.String({ maxLength: 100 }) });
const Time = Type.String({ description: 'ISO 8601, UTC' });

/** The one answer to a reset request, whether or not the account exists. */
export const RESET_REQUESTED =
  'If an account with this e-mail exists, a link to choose a new password is on its way. It works once, for an hour.';

/** What these routes use: their own services and the few they name. */
export interface PasswordResetRouteDeps {
  audit: AuditLog;
  config: Config;
  mailer: Mailer | undefined;
  passwordResets: PasswordResetService;
}

// long because each of its routes declares its schema and access rule inline
export async function passwordResetRoutes(root: FastifyInstance, deps: PasswordResetRouteDeps) {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/api/auth/options',
    {
      config: PUBLIC,
      schema: {
        tags,
        summary: 'What the sign-in page offers: registration (VIGIL_OPEN_REGISTRATION) and password reset by e-mail (VIGIL_SMTP_URL)',
        response: { 200: Type.Object({ openRegistration: Type.Boolean(), passwordResetByEmail: Type.Boolean() }) },
      },
    },
    async () => ({ openRegistration: deps.config.openRegistration, passwordResetByEmail: Boolean(deps.mailer) }),
  );

  app.post(
    '/api/auth/forgot-password',
    {
      config: PUBLIC,
      schema: {
        tags,
        summary: 'E-mail a single-use link to choose a new password (202 whether or not the account exists; 3 per address per hour)',
        body: Type.Object({ email: Type.String({ maxLength: 320 }) }, { additionalProperties: false }),
        response: { 202: Type.Object({ message: Type.String() }), ...errors },
      },
    },
    async (request, reply) => {
      const mailer = deps.mailer;
      if (!mailer)
        throw new VigilError(
          'VIGIL_ERR_UNAVAILABLE',
          'this instance sends no e-mail (VIGIL_SMTP_URL is not set): ask an administrator to run `vigil users reset-password <email>`',
        );
      const requested = await deps.passwordResets.request(request.body.email);
      if (requested) {
        const { user, link } = requested;
        const mail = passwordResetMail({
          to: user.email,
          url: `${linkOrigin(deps.config, request)}/reset-password/${link.token}`,
          expiresAt: link.expiresAt,
        });
        // not awaited: an answer that waited for the mail server would tell which accounts exist
        void trySend(mailer, mail, request.log);
      }
      reply.code(202);
      return { message: RESET_REQUESTED };
    },
  );

  app.get(
    '/api/auth/password-resets/:token',
    {
      config: PUBLIC,
      schema: {
        tags,
        summary: 'The account a reset link is for (404 unknown; 410 used or expired, with details.state)',
        params: TokenParams,
        response: { 200: Type.Object({ email: Type.String(), expiresAt: Time }), ...errors },
      },
    },
    async (request) => {
      const { user, expiresAt } = await deps.passwordResets.find(request.params.token);
      return { email: user.email, expiresAt: new Date(expiresAt).toISOString() };
    },
  );

  app.post(
    '/api/auth/password-resets/:token',
    {
      config: PUBLIC,
      schema: {
        tags,
        summary: 'Set the new password with a reset link (once); every session of the account ends',
        params: TokenParams,
        body: Type.Object(
          { password: Type.String({ maxLength: 1000, description: 'at least 12 characters' }) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ email: Type.String() }), ...errors },
      },
    },
    async (request) => {
      const user = await deps.passwordResets.reset(request.params.token, request.body.password);
      await deps.audit.record(request, {
        projectId: null,
        actor: { type: 'user', id: user.id, label: user.email },
        action: 'user.reset_password',
        target: { type: 'user', id: user.id },
      });
      return { email: user.email };
    },
  );
}
