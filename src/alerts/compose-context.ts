/** What composing an alert message needs to know beyond the incident: its project and its signals' metrics. */
import type { Signal } from '../signals/store.js';
import type { AlertsUnit } from './unit-of-work.js';
import type { ComposeContext, MetricInfo } from './compose.js';

/**
 * Names and tags of the signals' metrics, read through `unit` (on a change's transaction, or the store).
 */
export async function metricInfo(unit: AlertsUnit, projectId: number, signals: Signal[]): Promise<Map<number, MetricInfo>> {
  const ids = [...new Set(signals.map((s) => s.metricId).filter((id): id is number => id !== null))];
  const out = new Map<number, MetricInfo>();
  for (const id of ids) {
    const m = await unit.metrics.get(projectId, id);
    if (m) out.set(id, { name: m.name, displayName: m.displayName, tags: m.tags, unit: m.unit });
  }
  return out;
}

/** The context with no rule yet. */
export async function composeContext(
  unit: AlertsUnit,
  projectId: number,
  metrics: Map<number, MetricInfo>,
  origin: string,
  now: number,
): Promise<ComposeContext> {
  const p = await unit.projects.getById(projectId);
  return { project: { id: p.id, slug: p.slug, name: p.name }, rule: null, metrics, origin, now };
}
