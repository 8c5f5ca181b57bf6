/** The signals table. Only service.ts calls this. */
import type { Selectable } from 'kysely';
import { higherSeverity, type Severity } from '../detect/severity.js';
import type { MetaDb } from '../meta-db.js';
import type { SignalTable } from './tables.js';

/** volume: the project's total event count (`volume:total`), watched beside each busy event */
export const SIGNAL_SCOPES = ['metric', 'threshold', 'schema', 'distribution', 'event', 'volume'] as const;
export type SignalScope = (typeof SIGNAL_SCOPES)[number];
/** info: worth knowing, no deviation to act on (recovery, a new event); warning; critical (detect/severity.ts) */
export { SEVERITIES, type Severity } from '../detect/severity.js';

export interface Signal {
  id: number;
  projectId: number;
  scope: SignalScope;
  scopeKey: string;
  metricId: number | null;
  /** the anchor: the episode's first bucket (epoch ms) */
  bucket: number;
  /** the episode's last bucket so far */
  endBucket: number;
  kind: string;
  direction: 'up' | 'down' | null;
  /** the peak bucket: its value, expected value, band, z and score */
  value: number;
  expected: number | null;
  lower: number | null;
  upper: number | null;
  z: number;
  score: number;
  severity: Severity;
  details: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

export type SignalInput = Omit<Signal, 'id' | 'projectId' | 'createdAt' | 'updatedAt'>;

export interface SignalFilter {
  scope?: SignalScope;
  metricId?: number;
  kind?: string;
  /** signals overlapping [fromMs, toMs) */
  fromMs: number;
  toMs: number;
  /** keyset: signals strictly after this one in the order (bucket desc, id desc) */
  before?: { bucket: number; id: number };
  limit: number;
}

type Row = Selectable<SignalTable>;
const num = (v: number | null) => (v === null ? null : Number(v));

function toSignal(r: Row): Signal {
  return {
    id: Number(r.id),
    projectId: Number(r.project_id),
    scope: r.scope as SignalScope,
    scopeKey: r.scope_key,
    metricId: num(r.metric_id),
    bucket: Number(r.bucket),
    endBucket: Number(r.end_bucket),
    kind: r.kind,
    direction: r.direction as Signal['direction'],
    value: Number(r.value),
    expected: num(r.expected),
    lower: num(r.lower),
    upper: num(r.upper),
    z: Number(r.z),
    score: Number(r.score),
    severity: r.severity as Severity,
    details: JSON.parse(r.details),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

/**
 * An episode seen again: the anchor stays (a signal is announced once), the end grows, the kind
 * follows the view that reaches furthest (a spike that goes on becomes a level shift), and the
 * peak is the larger |z| of the two.
 */
function merge(existing: Signal, input: SignalInput): SignalInput {
  const peak = Math.abs(input.z) >= Math.abs(existing.z) ? input : existing;
  return {
    ...input,
    bucket: existing.bucket,
    endBucket: Math.max(existing.endBucket, input.endBucket),
    kind: input.endBucket >= existing.endBucket ? input.kind : existing.kind,
    value: peak.value,
    expected: peak.expected,
    lower: peak.lower,
    upper: peak.upper,
    z: peak.z,
    score: peak.score,
    severity: higherSeverity(input.severity, existing.severity),
    details: { ...input.details, ...(peak === existing && 'peak' in existing.details && { peak: existing.details.peak }) },
  };
}

const columns = (s: SignalInput) => ({
  scope: s.scope,
  scope_key: s.scopeKey,
  metric_id: s.metricId,
  bucket: s.bucket,
  end_bucket: s.endBucket,
  kind: s.kind,
  direction: s.direction,
  value: s.value,
  expected: s.expected,
  lower: s.lower,
  upper: s.upper,
  z: s.z,
  score: s.score,
  severity: s.severity,
  details: JSON.stringify(s.details),
});

export class SignalStore {
  constructor(private db: MetaDb) {}

  /**
   * Inserts each signal, or updates the one of its scope and direction whose buckets overlap it
   * (the same episode seen by a later run): never a duplicate. Unchanged signals are not written.
   */
  async upsert(projectId: number, inputs: SignalInput[], now: number): Promise<{ inserted: number; updated: number; written: Signal[] }> {
    let inserted = 0,
      updated = 0;
    const written: Signal[] = [];
    if (!inputs.length) return { inserted, updated, written };
    await this.db.transaction().execute(async (tx) => {
      for (const input of inputs) {
        let q = tx
          .selectFrom('signals')
          .selectAll()
          .where('project_id', '=', projectId)
          .where('scope_key', '=', input.scopeKey)
          .where('bucket', '<=', input.endBucket)
          .where('end_bucket', '>=', input.bucket);
        q = input.direction === null ? q.where('direction', 'is', null) : q.where('direction', '=', input.direction);
        const row = await q.orderBy('bucket').limit(1).executeTakeFirst();
        if (row) {
          const existing = toSignal(row);
          const next = columns(merge(existing, input));
          if (JSON.stringify(next) === JSON.stringify(columns(existing))) continue;
          await tx
            .updateTable('signals')
            .set({ ...next, updated_at: now })
            .where('id', '=', existing.id)
            .execute();
          written.push({ ...existing, ...merge(existing, input), updatedAt: now });
          updated++;
          continue;
        }
        // another direction anchored at the same bucket (a rescored history) is replaced
        const cols = columns(input);
        const added = await tx
          .insertInto('signals')
          .values({ project_id: projectId, ...cols, created_at: now, updated_at: now })
          .onConflict((oc) => oc.columns(['project_id', 'scope_key', 'bucket']).doUpdateSet({ ...cols, updated_at: now }))
          .returningAll()
          .executeTakeFirstOrThrow();
        written.push(toSignal(added));
        inserted++;
      }
    });
    return { inserted, updated, written };
  }

  /** Newest first (by anchor, then id). */
  async list(projectId: number, f: SignalFilter): Promise<Signal[]> {
    let q = this.db
      .selectFrom('signals')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('bucket', '<', f.toMs)
      .where('end_bucket', '>=', f.fromMs);
    if (f.scope !== undefined) q = q.where('scope', '=', f.scope);
    if (f.metricId !== undefined) q = q.where('metric_id', '=', f.metricId);
    if (f.kind !== undefined) q = q.where('kind', '=', f.kind);
    const before = f.before;
    if (before)
      q = q.where((eb) => eb.or([eb('bucket', '<', before.bucket), eb.and([eb('bucket', '=', before.bucket), eb('id', '<', before.id)])]));
    return (await q.orderBy('bucket', 'desc').orderBy('id', 'desc').limit(f.limit).execute()).map(toSignal);
  }

  /** These signals (of any project), by id. */
  async byIds(ids: number[]): Promise<Signal[]> {
    if (!ids.length) return [];
    return (await this.db.selectFrom('signals').selectAll().where('id', 'in', ids).orderBy('id').execute()).map(toSignal);
  }

  /** Signals inserted or updated in [fromMs, toMs), oldest write first, at most `limit`. */
  async writtenBetween(fromMs: number, toMs: number, limit: number): Promise<Signal[]> {
    const rows = await this.db
      .selectFrom('signals')
      .selectAll()
      .where('updated_at', '>=', fromMs)
      .where('updated_at', '<', toMs)
      .orderBy('updated_at')
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map(toSignal);
  }

  /** A metric's signals overlapping [fromMs, toMs), oldest first. */
  async forMetric(metricId: number, fromMs: number, toMs: number): Promise<Signal[]> {
    const rows = await this.db
      .selectFrom('signals')
      .selectAll()
      .where('metric_id', '=', metricId)
      .where('bucket', '<', toMs)
      .where('end_bucket', '>=', fromMs)
      .orderBy('bucket')
      .orderBy('id')
      .execute();
    return rows.map(toSignal);
  }
}
