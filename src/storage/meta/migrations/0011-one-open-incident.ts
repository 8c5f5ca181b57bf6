import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * At most one unresolved incident per (project, scope, breakdown, direction), enforced by the
 * database: several worker processes placing signals of the same scope at once cannot open two.
 * Duplicates left by earlier versions are resolved first (all but the newest of each scope).
 */
export function oneOpenIncident(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await sql`UPDATE incidents SET status = 'resolved', resolution = 'manual', resolved_at = updated_at
        WHERE status <> 'resolved' AND id NOT IN (
          SELECT max(id) FROM incidents WHERE status <> 'resolved' GROUP BY project_id, scope_key, breakdown, direction
        )`.execute(db);
      await db.schema
        .createIndex('incidents_one_open')
        .on('incidents')
        .columns(['project_id', 'scope_key', 'breakdown', 'direction'])
        .unique()
        .where(sql.ref('status'), '<>', 'resolved')
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropIndex('incidents_one_open').execute();
    },
  };
}
