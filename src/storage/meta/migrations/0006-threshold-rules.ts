import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../db.js';
import { withId } from './0001-initial.js';

/**
 * Threshold rules on metrics: the rule (JSON, src/detect/threshold.ts's ThresholdRule), whether it
 * is watched, and where live evaluation stands (its state and the end of the buckets evaluated).
 */
export function thresholdRules(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await withId(db.schema.createTable('threshold_rules'), dialect)
        .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id').onDelete('cascade'))
        .addColumn('metric_id', 'integer', (c) => c.notNull().references('metrics.id').onDelete('cascade'))
        .addColumn('name', 'varchar(200)', (c) => c.notNull())
        // { condition, forBuckets?, recovery?, recoverFor?, severity }
        .addColumn('rule', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
        // ThresholdState { breached, run, history } after the last bucket evaluated; null before the first
        .addColumn('state', 'text')
        // buckets before this (epoch ms) have been evaluated; null before the first evaluation
        .addColumn('evaluated_until', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('threshold_rules_metric_name', ['metric_id', 'name'])
        .execute();
      await db.schema.createIndex('threshold_rules_project').on('threshold_rules').column('project_id').execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('threshold_rules').execute();
    },
  };
}
