import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../db.js';
import { withId } from './0001-initial.js';

/**
 * Detection: the signals detectors raise (one row per episode, anchored at its first bucket), and
 * detection settings (JSON) on metrics and, as defaults, on projects.
 */
export function detection(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await withId(db.schema.createTable('signals'), dialect)
        .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id').onDelete('cascade'))
        // metric, later threshold | schema | distribution | event
        .addColumn('scope', 'varchar(16)', (c) => c.notNull())
        // what was watched: `metric:12`, ...
        .addColumn('scope_key', 'varchar(300)', (c) => c.notNull())
        .addColumn('metric_id', 'integer', (c) => c.references('metrics.id').onDelete('cascade'))
        // the episode's first bucket (its anchor) and its last bucket so far, epoch ms
        .addColumn('bucket', 'bigint', (c) => c.notNull())
        .addColumn('end_bucket', 'bigint', (c) => c.notNull())
        // spike | drop | level_shift | outage, later breach | recovery | new_event | ...
        .addColumn('kind', 'varchar(24)', (c) => c.notNull())
        .addColumn('direction', 'varchar(8)')
        // the peak bucket: its value, expected value, band and z
        .addColumn('value', 'double precision', (c) => c.notNull())
        .addColumn('expected', 'double precision')
        .addColumn('lower', 'double precision')
        .addColumn('upper', 'double precision')
        .addColumn('z', 'double precision', (c) => c.notNull())
        .addColumn('score', 'double precision', (c) => c.notNull())
        // info | warning | critical
        .addColumn('severity', 'varchar(16)', (c) => c.notNull())
        .addColumn('details', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        // detection is idempotent per (scope, bucket)
        .addUniqueConstraint('signals_scope_bucket', ['project_id', 'scope_key', 'bucket'])
        .execute();
      await db.schema.createIndex('signals_project_bucket').on('signals').columns(['project_id', 'bucket']).execute();
      await db.schema.createIndex('signals_metric_bucket').on('signals').columns(['metric_id', 'bucket']).execute();

      // { enabled?, sensitivity?, minExpected? } on a metric; the same plus settlingMinutes as project defaults
      await db.schema
        .alterTable('metrics')
        .addColumn('detection', 'text', (c) => c.notNull().defaultTo('{}'))
        .execute();
      await db.schema
        .alterTable('projects')
        .addColumn('detection', 'text', (c) => c.notNull().defaultTo('{}'))
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.alterTable('projects').dropColumn('detection').execute();
      await db.schema.alterTable('metrics').dropColumn('detection').execute();
      await db.schema.dropTable('signals').execute();
    },
  };
}
