import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * The ingest outbox of the scaled mode (src/ingest/outbox.ts): an ingest process acknowledges
 * events once they are a row here, and the event loader moves them into ClickHouse. `load_id` marks
 * the rows of the load in progress, so a loader that takes over after a crash replays exactly that
 * load (as the same ClickHouse segment) instead of regrouping its rows.
 */
export function ingestOutbox(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const table = db.schema.createTable('ingest_batches');
      // bigserial: a busy cluster commits thousands of batches a second, past int4 within a year
      await (dialect === 'postgres'
        ? table.addColumn('id', 'bigserial', (c) => c.primaryKey())
        : table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      )
        .addColumn('lines', 'text', (c) => c.notNull())
        .addColumn('line_count', 'integer', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .addColumn('load_id', 'bigint')
        .execute();
      // rows live for about a second: compressing them costs more CPU than the disk they would save
      if (dialect === 'postgres') await sql`ALTER TABLE ingest_batches ALTER COLUMN lines SET STORAGE EXTERNAL`.execute(db);
      await db.schema
        .createIndex('ingest_batches_load')
        .on('ingest_batches')
        .column('load_id')
        .where(sql.ref('load_id'), 'is not', null)
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('ingest_batches').execute();
    },
  };
}
