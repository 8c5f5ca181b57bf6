/** The tables of incidents: the incidents, their signals, and their timelines. Times are epoch milliseconds (see src/meta-db.ts). */
import type { Generated } from 'kysely';

export interface IncidentTable {
  id: Generated<number>;
  project_id: number;
  scope_key: string;
  breakdown: string;
  /** up | down | '' */
  direction: string;
  metric_id: number | null;
  title: string;
  /** open | acknowledged | resolved */
  status: string;
  /** recovered | manual | false_positive */
  resolution: string | null;
  /** info | warning | critical (minor | significant | major before migration 0017) */
  severity: string;
  root_signal_id: number | null;
  assignee_id: number | null;
  muted_until: number | null;
  started_bucket: number;
  last_bucket: number;
  opened_at: number;
  acknowledged_at: number | null;
  resolved_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface IncidentSignalTable {
  incident_id: number;
  signal_id: number;
  /** root | same_scope | related */
  role: string;
  added_at: number;
}

export interface IncidentEventTable {
  id: Generated<number>;
  incident_id: number;
  type: string;
  actor_id: number | null;
  /** JSON */
  data: string;
  at: number;
}
