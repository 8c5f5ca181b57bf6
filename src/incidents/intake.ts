/**
 * Signals become incidents. Each signal that may act (not info) either grows the incident it
 * already belongs to, attaches to the open incident of its identity (scope, breakdown,
 * direction), joins an open incident it is related to (grouping.ts), or opens one. A threshold
 * rule's recovery resolves its rule's incident; coverage (a scope scored healthy for N buckets
 * after the last flagged one) resolves the others. A project's signals are taken one call at a
 * time, so two detector runs never open two incidents for one identity in this process.
 */
import type { FastifyBaseLogger } from 'fastify';
import { higherSeverity } from '../detect/severity.js';
import type { MetricService } from '../metrics/service.js';
import type { ProjectService } from '../projects/service.js';
import type { Coverage, SignalService } from '../signals/service.js';
import type { Signal } from '../signals/store.js';
import type { ChangeWriter } from './changes.js';
import {
  coverageMatches,
  healthyFrom,
  identityOf,
  isRecovery,
  opensIncident,
  resolvesOnCoverage,
  rootOrder,
  severityOfSignal,
  stepOf,
  titleOf,
} from './grouping.js';
import { RelatedIncidents, type EventCounts, type Group, type IntakeReads } from './related-incidents.js';
import type { IncidentStore } from './store.js';
import { SYSTEM_ACTOR as SYSTEM, type Incident, type IncidentSignalRole } from './types.js';

const HOUR = 3_600_000;
/** the catch-up looks this far back for signals no incident has seen (a listener that failed) */
export const CATCH_UP_MS = 48 * HOUR;
/** and leaves the newest writes to the listener that is handling them */
const CATCH_UP_GRACE_MS = 2 * 60_000;
/** at most this often (the scheduler ticks every minute) */
const CATCH_UP_EVERY_MS = 5 * 60_000;
/** signals read per catch-up (the rest on the next) */
const CATCH_UP_LIMIT = 5000;

export interface IntakeDeps {
  store: IncidentStore;
  writer: ChangeWriter;
  catalog: MetricService;
  signals: SignalService;
  projects: ProjectService;
  log: FastifyBaseLogger;
  now: () => number;
  autoResolveBuckets: number;
  /** an event's hourly counts (every event's, for null): what volumes are correlated on; without it they are not */
  eventCounts?: EventCounts;
}

/** What one call reads once: the project, what the run covered, and the metrics and series grouping looked at. */
interface Run extends IntakeReads {
  covered: Coverage[];
  batch: Signal[];
}

export class SignalIntake {
  private chains = new Map<number, Promise<void>>();
  private caughtUpUntil: number | null = null;
  private lastCatchUp = -Infinity;
  private related: RelatedIncidents;

  constructor(private deps: IntakeDeps) {
    this.related = new RelatedIncidents(deps);
  }

  onSignals(projectId: number, written: Signal[], covered: Coverage[]): Promise<void> {
    return this.serialize(projectId, () => this.intake(projectId, written, covered));
  }

  /** One call per project at a time, in arrival order. */
  private serialize(projectId: number, fn: () => Promise<void>): Promise<void> {
    const next = (this.chains.get(projectId) ?? Promise.resolve()).then(fn);
    const tail = next.catch(() => undefined);
    this.chains.set(projectId, tail);
    void tail.then(() => {
      if (this.chains.get(projectId) === tail) this.chains.delete(projectId);
    });
    return next;
  }

  private async intake(projectId: number, written: Signal[], covered: Coverage[]): Promise<void> {
    const relevant = written.filter((s) => opensIncident(s) || isRecovery(s));
    if (!relevant.length && !covered.length) return;
    const run: Run = {
      project: await this.deps.projects.getById(projectId),
      covered,
      batch: relevant,
      metrics: new Map(),
      series: new Map(),
    };
    let failed: unknown = null;
    for (const s of [...relevant].sort(rootOrder)) {
      try {
        if (isRecovery(s)) await this.recover(run, s);
        else await this.place(run, s);
      } catch (err) {
        // the others go on; the catch-up tries this one again
        failed ??= err;
        this.deps.log.warn(
          { projectId, signalId: s.id, error: err instanceof Error ? err.message : String(err) },
          'placing a signal in an incident failed',
        );
      }
    }
    if (covered.length) await this.resolveCovered(run);
    if (failed) throw failed;
  }

