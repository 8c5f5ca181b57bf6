/** Request and response schemas of the metrics catalog (TypeBox); the types are reused by the service. */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { FILTER_OPS, PROPERTY_AGGREGATES } from '../storage/events/event-store.js';
import { INTERVALS } from '../time/index.js';

/** For route schemas (Ajv): one error that lists the allowed values. */
const StringEnum = <T extends readonly string[]>(values: T, description?: string) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], description: description ?? values.join(', ') });
/** For definition bodies, checked with TypeBox's Value (which knows only its own types). */
const Choice = <T extends readonly string[]>(values: T, description?: string) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    { description: description ?? values.join(', ') },
  ) as unknown as ReturnType<typeof StringEnum<T>>;

export const METRIC_KINDS = ['event', 'ratio', 'per_user', 'aggregation', 'sql', 'gauge'] as const;
export type MetricKind = (typeof METRIC_KINDS)[number];
export const METRIC_STATUSES = ['draft', 'active', 'archived'] as const;
export type MetricStatus = (typeof METRIC_STATUSES)[number];
export const EVENT_MEASURES = ['count', 'users', 'sessions'] as const;
export const GAUGE_AGGREGATES = ['last', 'avg', 'max'] as const;
export const MAX_BREAKDOWNS = 3;

const PropertyName = Type.String({
  minLength: 1,
  maxLength: 200,
  description: 'a column (event, country, browser, page_path, ...) or an event property (`plan` or `properties.plan`)',
});
const Scalar = Type.Union([Type.String({ maxLength: 1000 }), Type.Number(), Type.Boolean()]);

export const Filter = Type.Object(
  {
    property: PropertyName,
    op: Choice(FILTER_OPS),
    value: Type.Optional(
      Type.Union([Scalar, Type.Array(Type.Union([Type.String({ maxLength: 1000 }), Type.Number()]), { minItems: 1, maxItems: 100 })]),
    ),
  },
  { additionalProperties: false },
);
export type Filter = Static<typeof Filter>;

const Filters = Type.Array(Filter, { maxItems: 20, description: 'all must hold (AND)' });
const Breakdowns = Type.Array(PropertyName, {
  maxItems: MAX_BREAKDOWNS,
  description: 'each kept as its own series set: the top values per bucket, the rest as "other"',
});
const BreakdownLimit = Type.Integer({ minimum: 1, maximum: 50, description: 'values kept per bucket and breakdown (default 10)' });
const EventName = Type.String({ minLength: 1, maxLength: 200 });

export const EventBody = Type.Object(
  {
    event: Type.Optional(Type.Union([EventName, Type.Null()], { description: 'one event; all events when omitted' })),
    measure: Type.Optional(Choice(EVENT_MEASURES, 'count (default), users (distinct), sessions (distinct)')),
    filters: Type.Optional(Filters),
    breakdowns: Type.Optional(Breakdowns),
    breakdownLimit: Type.Optional(BreakdownLimit),
  },
  { additionalProperties: false },
);
export type EventBody = Static<typeof EventBody>;

const RatioPart = Type.Omit(EventBody, ['breakdowns', 'breakdownLimit'], { additionalProperties: false });
export const RatioBody = Type.Object({ numerator: RatioPart, denominator: RatioPart }, { additionalProperties: false });
export type RatioBody = Static<typeof RatioBody>;

export const PerUserBody = Type.Object(
  {
    event: Type.Optional(Type.Union([EventName, Type.Null()])),
    filters: Type.Optional(Filters),
  },
  { additionalProperties: false },
);
export type PerUserBody = Static<typeof PerUserBody>;

export const AggregationBody = Type.Object(
  {
    event: Type.Optional(Type.Union([EventName, Type.Null()])),
    property: PropertyName,
    fn: Choice(PROPERTY_AGGREGATES),
    filters: Type.Optional(Filters),
    breakdowns: Type.Optional(Breakdowns),
    breakdownLimit: Type.Optional(BreakdownLimit),
  },
  { additionalProperties: false },
);
export type AggregationBody = Static<typeof AggregationBody>;

export const SqlBody = Type.Object(
  {
    sql: Type.String({
      minLength: 1,
      maxLength: 20_000,
      description: 'one SELECT over the `events` view returning bucket, value [, breakdown]',
    }),
  },
  { additionalProperties: false },
);
export type SqlBody = Static<typeof SqlBody>;

