// Synthetic events for the benchmarks, written straight into a DuckDB file (no ingest).
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { EVENTS_DDL } from '../src/storage/events/duckdb-sql.js';

const DAY = 86_400_000;

/**
 * `events` events over the `days` days before `endMs`, in arrival (time) order, as ingest stores
 * them: 90% in project 1 (10% in project 2), 30 event names ('$page', 'Event 1' ... 'Event 29')
 * with a skewed mix, a daily rhythm, 300k visitors; properties plan (free/pro/team) and price (0-99).
 * One INSERT ... SELECT from range(), then a checkpoint.
 */
export async function generateEvents(file: string, opts: { events: number; days: number; endMs: number }): Promise<void> {
  const { events, days, endMs } = opts;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = await DuckDBInstance.create(file);
  const c = await db.connect();
  await c.run(EVENTS_DDL);
  const started = performance.now();
  await c.run(`
    INSERT INTO events
    SELECT
      CASE WHEN i % 10 = 0 THEN 2 ELSE 1 END AS project_id,
      'm-' || i AS message_id,
      CASE WHEN e = 0 THEN 'page' ELSE 'track' END AS type,
      CASE WHEN e = 0 THEN '$page' ELSE 'Event ' || e END AS event,
      'anon-' || (hash(i) % 300000) AS anonymous_id,
      CASE WHEN i % 3 = 0 THEN 'user_' || (hash(i) % 100000) END AS user_id,
      coalesce(CASE WHEN i % 3 = 0 THEN 'user_' || (hash(i) % 100000) END, 'anon-' || (hash(i) % 300000)) AS distinct_id,
      's_' || (hash(i) % 3000000) AS session_id,
      ts AS timestamp,
      ts + INTERVAL 1 SECOND AS received_at,
      '{"plan":"' || ['free','pro','team'][1 + i % 3] || '","price":' || (i % 100) || '}' AS properties,
      '{"library":{"name":"analytics.js","version":"5.2.0"}}' AS context,
      ['/', '/pricing', '/docs', '/blog/a', '/signup'][1 + i % 5] AS page_path,
      ['google.com', 'x.com', 'news.ycombinator.com', NULL][1 + i % 4] AS referrer_host,
      NULL AS app_version, 'web' AS platform,
      ['Windows', 'macOS', 'iOS', 'Android'][1 + i % 4] AS os,
      ['Chrome', 'Safari', 'Firefox', 'Edge'][1 + (hash(i) % 4)::INTEGER] AS browser,
      ['desktop', 'mobile'][1 + i % 2] AS device_type,
      ['US', 'DE', 'GB', 'FR', 'IN'][1 + i % 5] AS country,
      NULL AS ip_hash
    FROM (
      SELECT i,
        -- a skewed mix: event 0 ($page) is the most common, then 1, 2, ...
        least(29, floor(-ln(1 - (hash(i * 7) % 1000000)::INTEGER / 1000000.0) * 4))::INTEGER AS e,
        -- a daily rhythm: more events in the afternoon
        epoch_ms(${endMs - days * DAY} + (i * ${(days * DAY) / events})::BIGINT + ((sin(i * ${(2 * Math.PI * days) / events}) * 3600000)::BIGINT)) AS ts
      FROM range(${events}) t(i)
    )
    ORDER BY timestamp`);
  await c.run('CHECKPOINT');
  c.closeSync();
  db.closeSync();
  console.log(
    `generated ${events.toLocaleString('en')} events over ${days} days in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}
