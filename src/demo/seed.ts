import type { Project } from '../projects/service.js';
import { generateDemoMeasurements } from './measurements.js';
import { DEMO_METRICS } from './catalog.js';
import { demoIncidents, estimateDemoEventCount, generateDemoTraffic, type DemoOptions } from './traffic.js';
import { bucketFloor } from '../time/index.js';
import type { ApiKeyService } from '../auth/api-keys.js';
import type { IngestService } from '../ingest/service.js';
import type { MeasurementStore } from '../ingest/measurement-store.js';
import type { MetricService } from '../metrics/service.js';
import type { ProjectService } from '../projects/service.js';
import type { SignalJobs } from '../signals/drift/drift-jobs.js';

export const DEMO_SLUG = 'demo';

/** What these routes use: their own services and the few they name. */
export interface DemoSeedDeps {
  apiKeys: ApiKeyService;
  catalog: MetricService;
  ingest: IngestService;
  measurements: MeasurementStore;
  projects: ProjectService;
  signalJobs: SignalJobs;
  flush(): Promise<void>;
}

/**
 * Creates the demo project (if missing) with a write key and a read key, and ingests 30 days of
 * generated traffic through the normal ingest steps, plus gauge measurements of its services and
 * a starter catalog of metrics computed over them. Event volume is detected once at the end, so a
 * fresh demo shows its incidents as signals.
 */
export async function seedDemo(
  deps: DemoSeedDeps,
  opts: Partial<DemoOptions> & { slug?: string } = {},
  onProgress?: (done: number, total: number) => void,
): Promise<{
  project: Project;
  writeKey: string;
  readKey: string;
  events: number;
  measurements: number;
  metrics: string[];
  incidents: ReturnType<typeof demoIncidents>;
  eventSignals: number;
}> {
  const slug = opts.slug ?? DEMO_SLUG;
  const project = (await deps.projects.findBySlug(slug)) ?? (await deps.projects.create({ slug, name: 'Demo shop', timeZone: 'UTC' }));
  const writeKey = (await deps.apiKeys.create({ projectId: project.id, name: 'demo write key', scopes: ['ingest'] })).secret;
  const readKey = (await deps.apiKeys.create({ projectId: project.id, name: 'demo read key', scopes: ['read'] })).secret;
  const options: DemoOptions = { endMs: opts.endMs ?? Date.now(), days: opts.days ?? 30, seed: opts.seed, scale: opts.scale };
  const total = estimateDemoEventCount(options);
  let batch: unknown[] = [];
  let events = 0;
  const flush = async () => {
    const r = await deps.ingest.ingest(project.id, batch, undefined, {}, { receivedAt: Date.now(), ip: '' });
    events += r.accepted;
    batch = [];
    onProgress?.(events, total);
  };
  for (const e of generateDemoTraffic(options)) {
    batch.push(e);
    if (batch.length >= 2000) await flush();
  }
  if (batch.length) await flush();
  await deps.flush();
  const measurements = await deps.measurements.insert(project.id, generateDemoMeasurements(options), Date.now());
  // the starter catalog is computed now, so its charts have history from the first page view
  const metrics = [];
  for (const input of DEMO_METRICS) {
    const existing = await deps.catalog.byName(project, input.name).catch(() => undefined);
    const metric = existing ?? (await deps.catalog.create(project, input));
    if (metric.collectedUntil === null) await deps.catalog.collectNow(project, metric.id);
    metrics.push(metric.name);
  }
  const volume = await deps.signalJobs.runEventVolume(project, bucketFloor(project.timeZone, '1h', Math.min(options.endMs, Date.now())));
  return {
    project,
    writeKey,
    readKey,
    events,
    measurements,
    metrics,
    incidents: demoIncidents(options),
    eventSignals: volume.episodes - volume.totalEpisodes,
  };
}
