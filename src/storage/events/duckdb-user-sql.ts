/**
 * The guard and runner for user-written metric SQL on DuckDB. (Stub: being written.)
 */
import type { UserSqlQuery, UserSqlRow } from './event-store.js';
import type { Sql } from './duckdb-sql.js';

/** Throws a 400 VigilError saying why `sql` may not run; `parse` returns DuckDB's json_serialize_sql output. */
export async function checkUserSql(parse: (sql: string) => Promise<string>, sql: string): Promise<void> {
  void parse;
  void sql;
  throw new Error('not implemented');
}

/** The statement that runs a checked query against the project's `events` view, capped at maxRows + 1 rows. */
export function userSqlStatement(q: UserSqlQuery): Sql {
  void q;
  throw new Error('not implemented');
}

/** Converts result rows, throwing a 400 when there are more than maxRows or a column is missing. */
export function toUserSqlRows(rows: Record<string, unknown>[], maxRows: number): UserSqlRow[] {
  void rows;
  void maxRows;
  throw new Error('not implemented');
}
