/**
 * Incidents: signals grouped into one thing to act on, with a lifecycle and a timeline. The work
 * is split: intake.ts turns signals into incidents, lifecycle.ts carries out what people do,
 * changes.ts runs every change in one transaction with its timeline entry and the alerts hook,
 * grouping.ts holds the pure rules. This class is what other domains and the routes call.
 */
import type { FastifyBaseLogger } from 'fastify';
import { notFound } from '../errors.js';
import type { Dialect } from '../storage/meta/db.js';
import type { MetaDb } from '../meta-db.js';
import type { MetricService } from '../metrics/service.js';
import type { Project, ProjectService } from '../projects/service.js';
import type { Coverage } from '../signals/service.js';
import type { Signal } from '../signals/store.js';
import type { SignalService } from '../signals/service.js';
import { ChangeWriter } from './changes.js';
import { AUTO_RESOLVE_BUCKETS, mean, median } from './grouping.js';
import { SignalIntake } from './intake.js';
import type { EventCounts } from './related-incidents.js';
import { explainSignal, type SignalExplanation } from '../signals/explain.js';
import { IncidentLifecycle, type IncidentAction } from './lifecycle.js';
import { IncidentStore, type IncidentFilter } from './store.js';
import type { Incident, IncidentActor, IncidentChangeHook, IncidentEvent, IncidentSignal } from './types.js';

export interface IncidentServiceDeps {
  db: MetaDb;
  dialect: Dialect;
  catalog: MetricService;
  signals: SignalService;
  projects: ProjectService;
  log: FastifyBaseLogger;
  /** the alerts domain's hook, called inside each change's transaction */
  onChange: IncidentChangeHook;
  now?: () => number;
  /** healthy buckets after the last flagged one that resolve an incident (default 3) */
  autoResolveBuckets?: number;
  /** hourly event counts (the signals domain's event-volume reader), for grouping volumes that moved together */
  eventCounts?: EventCounts;
}

/** noisiest scopes listed by the stats */
const NOISIEST = 20;
/** threshold rules listed by the stats */
const TOP_RULES = 10;
/** the scope key of a threshold rule's signals (src/signals/threshold/threshold-rules.ts) */
const RULE_SCOPE = /^rule:(\d+)$/;

interface ScopeCount {
  scopeKey: string;
  metricId: number | null;
  title: string;
  incidents: number;
  falsePositives: number;
}

export interface IncidentStats {
  days: number;
  total: number;
  byStatus: Record<string, number>;
  bySeverity: Record<string, number>;
  byResolution: Record<string, number>;
  /** scopes (a metric, a threshold rule, an event, ...) by incidents opened, most first */
  noisiest: ScopeCount[];
  /** threshold rules by incidents opened, most first */
  topRules: (ScopeCount & { ruleId: number })[];
  /** milliseconds from opened to acknowledged, over the incidents acknowledged */
  timeToAcknowledge: { count: number; meanMs: number | null; medianMs: number | null };
  /** milliseconds from opened to resolved, over the incidents resolved (not those opened already over) */
  timeToResolve: { count: number; meanMs: number | null; medianMs: number | null };
}

export interface IncidentDetail {
  incident: Incident;
  /** root first, then as they were added; each with why it fired */
  signals: (IncidentSignal & { explanation: SignalExplanation })[];
  /** oldest first */
  timeline: IncidentEvent[];
}

export class IncidentService {
  private store: IncidentStore;
  private intake: SignalIntake;
  private lifecycle: IncidentLifecycle;
  private now: () => number;

  constructor(private deps: IncidentServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.store = new IncidentStore(deps.db);
    const writer = new ChangeWriter({ db: deps.db, signals: deps.signals, onChange: deps.onChange }, this.now);
    this.intake = new SignalIntake({
      store: this.store,
      writer,
      catalog: deps.catalog,
      signals: deps.signals,
      projects: deps.projects,
      log: deps.log,
      now: this.now,
      autoResolveBuckets: deps.autoResolveBuckets ?? AUTO_RESOLVE_BUCKETS,
      eventCounts: deps.eventCounts,
    });
    this.lifecycle = new IncidentLifecycle({ store: this.store, writer, catalog: deps.catalog, signals: deps.signals, now: this.now });
  }

