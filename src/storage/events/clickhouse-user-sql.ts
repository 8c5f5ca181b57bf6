/**
 * The guard and runner for user-written metric SQL on ClickHouse. ClickHouse 18.16 has no parser
 * Vigil can call for an AST, so the guard is a conservative token check, with layers behind it:
 *
 * 1. `checkClickHouseUserSql` tokenizes the text (strings, quoted names, comments) and allows one
 *    SELECT (or WITH ... SELECT) reading only `events`: after FROM and JOIN comes `events` or a
 *    parenthesized subquery, never a list of tables; no qualified name but `events.x` or
 *    `alias.x`; no SETTINGS, FORMAT, INTO OUTFILE or GLOBAL; no table function, and only
 *    functions on the allowlist (clickhouse-user-sql-functions.ts).
 * 2. `clickHouseUserSqlStatement` replaces each `events` there with a subquery holding one project's
 *    rows in the window (no project_id, no ip_hash), and caps rows with LIMIT.
 * 3. The store runs it with readonly=1 (no writes, no settings changes, no table functions),
 *    max_execution_time, max_result_rows and max_result_bytes, and with an empty database as the
 *    current one, so an unqualified name the guard missed names nothing; the store then checks
 *    each value's size (MAX_RESULT_CELL_BYTES) before reading the rows.
 *
 * No function here sees rows outside the project's view: the view is a subquery filtered by
 * project and window, and ClickHouse keeps no column statistics a function could read.
 */
import type { UserSqlQuery } from './event-store.js';
import { VigilError } from '../../errors.js';
import { chIdent, chInt } from './clickhouse-escape.js';
import { slotExpr, windowWhere } from './clickhouse-sql.js';
import { isAllowedClickHouseFunction, isNotACall } from './clickhouse-user-sql-functions.js';

export const MAX_USER_SQL_CHARS = 20_000;

const forbidden = (message: string, details?: unknown) => new VigilError('VIGIL_ERR_METRIC_SQL_FORBIDDEN', message, details);
const invalid = (message: string, details?: unknown) => new VigilError('VIGIL_ERR_METRIC_SQL_INVALID', message, details);

const READS_ONLY = `a metric's SQL may read only the "events" view`;

interface Token {
  kind: 'word' | 'quoted' | 'string' | 'number' | 'punct';
  /** a word or quoted name's name; the punctuation itself */
  text: string;
  start: number;
  end: number;
}

/** Splits SQL into tokens; comments and whitespace are dropped. Throws a 400 on an unterminated string, name or comment. */
export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '-' && sql[i + 1] === '-') {
      while (i < n && sql[i] !== '\n') i++;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      if (end < 0) throw invalid("the metric's SQL has a comment that is never closed (/* without */)");
      i = end + 2;
    } else if (c === "'" || c === '"' || c === '`') {
      const start = i;
      let text = '';
      i++;
      for (;;) {
        if (i >= n)
          throw invalid(
            `the metric's SQL has a ${c === "'" ? 'string' : 'quoted name'} that is never closed (${c} at character ${start + 1})`,
          );
        const d = sql[i];
        if (d === '\\' && i + 1 < n) {
          text += sql[i + 1];
          i += 2;
        } else if (d === c && sql[i + 1] === c) {
          text += c;
          i += 2;
        } else if (d === c) {
          i++;
          break;
        } else {
          text += d;
          i++;
        }
      }
      tokens.push({ kind: c === "'" ? 'string' : 'quoted', text, start, end: i });
    } else if (/[A-Za-z_]/.test(c)) {
      const start = i;
      while (i < n && /[A-Za-z0-9_$]/.test(sql[i])) i++;
      tokens.push({ kind: 'word', text: sql.slice(start, i), start, end: i });
    } else if (/[0-9]/.test(c)) {
      const start = i;
      while (i < n && /[0-9A-Za-z_.]/.test(sql[i])) {
        // an exponent's sign belongs to the number
        if (/[eE]/.test(sql[i]) && /[+-]/.test(sql[i + 1] ?? '')) i++;
        i++;
      }
      tokens.push({ kind: 'number', text: sql.slice(start, i), start, end: i });
    } else {
      tokens.push({ kind: 'punct', text: c, start: i, end: i + 1 });
      i++;
    }
  }
  return tokens;
}

