import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * Scheduler ticks claimed cluster-wide: one row per periodic task holds the last tick slot a
 * scheduler process claimed, so however many schedulers run, each slot runs once
 * (src/jobs/scheduler.ts).
 */
export function schedulerTicks(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('scheduler_ticks')
        .addColumn('name', 'varchar(40)', (c) => c.primaryKey())
        // floor(epoch ms / tick length) of the last slot claimed
        .addColumn('slot', 'bigint', (c) => c.notNull())
        .addColumn('holder', 'varchar(100)', (c) => c.notNull())
        .addColumn('claimed_at', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('scheduler_ticks').execute();
    },
  };
}
