/**
 * The incidents tables (incidents, incident_signals, incident_events). Only service.ts calls this;
 * it passes a transaction as `db` for everything a change writes.
 */
import { sql, type Selectable } from 'kysely';
import type { IncidentEventTable, IncidentTable } from './tables.js';
import type { MetaDb } from '../meta-db.js';
import type { Identity } from './grouping.js';
import type {
  Incident,
  IncidentEvent,
  IncidentEventType,
  IncidentSeverity,
  IncidentSignalRole,
  IncidentStatus,
  Resolution,
} from './types.js';

type Row = Selectable<IncidentTable>;
const num = (v: number | null) => (v === null ? null : Number(v));
export const ACTIVE_STATUSES: IncidentStatus[] = ['open', 'acknowledged'];

export function toIncident(r: Row): Incident {
  return {
    id: Number(r.id),
    projectId: Number(r.project_id),
    scopeKey: r.scope_key,
    breakdown: r.breakdown,
    direction: r.direction === '' ? null : (r.direction as Incident['direction']),
    metricId: num(r.metric_id),
    title: r.title,
    status: r.status as IncidentStatus,
    resolution: r.resolution as Resolution | null,
    severity: r.severity as IncidentSeverity,
    rootSignalId: num(r.root_signal_id),
    assigneeId: num(r.assignee_id),
    mutedUntil: num(r.muted_until),
    startedBucket: Number(r.started_bucket),
    lastBucket: Number(r.last_bucket),
    openedAt: Number(r.opened_at),
    acknowledgedAt: num(r.acknowledged_at),
    resolvedAt: num(r.resolved_at),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

/** The columns of an incident's fields (the ones a change may set). */
export function incidentColumns(
  i: Partial<Omit<Incident, 'id' | 'projectId' | 'createdAt'>>,
): Partial<Omit<IncidentTable, 'id' | 'project_id' | 'created_at'>> {
  const c: Partial<Omit<IncidentTable, 'id' | 'project_id' | 'created_at'>> = {};
  if (i.scopeKey !== undefined) c.scope_key = i.scopeKey;
  if (i.breakdown !== undefined) c.breakdown = i.breakdown;
  if (i.direction !== undefined) c.direction = i.direction ?? '';
  if (i.metricId !== undefined) c.metric_id = i.metricId;
  if (i.title !== undefined) c.title = i.title;
  if (i.status !== undefined) c.status = i.status;
  if (i.resolution !== undefined) c.resolution = i.resolution;
  if (i.severity !== undefined) c.severity = i.severity;
  if (i.rootSignalId !== undefined) c.root_signal_id = i.rootSignalId;
  if (i.assigneeId !== undefined) c.assignee_id = i.assigneeId;
  if (i.mutedUntil !== undefined) c.muted_until = i.mutedUntil;
  if (i.startedBucket !== undefined) c.started_bucket = i.startedBucket;
  if (i.lastBucket !== undefined) c.last_bucket = i.lastBucket;
  if (i.openedAt !== undefined) c.opened_at = i.openedAt;
  if (i.acknowledgedAt !== undefined) c.acknowledged_at = i.acknowledgedAt;
  if (i.resolvedAt !== undefined) c.resolved_at = i.resolvedAt;
  if (i.updatedAt !== undefined) c.updated_at = i.updatedAt;
  return c;
}

function toEvent(r: Selectable<IncidentEventTable>): IncidentEvent {
  return {
    id: Number(r.id),
    incidentId: Number(r.incident_id),
    type: r.type as IncidentEventType,
    actorId: num(r.actor_id),
    data: JSON.parse(r.data),
    at: Number(r.at),
  };
}

export interface IncidentFilter {
  status?: IncidentStatus;
  severity?: IncidentSeverity;
  metricId?: number;
  /** a scope key, or a prefix ending in `*` */
  scope?: string;
  /** incidents whose buckets overlap [fromMs, toMs) */
  fromMs?: number;
  toMs?: number;
  /** keyset: ids below this */
  beforeId?: number;
  limit: number;
}

export interface SignalLink {
  incidentId: number;
  signalId: number;
  role: IncidentSignalRole;
  addedAt: number;
}

export class IncidentStore {
  constructor(private db: MetaDb) {}

  async get(id: number): Promise<Incident | undefined> {
    const row = await this.db.selectFrom('incidents').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toIncident(row);
  }

  /** These incidents of a project (missing ones left out), in id order. */
  async getMany(projectId: number, ids: number[]): Promise<Incident[]> {
    if (!ids.length) return [];
    return (
      await this.db.selectFrom('incidents').selectAll().where('project_id', '=', projectId).where('id', 'in', ids).orderBy('id').execute()
    ).map(toIncident);
  }

  /** The open (or acknowledged) incident of an identity, if any. */
  async openFor(projectId: number, identity: Identity): Promise<Incident | undefined> {
    const row = await this.db
      .selectFrom('incidents')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('scope_key', '=', identity.scopeKey)
      .where('breakdown', '=', identity.breakdown)
      .where('direction', '=', identity.direction ?? '')
      .where('status', 'in', ACTIVE_STATUSES)
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row && toIncident(row);
  }

  /** A project's open and acknowledged incidents, the most recently active first. */
  async active(projectId: number): Promise<Incident[]> {
    const rows = await this.db
      .selectFrom('incidents')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('status', 'in', ACTIVE_STATUSES)
      .orderBy('last_bucket', 'desc')
      .orderBy('id', 'desc')
      .execute();
    return rows.map(toIncident);
  }

  /**
   * Incidents a backfill opened already over (resolved as recovered the moment they opened) whose
   * buckets reach [fromBucket, toBucket]: a later historical signal of the same cause joins them.
   */
  async historicalAround(projectId: number, fromBucket: number, toBucket: number): Promise<Incident[]> {
    const rows = await this.db
      .selectFrom('incidents')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('status', '=', 'resolved')
      .where('resolution', '=', 'recovered')
      .whereRef('resolved_at', '=', 'opened_at')
      .where('started_bucket', '<=', toBucket)
      .where('last_bucket', '>=', fromBucket)
      .orderBy('last_bucket', 'desc')
      .orderBy('id', 'desc')
      .limit(50)
      .execute();
    return rows.map(toIncident);
  }

  /** The links of these signals to incidents. */
  async linksOfSignals(signalIds: number[]): Promise<SignalLink[]> {
    if (!signalIds.length) return [];
    const rows = await this.db.selectFrom('incident_signals').selectAll().where('signal_id', 'in', signalIds).execute();
    return rows.map((r) => ({
      incidentId: Number(r.incident_id),
      signalId: Number(r.signal_id),
      role: r.role as IncidentSignalRole,
      addedAt: Number(r.added_at),
    }));
  }

  /** The signals of these incidents, in the order they were added. */
  async links(incidentIds: number[]): Promise<SignalLink[]> {
    if (!incidentIds.length) return [];
    const rows = await this.db
      .selectFrom('incident_signals')
      .selectAll()
      .where('incident_id', 'in', incidentIds)
      .orderBy('added_at')
      .orderBy('signal_id')
      .execute();
    return rows.map((r) => ({
      incidentId: Number(r.incident_id),
      signalId: Number(r.signal_id),
      role: r.role as IncidentSignalRole,
      addedAt: Number(r.added_at),
    }));
  }

  async insert(projectId: number, i: Omit<Incident, 'id' | 'projectId'>): Promise<Incident> {
    const row = await this.db
      .insertInto('incidents')
      .values({
        project_id: projectId,
        ...(incidentColumns(i) as Omit<IncidentTable, 'id' | 'project_id' | 'created_at'>),
        created_at: i.createdAt,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toIncident(row);
  }

  async update(id: number, patch: Partial<Omit<Incident, 'id' | 'projectId' | 'createdAt'>>): Promise<Incident> {
    const row = await this.db
      .updateTable('incidents')
      .set(incidentColumns(patch))
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return toIncident(row);
  }

  /** Links a signal once: false when it already belongs to this incident. */
  async link(incidentId: number, signalId: number, role: IncidentSignalRole, at: number): Promise<boolean> {
    const existing = await this.db
      .selectFrom('incident_signals')
      .select('role')
      .where('incident_id', '=', incidentId)
      .where('signal_id', '=', signalId)
      .executeTakeFirst();
    if (existing) return false;
    await this.db.insertInto('incident_signals').values({ incident_id: incidentId, signal_id: signalId, role, added_at: at }).execute();
    return true;
  }

  async setRole(incidentId: number, signalId: number, role: IncidentSignalRole): Promise<void> {
    await this.db
      .updateTable('incident_signals')
      .set({ role })
      .where('incident_id', '=', incidentId)
      .where('signal_id', '=', signalId)
      .execute();
  }

  async addEvent(
    incidentId: number,
    type: IncidentEventType,
    actorId: number | null,
    data: Record<string, unknown>,
    at: number,
  ): Promise<IncidentEvent> {
    const row = await this.db
      .insertInto('incident_events')
      .values({ incident_id: incidentId, type, actor_id: actorId, data: JSON.stringify(data), at })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toEvent(row);
  }

  /** An incident's timeline, oldest first. */
  async events(incidentId: number, type?: IncidentEventType): Promise<IncidentEvent[]> {
    let q = this.db.selectFrom('incident_events').selectAll().where('incident_id', '=', incidentId);
    if (type) q = q.where('type', '=', type);
    return (await q.orderBy('id').execute()).map(toEvent);
  }

  /** A page of a project's incidents, newest first. */
  async list(projectId: number, f: IncidentFilter): Promise<Incident[]> {
    let q = this.db.selectFrom('incidents').selectAll().where('project_id', '=', projectId);
    if (f.status !== undefined) q = q.where('status', '=', f.status);
    if (f.severity !== undefined) q = q.where('severity', '=', f.severity);
    if (f.metricId !== undefined) q = q.where('metric_id', '=', f.metricId);
    if (f.scope !== undefined)
      q = f.scope.endsWith('*')
        ? q.where(sql<string>`substr(scope_key, 1, ${f.scope.length - 1})`, '=', f.scope.slice(0, -1))
        : q.where('scope_key', '=', f.scope);
    if (f.toMs !== undefined) q = q.where('started_bucket', '<', f.toMs);
    if (f.fromMs !== undefined) q = q.where('last_bucket', '>=', f.fromMs);
    if (f.beforeId !== undefined) q = q.where('id', '<', f.beforeId);
    return (await q.orderBy('id', 'desc').limit(f.limit).execute()).map(toIncident);
  }

  /** The incidents opened since `fromMs`, for the stats (the fields they need). */
  async openedSince(projectId: number, fromMs: number): Promise<Incident[]> {
    const rows = await this.db
      .selectFrom('incidents')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('opened_at', '>=', fromMs)
      .orderBy('id')
      .execute();
    return rows.map(toIncident);
  }
}
