/** The tables of metrics: definitions, collected values, and measurements. Times are epoch milliseconds (see src/meta-db.ts). */
import type { Generated } from 'kysely';

export interface MetricTable {
  id: Generated<number>;
  project_id: number;
  name: string;
  display_name: string;
  description: string;
  unit: string;
  owner: string;
  /** JSON array of strings */
  tags: string;
  color: string;
  status: string;
  interval: string;
  kind: string;
  /** JSON of the kind's body */
  definition: string;
  version: number;
  history_from: number | null;
  collected_until: number | null;
  last_error: string | null;
  last_error_at: number | null;
  created_at: number;
  updated_at: number;
  /** JSON: detection settings { enabled?, sensitivity?, minExpected? } */
  detection: Generated<string>;
}

export interface MetricValueTable {
  metric_id: number;
  dimension: string;
  key: string;
  bucket: number;
  value: number | null;
  /** how many observations the value stands for (null: not known, e.g. collected before 0018) */
  samples: number | null;
}

export interface MeasurementTable {
  id: Generated<number>;
  project_id: number;
  service: string;
  metric: string;
  ts: number;
  value: number;
  /** JSON object of string tags */
  tags: string;
  received_at: number;
}
