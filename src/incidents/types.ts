import { SEVERITIES as INCIDENT_SEVERITIES, type Severity as IncidentSeverity } from '../detect/severity.js';
import type { MetaDb } from '../meta-db.js';
import type { Signal } from '../signals/store.js';

export const INCIDENT_STATUSES = ['open', 'acknowledged', 'resolved'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];
/** an incident's severity is a signal's: info, warning, critical (detect/severity.ts) */
export { INCIDENT_SEVERITIES, type IncidentSeverity };
export type Resolution = 'recovered' | 'manual' | 'false_positive';

export interface Incident {
  id: number;
  projectId: number;
  scopeKey: string;
  breakdown: string;
  direction: 'up' | 'down' | null;
  metricId: number | null;
  title: string;
  status: IncidentStatus;
  resolution: Resolution | null;
  severity: IncidentSeverity;
  rootSignalId: number | null;
  assigneeId: number | null;
  mutedUntil: number | null;
  startedBucket: number;
  lastBucket: number;
  openedAt: number;
  acknowledgedAt: number | null;
  resolvedAt: number | null;
  createdAt: number;
  updatedAt: number;
}

/** A change alerting may act on. */
export type IncidentChangeType = 'opened' | 'signal_added' | 'severity' | 'acknowledged' | 'resolved' | 'reopened';

export interface IncidentChange {
  type: IncidentChangeType;
  incident: Incident;
  /** the incident's signals, root first */
  signals: Signal[];
  /** who made it (null: Vigil itself) */
  actorId: number | null;
  at: number;
  /**
   * An incident opened for an episode that is already over (a backfill's or a catch-up's history:
   * the scope has since been scored healthy, or a threshold recovery follows in the same run). It
   * opens already resolved; alerting normally sends nothing for it.
   */
  historical?: boolean;
}

/** How a signal belongs to its incident. */
export type IncidentSignalRole = 'root' | 'same_scope' | 'related';

export const INCIDENT_EVENT_TYPES = [
  'created',
  'signal_added',
  'status',
  'severity',
  'assigned',
  'comment',
  'muted',
  'false_positive',
  'false_positive_undone',
  'alert_sent',
] as const;
export type IncidentEventType = (typeof INCIDENT_EVENT_TYPES)[number];

/** One entry of an incident's timeline. */
export interface IncidentEvent {
  id: number;
  incidentId: number;
  type: IncidentEventType;
  /** a user, or null for Vigil itself (or an API key: then `data.actor` names it) */
  actorId: number | null;
  data: Record<string, unknown>;
  at: number;
}

/** A signal of an incident, with its role. */
export interface IncidentSignal {
  signal: Signal;
  role: IncidentSignalRole;
  addedAt: number;
}

/**
 * Called inside the transaction that makes the change (the alerts domain writes its deliveries
 * there, so a change and its alerts commit together or not at all). `tx` is that transaction.
 */
export type IncidentChangeHook = (tx: MetaDb, change: IncidentChange) => Promise<void>;

/** Who makes a change: a user, an API key (no user: its label is kept), or Vigil itself. */
export interface IncidentActor {
  userId: number | null;
  /** an API key's label, kept in the timeline entry's data as `actor` */
  label?: string;
}

export const SYSTEM_ACTOR: IncidentActor = { userId: null };
