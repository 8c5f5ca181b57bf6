import { compileMetric, parseBody } from './compile.js';
import type { MetricApi } from './schemas.js';
import type { Metric } from './store.js';

export const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A metric as the API answers it, with what its definition compiles to (value kind, breakdowns). */
export function metricToApi(m: Metric): MetricApi {
  const compiled = compileMetric(parseBody(m.kind, m.definition));
  return {
    id: m.id,
    name: m.name,
    displayName: m.displayName,
    description: m.description,
    unit: m.unit,
    owner: m.owner,
    tags: m.tags,
    color: m.color,
    interval: m.interval,
    status: m.status,
    kind: m.kind,
    definition: m.definition,
    valueKind: compiled.valueKind,
    breakdowns: compiled.breakdowns,
    version: m.version,
    historyFrom: iso(m.historyFrom),
    collectedUntil: iso(m.collectedUntil),
    lastError: m.lastError && { message: m.lastError.message, at: iso(m.lastError.at)! },
    detection: m.detection,
    createdAt: iso(m.createdAt)!,
    updatedAt: iso(m.updatedAt)!,
  };
}
