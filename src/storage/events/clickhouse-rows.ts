/** Rows as the ClickHouse store reads them back: events, merged identify traits, and DuckDB's sort order. */
import type { ROW_COLUMNS } from './clickhouse-sql.js';
import type { EventRow } from './event-store.js';
import { cutDeep } from './well-formed.js';

export type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

export type RawRow = Record<(typeof ROW_COLUMNS)[number], unknown>;
export function toEventRow(r: RawRow): EventRow {
  return {
    ...(r as unknown as EventRow),
    event: r.event === '' ? null : (r.event as string),
    properties: cutDeep(JSON.parse(r.properties as string)) as EventRow['properties'],
    context: cutDeep(JSON.parse(r.context as string)) as EventRow['context'],
  };
}

/** RFC 7396 merge patch, as DuckDB's json_merge_patch applies identify traits. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** ORDER BY's order: by bytes of UTF-8 (as both engines compare strings), NULL last. */
export function compareNullable(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
