/**
 * What people do to incidents: acknowledge, resolve, reopen, mute, mark a false positive (and
 * undo it), assign, comment. One call acts on one or many incidents all or nothing: every
 * incident is checked first (unknown → 404, a transition that is not allowed → 409), then every
 * change is made in one transaction.
 *
 * A false positive resolves the incident and makes each metric whose anomaly it holds one notch
 * less sensitive (grouping.ts raiseSensitivity; bounded); the timeline keeps each metric's setting
 * before and after. Undoing it puts back the settings nobody has changed since, and leaves the
 * incident resolved, as resolved by hand (reopen it if it still needs work).
 */
import type { MetricService } from '../metrics/service.js';
import type { DetectionSettings } from '../metrics/schemas.js';
import type { Project } from '../projects/service.js';
import type { SignalService } from '../signals/service.js';
import { VigilError, badRequest, notFound } from '../errors.js';
import type { ChangeTx, ChangeWriter } from './changes.js';
import { raiseSensitivity, type SensitivitySetting } from './grouping.js';
import type { IncidentStore } from './store.js';
import type { Incident, IncidentActor } from './types.js';

/** comments are markdown, at most this long */
export const MAX_COMMENT_CHARS = 10_000;
/** a mute lasts at most this long (a year) */
export const MAX_MUTE_MS = 366 * 86_400_000;

export const INCIDENT_ACTIONS = [
  'acknowledge',
  'resolve',
  'reopen',
  'mute',
  'unmute',
  'false-positive',
  'undo-false-positive',
  'assign',
  'comment',
] as const;
export type IncidentActionName = (typeof INCIDENT_ACTIONS)[number];

export type IncidentAction =
  | { action: 'acknowledge' | 'resolve' | 'reopen' | 'unmute' | 'false-positive' | 'undo-false-positive' }
  | { action: 'mute'; until: number }
  | { action: 'assign'; userId: number | null }
  | { action: 'comment'; body: string };

/** One metric's detection sensitivity changed by a false positive (null: inherited from the project). */
export interface SensitivityChange {
  metricId: number;
  metricName: string;
  before: SensitivitySetting | null;
  after: SensitivitySetting;
}

export interface LifecycleDeps {
  store: IncidentStore;
  writer: ChangeWriter;
  catalog: MetricService;
  signals: SignalService;
  now: () => number;
}

const conflict = (message: string, id: number) => new VigilError('VIGIL_ERR_CONFLICT', message, { incidentId: id });

/** Why an action may not be taken on an incident now (409), or null. `now` for mutes. */
export function refusal(i: Incident, a: IncidentAction, now: number): string | null {
  const name = `incident ${i.id}`;
  switch (a.action) {
    case 'acknowledge':
      return i.status === 'open'
        ? null
        : i.status === 'acknowledged'
          ? `${name} is already acknowledged`
          : `${name} is resolved: reopen it first`;
    case 'resolve':
      return i.status === 'resolved' ? `${name} is already resolved` : null;
    case 'reopen':
      if (i.status !== 'resolved') return `${name} is not resolved (it is ${i.status})`;
      return i.resolution === 'false_positive' ? `${name} was marked a false positive: undo that first (undo-false-positive)` : null;
    case 'mute':
      return i.status === 'resolved' ? `${name} is resolved: there is nothing to mute` : null;
    case 'unmute':
      return i.mutedUntil !== null && i.mutedUntil > now ? null : `${name} is not muted`;
    case 'false-positive':
      return i.resolution === 'false_positive' ? `${name} is already marked a false positive` : null;
    case 'undo-false-positive':
      return i.resolution === 'false_positive' ? null : `${name} is not marked a false positive`;
    case 'assign':
    case 'comment':
      return null;
  }
}

/** Input checks that do not depend on the incident (400, naming the field). */
export function checkAction(a: IncidentAction, now: number): void {
  if (a.action === 'mute') {
    if (!Number.isFinite(a.until) || a.until <= now) throw badRequest('until must be a time in the future', { field: 'until' });
    if (a.until > now + MAX_MUTE_MS) throw badRequest('until must be within a year', { field: 'until' });
  }
  if (a.action === 'comment') {
    if (!a.body.trim()) throw badRequest('body must not be empty', { field: 'body' });
    if (a.body.length > MAX_COMMENT_CHARS) throw badRequest(`body must be at most ${MAX_COMMENT_CHARS} characters`, { field: 'body' });
  }
}

export class IncidentLifecycle {
  constructor(private deps: LifecycleDeps) {}

