/**
 * The event store: where ingested events live. Callers use only this interface, so the
 * embedded DuckDB store and the scaled ClickHouse store are interchangeable.
 *
 * Events arrive in segments: files of newline-delimited JSON, one `EventRow` a line, written and
 * fsynced by ingest's write buffer. Loading a segment is idempotent per segment id.
 */
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
export const DIMENSION_COLUMNS = ['event', 'type', 'page_path', 'referrer_host', 'app_version', 'platform', 'os', 'browser', 'device_type', 'country'] as const;
export type DimensionColumn = (typeof DIMENSION_COLUMNS)[number];
export type Dimension = { column: DimensionColumn } | { property: string };

export const MEASURES = ['events', 'users', 'sessions'] as const;
export type Measure = (typeof MEASURES)[number];

export interface Segment {
  id: string;
  path: string;
  /** false when the writer knows the segment holds no identify call (the users step is skipped) */
  hasIdentify?: boolean;
}

export interface TimeseriesQuery {
  projectId: number;
  event?: string;
  fromMs: number;
  toMs: number;
  /** rows are grouped by floor(timestamp / grainMs) * grainMs, in UTC ... */
  grainMs: number;
  /**
   * ... or, when given, by local wall-clock time (UTC plus the offset of the span the row falls
   * in) floored to grainMs, weeks floored to Mondays. Needed for distinct counts, which cannot be
   * summed from finer grains.
   */
  localOffsets?: { fromMs: number; offsetMs: number }[];
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

export interface EventStore {
  readonly kind: 'duckdb' | 'clickhouse';
  /** Appends a segment's rows unless a segment with this id was loaded before; returns rows added. */
  loadSegment(segment: Segment): Promise<number>;
  isSegmentLoaded(id: string): Promise<boolean>;
  /** (project_id, message_id) of events received since `sinceMs`, for the dedup index. */
  recentMessageIds(sinceMs: number): AsyncIterable<[number, string][]>;
  timeseries(q: TimeseriesQuery): Promise<TimeseriesRow[]>;
  topEvents(q: WindowQuery & { limit: number }): Promise<{ event: string; count: number; users: number }[]>;
  totals(q: WindowQuery): Promise<Totals>;
  listEvents(q: EventListQuery): Promise<EventRow[]>;
  exportEvents(q: ExportQuery): AsyncIterable<EventRow[]>;
  userTraits(projectId: number, userId: string): Promise<Record<string, unknown> | null>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
