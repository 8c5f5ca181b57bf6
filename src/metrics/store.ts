/** The metrics catalog's tables: definitions and their collected values. Only service.ts calls this. */
import type { Selectable } from 'kysely';
import type { MetaDb } from '../meta-db.js';
import type { MetricTable } from './tables.js';
import type { Interval } from '../time/index.js';
import type { DetectionSettings, MetricKind, MetricStatus } from './schemas.js';
import type { ComputedMetric } from './collector.js';

export interface Metric {
  id: number;
  projectId: number;
  name: string;
  displayName: string;
  description: string;
  unit: string;
  owner: string;
  tags: string[];
  color: string;
  status: MetricStatus;
  interval: Interval;
  kind: MetricKind;
  definition: unknown;
  version: number;
  historyFrom: number | null;
  collectedUntil: number | null;
  lastError: { message: string; at: number } | null;
  detection: DetectionSettings;
  createdAt: number;
  updatedAt: number;
}

export type MetricFields = Pick<
  Metric,
  'name' | 'displayName' | 'description' | 'unit' | 'owner' | 'tags' | 'color' | 'status' | 'interval' | 'kind' | 'definition'
> & { detection?: DetectionSettings };

/** dimension and key of the total series */
export const TOTAL = '';

type Row = Selectable<MetricTable>;
const nullable = (v: number | null) => (v === null ? null : Number(v));

