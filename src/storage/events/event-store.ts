/**
 * The event store: where ingested events live. Callers use only this interface, so the
 * embedded DuckDB store and the scaled ClickHouse store are interchangeable.
 *
 * Events arrive in segments: files of newline-delimited JSON, one `EventRow` a line, written and
 * fsynced by ingest's write buffer. Loading a segment is idempotent per segment id.
 */
import type { SlotSpec } from '../../time/slots.js';

export const EVENT_TYPES = ['track', 'page', 'screen', 'identify', 'group', 'alias'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface EventRow {
  project_id: number;
  message_id: string;
  type: EventType;
  event: string | null;
  anonymous_id: string | null;
  user_id: string | null;
  distinct_id: string;
  session_id: string | null;
  /** epoch milliseconds, UTC */
  timestamp: number;
  received_at: number;
  properties: Record<string, unknown>;
  context: Record<string, unknown>;
  page_path: string | null;
  referrer_host: string | null;
  app_version: string | null;
  platform: string | null;
  os: string | null;
  browser: string | null;
  device_type: string | null;
  country: string | null;
  ip_hash: string | null;
}

/** Columns that can be filtered or broken down by directly; anything else is a property name. */
export const DIMENSION_COLUMNS = [
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
] as const;
export type DimensionColumn = (typeof DIMENSION_COLUMNS)[number];
export type Dimension = { column: DimensionColumn } | { property: string };

export const MEASURES = ['events', 'users', 'sessions'] as const;
export type Measure = (typeof MEASURES)[number];

/**
 * A batch of event rows loaded in one step, idempotently by `id`: a write-ahead file (embedded
 * mode), or rows already parsed (the scaled mode's outbox loader; ClickHouse only).
 */
export type Segment = {
  id: string;
  /** false when the writer knows the segment holds no identify call (the users step is skipped) */
  hasIdentify?: boolean;
} & ({ path: string } | { rows: EventRow[] });

/** A write-ahead file's segment. */
export type SegmentFile = Extract<Segment, { path: string }>;

/** Time slots (see time/slots.ts): a UTC grain, or local time floored to a grain. */
export type { SlotSpec } from '../../time/slots.js';

export interface TimeseriesQuery extends SlotSpec {
  projectId: number;
  event?: string;
  fromMs: number;
  toMs: number;
  measure: Measure;
  breakdown?: Dimension;
  /** number of breakdown values kept; the rest are grouped as OTHER_KEY */
  limit: number;
}
export interface TimeseriesRow {
  slotMs: number;
  key: string | null;
  value: number;
}
export const OTHER_KEY = '$other';
export const NONE_KEY = '$none';

export interface WindowQuery {
  projectId: number;
  fromMs: number;
  toMs: number;
}
export interface Totals {
  events: number;
  users: number;
  sessions: number;
}

export interface EventListQuery {
  projectId: number;
  event?: string;
  userId?: string;
  /** keyset cursor: rows strictly older than (timestamp, message_id) */
  before?: { timestamp: number; messageId: string };
  limit: number;
}

export interface ExportQuery {
  projectId: number;
  fromMs: number;
  toMs: number;
}

export const FILTER_OPS = ['eq', 'neq', 'in', 'not_in', 'contains', 'gt', 'gte', 'lt', 'lte', 'is_set', 'is_not_set'] as const;
export type FilterOp = (typeof FILTER_OPS)[number];
export type FilterValue = string | number | boolean | (string | number)[];
/**
 * A condition on a column or property, compared as text (numbers as numbers for gt/gte/lt/lte and
 * for number values); a missing value never equals, and always passes `neq` and `not_in`.
 */
export interface ScanFilter {
  dimension: Dimension;
  op: FilterOp;
  value?: FilterValue;
}

export const PROPERTY_AGGREGATES = ['count', 'sum', 'avg', 'min', 'max', 'count_distinct', 'p50', 'p90', 'p99'] as const;
export type PropertyAggregate = (typeof PROPERTY_AGGREGATES)[number];
export type ScanAggregate =
  | { fn: 'events' | 'users' | 'sessions' }
  /** of a property's values: numeric ones for sum..p99, non-null ones for count and count_distinct */
  | { fn: PropertyAggregate; of: Dimension };

/** One value per slot: an aggregate over the rows of one event (all when omitted) that pass every filter. */
export interface ScanColumn {
  event?: string;
  filters: ScanFilter[];
  aggregate: ScanAggregate;
  /**
   * Leaves out the rows whose value of `dimension` (NONE_KEY when missing) is among the keys given
   * for their slot: what remains is a breakdown's "other".
   */
  exclude?: { dimension: Dimension; slots: { slotMs: number; keys: string[] }[] };
}

/**
 * Many metrics computed in one pass over a project's events: one column each, one row per slot
 * for the totals, and per breakdown dimension one row per (slot, key) with every column.
 */
export interface MetricScanQuery extends SlotSpec {
  projectId: number;
  fromMs: number;
  toMs: number;
  columns: ScanColumn[];
  breakdowns: Dimension[];
  /** per breakdown, the indexes of the columns computed for it (default: all; the others are null) */
  breakdownColumns?: number[][];
}
export interface MetricScanRow {
  slotMs: number;
  /** index into `breakdowns`, or -1 for the totals row */
  dimension: number;
  key: string | null;
  values: (number | null)[];
}

/** A user-written SELECT over this project's events, see MetricSqlGuard. */
export interface UserSqlQuery extends SlotSpec {
  projectId: number;
  sql: string;
  fromMs: number;
  toMs: number;
  timeoutMs: number;
  maxRows: number;
}
export interface UserSqlRow {
  /** the row's `bucket`: an instant (epoch ms) or a slot of the view's `bucket` column */
  bucketMs: number;
  value: number | null;
  breakdown: string | null;
  /** the optional `samples` column: how many observations the value stands for (null without it) */
  samples: number | null;
}

/**
 * A window's schema profile (see detect/schema-drift.ts): per event name its count, per top-level
 * property key the count of each JSON type, the distinct non-null values, and the value counts when
 * they are few. Work is capped: only the `maxEvents` most frequent events and, per event, the
 * `maxProperties` most frequent keys; keys starting with `$` (set by SDKs and Vigil) are left out.
 */
export interface SchemaProfileQuery extends WindowQuery {
  maxEvents: number;
  maxProperties: number;
  /** values are counted only for a property with at most this many distinct values */
  maxValues: number;
}
/** One row per (event, key, type, value): key null for an event without properties. */
export interface SchemaProfileRow {
  event: string;
  /** events of this name in the window */
  events: number;
  key: string | null;
  /** string | number | boolean | object | array | null */
  type: string | null;
  /** the value as text (objects and arrays as JSON); null for the null type or when the key has more than maxValues distinct values */
  value: string | null;
  count: number;
  /** distinct non-null values of the key */
  distinct: number;
}

/** Events per slot for each of the `limit` most frequent event names of the window. */
export interface EventCountsQuery extends WindowQuery, SlotSpec {
  limit: number;
}
export interface EventCountRow {
  event: string;
  slotMs: number;
  count: number;
}

/** How late a project's events arrived: those received in [sinceMs, now). */
export interface LatenessQuery {
  projectId: number;
  sinceMs: number;
}
export interface Lateness {
  /** events received since `sinceMs` */
  events: number;
  /** the 99th percentile of received_at − timestamp in ms (negative: clients' clocks ahead); null without events */
  p99Ms: number | null;
}

/** Events of one name per value of a top-level property (as text; missing and null left out). */
export interface ValueSharesQuery extends WindowQuery {
  event: string;
  property: string;
  /** values kept; the rest are summed as OTHER_KEY */
  limit: number;
}

export interface EventStore {
  readonly kind: 'duckdb' | 'clickhouse';
  /** Appends a segment's rows unless a segment with this id was loaded before; returns rows added. */
  loadSegment(segment: Segment): Promise<number>;
  /**
   * True when `loadSegment` failed for the segment's data (some line can never load: retrying it
   * whole is pointless), false when the store itself failed (a full disk, a lost connection).
   */
  refusesData(err: unknown): boolean;
  isSegmentLoaded(id: string): Promise<boolean>;
  /** (project_id, message_id) of events received since `sinceMs`, for the dedup index. */
  recentMessageIds(sinceMs: number): AsyncIterable<[number, string][]>;
  timeseries(q: TimeseriesQuery): Promise<TimeseriesRow[]>;
  topEvents(q: WindowQuery & { limit: number }): Promise<{ event: string; count: number; users: number }[]>;
  totals(q: WindowQuery): Promise<Totals>;
  listEvents(q: EventListQuery): Promise<EventRow[]>;
  exportEvents(q: ExportQuery): AsyncIterable<EventRow[]>;
  userTraits(projectId: number, userId: string): Promise<Record<string, unknown> | null>;
  metricScan(q: MetricScanQuery): Promise<MetricScanRow[]>;
  /** The window's schema profile, as rows (signals/drift.ts folds them into a DayProfile). */
  schemaProfile(q: SchemaProfileQuery): Promise<SchemaProfileRow[]>;
  /** Counts per slot and event name, one statement (event-volume detection). */
  eventCounts(q: EventCountsQuery): Promise<EventCountRow[]>;
  /** The p99 of (received_at − timestamp) of the events received since a time (default settling). */
  lateness(q: LatenessQuery): Promise<Lateness>;
  /** Counts per value, most frequent first (distribution drift). */
  valueShares(q: ValueSharesQuery): Promise<{ value: string; count: number }[]>;
  /**
   * Removes every event of a project (and, in DuckDB, its users' traits), after the loads already
   * queued; returns how many events there were. ClickHouse deletes by mutation and waits for it.
   */
  deleteProject(projectId: number): Promise<number>;
  /** Throws a 400 (VIGIL_ERR_METRIC_SQL_FORBIDDEN or VIGIL_ERR_METRIC_SQL_INVALID) saying why a statement may not run. */
  validateUserSql(sql: string): Promise<void>;
  /** Validates, then runs a user's statement with a time limit and a row cap. */
  runUserSql(q: UserSqlQuery): Promise<UserSqlRow[]>;
  /** Queries run so far (tests and benchmarks count them). */
  readonly queryCount: number;
  ping(): Promise<void>;
  close(): Promise<void>;
}
