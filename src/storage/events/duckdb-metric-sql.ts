/** SQL for metric collection on DuckDB: many metrics, one pass over the events. (Stub.) */
import type { MetricScanQuery } from './event-store.js';
import type { Sql } from './duckdb-sql.js';

export function metricScanSql(q: MetricScanQuery): Sql {
  void q;
  throw new Error('not implemented');
}