export const GaugeBody = Type.Object(
  {
    service: Type.String({ minLength: 1, maxLength: 200 }),
    metric: Type.String({ minLength: 1, maxLength: 200 }),
    aggregate: Type.Optional(Choice(GAUGE_AGGREGATES, 'per bucket: last (default), avg, max')),
    tags: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'only measurements with these tags' })),
  },
  { additionalProperties: false },
);
export type GaugeBody = Static<typeof GaugeBody>;

export const BODY_SCHEMAS: Record<MetricKind, TSchema> = {
  event: EventBody,
  ratio: RatioBody,
  per_user: PerUserBody,
  aggregation: AggregationBody,
  sql: SqlBody,
  gauge: GaugeBody,
};

export type MetricBody =
  | { kind: 'event'; definition: EventBody }
  | { kind: 'ratio'; definition: RatioBody }
  | { kind: 'per_user'; definition: PerUserBody }
  | { kind: 'aggregation'; definition: AggregationBody }
  | { kind: 'sql'; definition: SqlBody }
  | { kind: 'gauge'; definition: GaugeBody };

export const SENSITIVITIES = ['low', 'medium', 'high'] as const;
/** a custom sensitivity is the |z| at which a bucket is flagged */
export const MIN_SENSITIVITY_Z = 1;
export const MAX_SENSITIVITY_Z = 20;
/** the longest settling time a metric or project may set: a week */
export const MAX_SETTLING_MINUTES = 7 * 24 * 60;
/**
 * A metric's detection settings; what is left out comes from the project's defaults, then the
 * detector's. The number comes first: with type coercion, a string branch tried first would turn
 * 3 into "3".
 */
export const DetectionSettings = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean({ description: 'watch this metric for anomalies (default true)' })),
    sensitivity: Type.Optional(
      Type.Union(
        [
          Type.Number({ minimum: MIN_SENSITIVITY_Z, maximum: MAX_SENSITIVITY_Z, description: 'the |z| at which a bucket is flagged' }),
          StringEnum(SENSITIVITIES, 'low (|z| ≥ 5), medium (≥ 4, the default), high (≥ 3)'),
        ],
        {
          description: `low, medium or high, or the |z| at which a bucket is flagged (a number from ${MIN_SENSITIVITY_Z} to ${MAX_SENSITIVITY_Z})`,
        },
      ),
    ),
    minExpected: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 1e12,
        description:
          'a bucket with fewer samples behind it (a count: the larger of actual and expected; a ratio: its denominator; a sum: its rows) never fires on its own (default 10)',
      }),
    ),
    settlingMinutes: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_SETTLING_MINUTES,
        description: `minutes the newest buckets are held while late events still arrive, 0 to ${MAX_SETTLING_MINUTES} (a week); left out: the project's, else 0 for pushed measurements and the observed lateness of events (p99 over the last day, at most 120) for the rest`,
      }),
    ),
  },
  { additionalProperties: false },
);
export type DetectionSettings = Static<typeof DetectionSettings>;

const MetricFields = {
  name: Type.String({
    pattern: '^[a-z][a-z0-9_.-]{0,99}$',
    description: 'lowercase letters, digits, _ . -, starting with a letter (at most 100); unique in the project',
  }),
  displayName: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.String({ maxLength: 2000 }),
  unit: Type.String({ maxLength: 40, description: 'shown after values: %, ms, USD, ...' }),
  owner: Type.String({ maxLength: 200 }),
  tags: Type.Array(Type.String({ minLength: 1, maxLength: 50 }), { maxItems: 20 }),
  color: Type.String({ pattern: '^(#[0-9a-fA-F]{6})?$', description: '#rrggbb' }),
  interval: StringEnum(INTERVALS),
  status: StringEnum(METRIC_STATUSES),
  kind: StringEnum(METRIC_KINDS),
  definition: Type.Unknown({ description: "the kind's body (see the metric kinds in the README)" }),
};

