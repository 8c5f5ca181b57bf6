/**
 * The metric compiler: checks a definition and turns it into a plan the collector runs. Event,
 * ratio, per-user and aggregation metrics become columns of the shared event scan; sql metrics
 * run their own statement; gauges read pushed measurements.
 */
import { Value } from '@sinclair/typebox/value';
import type { SeriesShape } from '../detect/value-range.js';
import type { Dimension, ScanColumn, ScanFilter } from '../storage/events/event-store.js';
import { parseDimension } from '../storage/events/dimension.js';
import { VigilError } from '../errors.js';
import {
  BODY_SCHEMAS,
  METRIC_KINDS,
  type AggregationBody,
  type EventBody,
  type Filter,
  type GaugeBody,
  type MetricBody,
  type MetricKind,
} from './schemas.js';

/** count: a bucket without events is 0; fraction: it is a gap (no value), never 0. */
export type ValueKind = 'count' | 'fraction';

/**
 * How the "other" value of a breakdown is found: from the per-key values by subtracting the top
 * keys from the total (counts and sums) or as the min or max of the remaining keys, or ('rows')
 * from the rows outside the top keys, in a second scan (distinct counts, averages, percentiles).
 */
export type OtherRule = 'subtract' | 'min' | 'max' | 'rows';

export interface ScanPlan {
  type: 'scan';
  columns: ScanColumn[];
  /** the metric's value from its columns' values */
  combine(values: (number | null)[]): number | null;
  /** the column whose value is the bucket's sample count (see "Samples" below) */
  samplesColumn: number;
  breakdowns: { name: string; dimension: Dimension }[];
  limit: number;
  other: OtherRule;
}
export interface SqlPlan {
  type: 'sql';
  sql: string;
}
export interface GaugePlan {
  type: 'gauge';
  service: string;
  metric: string;
  aggregate: 'last' | 'avg' | 'max';
  tags?: Record<string, string>;
}
export type Plan = ScanPlan | SqlPlan | GaugePlan;

/*
 * Samples: every value comes with the number of observations behind it, so detection can judge a
 * change against the noise that few observations make.
 * - event (events, users or sessions): the count itself.
 * - ratio: the denominator's value; per_user: the number of users (its denominator).
 * - aggregation count and count_distinct: the value; sum, avg, min, max and percentiles: the rows
 *   of the event and filters where the property is set (a value that is not a number counts there,
 *   though the aggregate skips it).
 * - sql: the statement's optional `samples` column (null without one).
 * - gauge: the number of measurements in the bucket.
 */

export interface CompiledMetric {
  plan: Plan;
  valueKind: ValueKind;
  /**
   * How the detector reads it: Poisson and minimum-count floors suit counts of things (events,
   * users, count aggregations); a sum of money fills gaps with 0 like a count but is not Poisson.
   */
  detectAs: ValueKind;
  breakdowns: string[];
}

export const DEFAULT_BREAKDOWN_LIMIT = 10;

/** The values a metric can take (detect/value-range.ts): counts never go below 0, a ratio of counts neither. */
export function seriesShape(kind: MetricKind, compiled: Pick<CompiledMetric, 'detectAs'>): SeriesShape {
  if (compiled.detectAs === 'count') return 'count';
  return kind === 'ratio' || kind === 'per_user' ? 'ratio' : 'any';
}

const invalid = (message: string, field: string) => new VigilError('VIGIL_ERR_INVALID_METRIC', message, { field });

/** Checks `definition` against the kind's schema; the first error names the field at fault. */
export function parseBody(kind: string, definition: unknown): MetricBody {
  if (!(METRIC_KINDS as readonly string[]).includes(kind))
    throw invalid(`kind must be one of ${METRIC_KINDS.join(', ')}; got "${kind}"`, 'kind');
  const schema = BODY_SCHEMAS[kind as MetricKind];
  const first = Value.Errors(schema, definition).First();
  if (first) {
    const where = `definition${first.path.replace(/\//g, '.')}`;
    const choices = (first.schema.anyOf as { const?: unknown }[] | undefined)?.map((s) => s.const).filter((c) => c !== undefined);
    throw invalid(`${where}: ${first.message}${choices?.length ? ` (one of ${choices.join(', ')})` : ''}`, where);
  }
  const body = { kind, definition } as MetricBody;
  compileMetric(body); // semantic checks (filters, breakdowns) throw here
  return body;
}

function dimension(name: string, field: string): Dimension {
  try {
    return parseDimension(name);
  } catch {
    throw invalid(`${field}: "${name}" is not a column or property name`, field);
  }
}

function scanFilter(f: Filter, field: string): ScanFilter {
  const v = f.value;
  const needs = (what: string, ok: boolean) => {
    if (!ok) throw invalid(`${field}: the operator ${f.op} needs ${what}`, `${field}.value`);
  };
  switch (f.op) {
    case 'is_set':
    case 'is_not_set':
      needs('no value', v === undefined);
      break;
    case 'in':
    case 'not_in':
      needs('a list of values', Array.isArray(v));
      break;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      needs('a number', typeof v === 'number' && Number.isFinite(v));
      break;
    case 'contains':
      needs('a string', typeof v === 'string');
      break;
    case 'eq':
    case 'neq':
      needs('one value (a string, number or boolean)', v !== undefined && !Array.isArray(v));
      break;
  }
  return { dimension: dimension(f.property, `${field}.property`), op: f.op, value: v };
}

