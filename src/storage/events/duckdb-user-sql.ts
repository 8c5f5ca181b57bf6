/**
 * The guard and runner for user-written metric SQL on DuckDB. Two layers:
 *
 * 1. `checkUserSql` parses the text with DuckDB (json_serialize_sql, which only serializes
 *    SELECTs) and walks the whole AST: one SELECT, reading only the unqualified `events` view and
 *    CTEs in scope, no table functions, no function that reads files, settings or system state.
 * 2. `userSqlStatement` runs the checked text as a subquery under a CTE named `events` holding one
 *    project's rows in the window (no project_id, no ip_hash), so even a missed path sees nothing
 *    else; the row count is capped by LIMIT and the store interrupts a statement that overruns.
 */
import type { UserSqlQuery, UserSqlRow } from './event-store.js';
import { type Sql, int, slotExpr, windowWhere } from './duckdb-sql.js';
import { VigilError } from '../../errors.js';

export const MAX_USER_SQL_CHARS = 20_000;

/** The columns of the `events` view a metric's SQL reads, besides `bucket`. */
const VIEW_COLUMNS = ['event', 'type', 'user_id', 'anonymous_id', 'distinct_id', 'session_id', 'timestamp', 'received_at', 'properties', 'context', 'page_path', 'referrer_host', 'app_version', 'platform', 'os', 'browser', 'device_type', 'country'];

/** Functions that read files, settings, variables, secrets, sequences or the catalog. */
const FORBIDDEN_FUNCTION = /^(read_.*|.*_scan|glob|current_setting|getenv|getvariable|set_variable|duckdb_.*|pragma_.*|sniff_csv|.*extension.*|query|query_table|sql_auto_complete|json_execute_serialized_sql|.*secret.*|nextval|currval|checkpoint|force_checkpoint|parquet_.*|iceberg_.*|delta_.*)$/i;

/** Functions DuckDB's parser itself writes as main.f: list and struct literals, EXTRACT, TRIM, LIKE ... ESCAPE ... */
const PARSER_MAIN_FUNCTIONS = new Set(['list_value', 'struct_pack', 'map', 'row', 'date_part', 'position', 'substring', 'trim', 'ltrim', 'rtrim', 'overlay', 'timezone', 'like_escape', 'not_like_escape', 'ilike_escape', 'not_ilike_escape', 'list_apply', 'list_filter', 'struct_extract']);

/** Statement kinds named in the message when DuckDB refuses to serialize a non-SELECT. */
const STATEMENT_KEYWORDS = new Set(['DROP', 'DELETE', 'INSERT', 'UPDATE', 'CREATE', 'ALTER', 'TRUNCATE', 'MERGE', 'PRAGMA', 'ATTACH', 'DETACH', 'USE', 'COPY', 'INSTALL', 'LOAD', 'FORCE', 'SET', 'RESET', 'CALL', 'EXPORT', 'IMPORT', 'VACUUM', 'CHECKPOINT', 'BEGIN', 'COMMIT', 'ROLLBACK', 'ABORT', 'PREPARE', 'EXECUTE', 'DEALLOCATE', 'EXPLAIN', 'ANALYZE', 'UPDATE_EXTENSIONS']);

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

