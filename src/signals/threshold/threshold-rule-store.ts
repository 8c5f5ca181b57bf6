/** The threshold_rules table. Only the threshold rule service calls it. */
import type { Selectable } from 'kysely';
import type { ThresholdRule, ThresholdState } from '../../detect/threshold.js';
import type { MetaDb } from '../../meta-db.js';
import type { ThresholdRuleTable } from '../tables.js';

export interface ThresholdRuleRecord {
  id: number;
  projectId: number;
  metricId: number;
  name: string;
  rule: ThresholdRule;
  enabled: boolean;
  /** after the last bucket evaluated; null before the first evaluation (or after a change) */
  state: ThresholdState | null;
  /** buckets before this have been evaluated (epoch ms) */
  evaluatedUntil: number | null;
  createdAt: number;
  updatedAt: number;
}

type Row = Selectable<ThresholdRuleTable>;

function toRecord(r: Row): ThresholdRuleRecord {
  return {
    id: Number(r.id),
    projectId: Number(r.project_id),
    metricId: Number(r.metric_id),
    name: r.name,
    rule: JSON.parse(r.rule) as ThresholdRule,
    enabled: Boolean(Number(r.enabled)),
    state: r.state === null ? null : (JSON.parse(r.state) as ThresholdState),
    evaluatedUntil: r.evaluated_until === null ? null : Number(r.evaluated_until),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

export class ThresholdRuleStore {
  constructor(private db: MetaDb) {}

  async list(metricId: number): Promise<ThresholdRuleRecord[]> {
    return (await this.db.selectFrom('threshold_rules').selectAll().where('metric_id', '=', metricId).orderBy('id').execute()).map(
      toRecord,
    );
  }

  /** Every rule of the project, by metric. */
  async listProject(projectId: number): Promise<ThresholdRuleRecord[]> {
    return (
      await this.db
        .selectFrom('threshold_rules')
        .selectAll()
        .where('project_id', '=', projectId)
        .orderBy('metric_id')
        .orderBy('id')
        .execute()
    ).map(toRecord);
  }

  async get(metricId: number, id: number): Promise<ThresholdRuleRecord | undefined> {
    const row = await this.db
      .selectFrom('threshold_rules')
      .selectAll()
      .where('metric_id', '=', metricId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toRecord(row);
  }

  async byName(metricId: number, name: string): Promise<ThresholdRuleRecord | undefined> {
    const row = await this.db
      .selectFrom('threshold_rules')
      .selectAll()
      .where('metric_id', '=', metricId)
      .where('name', '=', name)
      .executeTakeFirst();
    return row && toRecord(row);
  }

  async count(metricId: number): Promise<number> {
    const row = await this.db
      .selectFrom('threshold_rules')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('metric_id', '=', metricId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** The enabled rules of these metrics. */
  async enabledFor(projectId: number, metricIds: number[]): Promise<ThresholdRuleRecord[]> {
    if (!metricIds.length) return [];
    const rows = await this.db
      .selectFrom('threshold_rules')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('metric_id', 'in', metricIds)
      .where('enabled', '=', 1)
      .orderBy('id')
      .execute();
    return rows.map(toRecord);
  }

  async insert(
    projectId: number,
    metricId: number,
    f: { name: string; rule: ThresholdRule; enabled: boolean },
    now: number,
  ): Promise<ThresholdRuleRecord> {
    const row = await this.db
      .insertInto('threshold_rules')
      .values({
        project_id: projectId,
        metric_id: metricId,
        name: f.name,
        rule: JSON.stringify(f.rule),
        enabled: f.enabled ? 1 : 0,
        state: null,
        evaluated_until: null,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toRecord(row);
  }

  /** Changes the fields given; `reset` forgets where evaluation stood (a new rule, or re-enabled). */
  async update(
    id: number,
    f: { name?: string; rule?: ThresholdRule; enabled?: boolean },
    reset: boolean,
    now: number,
  ): Promise<ThresholdRuleRecord> {
    const row = await this.db
      .updateTable('threshold_rules')
      .set({
        ...(f.name !== undefined && { name: f.name }),
        ...(f.rule !== undefined && { rule: JSON.stringify(f.rule) }),
        ...(f.enabled !== undefined && { enabled: f.enabled ? 1 : 0 }),
        ...(reset && { state: null, evaluated_until: null }),
        updated_at: now,
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return toRecord(row);
  }

  async delete(id: number): Promise<void> {
    await this.db.deleteFrom('threshold_rules').where('id', '=', id).execute();
  }

  /**
   * Saves where evaluation stands, unless the rule changed meanwhile (edited, or evaluated by a
   * concurrent collection): compare-and-set on the rule and the previous position.
   */
  async saveProgress(r: ThresholdRuleRecord, state: ThresholdState | null, evaluatedUntil: number): Promise<boolean> {
    let q = this.db
      .updateTable('threshold_rules')
      .set({ state: state === null ? null : JSON.stringify(state), evaluated_until: evaluatedUntil })
      .where('id', '=', r.id)
      .where('rule', '=', JSON.stringify(r.rule));
    q = r.evaluatedUntil === null ? q.where('evaluated_until', 'is', null) : q.where('evaluated_until', '=', r.evaluatedUntil);
    const res = await q.executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }
}
