import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../db.js';
import { withId } from './0001-initial.js';

/** The durable job table the scheduler fills and workers claim with leases. */
export function jobs(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await withId(db.schema.createTable('jobs'), dialect)
        .addColumn('kind', 'varchar(40)', (c) => c.notNull())
        .addColumn('project_id', 'integer', (c) => c.references('projects.id').onDelete('cascade'))
        .addColumn('payload', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('priority', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('max_attempts', 'integer', (c) => c.notNull().defaultTo(5))
        .addColumn('run_at', 'bigint', (c) => c.notNull())
        .addColumn('lease_until', 'bigint')
        .addColumn('locked_by', 'varchar(100)')
        .addColumn('progress', 'double precision')
        .addColumn('progress_note', 'varchar(500)')
        .addColumn('last_error', 'text')
        .addColumn('result', 'text')
        .addColumn('dedupe_key', 'varchar(300)')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('finished_at', 'bigint')
        .execute();
      await db.schema.createIndex('jobs_due').on('jobs').columns(['status', 'run_at']).execute();
      // at most one unfinished job per dedupe key
      await db.schema
        .createIndex('jobs_dedupe')
        .on('jobs')
        .column('dedupe_key')
        .unique()
        .where(sql<boolean>`dedupe_key IS NOT NULL AND status IN ('queued', 'running')`)
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('jobs').execute();
    },
  };
}
