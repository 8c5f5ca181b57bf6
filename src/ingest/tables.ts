/** The ingest's tables: the daily IP-hash salts and the scaled mode's outbox of event batches. Times are epoch milliseconds (see src/meta-db.ts). */
import type { Generated } from 'kysely';

export interface IpSaltTable {
  day: string;
  salt: string;
}

/** Acknowledged events of the scaled mode waiting to be loaded into ClickHouse (src/ingest/outbox.ts). */
export interface IngestBatchTable {
  id: Generated<number>;
  /** NDJSON event rows, as the write-ahead segments hold them */
  lines: string;
  line_count: number;
  received_at: number;
  /** set while a loader moves the row into the event store: the id of that load */
  load_id: number | null;
}