const filtersOf = (filters: Filter[] | undefined, field: string) => (filters ?? []).map((f, i) => scanFilter(f, `${field}.filters.${i}`));
const eventOf = (event: string | null | undefined) => event ?? undefined;

function breakdownsOf(names: string[] | undefined): ScanPlan['breakdowns'] {
  const list = names ?? [];
  if (new Set(list).size !== list.length) throw invalid('definition.breakdowns: each breakdown may appear once', 'definition.breakdowns');
  return list.map((name, i) => ({ name, dimension: dimension(name, `definition.breakdowns.${i}`) }));
}

function eventColumn(b: Pick<EventBody, 'event' | 'measure' | 'filters'>, field: string): ScanColumn {
  const fn = b.measure === 'users' ? 'users' : b.measure === 'sessions' ? 'sessions' : 'events';
  return { event: eventOf(b.event), filters: filtersOf(b.filters, field), aggregate: { fn } };
}

const only = (values: (number | null)[]) => values[0];
const divide = (values: (number | null)[]) => {
  const [n, d] = values;
  // a zero (or missing) denominator is a gap: never 0, never Infinity
  return n === null || d === null || d === 0 ? null : n / d;
};

const AGGREGATION_OTHER: Record<AggregationBody['fn'], OtherRule> = {
  count: 'subtract',
  sum: 'subtract',
  min: 'min',
  max: 'max',
  avg: 'rows',
  count_distinct: 'rows',
  p50: 'rows',
  p90: 'rows',
  p99: 'rows',
};

// long because it checks each kind of metric definition in one switch
export function compileMetric(body: MetricBody): CompiledMetric {
  switch (body.kind) {
    case 'event': {
      const d = body.definition;
      const column = eventColumn(d, 'definition');
      const breakdowns = breakdownsOf(d.breakdowns);
      const plan: ScanPlan = {
        type: 'scan',
        columns: [column],
        combine: only,
        samplesColumn: 0,
        breakdowns,
        limit: d.breakdownLimit ?? DEFAULT_BREAKDOWN_LIMIT,
        other: column.aggregate.fn === 'events' ? 'subtract' : 'rows',
      };
      return { plan, valueKind: 'count', detectAs: 'count', breakdowns: breakdowns.map((b) => b.name) };
    }
    case 'ratio': {
      const d = body.definition;
      const columns = [eventColumn(d.numerator, 'definition.numerator'), eventColumn(d.denominator, 'definition.denominator')];
      return {
        plan: { type: 'scan', columns, combine: divide, samplesColumn: 1, breakdowns: [], limit: 0, other: 'rows' },
        valueKind: 'fraction',
        detectAs: 'fraction',
        breakdowns: [],
      };
    }
    case 'per_user': {
      const d = body.definition;
      const base = { event: eventOf(d.event), filters: filtersOf(d.filters, 'definition') };
      const columns: ScanColumn[] = [
        { ...base, aggregate: { fn: 'events' } },
        { ...base, aggregate: { fn: 'users' } },
      ];
      return {
        plan: { type: 'scan', columns, combine: divide, samplesColumn: 1, breakdowns: [], limit: 0, other: 'rows' },
        valueKind: 'fraction',
        detectAs: 'fraction',
        breakdowns: [],
      };
    }
    case 'aggregation': {
      const d = body.definition;
      const of = dimension(d.property, 'definition.property');
      const column: ScanColumn = { event: eventOf(d.event), filters: filtersOf(d.filters, 'definition'), aggregate: { fn: d.fn, of } };
      const counted = d.fn === 'count' || d.fn === 'count_distinct';
      // the rows where the property is set: a second column, unless the value is that count already
      const columns = counted ? [column] : [column, { ...column, aggregate: { fn: 'count' as const, of } }];
      const breakdowns = breakdownsOf(d.breakdowns);
      const plan: ScanPlan = {
        type: 'scan',
        columns,
        combine: only,
        samplesColumn: columns.length - 1,
        breakdowns,
        limit: d.breakdownLimit ?? DEFAULT_BREAKDOWN_LIMIT,
        other: AGGREGATION_OTHER[d.fn],
      };
      return {
        plan,
        valueKind: counted || d.fn === 'sum' ? 'count' : 'fraction',
        detectAs: counted ? 'count' : 'fraction',
        breakdowns: breakdowns.map((b) => b.name),
      };
    }
    case 'sql':
      // a statement that returns a `breakdown` column has one breakdown dimension of that name
      return {
        plan: { type: 'sql', sql: body.definition.sql },
        valueKind: 'fraction',
        detectAs: 'fraction',
        breakdowns: /\bbreakdown\b/i.test(body.definition.sql) ? ['breakdown'] : [],
      };
    case 'gauge': {
      const d: GaugeBody = body.definition;
      return {
        plan: { type: 'gauge', service: d.service, metric: d.metric, aggregate: d.aggregate ?? 'last', tags: d.tags },
        valueKind: 'fraction',
        detectAs: 'fraction',
        breakdowns: [],
      };
    }
  }
}