export const CreateMetric = Type.Object(
  {
    name: MetricFields.name,
    displayName: Type.Optional(MetricFields.displayName),
    description: Type.Optional(MetricFields.description),
    unit: Type.Optional(MetricFields.unit),
    owner: Type.Optional(MetricFields.owner),
    tags: Type.Optional(MetricFields.tags),
    color: Type.Optional(MetricFields.color),
    interval: Type.Optional(MetricFields.interval),
    status: Type.Optional(MetricFields.status),
    kind: MetricFields.kind,
    definition: MetricFields.definition,
    // anomaly detection settings; a change replaces the metric's settings as a whole
    detection: Type.Optional(DetectionSettings),
  },
  { additionalProperties: false },
);
export type CreateMetric = Static<typeof CreateMetric>;

export const UpdateMetric = Type.Partial(CreateMetric, { additionalProperties: false });
export type UpdateMetric = Static<typeof UpdateMetric>;

export const PreviewMetric = Type.Object(
  {
    kind: MetricFields.kind,
    definition: MetricFields.definition,
    interval: Type.Optional(MetricFields.interval),
    buckets: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, description: 'complete buckets to compute, ending now (default 24)' })),
  },
  { additionalProperties: false },
);
export type PreviewMetric = Static<typeof PreviewMetric>;

const Value = Type.Union([Type.Number(), Type.Null()]);
export const SeriesSchema = Type.Object({
  key: Type.String(),
  label: Type.String(),
  values: Type.Array(Value),
  samples: Type.Optional(
    Type.Array(Value, {
      description:
        'per bucket, the number of observations behind the value (events, the denominator, rows, measurements); null when not known',
    }),
  ),
});

export const MetricSchema = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  displayName: Type.String(),
  description: Type.String(),
  unit: Type.String(),
  owner: Type.String(),
  tags: Type.Array(Type.String()),
  color: Type.String(),
  // strings with an enum, not unions: the serializer writes them unchecked, as it did plain strings
  interval: StringEnum(INTERVALS),
  status: StringEnum(METRIC_STATUSES),
  kind: StringEnum(METRIC_KINDS),
  definition: Type.Unknown(),
  valueKind: StringEnum(['count', 'fraction'] as const, 'count: missing buckets are 0; fraction: missing buckets are gaps'),
  breakdowns: Type.Array(Type.String()),
  version: Type.Integer(),
  historyFrom: Type.Union([Type.String(), Type.Null()]),
  collectedUntil: Type.Union([Type.String(), Type.Null()]),
  lastError: Type.Union([Type.Object({ message: Type.String(), at: Type.String() }), Type.Null()], {
    description: 'why the last collection failed; cleared by the next success',
  }),
  detection: DetectionSettings,
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
export type MetricApi = Static<typeof MetricSchema>;

export const MetricSummarySchema = Type.Composite([
  MetricSchema,
  Type.Object({
    latest: Type.Union([Type.Object({ bucket: Type.String(), value: Value }), Type.Null()]),
    change: Type.Union([Type.Number(), Type.Null()], {
      description: 'latest against the bucket before it, as a fraction; null when that is 0 or a gap',
    }),
    sparkline: Type.Array(Value, { description: 'the last 24 collected buckets, oldest first' }),
  }),
]);

/** A signal drawn on a chart: from its first bucket to its last one so far. */
export const SeriesMarkSchema = Type.Object({
  bucket: Type.String(),
  endBucket: Type.String(),
  kind: Type.String({ description: 'spike, drop, level_shift, outage' }),
  direction: Type.Union([Type.String(), Type.Null()]),
  severity: Type.String(),
  score: Type.Number(),
});
/** A mark as the signals domain hands it over (buckets in epoch ms). */
export interface SeriesMark {
  bucket: number;
  endBucket: number;
  kind: string;
  direction: string | null;
  severity: string;
  score: number;
}

export const SeriesResultSchema = Type.Object({
  metric: Type.Object({ id: Type.Integer(), name: Type.String(), unit: Type.String(), valueKind: Type.String(), interval: Type.String() }),
  timeZone: Type.String(),
  from: Type.String(),
  to: Type.String(),
  buckets: Type.Array(Type.String()),
  breakdown: Type.Union([Type.String(), Type.Null()]),
  series: Type.Array(SeriesSchema),
  collectedUntil: Type.Union([Type.String(), Type.Null()]),
  signals: Type.Array(SeriesMarkSchema, { description: 'signals on the total series that overlap the window, oldest first' }),
});
