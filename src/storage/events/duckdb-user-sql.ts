/**
 * The guard and runner for user-written metric SQL on DuckDB. Two layers:
 *
 * 1. `checkUserSql` parses the text with DuckDB (json_serialize_sql, which only serializes
 *    SELECTs) and walks the whole AST: one SELECT, reading only the unqualified `events` view and
 *    CTEs in scope, no table functions, and only functions on the allowlist
 *    (duckdb-user-sql-functions.ts).
 * 2. `runCheckedUserSql` copies one project's rows in the window (no project_id, no ip_hash; only
 *    the columns the text names) into a temporary table of the connection and runs the checked
 *    text over it as `events`: a function that reads a column's table (stats(), say) sees that
 *    copy, never another project's rows. The result's rows, each value's size and the total size
 *    are capped inside the engine, and the time limit covers the copy and reading the result.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { UserSqlQuery, UserSqlRow } from './event-store.js';
import { int, slotExpr, windowWhere } from './duckdb-sql.js';
import { ALLOWED_FUNCTIONS, PARSER_MAIN_FUNCTIONS } from './duckdb-user-sql-functions.js';
import { MAX_RESULT_BYTES, MAX_RESULT_CELL_BYTES, cellTooLarge, resultTooLarge, timedOut } from './user-sql-limits.js';
import { VigilError } from '../../errors.js';

export const MAX_USER_SQL_CHARS = 20_000;

/** The columns of the `events` view a metric's SQL reads, besides `bucket`. */
const VIEW_COLUMNS = [
  'event',
  'type',
  'user_id',
  'anonymous_id',
  'distinct_id',
  'session_id',
  'timestamp',
  'received_at',
  'properties',
  'context',
  'page_path',
  'referrer_host',
  'app_version',
  'platform',
  'os',
  'browser',
  'device_type',
  'country',
];

/** Statement kinds named in the message when DuckDB refuses to serialize a non-SELECT. */
const STATEMENT_KEYWORDS = new Set([
  'DROP',
  'DELETE',
  'INSERT',
  'UPDATE',
  'CREATE',
  'ALTER',
  'TRUNCATE',
  'MERGE',
  'PRAGMA',
  'ATTACH',
  'DETACH',
  'USE',
  'COPY',
  'INSTALL',
  'LOAD',
  'FORCE',
  'SET',
  'RESET',
  'CALL',
  'EXPORT',
  'IMPORT',
  'VACUUM',
  'CHECKPOINT',
  'BEGIN',
  'COMMIT',
  'ROLLBACK',
  'ABORT',
  'PREPARE',
  'EXECUTE',
  'DEALLOCATE',
  'EXPLAIN',
  'ANALYZE',
  'UPDATE_EXTENSIONS',
]);

const READS_ONLY = `a metric's SQL may read only the "events" view (and CTEs it defines)`;

const forbidden = (message: string, details?: unknown) => new VigilError('VIGIL_ERR_METRIC_SQL_FORBIDDEN', message, details);
const invalid = (message: string, details?: unknown) => new VigilError('VIGIL_ERR_METRIC_SQL_INVALID', message, details);

type Node = Record<string, unknown>;
const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown) => (typeof v === 'string' ? v : '');
/** A returned value as an error message shows it: JSON, at most 80 characters. */
const shown = (v: unknown) => {
  const json = JSON.stringify(v) ?? String(v);
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
};

/** What the guard learned of a query it let through. */
export interface CheckedUserSql {
  /** the view's columns the text may read (names it mentions; all of them for *, COLUMNS(...) and PIVOT) */
  columns: readonly string[];
}

/** Names the AST mentions as columns; `all` once a star, COLUMNS(...) or PIVOT may read any. */
interface NamedColumns {
  names: Set<string>;
  all: boolean;
  /** tables and their aliases */
  tables: Set<string>;
  /** one-part column references: one naming a table reads its whole row (to_json(e) FROM events e) */
  bareNames: Set<string>;
}

