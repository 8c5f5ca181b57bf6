import type { Kysely, Migration, CreateTableBuilder } from 'kysely';
import type { Dialect } from '../db.js';

/** An auto-incrementing integer primary key, spelled per dialect. */
export function withId<T extends string>(table: CreateTableBuilder<T, never>, dialect: Dialect) {
  const byDialect: Record<Dialect, () => CreateTableBuilder<T, 'id'>> = {
    sqlite: () => table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement()),
    postgres: () => table.addColumn('id', 'serial', (c) => c.primaryKey()),
  };
  return byDialect[dialect]();
}

export function initial(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await withId(db.schema.createTable('projects'), dialect)
        .addColumn('slug', 'varchar(64)', (c) => c.notNull().unique())
        .addColumn('name', 'varchar(200)', (c) => c.notNull())
        .addColumn('time_zone', 'varchar(64)', (c) => c.notNull().defaultTo('UTC'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await withId(db.schema.createTable('api_keys'), dialect)
        .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id').onDelete('cascade'))
        .addColumn('name', 'varchar(200)', (c) => c.notNull())
        .addColumn('prefix', 'varchar(32)', (c) => c.notNull())
        .addColumn('secret_hash', 'char(64)', (c) => c.notNull().unique())
        .addColumn('scopes', 'varchar(100)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .addColumn('last_used_at', 'bigint')
        .execute();
      await db.schema.createIndex('api_keys_project').on('api_keys').column('project_id').execute();

      await db.schema
        .createTable('ip_salts')
        .addColumn('day', 'varchar(10)', (c) => c.primaryKey())
        .addColumn('salt', 'varchar(64)', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>) {
      for (const t of ['ip_salts', 'api_keys', 'projects']) await db.schema.dropTable(t).execute();
    },
  };
}
