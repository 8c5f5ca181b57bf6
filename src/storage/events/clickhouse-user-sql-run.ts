/**
 * One metric's SQL run on ClickHouse, in the read-only sandbox database: its limits set on the server,
 * a deadline of its own (the server checks max_execution_time only between blocks), and the server's
 * errors told as Vigil's.
 */
import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import { VigilError } from '../../errors.js';
import { chString } from './clickhouse-escape.js';
import {
  CONVERSION_ERRORS,
  errorCode,
  READONLY,
  serverMessage,
  TIMEOUT_EXCEEDED,
  TOO_MANY_ROWS,
  UNKNOWN_DATABASE,
  UNKNOWN_TABLE,
} from './clickhouse-errors.js';
import { toUserSqlRows } from './duckdb-user-sql.js';
import type { UserSqlQuery, UserSqlRow } from './event-store.js';
import { checkCellSizes, MAX_RESULT_BYTES, resultTooLarge, timedOut } from './user-sql-limits.js';

/** Memory one user-SQL statement may use on the server (a runaway arrayJoin fails instead of starving the store). */
const USER_SQL_MAX_MEMORY_BYTES = 1_000_000_000;

/** `statement` (the checked SQL wrapped for the sandbox) through `userSql`; `admin` kills it past its deadline. */
export async function runUserSqlStatement(
  clients: { userSql: ClickHouseClient; admin: ClickHouseClient },
  statement: string,
  q: UserSqlQuery,
): Promise<UserSqlRow[]> {
  const seconds = Math.max(1, Math.ceil(q.timeoutMs / 1000));
  // the server checks max_execution_time only between blocks, so a query busy within one block (a
  // heavy function over a few rows) runs on past it: past the limit and a short grace the request is
  // aborted and the query killed (it stops at its next block)
  const queryId = globalThis.crypto.randomUUID();
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), seconds * 1000 + 500);
  const started = performance.now();
  let rows: Record<string, unknown>[];
  try {
    const result = await clients.userSql.query({
      query: statement,
      format: 'JSONEachRow',
      query_id: queryId,
      abort_signal: deadline.signal,
      // readonly last: the limits before it are set, then nothing can change them
      clickhouse_settings: {
        max_execution_time: seconds,
        max_result_rows: String(q.maxRows + 1),
        max_result_bytes: String(MAX_RESULT_BYTES),
        result_overflow_mode: 'throw',
        max_memory_usage: String(USER_SQL_MAX_MEMORY_BYTES),
        readonly: '1',
      } as ClickHouseSettings,
    });
    rows = (await result.json()) as Record<string, unknown>[];
  } catch (err) {
    const code = errorCode(err);
    const message = (err as Error).message;
    if (deadline.signal.aborted && code === undefined) {
      await clients.admin.command({ query: `KILL QUERY WHERE query_id = ${chString(queryId)} ASYNC` }).catch(() => undefined);
      throw timedOut(q.timeoutMs);
    }
    if (code === TIMEOUT_EXCEEDED) throw timedOut(q.timeoutMs);
    if (code === TOO_MANY_ROWS && /max bytes/.test(message)) throw resultTooLarge();
    if (code === TOO_MANY_ROWS)
      throw new VigilError(
        'VIGIL_ERR_METRIC_SQL_TOO_MANY_ROWS',
        `the metric's SQL returned more than ${q.maxRows} rows; aggregate to one row per bucket (and breakdown)`,
        { maxRows: q.maxRows },
      );
    if (code === READONLY || code === UNKNOWN_TABLE || code === UNKNOWN_DATABASE)
      throw new VigilError('VIGIL_ERR_METRIC_SQL_FORBIDDEN', `the metric's SQL may read only the "events" view: ${serverMessage(message)}`);
    throw new VigilError(
      'VIGIL_ERR_METRIC_SQL_INVALID',
      `the metric's SQL failed: ${CONVERSION_ERRORS.has(code ?? -1) ? 'Conversion Error: ' : ''}${serverMessage(message)}`,
    );
  } finally {
    clearTimeout(timer);
  }
  // reading the result into JavaScript counts against the limit too
  if (performance.now() - started > q.timeoutMs) throw timedOut(q.timeoutMs);
  checkCellSizes(rows);
  return toUserSqlRows(rows, q.maxRows);
}
