/**
 * The metric form's state and its mapping to and from a definition (src/metrics/schemas.ts).
 * Fields shared by several kinds (event, filters, breakdowns) are kept when the kind changes.
 */
import type { Interval } from '../../api/types';
import type { Metric, MetricInput, MetricKind, MetricStatus } from '../../api/metrics';

export const FILTER_OPS = ['eq', 'neq', 'in', 'not_in', 'contains', 'gt', 'gte', 'lt', 'lte', 'is_set', 'is_not_set'] as const;
export type FilterOp = (typeof FILTER_OPS)[number];
export const OP_LABELS: Record<FilterOp, string> = {
  eq: '=',
  neq: '≠',
  in: 'in',
  not_in: 'not in',
  contains: 'contains',
  gt: '>',
  gte: '≥',
  lt: '<',
  lte: '≤',
  is_set: 'is set',
  is_not_set: 'is not set',
};
export const MEASURES = ['count', 'users', 'sessions'] as const;
export const AGGREGATES = ['sum', 'avg', 'min', 'max', 'count', 'count_distinct', 'p50', 'p90', 'p99'] as const;
export const GAUGE_AGGREGATES = ['last', 'avg', 'max'] as const;
/** columns of the event store; anything else is an event property */
export const COLUMNS = [
  'event',
  'type',
  'page_path',
  'referrer_host',
  'app_version',
  'platform',
  'os',
  'browser',
  'device_type',
  'country',
];
export const KIND_LABELS: Record<MetricKind, string> = {
  event: 'Event count',
  ratio: 'Ratio',
  per_user: 'Per user',
  aggregation: 'Property aggregation',
  sql: 'SQL',
  gauge: 'Gauge (pushed measurements)',
};
export const KIND_HINTS: Record<MetricKind, string> = {
  event: 'How many times an event happens (or how many users or sessions send it), per bucket.',
  ratio: 'One event count divided by another, e.g. orders per started checkout.',
  per_user: 'Events divided by the distinct users who sent them.',
  aggregation: 'A sum, average, percentile, ... of a numeric property.',
  sql: 'One SELECT over the `events` view returning bucket, value [, breakdown]; read-only, limited to this project.',
  gauge: 'Values a service pushes to /v1/measurements.',
};

export interface FilterRow {
  property: string;
  op: FilterOp;
  /** a number for gt..lte, a comma-separated list for in / not_in, nothing for is_set */
  value: string;
}

export interface EventPart {
  event: string;
  measure: (typeof MEASURES)[number];
  filters: FilterRow[];
}

export interface Draft {
  kind: MetricKind;
  name: string;
  displayName: string;
  description: string;
  unit: string;
  owner: string;
  tags: string;
  interval: Interval;
  // event, per_user, aggregation
  event: string;
  measure: (typeof MEASURES)[number];
  filters: FilterRow[];
  /** comma-separated */
  breakdowns: string;
  breakdownLimit: string;
  // aggregation
  property: string;
  fn: (typeof AGGREGATES)[number];
  // ratio
  numerator: EventPart;
  denominator: EventPart;
  // sql
  sql: string;
  // gauge
  service: string;
  gaugeMetric: string;
  aggregate: (typeof GAUGE_AGGREGATES)[number];
  gaugeTags: string;
}

const emptyPart = (): EventPart => ({ event: '', measure: 'count', filters: [] });

export function emptyDraft(): Draft {
  return {
    kind: 'event',
    name: '',
    displayName: '',
    description: '',
    unit: '',
    owner: '',
    tags: '',
    interval: '1h',
    event: '',
    measure: 'count',
    filters: [],
    breakdowns: '',
    breakdownLimit: '',
    property: '',
    fn: 'sum',
    numerator: emptyPart(),
    denominator: emptyPart(),
    sql: "SELECT bucket, count(*) AS value\nFROM events\nWHERE event = 'Order Completed'\nGROUP BY bucket",
    service: '',
    gaugeMetric: '',
    aggregate: 'last',
    gaugeTags: '',
  };
}

const list = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

function filterValue(f: FilterRow): unknown {
  switch (f.op) {
    case 'is_set':
    case 'is_not_set':
      return undefined;
    case 'in':
    case 'not_in':
      return list(f.value);
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      // an unparseable number goes as text: the server's message names the filter's value
      return f.value.trim() !== '' && Number.isFinite(Number(f.value)) ? Number(f.value) : f.value;
    default:
      return f.value;
  }
}

const filtersOf = (rows: FilterRow[]) =>
  rows
    .filter((f) => f.property.trim() || f.value.trim())
    .map((f) => {
      const value = filterValue(f);
      return value === undefined ? { property: f.property.trim(), op: f.op } : { property: f.property.trim(), op: f.op, value };
    });

/** Only the keys with a value: the server's schemas reject unknown keys, and "" means "not set" in the form. */
function compact(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== '' && !(Array.isArray(v) && v.length === 0)));
}

const eventPart = (p: EventPart) =>
  compact({ event: p.event.trim() || undefined, measure: p.measure === 'count' ? undefined : p.measure, filters: filtersOf(p.filters) });
const limitOf = (s: string) => (s.trim() === '' ? undefined : Number.isFinite(Number(s)) ? Number(s) : s);

