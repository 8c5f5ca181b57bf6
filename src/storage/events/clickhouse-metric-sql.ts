/**
 * SQL for metric collection on ClickHouse: the same single scan as duckdb-metric-sql.ts, every
 * metric of a cycle one column of one statement. A subquery (`base`) computes per row its slot,
 * each distinct condition as a UInt8, each property value the aggregates need and each breakdown
 * key; the aggregates use -If combinators in place of FILTER (WHERE ...), grouped by slot and by
 * (slot, key) per breakdown dimension, as branches of one UNION ALL.
 *
 * ClickHouse's empty aggregates differ from SQL's (sumIf of no rows is 0, avgIf nan, minIf 0), so
 * every aggregate of a property's values is NULL unless some row counts, as in DuckDB. Percentiles
 * use `quantile` (linear interpolation like quantile_cont; exact up to 8192 values per group, a
 * reservoir sample beyond).
 */
import type { Dimension, MetricScanQuery, ScanAggregate, ScanColumn, ScanFilter } from './event-store.js';
import { chInt, chNum, chString } from './clickhouse-escape.js';
import { dimensionExpr, keyExpr, slotExpr, windowWhere } from './clickhouse-sql.js';

const asText = (v: string | number | boolean) => chString(String(v));

/** A filter as a UInt8 expression that is never NULL (a missing value never equals, always passes neq). */
function filterSql(f: ScanFilter): string {
  const x = dimensionExpr(f.dimension);
  const v = f.value;
  const asNumber = `toFloat64OrNull(${x})`;
  const list = () => (Array.isArray(v) ? v : v === undefined ? [] : [v]).map(asText).join(', ');
  const never = (cond: string) => `ifNull(${cond}, 0)`;
  switch (f.op) {
    case 'eq':
      return never(typeof v === 'number' ? `${asNumber} = ${chNum(v)}` : `${x} = ${asText(v as string | boolean)}`);
    case 'neq':
      return `ifNull(${typeof v === 'number' ? `${asNumber} != ${chNum(v)}` : `${x} != ${asText(v as string | boolean)}`}, 1)`;
    case 'in':
      return list() ? never(`${x} IN (${list()})`) : '0';
    case 'not_in':
      return list() ? `ifNull(${x} NOT IN (${list()}), 1)` : '1';
    case 'contains':
      return never(`position(${x}, ${asText(v as string)}) > 0`);
    case 'gt':
      return never(`${asNumber} > ${chNum(v as number)}`);
    case 'gte':
      return never(`${asNumber} >= ${chNum(v as number)}`);
    case 'lt':
      return never(`${asNumber} < ${chNum(v as number)}`);
    case 'lte':
      return never(`${asNumber} <= ${chNum(v as number)}`);
    case 'is_set':
      return `isNotNull(${x})`;
    case 'is_not_set':
      return `isNull(${x})`;
  }
}

function conditionSql(c: ScanColumn, slot: string): string {
  const parts = c.filters.map(filterSql);
  if (c.event !== undefined) parts.unshift(`event = ${chString(c.event)}`);
  const excluded = c.exclude?.slots.filter((s) => s.keys.length);
  if (c.exclude && excluded?.length) {
    const key = keyExpr(c.exclude.dimension);
    const cases = excluded.map((s) => `(${slot}) = ${chInt(s.slotMs)}, ${key} IN (${s.keys.map(chString).join(', ')})`).join(', ');
    parts.push(`NOT multiIf(${cases}, 0)`);
  }
  return parts.length ? parts.map((p) => `(${p})`).join(' AND ') : '1';
}

const QUANTILES = { p50: '0.5', p90: '0.9', p99: '0.99' } as const;

/**
 * The aggregate over base columns: `cond` a base UInt8 column (or undefined for every row),
 * `value` the base column of the property (Nullable: String, or Float64 for numeric aggregates).
 */
