import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * Drift and event-volume detection: the daily schema profile of each project's events (the
 * baseline of later days is the merge of stored ones, so a day's events are profiled once), and
 * where each project-wide detector stands (the end of the window it last covered).
 */
export function drift(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('event_profiles')
        .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id').onDelete('cascade'))
        // the day's first instant (epoch ms; a day of the project's time zone)
        .addColumn('day', 'bigint', (c) => c.notNull())
        // JSON: DayProfile (src/detect/schema-drift.ts)
        .addColumn('profile', 'text', (c) => c.notNull())
        .addColumn('events', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('event_profiles_pk', ['project_id', 'day'])
        .execute();
      await db.schema
        .createTable('detector_runs')
        .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id').onDelete('cascade'))
        // signals.drift | signals.event_volume
        .addColumn('detector', 'varchar(40)', (c) => c.notNull())
        // the detector has covered the buckets before this (epoch ms)
        .addColumn('done_until', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('detector_runs_pk', ['project_id', 'detector'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('detector_runs').execute();
      await db.schema.dropTable('event_profiles').execute();
    },
  };
}