function toMetric(r: Row): Metric {
  return {
    id: Number(r.id),
    projectId: Number(r.project_id),
    name: r.name,
    displayName: r.display_name,
    description: r.description,
    unit: r.unit,
    owner: r.owner,
    tags: JSON.parse(r.tags),
    color: r.color,
    status: r.status as MetricStatus,
    interval: r.interval as Interval,
    kind: r.kind as MetricKind,
    definition: JSON.parse(r.definition),
    version: Number(r.version),
    historyFrom: nullable(r.history_from),
    collectedUntil: nullable(r.collected_until),
    lastError: r.last_error === null ? null : { message: r.last_error, at: Number(r.last_error_at) },
    detection: JSON.parse(r.detection) as DetectionSettings,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

function toColumns(f: Partial<MetricFields>) {
  return {
    ...(f.name !== undefined && { name: f.name }),
    ...(f.displayName !== undefined && { display_name: f.displayName }),
    ...(f.description !== undefined && { description: f.description }),
    ...(f.unit !== undefined && { unit: f.unit }),
    ...(f.owner !== undefined && { owner: f.owner }),
    ...(f.tags !== undefined && { tags: JSON.stringify(f.tags) }),
    ...(f.color !== undefined && { color: f.color }),
    ...(f.status !== undefined && { status: f.status }),
    ...(f.interval !== undefined && { interval: f.interval }),
    ...(f.kind !== undefined && { kind: f.kind }),
    ...(f.definition !== undefined && { definition: JSON.stringify(f.definition) }),
    ...(f.detection !== undefined && { detection: JSON.stringify(f.detection) }),
  };
}

/** Rows per multi-row insert: 6 columns each stays well under SQLite's 32,766 bound parameters. */
const INSERT_CHUNK = 1000;

export class MetricStore {
  constructor(private db: MetaDb) {}

  async insert(projectId: number, f: MetricFields, now: number): Promise<Metric> {
    const row = await this.db
      .insertInto('metrics')
      .values({
        project_id: projectId,
        name: f.name,
        display_name: f.displayName,
        description: f.description,
        unit: f.unit,
        owner: f.owner,
        tags: JSON.stringify(f.tags),
        color: f.color,
        status: f.status,
        interval: f.interval,
        kind: f.kind,
        definition: JSON.stringify(f.definition),
        detection: JSON.stringify(f.detection ?? {}),
        version: 1,
        history_from: null,
        collected_until: null,
        last_error: null,
        last_error_at: null,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toMetric(row);
  }

  /** Updates fields; `resetHistory` (a changed body) bumps the version and forgets what was collected. */
  async update(id: number, f: Partial<MetricFields>, now: number, resetHistory: boolean): Promise<Metric> {
    return this.db.transaction().execute(async (tx) => {
      if (resetHistory) await tx.deleteFrom('metric_values').where('metric_id', '=', id).execute();
      let q = tx
        .updateTable('metrics')
        .set({ ...toColumns(f), updated_at: now })
        .where('id', '=', id);
      if (resetHistory)
        q = q.set((eb) => ({
          version: eb('version', '+', 1),
          history_from: null,
          collected_until: null,
          last_error: null,
          last_error_at: null,
        }));
      return toMetric(await q.returningAll().executeTakeFirstOrThrow());
    });
  }

  async get(projectId: number, id: number): Promise<Metric | undefined> {
    const row = await this.db.selectFrom('metrics').selectAll().where('project_id', '=', projectId).where('id', '=', id).executeTakeFirst();
    return row && toMetric(row);
  }

  async byName(projectId: number, name: string): Promise<Metric | undefined> {
    const row = await this.db
      .selectFrom('metrics')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('name', '=', name)
      .executeTakeFirst();
    return row && toMetric(row);
  }

  async list(filter: { projectId?: number; status?: MetricStatus; interval?: Interval }): Promise<Metric[]> {
    let q = this.db.selectFrom('metrics').selectAll().orderBy('project_id').orderBy('name');
    if (filter.projectId !== undefined) q = q.where('project_id', '=', filter.projectId);
    if (filter.status !== undefined) q = q.where('status', '=', filter.status);
    if (filter.interval !== undefined) q = q.where('interval', '=', filter.interval);
    return (await q.execute()).map(toMetric);
  }

  async delete(id: number): Promise<void> {
    await this.db.deleteFrom('metrics').where('id', '=', id).execute();
  }

  /**
   * Replaces the values of [fromMs, toMs) with those computed (idempotent: a key that left the
   * top N is gone) and extends the collected range, unless the metric's body changed meanwhile.
   */
  async saveValues(
    metrics: { id: number; version: number }[],
    window: { fromMs: number; toMs: number },
    starts: number[],
    computed: ComputedMetric[],
    markCollected: boolean,
  ): Promise<void> {
    const versions = new Map(metrics.map((m) => [m.id, m.version]));
    await this.db.transaction().execute(async (tx) => {
      for (const c of computed) {
        const current = await tx
          .selectFrom('metrics')
          .select(['version', 'history_from', 'collected_until'])
          .where('id', '=', c.metricId)
          .executeTakeFirst();
        if (!current || Number(current.version) !== versions.get(c.metricId)) continue;
        await tx
          .deleteFrom('metric_values')
          .where('metric_id', '=', c.metricId)
          .where('bucket', '>=', window.fromMs)
          .where('bucket', '<', window.toMs)
          .execute();
        const rows = c.total.map((value, i) => ({
          metric_id: c.metricId,
          dimension: TOTAL,
          key: TOTAL,
          bucket: starts[i],
          value,
          samples: c.samples[i],
        }));
        for (const b of c.breakdowns)
          for (const [i, value] of b.values.entries()) {
            if (value !== null)
              rows.push({ metric_id: c.metricId, dimension: b.dimension, key: b.key, bucket: starts[i], value, samples: b.samples[i] });
          }
        for (let i = 0; i < rows.length; i += INSERT_CHUNK)
          await tx
            .insertInto('metric_values')
            .values(rows.slice(i, i + INSERT_CHUNK))
            .execute();
        if (!markCollected) continue;
        const from = current.history_from === null ? window.fromMs : Math.min(Number(current.history_from), window.fromMs);
        const until = current.collected_until === null ? window.toMs : Math.max(Number(current.collected_until), window.toMs);
        await tx
          .updateTable('metrics')
          .set({ history_from: from, collected_until: until, last_error: null, last_error_at: null })
          .where('id', '=', c.metricId)
          .execute();
      }
    });
  }

  /**
   * Records why metrics failed. With `skipWindow`, the window counts as collected for them (its
   * buckets stay gaps): a broken statement must not hold back every later cycle of its group.
   */
  async recordFailures(
    failures: { metricId: number; version: number; message: string }[],
    window: { fromMs: number; toMs: number },
    skipWindow: boolean,
    now: number,
  ): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      for (const f of failures) {
        const current = await tx
          .selectFrom('metrics')
          .select(['history_from', 'collected_until'])
          .where('id', '=', f.metricId)
          .where('version', '=', f.version)
          .executeTakeFirst();
        if (!current) continue;
        const collected = skipWindow && {
          history_from: current.history_from === null ? window.fromMs : Math.min(Number(current.history_from), window.fromMs),
          collected_until: current.collected_until === null ? window.toMs : Math.max(Number(current.collected_until), window.toMs),
        };
        await tx
          .updateTable('metrics')
          .set({ last_error: f.message.slice(0, 2000), last_error_at: now, ...collected })
          .where('id', '=', f.metricId)
          .execute();
      }
    });
  }

  async values(
    metricId: number,
    dimension: string,
    fromMs: number,
    toMs: number,
  ): Promise<{ key: string; bucket: number; value: number | null; samples: number | null }[]> {
    const rows = await this.db
      .selectFrom('metric_values')
      .select(['key', 'bucket', 'value', 'samples'])
      .where('metric_id', '=', metricId)
      .where('dimension', '=', dimension)
      .where('bucket', '>=', fromMs)
      .where('bucket', '<', toMs)
      .orderBy('bucket')
      .execute();
    return rows.map((r) => ({ key: r.key, bucket: Number(r.bucket), value: nullable(r.value), samples: nullable(r.samples) }));
  }

  /**
   * Total values of each metric from its `since` on, newest first, in one query: the bound keeps
   * it to the last buckets, whatever the length of the history.
   */
  async recentTotals(metrics: { id: number; since: number }[]): Promise<Map<number, { bucket: number; value: number | null }[]>> {
    const out = new Map<number, { bucket: number; value: number | null }[]>();
    if (!metrics.length) return out;
    const rows = await this.db
      .selectFrom('metric_values')
      .select(['metric_id', 'bucket', 'value'])
      .where('dimension', '=', TOTAL)
      .where('key', '=', TOTAL)
      .where((eb) => eb.or(metrics.map((m) => eb.and([eb('metric_id', '=', m.id), eb('bucket', '>=', m.since)]))))
      .orderBy('metric_id')
      .orderBy('bucket', 'desc')
      .execute();
    for (const r of rows) {
      const id = Number(r.metric_id);
      if (!out.has(id)) out.set(id, []);
      out.get(id)!.push({ bucket: Number(r.bucket), value: r.value === null ? null : Number(r.value) });
    }
    return out;
  }
}