  /** SignalService's listener: new and grown signals, and what the run covered (auto-resolve). */
  onSignals(projectId: number, written: Signal[], covered: Coverage[]): Promise<void> {
    return this.intake.onSignals(projectId, written, covered);
  }

  /**
   * The scheduler's periodic step: catch up on signals not yet grouped (a listener that failed),
   * at most every 5 minutes unless `force`. Returns how many signals it placed.
   */
  tick(opts: { force?: boolean } = {}): Promise<number> {
    return this.intake.catchUp(opts.force);
  }

  // ---- reads ----

  /** An incident of a project (404 otherwise). */
  async get(project: Project, id: number): Promise<Incident> {
    const i = await this.byId(project.id, id);
    if (!i) throw notFound(`incident ${id}`);
    return i;
  }

  /** An incident of a project, or undefined. `db`: read inside a caller's transaction. */
  async byId(projectId: number, id: number, db?: MetaDb): Promise<Incident | undefined> {
    const i = await (db ? new IncidentStore(db) : this.store).get(id);
    return i && i.projectId === projectId ? i : undefined;
  }

  /** An incident's signals with their roles, root first. `db`: read inside a caller's transaction. */
  async signalsOf(incident: Pick<Incident, 'id' | 'rootSignalId'>, db?: MetaDb): Promise<IncidentSignal[]> {
    const links = await (db ? new IncidentStore(db) : this.store).links([incident.id]);
    const byId = new Map(
      (
        await this.deps.signals.byIds(
          links.map((l) => l.signalId),
          db,
        )
      ).map((s) => [s.id, s]),
    );
    const all = links.flatMap((l) => {
      const signal = byId.get(l.signalId);
      return signal ? [{ signal, role: l.role, addedAt: l.addedAt }] : [];
    });
    return [...all.filter((x) => x.signal.id === incident.rootSignalId), ...all.filter((x) => x.signal.id !== incident.rootSignalId)];
  }

  async timeline(incidentId: number): Promise<IncidentEvent[]> {
    return this.store.events(incidentId);
  }

  async detail(project: Project, id: number): Promise<IncidentDetail> {
    const incident = await this.get(project, id);
    const [signals, timeline] = await Promise.all([this.signalsOf(incident), this.timeline(id)]);
    const names = new Map<number, { label: string; unit: string }>();
    for (const id of new Set(signals.flatMap((s) => (s.signal.metricId !== null ? [s.signal.metricId] : [])))) {
      const m = await this.deps.catalog.get(project, id).catch(() => null);
      if (m) names.set(id, { label: m.displayName || m.name, unit: m.unit });
    }
    const explained = signals.map(({ signal, ...rest }) => {
      const m = signal.metricId === null ? undefined : names.get(signal.metricId);
      return {
        signal,
        ...rest,
        explanation: explainSignal(signal, { label: signal.scope === 'metric' ? m?.label : undefined, unit: m?.unit }),
      };
    });
    return { incident, signals: explained, timeline };
  }

  /** A page of a project's incidents, newest first; `nextCursor` continues after its last one. */
  async list(
    project: Project,
    q: Omit<IncidentFilter, 'beforeId'> & { cursor?: string },
  ): Promise<{ incidents: Incident[]; nextCursor: string | null }> {
    const { cursor, ...filter } = q;
    const page = await this.store.list(project.id, {
      ...filter,
      beforeId: cursor === undefined ? undefined : Number(cursor),
      limit: q.limit + 1,
    });
    const incidents = page.slice(0, q.limit);
    return { incidents, nextCursor: page.length > q.limit ? String(incidents[incidents.length - 1].id) : null };
  }

