import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../db.js';

/** What the instance's users page shows and changes (src/auth/user-admin.ts): disabled accounts, the last sign-in. */
export function userStatus(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('users').addColumn('disabled_at', 'bigint').execute();
      await db.schema.alterTable('users').addColumn('last_signin_at', 'bigint').execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.alterTable('users').dropColumn('last_signin_at').execute();
      await db.schema.alterTable('users').dropColumn('disabled_at').execute();
    },
  };
}
