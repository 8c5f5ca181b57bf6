/** The audit log: who changed what, when, with a summary of before and after and the request id. */
import type { FastifyRequest } from 'fastify';
import type { AuditLogTable } from './tables.js';
import type { MetaDb } from '../meta-db.js';

export interface Actor {
  type: 'user' | 'api_key' | 'cli' | 'system' | 'anonymous';
  id: number | null;
  label: string;
}

export interface AuditInput {
  /** defaults to the request's project */
  projectId?: number | null;
  /** domain.verb, e.g. metric.update */
  action: string;
  target: { type: string; id?: string | number | null };
  before?: unknown;
  after?: unknown;
  /** defaults to the request's principal */
  actor?: Actor;
}

export interface AuditEntry {
  id: number;
  at: number;
  projectId: number | null;
  actor: Actor;
  action: string;
  target: { type: string; id: string | null };
  summary: { before?: unknown; after?: unknown };
  requestId: string | null;
  ip: string | null;
}

export interface AuditFilter {
  action?: string;
  actor?: string;
  targetType?: string;
  fromMs?: number;
  toMs?: number;
  /** entries older than this id (the `nextCursor` of a previous page) */
  beforeId?: number;
  limit: number;
}

export function actorOf(request: FastifyRequest | null): Actor {
  const p = request?.principal;
  if (!p || p.type === 'anonymous') return { type: 'anonymous', id: null, label: 'anonymous' };
  if (p.type === 'user') return { type: 'user', id: p.user.id, label: p.user.email };
  return { type: 'api_key', id: p.key.id, label: `${p.key.prefix}… (${p.key.name})` };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Only what changed: for two objects the fields whose values differ, else the values as given. */
export function summarize(before: unknown, after: unknown): { before?: unknown; after?: unknown } {
  if (!isObject(before) || !isObject(after)) return { ...(before !== undefined && { before }), ...(after !== undefined && { after }) };
  const b: Record<string, unknown> = {};
  const a: Record<string, unknown> = {};
  for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (JSON.stringify(before[k]) === JSON.stringify(after[k])) continue;
    if (k in before) b[k] = before[k];
    if (k in after) a[k] = after[k];
  }
  return { before: b, after: a };
}

type Row = Omit<AuditLogTable, 'id'> & { id: number };
function toEntry(r: Row): AuditEntry {
  return {
    id: Number(r.id),
    at: Number(r.at),
    projectId: r.project_id === null ? null : Number(r.project_id),
    actor: { type: r.actor_type as Actor['type'], id: r.actor_id === null ? null : Number(r.actor_id), label: r.actor_label },
    action: r.action,
    target: { type: r.target_type, id: r.target_id },
    summary: JSON.parse(r.summary),
    requestId: r.request_id,
    ip: r.ip,
  };
}

export class AuditLog {
  constructor(
    private db: MetaDb,
    private now: () => number = Date.now,
  ) {}

  async record(request: FastifyRequest | null, input: AuditInput): Promise<void> {
    const actor = input.actor ?? actorOf(request);
    await this.db
      .insertInto('audit_log')
      .values({
        at: this.now(),
        project_id: input.projectId === undefined ? (request?.project?.id ?? null) : input.projectId,
        actor_type: actor.type,
        actor_id: actor.id,
        actor_label: actor.label.slice(0, 320),
        action: input.action,
        target_type: input.target.type,
        target_id: input.target.id === undefined || input.target.id === null ? null : String(input.target.id),
        summary: JSON.stringify(summarize(input.before, input.after)),
        request_id: request ? String(request.id) : null,
        ip: request?.ip ?? null,
      })
      .execute();
  }

  private query(projectId: number, f: Omit<AuditFilter, 'limit' | 'beforeId'>) {
    let q = this.db.selectFrom('audit_log').selectAll().where('project_id', '=', projectId);
    if (f.action) q = q.where('action', '=', f.action);
    if (f.actor) q = q.where('actor_label', '=', f.actor);
    if (f.targetType) q = q.where('target_type', '=', f.targetType);
    if (f.fromMs !== undefined) q = q.where('at', '>=', f.fromMs);
    if (f.toMs !== undefined) q = q.where('at', '<', f.toMs);
    return q;
  }

  /** A project's entries, newest first. */
  async list(projectId: number, f: AuditFilter): Promise<AuditEntry[]> {
    let q = this.query(projectId, f);
    if (f.beforeId !== undefined) q = q.where('id', '<', f.beforeId);
    return (await q.orderBy('id', 'desc').limit(f.limit).execute()).map(toEntry);
  }

  /** Removes a deleted project's entries (its deletion is recorded with no project). */
  async forgetProject(projectId: number): Promise<void> {
    await this.db.deleteFrom('audit_log').where('project_id', '=', projectId).execute();
  }

  /** Every matching entry, oldest first, a page at a time (for the NDJSON export). */
  async *export(projectId: number, f: Omit<AuditFilter, 'limit' | 'beforeId'>): AsyncIterable<AuditEntry[]> {
    for (let afterId = 0; ; ) {
      const rows = (await this.query(projectId, f).where('id', '>', afterId).orderBy('id').limit(1000).execute()).map(toEntry);
      if (!rows.length) return;
      yield rows;
      afterId = rows[rows.length - 1].id;
    }
  }
}