/** The definition of the draft's kind, as the API takes it. */
export function definitionOf(d: Draft): Record<string, unknown> {
  const breakdowns = list(d.breakdowns);
  switch (d.kind) {
    case 'event':
      return compact({ ...eventPart(d), breakdowns, breakdownLimit: breakdowns.length ? limitOf(d.breakdownLimit) : undefined });
    case 'ratio':
      return { numerator: eventPart(d.numerator), denominator: eventPart(d.denominator) };
    case 'per_user':
      return compact({ event: d.event.trim() || undefined, filters: filtersOf(d.filters) });
    case 'aggregation':
      return {
        property: d.property.trim(),
        fn: d.fn,
        ...compact({
          event: d.event.trim() || undefined,
          filters: filtersOf(d.filters),
          breakdowns,
          breakdownLimit: breakdowns.length ? limitOf(d.breakdownLimit) : undefined,
        }),
      };
    case 'sql':
      return { sql: d.sql };
    case 'gauge': {
      const tags = Object.fromEntries(
        list(d.gaugeTags).map((kv) => {
          const i = kv.indexOf('=');
          return i < 0 ? [kv, ''] : [kv.slice(0, i).trim(), kv.slice(i + 1).trim()];
        }),
      );
      return {
        service: d.service.trim(),
        metric: d.gaugeMetric.trim(),
        ...compact({ aggregate: d.aggregate === 'last' ? undefined : d.aggregate, tags: Object.keys(tags).length ? tags : undefined }),
      };
    }
  }
}

/** Whether the preview has something to compute (the fields without which it can only fail). */
export function previewable(d: Draft): boolean {
  switch (d.kind) {
    case 'aggregation':
      return d.property.trim() !== '';
    case 'sql':
      return d.sql.trim() !== '';
    case 'gauge':
      return d.service.trim() !== '' && d.gaugeMetric.trim() !== '';
    default:
      return true;
  }
}

export function inputOf(d: Draft, status: MetricStatus): MetricInput {
  return {
    name: d.name.trim(),
    kind: d.kind,
    interval: d.interval,
    status,
    definition: definitionOf(d),
    displayName: d.displayName.trim() || undefined,
    description: d.description,
    unit: d.unit.trim(),
    owner: d.owner.trim(),
    tags: list(d.tags),
  };
}

// ---- from a saved metric ----

type Raw = Record<string, unknown>;
const str = (v: unknown) => (typeof v === 'string' ? v : '');
const rowsOf = (v: unknown): FilterRow[] =>
  (Array.isArray(v) ? v : []).map((f: Raw) => ({
    property: str(f.property),
    op: (FILTER_OPS as readonly string[]).includes(str(f.op)) ? (f.op as FilterOp) : 'eq',
    value: Array.isArray(f.value) ? f.value.join(', ') : f.value === undefined || f.value === null ? '' : String(f.value),
  }));
const partOf = (v: unknown): EventPart => {
  const p = (v ?? {}) as Raw;
  return {
    event: str(p.event),
    measure: (MEASURES as readonly string[]).includes(str(p.measure)) ? (p.measure as EventPart['measure']) : 'count',
    filters: rowsOf(p.filters),
  };
};

export function draftOf(m: Metric): Draft {
  const def = (m.definition ?? {}) as Raw;
  const d = emptyDraft();
  Object.assign(d, {
    kind: m.kind,
    name: m.name,
    displayName: m.displayName === m.name ? '' : m.displayName,
    description: m.description,
    unit: m.unit,
    owner: m.owner,
    tags: m.tags.join(', '),
    interval: m.interval,
  });
  switch (m.kind) {
    case 'event':
    case 'per_user':
    case 'aggregation': {
      const p = partOf(def);
      Object.assign(d, { event: p.event, measure: p.measure, filters: p.filters });
      d.breakdowns = Array.isArray(def.breakdowns) ? def.breakdowns.map(String).join(', ') : '';
      d.breakdownLimit = def.breakdownLimit === undefined ? '' : String(def.breakdownLimit);
      if (m.kind === 'aggregation')
        Object.assign(d, { property: str(def.property), fn: (AGGREGATES as readonly string[]).includes(str(def.fn)) ? def.fn : 'sum' });
      break;
    }
    case 'ratio':
      d.numerator = partOf(def.numerator);
      d.denominator = partOf(def.denominator);
      break;
    case 'sql':
      d.sql = str(def.sql);
      break;
    case 'gauge':
      Object.assign(d, {
        service: str(def.service),
        gaugeMetric: str(def.metric),
        aggregate: (GAUGE_AGGREGATES as readonly string[]).includes(str(def.aggregate)) ? def.aggregate : 'last',
        gaugeTags: Object.entries((def.tags ?? {}) as Record<string, string>)
          .map(([k, v]) => `${k}=${v}`)
          .join(', '),
      });
      break;
  }
  return d;
}

/** a name from a display name: "Sign-ups (EU)" → "sign_ups_eu" */
export function nameFrom(display: string): string {
  const s = display
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '_')
    .replace(/^[^a-z]+/, '')
    .replace(/_+$/, '');
  return s.slice(0, 100);
}