  /**
   * Incidents with their signals (root first), opened in [fromMs, toMs) — or, with `by: 'started'`,
   * whose first bucket falls there (a backfill opens the history's incidents at once) — oldest first.
   * For the alerts domain's digests and simulator.
   */
  async openedBetween(
    project: Project,
    fromMs: number,
    toMs: number,
    by: 'opened' | 'started' = 'opened',
  ): Promise<{ incident: Incident; signals: Signal[] }[]> {
    const column = by === 'opened' ? 'opened_at' : 'started_bucket';
    const ids = await this.deps.db
      .selectFrom('incidents')
      .select('id')
      .where('project_id', '=', project.id)
      .where(column, '>=', fromMs)
      .where(column, '<', toMs)
      .orderBy(column)
      .orderBy('id')
      .execute();
    const incidents = await this.store.getMany(
      project.id,
      ids.map((r) => Number(r.id)),
    );
    const order = new Map(ids.map((r, i) => [Number(r.id), i]));
    incidents.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
    return Promise.all(incidents.map(async (incident) => ({ incident, signals: (await this.signalsOf(incident)).map((x) => x.signal) })));
  }

  // ---- changes ----

  /** One action on these incidents, all or nothing (404 for an unknown id, 409 for a transition not allowed). */
  act(project: Project, ids: number[], action: IncidentAction, actor: IncidentActor): Promise<Incident[]> {
    return this.lifecycle.act(project, ids, action, actor);
  }

  /** One action on one incident. */
  async actOn(project: Project, id: number, action: IncidentAction, actor: IncidentActor): Promise<Incident> {
    return (await this.act(project, [id], action, actor))[0];
  }

  /**
   * The alerts domain's "alert sent" on an incident's timeline (`data`: delivery id, rule,
   * destination, ...; `data.at` is used as the time when it is a number). `db`: write inside a
   * caller's transaction.
   */
  async recordAlertSent(incidentId: number, data: Record<string, unknown>, db?: MetaDb): Promise<void> {
    const at = typeof data.at === 'number' ? data.at : this.now();
    await (db ? new IncidentStore(db) : this.store).addEvent(incidentId, 'alert_sent', null, data, at);
  }

  // ---- stats ----

  /** Counts per status, severity and resolution, the noisiest scopes, and times to acknowledge and resolve, over the last `days`. */
  async stats(project: Project, days: number): Promise<IncidentStats> {
    const incidents = await this.store.openedSince(project.id, this.now() - days * 86_400_000);
    const count = (key: (i: Incident) => string | null) => {
      const out: Record<string, number> = {};
      for (const i of incidents) {
        const k = key(i);
        if (k !== null) out[k] = (out[k] ?? 0) + 1;
      }
      return out;
    };
    const scopes = new Map<string, ScopeCount>();
    for (const i of incidents) {
      const s = scopes.get(i.scopeKey) ?? { scopeKey: i.scopeKey, metricId: i.metricId, title: i.title, incidents: 0, falsePositives: 0 };
      s.incidents++;
      if (i.resolution === 'false_positive') s.falsePositives++;
      s.title = i.title;
      scopes.set(i.scopeKey, s);
    }
    const ack = incidents.filter((i) => i.acknowledgedAt !== null).map((i) => i.acknowledgedAt! - i.openedAt);
    // an incident opened already over (history) took no time to resolve: left out
    const resolve = incidents.filter((i) => i.resolvedAt !== null && i.resolvedAt > i.openedAt).map((i) => i.resolvedAt! - i.openedAt);
    const summary = (xs: number[]) => ({ count: xs.length, meanMs: mean(xs), medianMs: median(xs) });
    const ranked = [...scopes.values()].sort((a, b) => b.incidents - a.incidents || a.scopeKey.localeCompare(b.scopeKey));
    return {
      days,
      total: incidents.length,
      byStatus: count((i) => i.status),
      bySeverity: count((i) => i.severity),
      byResolution: count((i) => i.resolution),
      noisiest: ranked.slice(0, NOISIEST),
      topRules: ranked
        .flatMap((s) => {
          const rule = RULE_SCOPE.exec(s.scopeKey);
          return rule ? [{ ...s, ruleId: Number(rule[1]) }] : [];
        })
        .slice(0, TOP_RULES),
      timeToAcknowledge: summary(ack),
      timeToResolve: summary(resolve),
    };
  }
}