  // ---- placing a signal ----

  private async place(run: Run, s: Signal, retried = false): Promise<void> {
    const links = await this.deps.store.linksOfSignals([s.id]);
    if (links.length) return this.grow(run, s, links[0].incidentId);
    let same = await this.deps.store.openFor(run.project.id, identityOf(s));
    const step = stepOf(s);
    // the scope was scored healthy for N buckets in between (it flagged a later one): that one is over
    if (
      same &&
      resolvesOnCoverage(s.scopeKey) &&
      step !== null &&
      s.bucket >= healthyFrom(same.lastBucket, step, this.deps.autoResolveBuckets)
    ) {
      await this.resolveRecovered(same, { healthyUntil: s.bucket });
      same = undefined;
    }
    if (same && (await this.attach(run, same, s, 'same_scope'))) return;
    const historical = this.isHistorical(run, s);
    const group = await this.related.find(run, s, historical);
    if (group && (await this.attach(run, group.incident, s, 'related', group.why, historical))) return;
    try {
      await this.open(run, s);
    } catch (err) {
      // another process opened this scope's incident first (one open incident per scope is a
      // unique index): place the signal again, now beside it
      if (retried || !isUniqueViolation(err)) throw err;
      await this.place(run, s, true);
    }
  }

  /** A signal seen again (its episode grew): the incident's last bucket follows, its severity may rise. */
  private async grow(run: Run, s: Signal, incidentId: number): Promise<void> {
    const incident = await this.deps.store.get(incidentId);
    if (!incident || incident.status === 'resolved') return;
    const title = s.id === incident.rootSignalId ? titleOf(s, (await this.related.metric(run, s.metricId))?.name) : incident.title;
    await this.deps.writer.run(async (c) => {
      const cur = await c.store.get(incidentId);
      if (!cur || cur.status === 'resolved') return;
      const severity = higherSeverity(cur.severity, severityOfSignal(s));
      const patch = { lastBucket: Math.max(cur.lastBucket, s.endBucket), severity, title };
      if (patch.lastBucket === cur.lastBucket && severity === cur.severity && title === cur.title) return;
      const updated = await c.store.update(cur.id, { ...patch, updatedAt: c.at });
      if (severity !== cur.severity) {
        await c.event(cur.id, 'severity', SYSTEM, { from: cur.severity, to: severity, signalId: s.id });
        await c.emit('severity', updated, SYSTEM);
      }
    });
  }

