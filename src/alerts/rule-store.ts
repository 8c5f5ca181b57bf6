/** The alert_rules table. Only the alerts service calls this. */
import type { Selectable } from 'kysely';
import type { AlertRuleTable } from './tables.js';
import type { MetaDb } from '../meta-db.js';
import type { AlertRuleSpec } from './rules.js';

export interface AlertRule {
  id: number;
  projectId: number;
  name: string;
  enabled: boolean;
  spec: AlertRuleSpec;
  mutedUntil: number | null;
  /** the last digest covered incidents opened before this; null before the first */
  digestUntil: number | null;
  createdAt: number;
  updatedAt: number;
}

export type RuleFields = Pick<AlertRule, 'name' | 'enabled' | 'spec' | 'mutedUntil'>;

const num = (v: number | string | null) => (v === null ? null : Number(v));

function toRule(r: Selectable<AlertRuleTable>): AlertRule {
  return {
    id: Number(r.id),
    projectId: Number(r.project_id),
    name: r.name,
    enabled: Boolean(Number(r.enabled)),
    spec: JSON.parse(r.spec) as AlertRuleSpec,
    mutedUntil: num(r.muted_until),
    digestUntil: num(r.digest_until),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

export class RuleStore {
  constructor(private db: MetaDb) {}

  async list(projectId: number): Promise<AlertRule[]> {
    const rows = await this.db.selectFrom('alert_rules').selectAll().where('project_id', '=', projectId).orderBy('id').execute();
    return rows.map(toRule);
  }

  /** Every enabled rule of every project (the scheduler's periodic step). */
  async enabled(): Promise<AlertRule[]> {
    const rows = await this.db.selectFrom('alert_rules').selectAll().where('enabled', '=', 1).orderBy('id').execute();
    return rows.map(toRule);
  }

  async get(projectId: number, id: number): Promise<AlertRule | undefined> {
    const row = await this.db
      .selectFrom('alert_rules')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toRule(row) : undefined;
  }

  async byName(projectId: number, name: string): Promise<AlertRule | undefined> {
    const row = await this.db
      .selectFrom('alert_rules')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('name', '=', name)
      .executeTakeFirst();
    return row ? toRule(row) : undefined;
  }

  async insert(projectId: number, f: RuleFields, now: number): Promise<AlertRule> {
    const row = await this.db
      .insertInto('alert_rules')
      .values({
        project_id: projectId,
        name: f.name,
        enabled: f.enabled ? 1 : 0,
        spec: JSON.stringify(f.spec),
        muted_until: f.mutedUntil,
        digest_until: null,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toRule(row);
  }

  /** A changed digest schedule starts its periods afresh from now. */
  async update(id: number, f: RuleFields, now: number, resetDigest: boolean): Promise<AlertRule> {
    const row = await this.db
      .updateTable('alert_rules')
      .set({
        name: f.name,
        enabled: f.enabled ? 1 : 0,
        spec: JSON.stringify(f.spec),
        muted_until: f.mutedUntil,
        updated_at: now,
        ...(resetDigest && { digest_until: null }),
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return toRule(row);
  }

  /** Moves a digest rule's period start; false when another scheduler moved it first. */
  async advanceDigest(id: number, from: number | null, to: number): Promise<boolean> {
    const res = await this.db
      .updateTable('alert_rules')
      .set({ digest_until: to })
      .where('id', '=', id)
      .where((eb) => (from === null ? eb('digest_until', 'is', null) : eb('digest_until', '=', from)))
      .executeTakeFirst();
    return res.numUpdatedRows > 0n;
  }

  async delete(id: number): Promise<void> {
    await this.db.deleteFrom('alert_rules').where('id', '=', id).execute();
  }

  /** Rules of a project that send to a destination (it cannot be deleted while they do). */
  async using(projectId: number, destinationId: number): Promise<AlertRule[]> {
    return (await this.list(projectId)).filter((r) => r.spec.destinationIds.includes(destinationId));
  }
}
