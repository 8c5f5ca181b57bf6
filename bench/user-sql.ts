// The cost of running a SQL metric over its own copy of the project's window (issue 15): a preview
// of 30 days of a 1-million-event project, hourly, through the store (guard, copy, query, drop),
// against the same aggregate run directly on the table. Prints its figures.
import fs from 'node:fs';
import path from 'node:path';
import { DuckDbEventStore } from '../src/storage/events/duckdb.js';
import { generateEvents } from './bench-data.js';

const EVENTS = Number(process.env.EVENTS ?? 1_111_112); // 90% in project 1: 1 million
const RUNS = Number(process.env.RUNS ?? 10);
const DATA_DIR = path.resolve(process.env.BENCH_DATA_DIR ?? 'bench/.data/user-sql-1m');
const DAY = 86_400_000;
const HOUR = 3_600_000;
const END = Date.UTC(2026, 10, 1);
const FROM = END - 30 * DAY;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Metric SQL as authors write it: reading two columns, one JSON property, or every column. */
const METRICS: [string, string][] = [
  ['two columns', "SELECT bucket, count(DISTINCT session_id) AS value FROM events WHERE event = 'Event 1' GROUP BY bucket"],
  ['a JSON property', "SELECT bucket, sum(json_extract(properties, '$.price')::DOUBLE) AS value FROM events GROUP BY bucket"],
  ['every column (*)', "SELECT bucket, count(*) AS value FROM (SELECT * FROM events WHERE event = 'Event 1') GROUP BY bucket"],
];
/** The first metric straight on the table, without the copy. */
const DIRECT = `SELECT epoch_ms(timestamp) // ${HOUR} * ${HOUR} AS bucket, count(DISTINCT session_id) AS value FROM events
  WHERE project_id = 1 AND timestamp >= epoch_ms(${FROM}) AND timestamp < epoch_ms(${END}) AND event = 'Event 1' GROUP BY 1`;

const file = path.join(DATA_DIR, 'events.duckdb');
if (!fs.existsSync(file)) await generateEvents(file, { events: EVENTS, days: 30, endMs: END });
const store = await DuckDbEventStore.open({ file, readers: 1 });
try {
  const direct: number[] = [];
  for (let i = 0; i < RUNS + 2; i++) {
    const t = performance.now();
    await store.rawQuery(DIRECT);
    if (i >= 2) direct.push(performance.now() - t);
  }
  console.log(
    `project 1: ${(await store.totals({ projectId: 1, fromMs: FROM, toMs: END })).events.toLocaleString('en')} events over 30 days; hourly buckets; medians of ${RUNS} runs`,
  );
  console.log(`  directly on the table, no copy:          ${median(direct).toFixed(0)} ms`);
  for (const [name, sql] of METRICS) {
    const times: number[] = [];
    let rssPeak = 0;
    for (let i = 0; i < RUNS + 2; i++) {
      const t = performance.now();
      await store.runUserSql({ projectId: 1, sql, fromMs: FROM, toMs: END, grainMs: HOUR, timeoutMs: 60_000, maxRows: 100_000 });
      if (i >= 2) times.push(performance.now() - t);
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    }
    console.log(
      `  as metric SQL reading ${`${name}:`.padEnd(18)} ${median(times).toFixed(0)} ms (RSS after runs up to ${Math.round(rssPeak / 1e6)} MB)`,
    );
  }
} finally {
  await store.close();
}