  /**
   * Attaches a signal to an open incident (false when it is no longer open). A related signal that
   * started earlier (or together, as an event's volume: the cause) becomes the root.
   */
  private async attach(
    run: Run,
    incident: Incident,
    s: Signal,
    role: IncidentSignalRole,
    why?: Group['why'],
    historical = false,
  ): Promise<boolean> {
    const name = (await this.related.metric(run, s.metricId))?.name;
    return this.deps.writer.run(async (c) => {
      const cur = await c.store.get(incident.id);
      // a past episode may join an incident of the past (both opened already over); nothing else joins a resolved one
      if (!cur || (cur.status === 'resolved' && !(historical && cur.resolvedAt === cur.openedAt))) return false;
      if (!(await c.store.link(cur.id, s.id, role, c.at))) return true;
      const patch: Partial<Incident> = {
        startedBucket: Math.min(cur.startedBucket, s.bucket),
        lastBucket: Math.max(cur.lastBucket, s.endBucket),
        updatedAt: c.at,
      };
      const [root] = cur.rootSignalId === null ? [] : await this.deps.signals.byIds([cur.rootSignalId], c.tx);
      const becomesRoot = role === 'related' && (!root || rootOrder(s, root) < 0);
      if (becomesRoot) {
        Object.assign(patch, { ...identityOf(s), metricId: s.metricId, title: titleOf(s, name), rootSignalId: s.id });
        if (root) await c.store.setRole(cur.id, root.id, 'related');
        await c.store.setRole(cur.id, s.id, 'root');
      }
      const severity = higherSeverity(cur.severity, severityOfSignal(s));
      const updated = await c.store.update(cur.id, { ...patch, severity });
      await c.event(cur.id, 'signal_added', SYSTEM, {
        signalId: s.id,
        role: becomesRoot ? 'root' : role,
        scopeKey: s.scopeKey,
        kind: s.kind,
        ...(why && { via: why.via, relatedTo: why.with, ...(why.r !== undefined && { r: Math.round(why.r * 1000) / 1000 }) }),
        ...(becomesRoot && { previousRoot: root?.id ?? null }),
      });
      await c.emit('signal_added', updated, SYSTEM);
      if (severity !== cur.severity) {
        await c.event(cur.id, 'severity', SYSTEM, { from: cur.severity, to: severity, signalId: s.id });
        await c.emit('severity', updated, SYSTEM);
      }
      return true;
    });
  }

  /** A new incident, rooted at the signal; opened already resolved when its episode is over (history). */
  private async open(run: Run, s: Signal): Promise<void> {
    const historical = this.isHistorical(run, s);
    const title = titleOf(s, (await this.related.metric(run, s.metricId))?.name);
    const severity = severityOfSignal(s);
    await this.deps.writer.run(async (c) => {
      const incident = await c.store.insert(run.project.id, {
        ...identityOf(s),
        metricId: s.metricId,
        title,
        status: historical ? 'resolved' : 'open',
        resolution: historical ? 'recovered' : null,
        severity,
        rootSignalId: s.id,
        assigneeId: null,
        mutedUntil: null,
        startedBucket: s.bucket,
        lastBucket: s.endBucket,
        openedAt: c.at,
        acknowledgedAt: null,
        resolvedAt: historical ? c.at : null,
        createdAt: c.at,
        updatedAt: c.at,
      });
      await c.store.link(incident.id, s.id, 'root', c.at);
      await c.event(incident.id, 'created', SYSTEM, { signalId: s.id, title, severity, ...(historical && { historical: true }) });
      if (historical)
        await c.event(incident.id, 'status', SYSTEM, { from: 'open', to: 'resolved', resolution: 'recovered', historical: true });
      await c.emit('opened', incident, SYSTEM, { historical });
    });
  }

  /** Over already: the run scored the scope healthy well past it, or a recovery of its rule follows in the same run. */
  private isHistorical(run: Run, s: Signal): boolean {
    if (s.scope === 'threshold') return run.batch.some((r) => isRecovery(r) && r.scopeKey === s.scopeKey && r.bucket > s.bucket);
    if (!resolvesOnCoverage(s.scopeKey)) return false;
    return run.covered.some(
      (c) => coverageMatches(c.scopeKey, s.scopeKey) && c.until >= healthyFrom(s.endBucket, c.stepMs, this.deps.autoResolveBuckets),
    );
  }

  // ---- resolving ----

  /** A threshold rule's recovery resolves its open incident (one that breached before it). */
  private async recover(run: Run, s: Signal): Promise<void> {
    const incident = (await this.deps.store.active(run.project.id)).find((i) => i.scopeKey === s.scopeKey && s.bucket > i.lastBucket);
    if (incident) await this.resolveRecovered(incident, { signalId: s.id });
  }