/** Keywords that never appear in a metric's read: they change output, settings or state. */
const FORBIDDEN_WORDS = new Set([
  'SETTINGS',
  'FORMAT',
  'INTO',
  'OUTFILE',
  'GLOBAL',
  'INSERT',
  'CREATE',
  'ALTER',
  'DROP',
  'RENAME',
  'TRUNCATE',
  'ATTACH',
  'DETACH',
  'OPTIMIZE',
  'KILL',
  'SYSTEM',
  'GRANT',
  'REVOKE',
  'SHOW',
  'DESCRIBE',
  'EXCHANGE',
  'CHECK',
  'WATCH',
  'LIVE',
]);

const STATEMENT_START = new Set(['SELECT', 'WITH']);

/** Words after which a name is not an alias of the table before it. */
const CLAUSE_WORDS = new Set([
  'WHERE',
  'PREWHERE',
  'GROUP',
  'ORDER',
  'LIMIT',
  'HAVING',
  'UNION',
  'JOIN',
  'INNER',
  'LEFT',
  'RIGHT',
  'FULL',
  'CROSS',
  'ANY',
  'ALL',
  'ASOF',
  'SEMI',
  'ANTI',
  'ARRAY',
  'ON',
  'USING',
  'FINAL',
  'SAMPLE',
  'AS',
  'WITH',
  'OUTER',
  'PASTE',
  'QUALIFY',
  'WINDOW',
  'OFFSET',
  'FETCH',
  'INTERSECT',
  'EXCEPT',
  'SELECT',
  'FROM',
]);

const upper = (t: Token | undefined) => (t && t.kind === 'word' ? t.text.toUpperCase() : '');
const isName = (t: Token | undefined) => !!t && (t.kind === 'word' || t.kind === 'quoted');

/** Index of the token after the parenthesized group opening at `i`. */
function skipGroup(tokens: Token[], i: number): number {
  let depth = 0;
  for (let j = i; j < tokens.length; j++) {
    if (tokens[j].kind !== 'punct') continue;
    if (tokens[j].text === '(') depth++;
    else if (tokens[j].text === ')' && --depth === 0) return j + 1;
  }
  throw invalid("the metric's SQL has a parenthesis that is never closed");
}

/** Where `events` names the table: the token indexes to replace, and whether an alias follows. */
export interface CheckedUserSql {
  tokens: Token[];
  tables: { index: number; aliased: boolean }[];
  /** the text without trailing semicolons */
  text: string;
}

/**
 * Throws a 400 VigilError saying why `sql` may not run on ClickHouse. Long because it is one list of
 * rules read in order, each refusing with its own reason: split, the list would be scattered.
 */