/** Throws a 400 VigilError saying why `sql` may not run; `parse` returns DuckDB's json_serialize_sql output. */
export async function checkUserSql(parse: (sql: string) => Promise<string>, sql: string): Promise<CheckedUserSql> {
  if (!sql.trim()) throw invalid("the metric's SQL is empty");
  if (sql.length > MAX_USER_SQL_CHARS)
    throw invalid(`the metric's SQL is ${sql.length} characters long; at most ${MAX_USER_SQL_CHARS} are allowed`);
  const parsed = JSON.parse(await parse(sql)) as Node;
  if (parsed.error) {
    const duckdb = text(parsed.error_message);
    if (/only select statements/i.test(duckdb)) {
      const kinds = statementKinds(sql);
      if (kinds[0] === 'PIVOT' && kinds.length === 1)
        throw invalid(`a PIVOT in a metric's SQL must list its values: PIVOT events ON column IN ('a', 'b') USING ...`);
      const kind = kinds.find((k) => STATEMENT_KEYWORDS.has(k));
      throw forbidden(
        `only a single SELECT statement may run${kind ? `, not ${kind}` : ''}: a metric's SQL cannot change data, settings, files or extensions`,
        { statement: kind ?? null },
      );
    }
    throw invalid(`the metric's SQL does not parse: ${duckdb}`, { duckdb, position: parsed.position ?? null });
  }
  const statements = Array.isArray(parsed.statements) ? parsed.statements : [];
  if (statements.length === 0) throw invalid("the metric's SQL holds no statement (only comments or semicolons)");
  if (statements.length > 1)
    throw forbidden(`the metric's SQL holds ${statements.length} statements; exactly one SELECT is allowed`, {
      statements: statements.length,
    });
  const named: NamedColumns = { names: new Set(), all: false, tables: new Set(), bareNames: new Set() };
  walk(statements[0], new Set(), named);
  const all = named.all || [...named.tables].some((t) => named.bareNames.has(t));
  return { columns: VIEW_COLUMNS.filter((c) => all || named.names.has(c)) };
}

/** The first keyword of each `;`-separated piece, comments removed: only a hint for the message. */
function statementKinds(sql: string): string[] {
  const bare = sql.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/--[^\n]*/g, ' ');
  return bare.split(';').map((piece) => (/^\s*([a-z_]+)/i.exec(piece)?.[1] ?? '').toUpperCase());
}

/**
 * Visits every object and array of the AST. `scope` holds the CTE names (lower case) a table
 * reference here binds to: a WITH's CTEs are visible to the rest of its query and to later CTEs
 * of the same WITH, a recursive CTE's own name only to its recursive (right) side. DuckDB binds
 * any other name to a real table, so it must be `events` or a CTE in scope.
 */
function walk(value: unknown, scope: ReadonlySet<string>, named: NamedColumns): void {
  if (Array.isArray(value)) {
    for (const item of value) walk(item, scope, named);
    return;
  }
  if (!isNode(value)) return;
  let inner = scope;
  const ctes = cteEntries(value.cte_map);
  if (ctes) {
    const visible = new Set(scope);
    for (const cte of ctes) {
      walk(cte.value, new Set(visible), named);
      visible.add(cte.key.toLowerCase());
    }
    inner = visible;
  }
  checkNode(value, inner);
  noteColumns(value, named);
  for (const [key, child] of Object.entries(value)) {
    if (key === 'cte_map' && ctes) continue;
    if (key === 'right' && value.type === 'RECURSIVE_CTE_NODE') walk(child, new Set([...inner, text(value.cte_name).toLowerCase()]), named);
    else walk(child, inner, named);
  }
}

function cteEntries(cteMap: unknown): { key: string; value: unknown }[] | undefined {
  if (!isNode(cteMap) || !Array.isArray(cteMap.map)) return undefined;
  const entries = cteMap.map.filter((e): e is { key: string; value: unknown } => isNode(e) && typeof e.key === 'string');
  return entries.length === cteMap.map.length ? entries : undefined;
}

function checkNode(node: Node, scope: ReadonlySet<string>): void {
  if (node.type === 'BASE_TABLE') {
    const name = [node.catalog_name, node.schema_name, node.table_name].map(text).filter(Boolean).join('.');
    if (text(node.catalog_name) || text(node.schema_name))
      throw forbidden(`table "${name}" is not allowed: ${READS_ONLY}, unqualified`, { table: name });
    const table = text(node.table_name).toLowerCase();
    if (table !== 'events' && !scope.has(table)) throw forbidden(`table "${name}" is not allowed: ${READS_ONLY}`, { table: name });
  } else if (node.type === 'TABLE_FUNCTION') {
    const name = isNode(node.function) ? text(node.function.function_name) : '';
    throw forbidden(
      `table function ${name || '(unnamed)'} is not allowed: ${READS_ONLY}, not files, settings, the catalog or generated tables`,
      { function: name },
    );
  } else if (node.type === 'SHOW_REF') {
    throw forbidden(`SHOW, DESCRIBE and SUMMARIZE are not allowed: ${READS_ONLY}`);
  }
  if (typeof node.function_name === 'string') {
    const name = node.function_name;
    const qualifier = [node.catalog, node.schema].map(text).filter(Boolean).join('.');
    if (qualifier && !(qualifier === 'main' && PARSER_MAIN_FUNCTIONS.has(name))) {
      throw forbidden(
        `function ${qualifier}.${name} is not allowed: a metric's SQL may call only unqualified built-in functions (for a method call x.${name}(...), write ${name}(x, ...))`,
        { function: `${qualifier}.${name}` },
      );
    }
    if (!ALLOWED_FUNCTIONS.has(name.toLowerCase()))
      throw forbidden(
        `function ${name} is not allowed: it is not on the list of functions a metric's SQL may call (arithmetic, math, text, regular expressions, dates and times, JSON, lists and structs, aggregates and window functions)`,
        { function: name },
      );
  }
}

