import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * Lines of the scaled mode's outbox (0012) that ClickHouse refused for their data: the loader moves
 * them here with the reasons, so one bad line never blocks the loads behind it. `lines` holds them
 * as they were (NDJSON), `reasons` one `{"line", "reason"}` per line.
 */
export function ingestQuarantine(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const table = db.schema.createTable('ingest_quarantine');
      await (dialect === 'postgres'
        ? table.addColumn('id', 'bigserial', (c) => c.primaryKey())
        : table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      )
        .addColumn('load_id', 'bigint', (c) => c.notNull())
        .addColumn('lines', 'text', (c) => c.notNull())
        .addColumn('reasons', 'text', (c) => c.notNull())
        .addColumn('line_count', 'integer', (c) => c.notNull())
        .addColumn('quarantined_at', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('ingest_quarantine').execute();
    },
  };
}
