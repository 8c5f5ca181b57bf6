import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../db.js';
import { withId } from './0001-initial.js';

/** The metrics catalog, the values it collects, and the measurements services push. */
export function metricsCatalog(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await withId(db.schema.createTable('metrics'), dialect)
        .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id').onDelete('cascade'))
        .addColumn('name', 'varchar(100)', (c) => c.notNull())
        .addColumn('display_name', 'varchar(200)', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('unit', 'varchar(40)', (c) => c.notNull().defaultTo(''))
        .addColumn('owner', 'varchar(200)', (c) => c.notNull().defaultTo(''))
        .addColumn('tags', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('color', 'varchar(20)', (c) => c.notNull().defaultTo(''))
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('interval', 'varchar(8)', (c) => c.notNull())
        .addColumn('kind', 'varchar(16)', (c) => c.notNull())
        .addColumn('definition', 'text', (c) => c.notNull())
        // bumped when the body changes; a backfill of an older version stops
        .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
        // values are computed for [history_from, collected_until); null until the first backfill ends
        .addColumn('history_from', 'bigint')
        .addColumn('collected_until', 'bigint')
        // why the last collection of this metric failed (cleared by the next success)
        .addColumn('last_error', 'text')
        .addColumn('last_error_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('metrics_project_name', ['project_id', 'name'])
        .execute();

      // dimension '' and key '' hold the total; a breakdown value has its dimension and key
      await db.schema
        .createTable('metric_values')
        .addColumn('metric_id', 'integer', (c) => c.notNull().references('metrics.id').onDelete('cascade'))
        .addColumn('dimension', 'varchar(200)', (c) => c.notNull())
        .addColumn('key', 'varchar(500)', (c) => c.notNull())
        .addColumn('bucket', 'bigint', (c) => c.notNull())
        .addColumn('value', 'double precision')
        .addPrimaryKeyConstraint('metric_values_pk', ['metric_id', 'dimension', 'key', 'bucket'])
        .execute();

      await withId(db.schema.createTable('measurements'), dialect)
        .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id').onDelete('cascade'))
        .addColumn('service', 'varchar(200)', (c) => c.notNull())
        .addColumn('metric', 'varchar(200)', (c) => c.notNull())
        .addColumn('ts', 'bigint', (c) => c.notNull())
        .addColumn('value', 'double precision', (c) => c.notNull())
        .addColumn('tags', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('measurements_series').on('measurements').columns(['project_id', 'service', 'metric', 'ts']).execute();
    },
    async down(db: Kysely<unknown>) {
      for (const t of ['measurements', 'metric_values', 'metrics']) await db.schema.dropTable(t).execute();
    },
  };
}