  /** Takes one action on these incidents of a project, all or nothing; returns them as they are after it. */
  async act(project: Project, ids: number[], a: IncidentAction, actor: IncidentActor): Promise<Incident[]> {
    checkAction(a, this.deps.now());
    const unique = [...new Set(ids)];
    // checked before anything changes (and again inside the transaction)
    this.check(unique, await this.deps.store.getMany(project.id, unique), a, this.deps.now());
    // the catalog writes on its own (on SQLite it would wait for the transaction): sensitivity
    // changes are made first, and undone if the incidents' change fails
    const sensitivity =
      a.action === 'false-positive'
        ? await this.raiseThresholds(project, unique)
        : a.action === 'undo-false-positive'
          ? await this.restoreThresholds(project, unique)
          : { changes: new Map<number, SensitivityChange[]>(), undo: async () => undefined };
    try {
      return await this.deps.writer.run(async (c) => {
        const incidents = await c.store.getMany(project.id, unique);
        this.check(unique, incidents, a, c.at);
        if (a.action === 'reopen') await this.checkReopen(c, incidents);
        const out: Incident[] = [];
        for (const i of incidents) out.push(await this.apply(c, i, a, actor, sensitivity.changes.get(i.id) ?? []));
        return out;
      });
    } catch (err) {
      await sensitivity.undo().catch(() => undefined);
      throw err;
    }
  }

  private check(ids: number[], found: Incident[], a: IncidentAction, now: number): void {
    const byId = new Map(found.map((i) => [i.id, i]));
    for (const id of ids) {
      const i = byId.get(id);
      if (!i) throw notFound(`incident ${id}`);
      const why = refusal(i, a, now);
      if (why) throw conflict(why, id);
    }
  }

  /** One open incident per identity: a reopen may not make a second. */
  private async checkReopen(c: ChangeTx, incidents: Incident[]): Promise<void> {
    const seen = new Set<string>();
    for (const i of incidents) {
      const key = JSON.stringify([i.scopeKey, i.breakdown, i.direction]);
      const other = await c.store.openFor(i.projectId, { scopeKey: i.scopeKey, breakdown: i.breakdown, direction: i.direction });
      if ((other && other.id !== i.id) || seen.has(key))
        throw conflict(
          `incident ${i.id} cannot be reopened: incident ${other?.id ?? 'another in this request'} is open for the same scope`,
          i.id,
        );
      seen.add(key);
    }
  }

  private async apply(c: ChangeTx, i: Incident, a: IncidentAction, actor: IncidentActor, changes: SensitivityChange[]): Promise<Incident> {
    const at = c.at;
    const status = async (patch: Partial<Incident>, type: 'acknowledged' | 'resolved' | 'reopened', data: Record<string, unknown> = {}) => {
      const updated = await c.store.update(i.id, { ...patch, updatedAt: at });
      await c.event(i.id, 'status', actor, {
        from: i.status,
        to: updated.status,
        ...(updated.resolution && { resolution: updated.resolution }),
        ...data,
      });
      await c.emit(type, updated, actor);
      return updated;
    };
    switch (a.action) {
      case 'acknowledge':
        return status({ status: 'acknowledged', acknowledgedAt: at }, 'acknowledged');
      case 'resolve':
        return status({ status: 'resolved', resolution: 'manual', resolvedAt: at }, 'resolved');
      case 'reopen':
        return status({ status: 'open', resolution: null, resolvedAt: null, acknowledgedAt: null }, 'reopened');
      case 'mute':
      case 'unmute': {
        const until = a.action === 'mute' ? a.until : null;
        const updated = await c.store.update(i.id, { mutedUntil: until, updatedAt: at });
        await c.event(i.id, 'muted', actor, { from: i.mutedUntil, until });
        return updated;
      }
      case 'assign': {
        if (a.userId === i.assigneeId) return i;
        const updated = await c.store.update(i.id, { assigneeId: a.userId, updatedAt: at });
        await c.event(i.id, 'assigned', actor, { from: i.assigneeId, to: a.userId });
        return updated;
      }
      case 'comment': {
        await c.event(i.id, 'comment', actor, { body: a.body });
        return c.store.update(i.id, { updatedAt: at });
      }
      case 'false-positive': {
        const wasResolved = i.status === 'resolved';
        const updated = await c.store.update(i.id, {
          status: 'resolved',
          resolution: 'false_positive',
          resolvedAt: wasResolved ? i.resolvedAt : at,
          updatedAt: at,
        });
        await c.event(i.id, 'false_positive', actor, { from: i.status, previousResolution: i.resolution, sensitivity: changes });
        if (!wasResolved) await c.emit('resolved', updated, actor);
        return updated;
      }
      case 'undo-false-positive': {
        const updated = await c.store.update(i.id, { resolution: 'manual', updatedAt: at });
        // changes: the settings put back; a metric whose setting someone changed since is left as it is
        await c.event(i.id, 'false_positive_undone', actor, { restored: changes });
        return updated;
      }
    }
  }

