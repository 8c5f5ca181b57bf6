/** The instance users page's shapes (src/auth/user-admin-routes.ts); the web app imports their types. */
import { Type, type Static } from '@sinclair/typebox';

const Time = Type.String({ description: 'ISO 8601, UTC' });

export const UserAdminSchema = Type.Object({
  id: Type.Integer(),
  email: Type.String(),
  name: Type.String(),
  isAdmin: Type.Boolean(),
  disabledAt: Type.Union([Time, Type.Null()], { description: 'set while the account is disabled: it cannot sign in' }),
  lockedUntil: Type.Union([Time, Type.Null()], {
    description: 'sign-in is locked for this email (after failed attempts, from some address) until then; unlock lifts it',
  }),
  lastSignInAt: Type.Union([Time, Type.Null()], { description: 'null when unknown: never signed in, or before sign-ins were recorded' }),
  projects: Type.Integer({ description: 'projects the user is a member of' }),
  createdAt: Time,
});
export type UserAdminApi = Static<typeof UserAdminSchema>;

export const ResetLinkSchema = Type.Object({ url: Type.String({ description: 'the link to hand over: it works once' }), expiresAt: Time });
export type ResetLinkApi = Static<typeof ResetLinkSchema>;
