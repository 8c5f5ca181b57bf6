import type { MetaDb } from '../storage/meta/db.js';
import type { Signal } from '../signals/store.js';

export const INCIDENT_STATUSES = ['open', 'acknowledged', 'resolved'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];
export const INCIDENT_SEVERITIES = ['minor', 'significant', 'major'] as const;
export type IncidentSeverity = (typeof INCIDENT_SEVERITIES)[number];
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
}

/**
 * Called inside the transaction that makes the change (the alerts domain writes its deliveries
 * there, so a change and its alerts commit together or not at all). `tx` is that transaction.
 */
export type IncidentChangeHook = (tx: MetaDb, change: IncidentChange) => Promise<void>;