  /** Open incidents whose scope a coverage scored healthy for N buckets after their last flagged one. */
  private async resolveCovered(run: Run): Promise<void> {
    for (const incident of await this.deps.store.active(run.project.id)) {
      if (!resolvesOnCoverage(incident.scopeKey)) continue;
      const c = run.covered.find(
        (x) =>
          coverageMatches(x.scopeKey, incident.scopeKey) &&
          x.until >= healthyFrom(incident.lastBucket, x.stepMs, this.deps.autoResolveBuckets),
      );
      if (c && !(await this.reopenedByHand(incident)))
        await this.resolveRecovered(incident, { healthyUntil: c.until, healthyBuckets: this.deps.autoResolveBuckets });
    }
  }

  /**
   * Reopened by someone after its last signal: it stays open until they resolve it, or a new
   * signal comes and then recovers (a healthy scope would otherwise close it again at once).
   */
  private async reopenedByHand(incident: Incident): Promise<boolean> {
    const timeline = await this.deps.store.events(incident.id);
    for (let i = timeline.length - 1; i >= 0; i--) {
      const e = timeline[i];
      if (e.type === 'signal_added') return false;
      if (e.type === 'status' && e.data.to === 'open') return true;
    }
    return false;
  }

  private async resolveRecovered(incident: Incident, data: Record<string, unknown>): Promise<void> {
    await this.deps.writer.run(async (c) => {
      const cur = await c.store.get(incident.id);
      if (!cur || cur.status === 'resolved') return;
      const updated = await c.store.update(cur.id, { status: 'resolved', resolution: 'recovered', resolvedAt: c.at, updatedAt: c.at });
      await c.event(cur.id, 'status', SYSTEM, { from: cur.status, to: 'resolved', resolution: 'recovered', ...data });
      await c.emit('resolved', updated, SYSTEM);
    });
  }

  // ---- catch-up ----

  /**
   * Signals written in the last 48 h (since the previous catch-up) that no incident has seen, or
   * that grew past their incident: placed as the listener would have. Cheap: one read of the
   * newest writes and one of their links, at most every 5 minutes.
   */
  async catchUp(force = false): Promise<number> {
    const now = this.deps.now();
    if (!force && now - this.lastCatchUp < CATCH_UP_EVERY_MS) return 0;
    this.lastCatchUp = now;
    const from = this.caughtUpUntil ?? now - CATCH_UP_MS;
    const to = now - CATCH_UP_GRACE_MS;
    if (to <= from) return 0;
    const written = await this.deps.signals.writtenBetween(from, to, CATCH_UP_LIMIT);
    this.caughtUpUntil = written.length === CATCH_UP_LIMIT ? written[written.length - 1].updatedAt : to;
    const relevant = written.filter((s) => opensIncident(s) || isRecovery(s));
    const links = await this.deps.store.linksOfSignals(relevant.filter((s) => !isRecovery(s)).map((s) => s.id));
    const linkedTo = new Map(links.map((l) => [l.signalId, l.incidentId]));
    const incidents = new Map(
      (await Promise.all([...new Set(linkedTo.values())].map((id) => this.deps.store.get(id))))
        .filter((i): i is Incident => !!i)
        .map((i) => [i.id, i]),
    );
    const pending = relevant.filter((s) => {
      if (isRecovery(s)) return true;
      const id = linkedTo.get(s.id);
      if (id === undefined) return true;
      const i = incidents.get(id);
      return !!i && i.status !== 'resolved' && i.lastBucket < s.endBucket;
    });
    const byProject = new Map<number, Signal[]>();
    for (const s of pending) byProject.set(s.projectId, [...(byProject.get(s.projectId) ?? []), s]);
    for (const [projectId, signals] of byProject) {
      await this.onSignals(projectId, signals, []).catch((err) =>
        this.deps.log.warn({ projectId, error: err instanceof Error ? err.message : String(err) }, 'incidents catch-up failed'),
      );
    }
    return pending.length;
  }
}

/** SQLite's and PostgreSQL's unique-constraint errors. */
function isUniqueViolation(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === '23505';
}