/** Throws a 400 VigilError saying why `sql` may not run; `parse` returns DuckDB's json_serialize_sql output. */
export async function checkUserSql(parse: (sql: string) => Promise<string>, sql: string): Promise<void> {
  if (!sql.trim()) throw invalid("the metric's SQL is empty");
  if (sql.length > MAX_USER_SQL_CHARS) throw invalid(`the metric's SQL is ${sql.length} characters long; at most ${MAX_USER_SQL_CHARS} are allowed`);
  const parsed = JSON.parse(await parse(sql)) as Node;
  if (parsed.error) {
    const duckdb = text(parsed.error_message);
    if (/only select statements/i.test(duckdb)) {
      const kinds = statementKinds(sql);
      if (kinds[0] === 'PIVOT' && kinds.length === 1) throw invalid(`a PIVOT in a metric's SQL must list its values: PIVOT events ON column IN ('a', 'b') USING ...`);
      const kind = kinds.find((k) => STATEMENT_KEYWORDS.has(k));
      throw forbidden(`only a single SELECT statement may run${kind ? `, not ${kind}` : ''}: a metric's SQL cannot change data, settings, files or extensions`, { statement: kind ?? null });
    }
    throw invalid(`the metric's SQL does not parse: ${duckdb}`, { duckdb, position: parsed.position ?? null });
  }
  const statements = Array.isArray(parsed.statements) ? parsed.statements : [];
  if (statements.length === 0) throw invalid("the metric's SQL holds no statement (only comments or semicolons)");
  if (statements.length > 1) throw forbidden(`the metric's SQL holds ${statements.length} statements; exactly one SELECT is allowed`, { statements: statements.length });
  walk(statements[0], new Set());
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
function walk(value: unknown, scope: ReadonlySet<string>): void {
  if (Array.isArray(value)) {
    for (const item of value) walk(item, scope);
    return;
  }
  if (!isNode(value)) return;
  let inner = scope;
  const ctes = cteEntries(value.cte_map);
  if (ctes) {
    const visible = new Set(scope);
    for (const cte of ctes) {
      walk(cte.value, new Set(visible));
      visible.add(cte.key.toLowerCase());
    }
    inner = visible;
  }
  checkNode(value, inner);
  for (const [key, child] of Object.entries(value)) {
    if (key === 'cte_map' && ctes) continue;
    if (key === 'right' && value.type === 'RECURSIVE_CTE_NODE') walk(child, new Set([...inner, text(value.cte_name).toLowerCase()]));
    else walk(child, inner);
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
    if (text(node.catalog_name) || text(node.schema_name)) throw forbidden(`table "${name}" is not allowed: ${READS_ONLY}, unqualified`, { table: name });
    const table = text(node.table_name).toLowerCase();
    if (table !== 'events' && !scope.has(table)) throw forbidden(`table "${name}" is not allowed: ${READS_ONLY}`, { table: name });
  } else if (node.type === 'TABLE_FUNCTION') {
    const name = isNode(node.function) ? text(node.function.function_name) : '';
    throw forbidden(`table function ${name || '(unnamed)'} is not allowed: ${READS_ONLY}, not files, settings, the catalog or generated tables`, { function: name });
  } else if (node.type === 'SHOW_REF') {
    throw forbidden(`SHOW, DESCRIBE and SUMMARIZE are not allowed: ${READS_ONLY}`);
  }
  if (typeof node.function_name === 'string') {
    const name = node.function_name;
    const qualifier = [node.catalog, node.schema].map(text).filter(Boolean).join('.');
    if (qualifier && !(qualifier === 'main' && PARSER_MAIN_FUNCTIONS.has(name))) {
      throw forbidden(`function ${qualifier}.${name} is not allowed: a metric's SQL may call only unqualified built-in functions (for a method call x.${name}(...), write ${name}(x, ...))`, { function: `${qualifier}.${name}` });
    }
    if (FORBIDDEN_FUNCTION.test(name)) throw forbidden(`function ${name} is not allowed: it reads files, settings, secrets or system state`, { function: name });
  }
}

/** The statement that runs a checked query against the project's `events` view, capped at maxRows + 1 rows. */
export function userSqlStatement(q: UserSqlQuery): Sql {
  const sql = `WITH events AS (
  SELECT ${VIEW_COLUMNS.join(', ')}, make_timestamp((${slotExpr(q)}) * 1000) AS bucket
  FROM main.events WHERE ${windowWhere(q)}
)
SELECT * FROM (
${withoutTrailingSemicolons(q.sql)}
) AS user_query LIMIT ${int(q.maxRows + 1)}`;
  return { sql, params: [] };
}

/** Drops trailing semicolons and whitespace (a loop: a regex like /[\s;]+$/ backtracks on long runs). */
function withoutTrailingSemicolons(sql: string): string {
  let end = sql.length;
  while (end > 0 && (sql[end - 1] === ';' || /\s/.test(sql[end - 1]))) end--;
  return sql.slice(0, end);
}

/** Converts result rows, throwing a 400 when there are more than maxRows or a column is missing. */
export function toUserSqlRows(rows: Record<string, unknown>[], maxRows: number): UserSqlRow[] {
  if (rows.length > maxRows) throw new VigilError('VIGIL_ERR_METRIC_SQL_TOO_MANY_ROWS', `the metric's SQL returned more than ${maxRows} rows; aggregate to one row per bucket (and breakdown)`, { maxRows });
  if (!rows.length) return [];
  const returned = Object.keys(rows[0]);
  const column = (name: string) => returned.find((c) => c.toLowerCase() === name);
  const [bucket, value, breakdown] = [column('bucket'), column('value'), column('breakdown')];
  if (!bucket || !value) {
    const missing = [bucket ? [] : ['bucket'], value ? [] : ['value']].flat();
    throw invalid(`the metric's SQL returned the columns ${returned.join(', ')}; it must return bucket and value (and optionally breakdown): ${missing.join(' and ')} missing`, { returned, required: ['bucket', 'value'], optional: ['breakdown'], missing });
  }
  return rows.map((row, i) => ({
    bucketMs: toBucketMs(row[bucket], i),
    value: toValue(row[value], i),
    breakdown: breakdown ? toBreakdown(row[breakdown], i) : null,
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
  throw invalid(`row ${i + 1} of the metric's SQL has bucket ${shown(v)}; a bucket must be a TIMESTAMP or epoch milliseconds, never null`, { row: i + 1, bucket: v ?? null });
}

function toValue(v: unknown, i: number): number | null {
  if (v === null || v === undefined) return null;
  const n = typeof v === 'number' ? v : typeof v === 'string' && (NUMERIC.test(v.trim()) || /^[+-]?(nan|inf|infinity)$/i.test(v.trim())) ? Number(v) : undefined;
  if (n === undefined) throw invalid(`row ${i + 1} of the metric's SQL has value ${shown(v)}; a value must be a number or null`, { row: i + 1, value: v });
  return Number.isFinite(n) ? n : null;
}

function toBreakdown(v: unknown, i: number): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw invalid(`row ${i + 1} of the metric's SQL has breakdown ${shown(v)}; a breakdown must be text or null`, { row: i + 1, breakdown: v });
}
