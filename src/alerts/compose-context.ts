/** What composing an alert message needs to know beyond the incident: its project and its signals' metrics. */
import { MetricStore } from '../metrics/store.js';
import { ProjectService } from '../projects/service.js';
import type { Signal } from '../signals/store.js';
import type { MetaDb } from '../meta-db.js';
import type { ComposeContext, MetricInfo } from './compose.js';

/**
 * Names and tags of the signals' metrics, read through `db` (a change's transaction, or the store).
 * It builds a MetricStore on `db` ad hoc: the unit of work the integrator may pass in instead.
 */
export async function metricInfo(db: MetaDb, projectId: number, signals: Signal[]): Promise<Map<number, MetricInfo>> {
  const ids = [...new Set(signals.map((s) => s.metricId).filter((id): id is number => id !== null))];
  const store = new MetricStore(db);
  const out = new Map<number, MetricInfo>();
  for (const id of ids) {
    const m = await store.get(projectId, id);
    if (m) out.set(id, { name: m.name, displayName: m.displayName, tags: m.tags, unit: m.unit });
  }
  return out;
}

/** The context with no rule yet; like metricInfo, it builds a ProjectService on `db` ad hoc. */
export async function composeContext(
  db: MetaDb,
  projectId: number,
  metrics: Map<number, MetricInfo>,
  origin: string,
  now: number,
): Promise<ComposeContext> {
  const p = await new ProjectService(db).getById(projectId);
  return { project: { id: p.id, slug: p.slug, name: p.name }, rule: null, metrics, origin, now };
}
