/**
 * Which open incident a signal is related to (grouping.ts holds the rules): one whose signals
 * share its definition, or whose series moved with its series. Reads the metrics and series it
 * compares once per intake call.
 */
import { INTERVAL_MS, type Interval } from '../time/index.js';
import type { Metric, MetricService } from '../metrics/service.js';
import type { Project } from '../projects/service.js';
import type { SignalService } from '../signals/service.js';
import type { Signal } from '../signals/store.js';
import {
  CORRELATION_BUCKETS,
  CORRELATION_MIN,
  CO_MOVING_BUCKETS,
  CO_MOVING_MIN_R,
  eventOfSignal,
  eventsOfMetric,
  movedTogether,
  relatedByDefinition,
  seasonalLag,
  startedTogether,
  stepOf,
  withinWindow,
  type SignalFacts,
} from './grouping.js';
import type { IncidentStore } from './store.js';
import type { Incident } from './types.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** scopes whose signals are grouped by cause; drift is about an event's shape, not its volume */
const GROUPABLE = new Set<Signal['scope']>(['metric', 'event', 'volume', 'threshold']);

export type EventCounts = (project: Project, event: string | null, fromMs: number, toMs: number) => Promise<number[]>;

/** What one intake call reads once: the project, and the metrics and series grouping looked at. */
export interface IntakeReads {
  project: Project;
  metrics: Map<number, Promise<Metric | null>>;
  series: Map<string, Promise<(number | null)[]>>;
}

/** A signal's series, as grouping reads it: a metric's total values, or an event's (the project's) hourly counts. */
interface SeriesSource {
  key: string;
  interval: Interval;
  read: (from: number, to: number) => Promise<(number | null)[]>;
}

export interface Group {
  incident: Incident;
  why: { via: 'definition' | 'correlation' | 'co_moving'; with: number; r?: number };
}

export interface RelatedIncidentsDeps {
  store: IncidentStore;
  catalog: MetricService;
  signals: SignalService;
  /** an event's hourly counts (every event's, for null): what volumes are correlated on; without it they are not */
  eventCounts?: EventCounts;
}

export class RelatedIncidents {
  constructor(private deps: RelatedIncidentsDeps) {}

  async find(run: IntakeReads, s: Signal, historical: boolean): Promise<Group | null> {
    if (!GROUPABLE.has(s.scope)) return null;
    const step = stepOf(s) ?? HOUR;
    const pool = await this.deps.store.active(run.project.id);
    // history replayed by a backfill groups the way live detection would have
    if (historical) pool.push(...(await this.deps.store.historicalAround(run.project.id, s.bucket - DAY, s.endBucket + DAY)));
    const candidates = pool.filter((i) => withinWindow(i, s.bucket, step));
    if (!candidates.length) return null;
    const links = await this.deps.store.links(candidates.map((i) => i.id));
    const byId = new Map((await this.deps.signals.byIds([...new Set(links.map((l) => l.signalId))])).map((x) => [x.id, x]));
    const members = (i: Incident) =>
      links
        .filter((l) => l.incidentId === i.id)
        .map((l) => byId.get(l.signalId))
        .filter((x): x is Signal => x !== undefined && GROUPABLE.has(x.scope));
    const mine = await this.facts(run, s);
    for (const incident of candidates) {
      for (const other of members(incident))
        if (relatedByDefinition(mine, await this.facts(run, other))) return { incident, why: { via: 'definition', with: other.id } };
    }
    // moved together: two metrics whenever their series correlate; any two series (events, the
    // total) that also left their bands together, on a looser correlation (negative when they went
    // opposite ways)
    for (const incident of candidates) {
      for (const other of members(incident)) {
        if (other.scopeKey === s.scopeKey || (s.metricId !== null && other.metricId === s.metricId)) continue;
        const together = startedTogether(s, other);
        if (!together && (s.metricId === null || other.metricId === null)) continue;
        const c = await this.correlation(run, s, other);
        if (!c) continue;
        const r = s.metricId !== null && other.metricId !== null ? c.wide : null;
        if (r !== null && r >= CORRELATION_MIN) return { incident, why: { via: 'correlation', with: other.id, r } };
        if (!together || c.near === null) continue;
        // series that went opposite ways moved together when they are anti-correlated
        if ((s.direction === other.direction ? c.near : -c.near) >= CO_MOVING_MIN_R)
          return { incident, why: { via: 'co_moving', with: other.id, r: c.near } };
      }
    }
    return null;
  }

  private async facts(run: IntakeReads, s: Signal): Promise<SignalFacts> {
    if (s.scope === 'event') {
      const event = eventOfSignal(s);
      return { scopeKey: s.scopeKey, metricId: null, events: event ? [event] : [] };
    }
    const m = await this.metric(run, s.metricId);
    return { scopeKey: s.scopeKey, metricId: s.metricId, events: m ? eventsOfMetric(m.kind, m.definition) : [] };
  }

  /**
   * The correlation of two signals' seasonal differences over the recent window that ends with
   * the later one (`wide`: CORRELATION_BUCKETS), and over its last CO_MOVING_BUCKETS (`near`),
   * from one read; null when either series cannot be read or their intervals differ, an r null
   * with too few points.
   */
  private async correlation(run: IntakeReads, a: Signal, b: Signal): Promise<{ wide: number | null; near: number | null } | null> {
    const [sa, sb] = await Promise.all([this.source(run, a), this.source(run, b)]);
    if (!sa || !sb || sa.interval !== sb.interval) return null;
    const step = INTERVAL_MS[sa.interval];
    const lag = seasonalLag(sa.interval);
    const end = Math.max(a.endBucket, b.endBucket) + step;
    const from = end - (CORRELATION_BUCKETS + lag) * step;
    const read = (x: SeriesSource) => {
      const key = `${x.key}:${from}:${end}`;
      let values = run.series.get(key);
      if (!values) run.series.set(key, (values = x.read(from, end)));
      return values;
    };
    const [va, vb] = await Promise.all([read(sa), read(sb)]);
    const tail = (xs: (number | null)[]) => xs.slice(-(CO_MOVING_BUCKETS + lag));
    return { wide: movedTogether(va, vb, lag).r, near: movedTogether(tail(va), tail(vb), lag).r };
  }

  private async source(run: IntakeReads, s: Signal): Promise<SeriesSource | null> {
    const counts = this.deps.eventCounts;
    if (s.scope === 'event' || s.scope === 'volume') {
      const event = s.scope === 'event' ? eventOfSignal(s) : null;
      if (!counts || (s.scope === 'event' && event === null)) return null;
      return { key: s.scopeKey, interval: '1h', read: (from, to) => counts(run.project, event, from, to) };
    }
    const m = await this.metric(run, s.metricId);
    if (!m) return null;
    return {
      key: `metric:${m.id}`,
      interval: m.interval,
      read: (from, to) => this.deps.catalog.totalSeries(run.project, m, from, to).then((r) => r.values),
    };
  }

  metric(run: IntakeReads, id: number | null): Promise<Metric | null> {
    if (id === null) return Promise.resolve(null);
    let m = run.metrics.get(id);
    if (!m) run.metrics.set(id, (m = this.deps.catalog.get(run.project, id).catch(() => null)));
    return m;
  }
}