function aggregateSql(a: ScanAggregate, cond: string | undefined, value: string | undefined): string {
  const when = (extra?: string) => [cond, extra].filter(Boolean).join(' AND ') || undefined;
  const countIf = (c: string | undefined) => (c ? `countIf(${c})` : 'count()');
  const ifCombinator = (fn: string, arg: string, c: string | undefined) => (c ? `${fn}If(${arg}, ${c})` : `${fn}(${arg})`);
  switch (a.fn) {
    case 'events':
      return countIf(cond);
    case 'users':
      return ifCombinator('uniqExact', 'distinct_id', cond);
    case 'sessions':
      return ifCombinator('uniqExact', 'assumeNotNull(session_id)', when('isNotNull(session_id)'));
    case 'count':
      return countIf(when(`isNotNull(${value})`));
    case 'count_distinct':
      return ifCombinator('uniqExact', `assumeNotNull(${value})`, when(`isNotNull(${value})`));
    default: {
      const c = when(`isNotNull(${value})`)!;
      const arg = `ifNull(${value}, toFloat64(0))`;
      const fn =
        a.fn === 'p50' || a.fn === 'p90' || a.fn === 'p99' ? `quantileIf(${QUANTILES[a.fn]})(${arg}, ${c})` : `${a.fn}If(${arg}, ${c})`;
      return `if(countIf(${c}) > 0, toFloat64(${fn}), NULL)`;
    }
  }
}

const isNumeric = (a: ScanAggregate) =>
  a.fn !== 'events' && a.fn !== 'users' && a.fn !== 'sessions' && a.fn !== 'count' && a.fn !== 'count_distinct';

export function metricScanSql(q: MetricScanQuery): string {
  const baseColumns = new Map<string, string>(); // expression -> base column name
  const column = (expr: string, prefix: string) => {
    let name = baseColumns.get(expr);
    if (!name) baseColumns.set(expr, (name = `${prefix}${baseColumns.size}`));
    return name;
  };
  const slot = slotExpr(q);
  const aggregates = q.columns.map((c, i) => {
    const cond = conditionSql(c, slot);
    const a = c.aggregate;
    let value: string | undefined;
    if ('of' in a) {
      const raw = dimensionExpr(a.of as Dimension);
      value = column(isNumeric(a) ? `toFloat64OrNull(${raw})` : raw, 'v');
    }
    const condColumn = cond === '1' ? undefined : column(cond, 'f');
    return `toNullable(toFloat64(${aggregateSql(a, condColumn, value)})) AS c${i}`;
  });
  const keys = q.breakdowns.map((d) => column(keyExpr(d), 'k'));

  let where = windowWhere(q);
  // when every column names an event, rows of other events need not be read (and the sorting key prunes them)
  const events = [...new Set(q.columns.map((c) => c.event))];
  if (events.length && !events.includes(undefined)) where += ` AND event IN (${events.map((e) => chString(e as string)).join(', ')})`;

  const needs = new Set(q.columns.map((c) => c.aggregate.fn));
  const base = [`${slot} AS slot`, ...(needs.has('users') ? ['distinct_id'] : []), ...(needs.has('sessions') ? ['session_id'] : [])];
  for (const [expr, name] of baseColumns) base.push(`${expr} AS ${name}`);
  const from = `(SELECT ${base.join(', ')} FROM events WHERE ${where})`;

  const branch = (dim: number, key: string | undefined, wanted?: Set<number>) =>
    `SELECT slot, toInt32(${dim}) AS dim, ${key ? `toNullable(${key})` : 'CAST(NULL AS Nullable(String))'} AS key,
  ${aggregates.map((a, i) => (!wanted || wanted.has(i) ? a : `CAST(NULL AS Nullable(Float64)) AS c${i}`)).join(',\n  ')}
FROM ${from} GROUP BY slot${key ? `, ${key}` : ''}`;
  const branches = [
    branch(-1, undefined),
    ...keys.map((k, i) => branch(i, k, q.breakdownColumns ? new Set(q.breakdownColumns[i]) : undefined)),
  ];
  return branches.join('\nUNION ALL\n');
}
