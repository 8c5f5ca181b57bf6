/**
 * SQL for metric collection on DuckDB: every metric of a cycle is one column of one statement, so
 * the events of the window are read once however many metrics there are.
 *
 * A first step (`base`) computes per row its slot, each distinct condition as a boolean, each
 * property value the aggregates need and each breakdown key; then the aggregates with
 * `FILTER (WHERE cond)`, grouped by slot, and by (slot, key) per breakdown dimension, as branches
 * of one UNION ALL.
 */
import type { Dimension, MetricScanQuery, ScanAggregate, ScanColumn, ScanFilter } from './event-store.js';
import { NONE_KEY } from './event-store.js';
import { type Sql, int, propertyPath, slotExpr, windowWhere } from './duckdb-sql.js';

/** Bound string parameters, each distinct value once. */
class Params {
  readonly list: string[] = [];
  private index = new Map<string, number>();
  ref(value: string): string {
    let i = this.index.get(value);
    if (i === undefined) {
      this.list.push(value);
      this.index.set(value, (i = this.list.length));
    }
    return `$${i}`;
  }
}

function num(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`expected a finite number, got ${n}`);
  return String(n);
}

function valueExpr(d: Dimension, p: Params): string {
  return 'column' in d ? d.column : `json_extract_string(properties, ${p.ref(propertyPath(d.property))})`;
}

const asText = (v: string | number | boolean) => String(v);

function filterSql(f: ScanFilter, p: Params): string {
  const x = valueExpr(f.dimension, p);
  const v = f.value;
  const asNumber = `TRY_CAST(${x} AS DOUBLE)`;
  const list = () => (Array.isArray(v) ? v : v === undefined ? [] : [v]).map((item) => p.ref(asText(item))).join(', ');
  switch (f.op) {
    case 'eq':
      return typeof v === 'number' ? `${asNumber} = ${num(v)}` : `${x} = ${p.ref(asText(v as string | boolean))}`;
    case 'neq':
      return typeof v === 'number'
        ? `${asNumber} IS DISTINCT FROM ${num(v)}`
        : `${x} IS DISTINCT FROM ${p.ref(asText(v as string | boolean))}`;
    case 'in':
      return `${x} IN (${list()})`;
    case 'not_in':
      return `(${x} IS NULL OR ${x} NOT IN (${list()}))`;
    case 'contains':
      return `contains(${x}, ${p.ref(asText(v as string))})`;
    case 'gt':
      return `${asNumber} > ${num(v as number)}`;
    case 'gte':
      return `${asNumber} >= ${num(v as number)}`;
    case 'lt':
      return `${asNumber} < ${num(v as number)}`;
    case 'lte':
      return `${asNumber} <= ${num(v as number)}`;
    case 'is_set':
      return `${x} IS NOT NULL`;
    case 'is_not_set':
      return `${x} IS NULL`;
  }
}

const keyExpr = (d: Dimension, p: Params) => `coalesce(${valueExpr(d, p)}, '${NONE_KEY}')`;

function conditionSql(c: ScanColumn, slot: string, p: Params): string {
  const parts = c.filters.map((f) => filterSql(f, p));
  if (c.event !== undefined) parts.unshift(`event = ${p.ref(c.event)}`);
  const excluded = c.exclude?.slots.filter((s) => s.keys.length);
  if (c.exclude && excluded?.length) {
    const key = keyExpr(c.exclude.dimension, p);
    const cases = excluded.map((s) => `WHEN ${int(s.slotMs)} THEN ${key} IN (${s.keys.map((k) => p.ref(k)).join(', ')})`).join(' ');
    parts.push(`NOT coalesce(CASE ${slot} ${cases} END, false)`);
  }
  return parts.length ? parts.join(' AND ') : 'true';
}

const QUANTILES = { p50: 0.5, p90: 0.9, p99: 0.99 } as const;

/** The aggregate over base columns; `value` is the base column of the property (text or double). */
function aggregateSql(a: ScanAggregate, value: string | undefined): string {
  switch (a.fn) {
    case 'events':
      return 'count(*)';
    case 'users':
      return 'count(DISTINCT distinct_id)';
    case 'sessions':
      return 'count(DISTINCT session_id)';
    case 'count':
      return `count(${value})`;
    case 'count_distinct':
      return `count(DISTINCT ${value})`;
    case 'sum':
    case 'avg':
    case 'min':
    case 'max':
      return `${a.fn}(${value})`;
    case 'p50':
    case 'p90':
    case 'p99':
      return `quantile_cont(${value}, ${QUANTILES[a.fn]})`;
  }
}

const isNumeric = (a: ScanAggregate) =>
  a.fn !== 'events' && a.fn !== 'users' && a.fn !== 'sessions' && a.fn !== 'count' && a.fn !== 'count_distinct';

export function metricScanSql(q: MetricScanQuery): Sql {
  const p = new Params();
  const baseColumns = new Map<string, string>(); // expression -> base column name
  const column = (expr: string, prefix: string) => {
    let name = baseColumns.get(expr);
    if (!name) baseColumns.set(expr, (name = `${prefix}${baseColumns.size}`));
    return name;
  };
  const slot = slotExpr(q);
  const aggregates = q.columns.map((c, i) => {
    const cond = conditionSql(c, slot, p);
    const a = c.aggregate;
    let value: string | undefined;
    if ('of' in a) {
      const raw = valueExpr(a.of, p);
      value = column(isNumeric(a) ? `TRY_CAST(${raw} AS DOUBLE)` : raw, 'v');
    }
    const filter = cond === 'true' ? '' : ` FILTER (WHERE ${column(cond, 'f')})`;
    return `(${aggregateSql(a, value)}${filter})::DOUBLE AS c${i}`;
  });
  const keys = q.breakdowns.map((d) => column(keyExpr(d, p), 'k'));

  let where = windowWhere(q);
  // when every column names an event, rows of other events need not be read
  const events = [...new Set(q.columns.map((c) => c.event))];
  if (events.length && !events.includes(undefined)) where += ` AND event IN (${events.map((e) => p.ref(e as string)).join(', ')})`;

  const needs = new Set(q.columns.map((c) => c.aggregate.fn));
  const base = [`${slot} AS slot`, ...(needs.has('users') ? ['distinct_id'] : []), ...(needs.has('sessions') ? ['session_id'] : [])];
  for (const [expr, name] of baseColumns) base.push(`${expr} AS ${name}`);

  // the totals group by slot; each breakdown is its own branch with only the columns it needs
  // (grouping sets would compute every column, distinct counts above all, for every set)
  const branch = (dim: string, key: string | undefined, wanted?: Set<number>) =>
    `SELECT slot::DOUBLE AS slot, ${dim} AS dim, ${key ?? 'NULL'} AS key,
  ${aggregates.map((a, i) => (!wanted || wanted.has(i) ? a : `NULL::DOUBLE AS c${i}`)).join(',\n  ')}
FROM base GROUP BY slot${key ? `, ${key}` : ''}`;
  const branches = [
    branch('-1', undefined),
    ...keys.map((k, i) => branch(int(i), k, q.breakdownColumns ? new Set(q.breakdownColumns[i]) : undefined)),
  ];
  const sql = `WITH base AS (
  SELECT ${base.join(', ')}
  FROM events WHERE ${where}
)
${branches.join('\nUNION ALL\n')}
ORDER BY 1, 2, 3`;
  return { sql, params: p.list };
}
