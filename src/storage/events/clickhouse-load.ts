/** Segments as ClickHouse loads them: their rows read back from NDJSON, and each as the table stores it. */
import fs from 'node:fs';
import readline from 'node:readline';
import { ClickHouseError } from '@clickhouse/client';
import type { EventRow, Segment } from './event-store.js';
import { wellFormed } from './well-formed.js';

/** Rows a segment is inserted with at most in one block (one part; beyond it, a segment spans parts). */
export const MAX_INSERT_BLOCK_ROWS = 16_000_000;
const JSON_TYPES = (v: unknown) =>
  v === null
    ? 'null'
    : Array.isArray(v)
      ? 'array'
      : typeof v === 'object'
        ? 'object'
        : typeof v === 'number'
          ? 'number'
          : typeof v === 'boolean'
            ? 'boolean'
            : 'string';

/** An EventRow as the table stores it: `event` '' for none, the top-level properties also as arrays. */
export function toStoredRow(r: EventRow, segmentId: string) {
  const props = r.properties && typeof r.properties === 'object' && !Array.isArray(r.properties) ? r.properties : {};
  const keys: string[] = [];
  const types: string[] = [];
  const values: (string | null)[] = [];
  for (const [k, v] of Object.entries(props)) {
    keys.push(k);
    types.push(JSON_TYPES(v));
    values.push(v === null || v === undefined ? null : typeof v === 'string' ? v : JSON.stringify(v));
  }
  return {
    project_id: r.project_id,
    message_id: r.message_id,
    type: r.type,
    event: r.event ?? '',
    anonymous_id: r.anonymous_id ?? null,
    user_id: r.user_id ?? null,
    distinct_id: r.distinct_id,
    session_id: r.session_id ?? null,
    timestamp: r.timestamp,
    received_at: r.received_at,
    properties: JSON.stringify(r.properties ?? {}),
    context: JSON.stringify(r.context ?? {}),
    page_path: r.page_path ?? null,
    referrer_host: r.referrer_host ?? null,
    app_version: r.app_version ?? null,
    platform: r.platform ?? null,
    os: r.os ?? null,
    browser: r.browser ?? null,
    device_type: r.device_type ?? null,
    country: r.country ?? null,
    ip_hash: r.ip_hash ?? null,
    prop_keys: keys,
    prop_types: types,
    prop_values: values,
    segment_id: segmentId,
  };
}

/** ClickHouse's error types for input it cannot parse or convert (not a server or network failure). */
const DATA_ERROR_TYPES =
  /PARSE|INCORRECT_DATA|INCORRECT_NUMBER_OF_COLUMNS|TYPE_MISMATCH|CANNOT_CONVERT|ARGUMENT_OUT_OF_BOUND|VALUE_IS_OUT_OF_RANGE|DECIMAL_OVERFLOW|TOO_DEEP|UNKNOWN_FIELD|CANNOT_INSERT_NULL|INCORRECT_UTF8/;

/** The same by number: CANNOT_PARSE_* (6, 26, 27, 38, 41, 72), TYPE_MISMATCH, ARGUMENT_OUT_OF_BOUND, CANNOT_CONVERT_TYPE, INCORRECT_DATA, VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE, CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN. */
const DATA_ERROR_CODES = new Set([6, 26, 27, 38, 41, 53, 69, 70, 72, 117, 321, 349]);

/** One NDJSON line of a segment as a row ClickHouse accepts. */
export function parseSegmentLine(line: string): EventRow {
  const row = JSON.parse(line) as EventRow;
  // JSON.stringify writes a lone surrogate as an escape: only such lines need the deep pass
  return /\\u[dD][89a-fA-F]/.test(line) ? (wellFormed(row) as EventRow) : row;
}

export async function* segmentRows(segment: Segment): AsyncGenerator<EventRow> {
  if ('rows' in segment) {
    yield* segment.rows;
    return;
  }
  const lines = readline.createInterface({ input: fs.createReadStream(segment.path, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const line of lines) if (line.trim()) yield parseSegmentLine(line);
}

/** Whether `err` is the server (or the parse before it) refusing a segment's data, not a failure to reach it. */
export function refusesData(err: unknown): boolean {
  // a line that is not JSON (SyntaxError), or a time that is no integer (chInt's RangeError), fails before ClickHouse is asked
  if (err instanceof SyntaxError || err instanceof RangeError) return true;
  if (err instanceof ClickHouseError && DATA_ERROR_TYPES.test(err.type ?? '')) return true;
  // old servers (18.16) answer with text only: "Code: 26, e.displayText() = ..."
  const code = err instanceof ClickHouseError ? err.code : /^Code: (\d+)/.exec(err instanceof Error ? err.message : '')?.[1];
  return code !== undefined && DATA_ERROR_CODES.has(Number(code));
}