/** Over-approximates the columns read: any part of a column reference, any USING column. */
function noteColumns(node: Node, named: NamedColumns): void {
  if (node.class === 'STAR' || text(node.type).includes('PIVOT')) named.all = true;
  if (node.type === 'BASE_TABLE')
    for (const name of [node.table_name, node.alias]) if (text(name)) named.tables.add(text(name).toLowerCase());
  for (const key of ['column_names', 'using_columns']) {
    const names = node[key];
    if (Array.isArray(names)) for (const name of names) if (typeof name === 'string') named.names.add(name.toLowerCase());
  }
  if (Array.isArray(node.column_names) && node.column_names.length === 1) named.bareNames.add(text(node.column_names[0]).toLowerCase());
}

/** The connection's temporary copy of the window: the only rows a metric's SQL runs over. */
const COPY_TABLE = 'vigil_user_sql_events';
/** Errors the size checks raise inside the engine (error() is not on the allowlist, so a user's SQL cannot forge them). */
const CELL_TOO_LARGE = 'vigil: result value too large';
const RESULT_TOO_LARGE = 'vigil: result too large';
/** The column the total size check adds to the result. */
const SIZE_CHECK = 'vigil_result_size_check';

/**
 * The statements that copy the window's rows (the columns the text reads, and `bucket`), run the
 * checked text over the copy as `events` with its limits, and drop the copy. The text is capped at
 * maxRows + 1 rows; then every value (as text) must fit MAX_RESULT_CELL_BYTES and all of them
 * together MAX_RESULT_BYTES, or error() stops the statement before a row leaves the engine.
 */
export function userSqlStatements(q: UserSqlQuery, checked: CheckedUserSql): { copy: string; query: string; drop: string } {
  const copy = `CREATE OR REPLACE TEMP TABLE ${COPY_TABLE} AS
SELECT ${[...checked.columns, `make_timestamp((${slotExpr(q)}) * 1000) AS bucket`].join(', ')}
FROM main.events WHERE ${windowWhere(q)}`;
  const query = `WITH events AS (SELECT * FROM temp.main.${COPY_TABLE})
SELECT *, CASE WHEN sum(strlen(concat_ws('', *COLUMNS(*)))) OVER () > ${int(MAX_RESULT_BYTES)} THEN error('${RESULT_TOO_LARGE}') END AS ${SIZE_CHECK}
FROM (SELECT * FROM (
${withoutTrailingSemicolons(q.sql)}
) AS user_query LIMIT ${int(q.maxRows + 1)}) AS user_query
WHERE CASE WHEN strlen(COLUMNS(*)::VARCHAR) > ${int(MAX_RESULT_CELL_BYTES)} THEN error('${CELL_TOO_LARGE}') ELSE true END`;
  return { copy, query, drop: `DROP TABLE IF EXISTS temp.main.${COPY_TABLE}` };
}

/** Runs checked SQL on `c` (a connection no one else uses meanwhile) over a copy of the project's window, within q.timeoutMs. */
export async function runCheckedUserSql(c: DuckDBConnection, q: UserSqlQuery, checked: CheckedUserSql): Promise<UserSqlRow[]> {
  const { copy, query, drop } = userSqlStatements(q, checked);
  const started = performance.now();
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    c.interrupt();
  }, q.timeoutMs);
  // an interrupt that lands between two statements stops neither, so each start checks the clock too
  const run = async (sql: string) => {
    if (expired) throw timedOut(q.timeoutMs);
    return c.runAndReadAll(sql);
  };
  try {
    await run(copy);
    const rows = (await run(query)).getRowObjectsJson();
    // reading the result into JavaScript counts against the limit too
    if (performance.now() - started > q.timeoutMs) throw timedOut(q.timeoutMs);
    return toUserSqlRows(
      rows.map(({ [SIZE_CHECK]: _, ...row }) => row),
      q.maxRows,
    );
  } catch (err) {
    if (err instanceof VigilError) throw err;
    const message = (err as Error).message;
    if (expired || /interrupt/i.test(message)) throw timedOut(q.timeoutMs);
    if (message.includes(CELL_TOO_LARGE)) throw cellTooLarge();
    if (message.includes(RESULT_TOO_LARGE)) throw resultTooLarge();
    // the statement passed the guard, so an error now is in the user's SQL (an unknown column, a bad cast ...)
    throw invalid(`the metric's SQL failed: ${message}`);
  } finally {
    clearTimeout(timer);
    await c.run(drop).catch(() => undefined);
  }
}

