/** The tables of alerting: destinations, rules, and deliveries (the outbox). Times are epoch milliseconds (see src/meta-db.ts). */
import type { Generated } from 'kysely';

export interface AlertDestinationTable {
  id: Generated<number>;
  project_id: number;
  name: string;
  kind: string;
  /** JSON, not secret */
  config: string;
  /** encrypted JSON (src/alerts/secrets.ts) */
  secrets: string;
  created_at: number;
  updated_at: number;
}

export interface AlertRuleTable {
  id: Generated<number>;
  project_id: number;
  name: string;
  enabled: number;
  /** JSON: AlertRuleSpec */
  spec: string;
  muted_until: number | null;
  digest_until: number | null;
  created_at: number;
  updated_at: number;
}

export interface AlertDeliveryTable {
  id: Generated<number>;
  project_id: number;
  rule_id: number | null;
  destination_id: number | null;
  incident_id: number | null;
  scope_key: string | null;
  /** opened | repeat | resolved | digest | test */
  event: string;
  /** pending | sent | failed */
  status: string;
  idempotency_key: string;
  /** JSON: AlertMessage */
  message: string;
  attempts: number;
  next_attempt_at: number | null;
  last_error: string | null;
  response_status: number | null;
  response_body: string | null;
  external_id: string | null;
  created_at: number;
  updated_at: number;
  sent_at: number | null;
}
