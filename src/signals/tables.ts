/** The tables of signals: the signals themselves, threshold rules, event profiles and detector runs. Times are epoch milliseconds (see src/meta-db.ts). */
import type { Generated } from 'kysely';

export interface SignalTable {
  id: Generated<number>;
  project_id: number;
  /** metric, later threshold | schema | distribution | event */
  scope: string;
  /** e.g. `metric:12` */
  scope_key: string;
  metric_id: number | null;
  /** the anchor: the episode's first bucket (epoch ms) */
  bucket: number;
  /** the episode's last bucket so far */
  end_bucket: number;
  kind: string;
  direction: string | null;
  value: number;
  expected: number | null;
  lower: number | null;
  upper: number | null;
  z: number;
  score: number;
  /** info | warning | critical */
  severity: string;
  /** JSON */
  details: string;
  created_at: number;
  updated_at: number;
}

export interface ThresholdRuleTable {
  id: Generated<number>;
  project_id: number;
  metric_id: number;
  name: string;
  /** JSON: ThresholdRule (src/detect/threshold.ts) */
  rule: string;
  /** 1 watched, 0 paused */
  enabled: number;
  /** JSON: ThresholdState after the last bucket evaluated; null before the first evaluation */
  state: string | null;
  /** buckets before this (epoch ms) have been evaluated */
  evaluated_until: number | null;
  created_at: number;
  updated_at: number;
}

/** A day's schema profile of a project's events (signals/drift.ts). */
export interface EventProfileTable {
  project_id: number;
  /** the day's first instant, epoch ms */
  day: number;
  /** JSON: DayProfile */
  profile: string;
  events: number;
  created_at: number;
}

/** Where a project-wide detector stands (signals/drift-jobs.ts). */
export interface DetectorRunTable {
  project_id: number;
  detector: string;
  /** buckets before this (epoch ms) have been covered */
  done_until: number;
  updated_at: number;
}