export function checkClickHouseUserSql(sql: string): CheckedUserSql {
  if (!sql.trim()) throw invalid("the metric's SQL is empty");
  if (sql.length > MAX_USER_SQL_CHARS)
    throw invalid(`the metric's SQL is ${sql.length} characters long; at most ${MAX_USER_SQL_CHARS} are allowed`);
  let tokens = tokenize(sql);
  while (tokens.length && tokens[tokens.length - 1].text === ';' && tokens[tokens.length - 1].kind === 'punct') tokens.pop();
  if (!tokens.length) throw invalid("the metric's SQL holds no statement (only comments or semicolons)");
  const text = sql.slice(0, tokens[tokens.length - 1].end);
  tokens = tokenize(text);
  const semicolons = tokens.filter((t) => t.kind === 'punct' && t.text === ';').length;
  if (semicolons)
    throw forbidden(`the metric's SQL holds ${semicolons + 1} statements; exactly one SELECT is allowed`, { statements: semicolons + 1 });
  const first = tokens[0].kind === 'punct' && tokens[0].text === '(' ? tokens.find((t) => t.kind !== 'punct') : tokens[0];
  if (!STATEMENT_START.has(upper(first))) {
    const kind = upper(first) || null;
    throw forbidden(
      `only a single SELECT statement may run${kind ? `, not ${kind}` : ''}: a metric's SQL cannot change data, settings, files or the server`,
      { statement: kind },
    );
  }

  const aliases = new Set<string>(['events']);
  for (let i = 0; i < tokens.length; i++)
    if (upper(tokens[i]) === 'AS' && isName(tokens[i + 1])) aliases.add(tokens[i + 1].text.toLowerCase());

  // first every table position (which also declares the aliases used before it, as in SELECT e.x FROM events e) ...
  const tables: CheckedUserSql['tables'] = [];
  for (let i = 0; i < tokens.length; i++) {
    const word = upper(tokens[i]);
    const isTablePosition = word === 'FROM' || (word === 'JOIN' && !(upper(tokens[i - 1]) === 'ARRAY'));
    if (!isTablePosition) continue;
    const next = tokens[i + 1];
    let after: number;
    if (next?.kind === 'punct' && next.text === '(') {
      after = skipGroup(tokens, i + 1);
    } else if (isName(next) && next.text.toLowerCase() === 'events' && !(tokens[i + 2]?.kind === 'punct' && tokens[i + 2].text === '.')) {
      after = i + 2;
      const alias = upper(tokens[after]) === 'AS' ? tokens[after + 1] : tokens[after];
      const aliased = isName(alias) && !CLAUSE_WORDS.has(upper(alias) || '\0');
      tables.push({ index: i + 1, aliased: aliased || upper(tokens[after]) === 'AS' });
    } else {
      const parts = [next];
      for (let j = i + 2; tokens[j]?.text === '.' && isName(tokens[j + 1]); j += 2) parts.push(tokens[j + 1]);
      const name = next ? parts.map((p) => p.text).join('.') : '';
      throw forbidden(`table "${name}" is not allowed: ${READS_ONLY} (or a subquery over it), after ${word}`, { table: name || null });
    }
    // an alias, then a list of tables would follow as `, name`
    let j = after;
    if (upper(tokens[j]) === 'AS') j++;
    if (isName(tokens[j]) && !CLAUSE_WORDS.has(upper(tokens[j]) || '\0')) {
      aliases.add(tokens[j].text.toLowerCase());
      j++;
    }
    if (tokens[j]?.kind === 'punct' && tokens[j].text === ',')
      throw forbidden(`a list of tables after ${word} is not allowed: ${READS_ONLY}; use JOIN with a subquery over it`);
  }

  // ... then every keyword, function call and qualified name
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    const word = upper(t);
    if (word && FORBIDDEN_WORDS.has(word))
      throw forbidden(
        `${word} is not allowed in a metric's SQL: it may only read the "events" view (settings, output formats and files are fixed)`,
        { keyword: word },
      );
    const isCall = isName(t) && tokens[i + 1]?.kind === 'punct' && tokens[i + 1].text === '(' && !(t.kind === 'word' && isNotACall(t.text));
    if (isCall && !isAllowedClickHouseFunction(t.text)) {
      throw forbidden(
        `function ${t.text} is not allowed: it is not on the list of functions a metric's SQL may call (arithmetic, math, text, regular expressions, URLs, dates and times, JSON, arrays, casts, conditions and aggregates)`,
        { function: t.text },
      );
    }
    if (isName(t) && tokens[i + 1]?.text === '.' && tokens[i + 1].kind === 'punct' && isName(tokens[i + 2])) {
      if (!aliases.has(t.text.toLowerCase()))
        throw forbidden(
          `"${t.text}.${tokens[i + 2].text}" is not allowed: ${READS_ONLY}; a qualified name may only be events.column or alias.column`,
          { name: `${t.text}.${tokens[i + 2].text}` },
        );
    }
  }
  return { tokens, tables, text };
}

/** The view a metric's SQL reads as `events`: one project's rows in the window, without project_id and ip_hash. */
function viewSql(database: string, q: UserSqlQuery): string {
  const db = chIdent(database);
  return `(SELECT nullIf(e_event, '') AS event, e_type AS type, user_id, anonymous_id, distinct_id, session_id,
    toDateTime(intDiv(e_ts, 1000), 'UTC') AS timestamp, e_ts AS timestamp_ms, toDateTime(intDiv(e_received, 1000), 'UTC') AS received_at,
    properties, context, page_path, referrer_host, app_version, platform, os, browser, device_type, country,
    toDateTime(intDiv(e_slot, 1000), 'UTC') AS bucket
  FROM (SELECT event AS e_event, type AS e_type, timestamp AS e_ts, received_at AS e_received, ${slotExpr(q)} AS e_slot,
      user_id, anonymous_id, distinct_id, session_id, properties, context, page_path, referrer_host, app_version, platform, os, browser, device_type, country
    FROM ${db}.events WHERE ${windowWhere(q)}))`;
}

/** The statement that runs a checked query against the project's `events` view, capped at maxRows + 1 rows. */
export function clickHouseUserSqlStatement(database: string, q: UserSqlQuery, checked: CheckedUserSql): string {
  const view = viewSql(database, q);
  let out = '';
  let at = 0;
  for (const { index, aliased } of checked.tables) {
    const t = checked.tokens[index];
    out += checked.text.slice(at, t.start) + view + (aliased ? '' : ' AS events');
    at = t.end;
  }
  out += checked.text.slice(at);
  return `SELECT * FROM (\n${out}\n) LIMIT ${chInt(q.maxRows + 1)}`;
}