/** Drops trailing semicolons and whitespace (a loop: a regex like /[\s;]+$/ backtracks on long runs). */
function withoutTrailingSemicolons(sql: string): string {
  let end = sql.length;
  while (end > 0 && (sql[end - 1] === ';' || /\s/.test(sql[end - 1]))) end--;
  return sql.slice(0, end);
}

/** Converts result rows, throwing a 400 when there are more than maxRows or a column is missing. */
export function toUserSqlRows(rows: Record<string, unknown>[], maxRows: number): UserSqlRow[] {
  if (rows.length > maxRows)
    throw new VigilError(
      'VIGIL_ERR_METRIC_SQL_TOO_MANY_ROWS',
      `the metric's SQL returned more than ${maxRows} rows; aggregate to one row per bucket (and breakdown)`,
      { maxRows },
    );
  if (!rows.length) return [];
  const returned = Object.keys(rows[0]);
  const column = (name: string) => returned.find((c) => c.toLowerCase() === name);
  const [bucket, value, breakdown, samples] = [column('bucket'), column('value'), column('breakdown'), column('samples')];
  if (!bucket || !value) {
    const missing = [bucket ? [] : ['bucket'], value ? [] : ['value']].flat();
    throw invalid(
      `the metric's SQL returned the columns ${returned.join(', ')}; it must return bucket and value (and optionally breakdown and samples): ${missing.join(' and ')} missing`,
      { returned, required: ['bucket', 'value'], optional: ['breakdown', 'samples'], missing },
    );
  }
  return rows.map((row, i) => ({
    bucketMs: toBucketMs(row[bucket], i),
    value: toValue(row[value], i),
    breakdown: breakdown ? toBreakdown(row[breakdown], i) : null,
    samples: samples ? toSamples(row[samples], i) : null,
  }));
}

const TIMESTAMP = /^(\d{4,})-(\d\d)-(\d\d)(?:[ T](\d\d):(\d\d):(\d\d)(?:\.(\d+))?)?(?:([+-])(\d\d)(?::?(\d\d))?)?$/;
const NUMERIC = /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i;

/** A TIMESTAMP (as DuckDB prints it, read as UTC, or with its offset) or epoch ms. */
function toBucketMs(v: unknown, i: number): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string') {
    const trimmed = v.trim();
    if (NUMERIC.test(trimmed) && Number.isFinite(Number(trimmed))) return Number(trimmed);
    const m = TIMESTAMP.exec(trimmed);
    if (m) {
      const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', sign, oh = '0', om = '0'] = m;
      const utc = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Number(frac.slice(0, 3).padEnd(3, '0')));
      const offsetMs = sign ? (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) * 60_000 : 0;
      if (Number.isFinite(utc)) return utc - offsetMs;
    }
  }
  throw invalid(`row ${i + 1} of the metric's SQL has bucket ${shown(v)}; a bucket must be a TIMESTAMP or epoch milliseconds, never null`, {
    row: i + 1,
    bucket: v ?? null,
  });
}

function toValue(v: unknown, i: number): number | null {
  if (v === null || v === undefined) return null;
  const n =
    typeof v === 'number'
      ? v
      : typeof v === 'string' && (NUMERIC.test(v.trim()) || /^[+-]?(nan|inf|infinity)$/i.test(v.trim()))
        ? Number(v)
        : undefined;
  if (n === undefined)
    throw invalid(`row ${i + 1} of the metric's SQL has value ${shown(v)}; a value must be a number or null`, { row: i + 1, value: v });
  return Number.isFinite(n) ? n : null;
}

function toSamples(v: unknown, i: number): number | null {
  if (v === null || v === undefined) return null;
  const n = typeof v === 'number' ? v : typeof v === 'string' && NUMERIC.test(v.trim()) ? Number(v) : undefined;
  if (n === undefined || !Number.isFinite(n) || n < 0)
    throw invalid(`row ${i + 1} of the metric's SQL has samples ${shown(v)}; samples must be a number of 0 or more, or null`, {
      row: i + 1,
      samples: v,
    });
  return n;
}

function toBreakdown(v: unknown, i: number): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw invalid(`row ${i + 1} of the metric's SQL has breakdown ${shown(v)}; a breakdown must be text or null`, {
    row: i + 1,
    breakdown: v,
  });
}