  /**
   * One notch less sensitive for every metric whose anomaly these incidents hold (each metric once).
   */
  private async raiseThresholds(project: Project, ids: number[]): Promise<SensitivityPlan> {
    const changes = new Map<number, SensitivityChange[]>();
    const done = new Map<number, SensitivityChange | null>();
    const made: SensitivityChange[] = [];
    const undo = () =>
      this.setSensitivities(
        project,
        made.map((ch) => ({ metricId: ch.metricId, to: ch.before })),
      );
    const defaults = await this.deps.signals.projectDetection(project.id);
    const links = await this.deps.store.links(ids);
    const signals = new Map((await this.deps.signals.byIds([...new Set(links.map((l) => l.signalId))])).map((s) => [s.id, s]));
    try {
      for (const id of ids) {
        const metricIds = new Set<number>();
        for (const l of links) {
          const s = signals.get(l.signalId);
          if (l.incidentId === id && s?.scope === 'metric' && s.metricId !== null) metricIds.add(s.metricId);
        }
        const list: SensitivityChange[] = [];
        for (const metricId of metricIds) {
          if (!done.has(metricId)) {
            const m = await this.deps.catalog.get(project, metricId).catch(() => null);
            const before = (m?.detection.sensitivity ?? null) as SensitivitySetting | null;
            const after = m ? raiseSensitivity(before ?? defaults.sensitivity ?? 'medium') : null;
            let change: SensitivityChange | null = null;
            if (m && after !== null) {
              change = { metricId, metricName: m.name, before, after };
              await this.setSensitivities(project, [{ ...change, to: after }]);
              made.push(change);
            }
            done.set(metricId, change);
          }
          const change = done.get(metricId);
          if (change) list.push(change);
        }
        changes.set(id, list);
      }
    } catch (err) {
      await undo().catch(() => undefined);
      throw err;
    }
    return { changes, undo };
  }

  /**
   * Puts back the settings the last false positive of each incident changed, where they still
   * stand as it left them (someone who changed one since wins).
   */
  private async restoreThresholds(project: Project, ids: number[]): Promise<SensitivityPlan> {
    const changes = new Map<number, SensitivityChange[]>();
    const put: SensitivityChange[] = [];
    for (const id of ids) {
      const marks = await this.deps.store.events(id, 'false_positive');
      const recorded = (marks[marks.length - 1]?.data.sensitivity ?? []) as SensitivityChange[];
      const list: SensitivityChange[] = [];
      for (const ch of recorded) {
        const m = await this.deps.catalog.get(project, ch.metricId).catch(() => null);
        if (!m) continue;
        if (put.some((p) => p.metricId === ch.metricId)) {
          list.push(ch);
          continue;
        }
        if (JSON.stringify(m.detection.sensitivity ?? null) !== JSON.stringify(ch.after)) continue;
        put.push(ch);
        list.push(ch);
      }
      changes.set(id, list);
    }
    await this.setSensitivities(
      project,
      put.map((ch) => ({ ...ch, to: ch.before })),
    );
    return {
      changes,
      undo: () =>
        this.setSensitivities(
          project,
          put.map((ch) => ({ ...ch, to: ch.after })),
        ),
    };
  }

  /** Sets metrics' sensitivity (null: inherit the project's), keeping their other detection settings. */
  private async setSensitivities(project: Project, sets: { metricId: number; to: SensitivitySetting | null }[]): Promise<void> {
    for (const { metricId, to } of sets) {
      const m = await this.deps.catalog.get(project, metricId);
      const { sensitivity: _previous, ...rest } = m.detection;
      const detection: DetectionSettings = to === null ? rest : { ...rest, sensitivity: to };
      await this.deps.catalog.update(project, metricId, { detection });
    }
  }
}

interface SensitivityPlan {
  /** per incident, the changes made for it */
  changes: Map<number, SensitivityChange[]>;
  /** takes them back (the incidents' change failed) */
  undo: () => Promise<void>;
}
