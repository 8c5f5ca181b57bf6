/**
 * The data both stores' user-SQL tests hold (metric-sql-guard: DuckDB, clickhouse-metric-sql:
 * ClickHouse): two projects, project 1 with sign-ups 3, 2, 1 in hours 0, 1, 2 of the window (by
 * country), 300 page views and one sign-up before the window; project 2 with its own sign-ups, an
 * event name only it has, and a user with a secret trait.
 */
import assert from 'node:assert/strict';
import type { EventRow, UserSqlQuery } from '../../src/storage/events/event-store.js';
import { VigilError, type ErrorCode } from '../../src/errors.js';

export const HOUR = 3_600_000;
export const T0 = Date.parse('2026-05-04T10:00:00Z');
export const GOOD = "SELECT bucket, count(*) AS value FROM events WHERE event = 'Signed Up' GROUP BY bucket";

let seq = 0;
export const row = (over: Partial<EventRow>): EventRow => ({
  project_id: 1,
  message_id: `m${++seq}`,
  type: 'track',
  event: 'Page Viewed',
  anonymous_id: null,
  user_id: 'u1',
  distinct_id: 'u1',
  session_id: 's1',
  timestamp: T0,
  received_at: T0,
  properties: {},
  context: {},
  page_path: null,
  referrer_host: null,
  app_version: null,
  platform: null,
  os: null,
  browser: null,
  device_type: null,
  country: null,
  ip_hash: 'hash-1',
  ...over,
});

const signUps = (projectId: number, hour: number, n: number, country: string) =>
  Array.from({ length: n }, (_, i) =>
    row({ project_id: projectId, event: 'Signed Up', timestamp: T0 + hour * HOUR + i * 60_000, country }),
  );

/** `identifyEvent`: how the store keeps an identify's event name (DuckDB null; ClickHouse '$identify'). */
export function userSqlRows(identifyEvent: string | null): EventRow[] {
  return [
    ...signUps(1, 0, 2, 'DE'),
    ...signUps(1, 0, 1, 'FR'),
    ...signUps(1, 1, 2, 'DE'),
    ...signUps(1, 2, 1, 'FR'),
    ...Array.from({ length: 300 }, (_, i) => row({ timestamp: T0 + (i % 180) * 60_000 })),
    row({ event: 'Signed Up', timestamp: T0 - HOUR }),
    ...signUps(2, 0, 5, 'US'),
    ...Array.from({ length: 7 }, (_, i) => row({ project_id: 2, event: 'Secret Event', timestamp: T0 + i * 60_000 })),
    row({
      project_id: 2,
      type: 'identify',
      event: identifyEvent,
      user_id: 'u-secret',
      distinct_id: 'u-secret',
      properties: { password: 'hunter2' },
    }),
  ];
}

/** Project 1's query over the three hours of the window. */
export const userSqlQuery = (sql: string, over: Partial<UserSqlQuery> = {}): UserSqlQuery => ({
  projectId: 1,
  sql,
  fromMs: T0,
  toMs: T0 + 3 * HOUR,
  grainMs: HOUR,
  timeoutMs: 10_000,
  maxRows: 1000,
  ...over,
});

/** Rows by "bucket ISO[ breakdown]", for comparing whole results. */
export const byBucket = (rows: { bucketMs: number; value: number | null; breakdown: string | null }[]) =>
  Object.fromEntries(rows.map((r) => [`${new Date(r.bucketMs).toISOString()}${r.breakdown === null ? '' : ` ${r.breakdown}`}`, r.value]));

export const iso = (hour: number) => new Date(T0 + hour * HOUR).toISOString();

/** Expects each attempt to fail with a 400 VigilError `code` whose message matches `reason`. */
export async function expectRefusals(what: string, attempts: (() => Promise<unknown>)[], code: ErrorCode, reason: RegExp) {
  for (const attempt of attempts) {
    await assert.rejects(attempt, (err: unknown) => {
      assert.ok(err instanceof VigilError, `expected a VigilError for ${what}, got ${String(err)}`);
      assert.equal(err.status, 400);
      assert.equal(err.code, code, `${what}: ${err.message}`);
      assert.match(err.message, reason);
      return true;
    });
  }
}
