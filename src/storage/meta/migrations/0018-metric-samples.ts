import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * The number of samples behind each metric value (src/metrics/compile.ts, "Samples"), which
 * sample-size-aware detection reads. Values collected before stay without (null: not known).
 */
export function metricSamples(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('metric_values').addColumn('samples', 'double precision').execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.alterTable('metric_values').dropColumn('samples').execute();
    },
  };
}
