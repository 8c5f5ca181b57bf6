/**
 * Alerting: rules that pick incidents, destinations that receive them, and deliveries (the outbox
 * the job worker sends from).
 *
 * Policy, in one place:
 * - `opened` alerts go to every matching, enabled, unmuted rule's destinations, unless the incident
 *   is muted, historical (opened already over, from a backfill), or the rule's scope is in cooldown
 *   (a sent opened/repeat alert of that rule for the same incident scope within cooldownMinutes).
 * - `signal_added` and `severity` send nothing: the incident's alert already went, and a growing
 *   incident would otherwise page once per bucket. Repeats carry the current severity.
 * - `acknowledged` withdraws repeats not yet tried; repeats are only made for open incidents.
 * - `resolved` goes to the destinations last told the incident is open (opened or reopened, not
 *   resolved since), when the rule has notifyOnResolve — and to PagerDuty always, so its incident
 *   closes too.
 * - `reopened` (someone reopened a resolved incident) is a `reopened` alert ("Incident reopened",
 *   never a second "Incident opened") to the destinations that were told it opened, unless the rule
 *   is disabled or muted, the incident is muted, or the rule's scope is in cooldown: a reopen
 *   within cooldownMinutes of the last opened/reopened/repeat alert sends nothing (a flapping
 *   incident pages once; its page shows the reopen), and then neither does its next resolve.
 *   PagerDuty takes a reopen as a new trigger of the same dedup key; Jira and Linear keep the issue
 *   the opened alert made and send nothing.
 * - digest rules send nothing per incident: one message per cron period instead (digest.ts).
 *
 * Idempotency keys (unique in alert_deliveries; a replayed change inserts nothing):
 *   inc:<incident>:opened:<rule>:<dest>             once per incident
 *   inc:<incident>:repeat:<rule>:<dest>:<n>         n counted from the first send
 *   inc:<incident>:resolved:<rule>:<dest>:<resolvedAt>
 *   inc:<incident>:reopened:<rule>:<dest>:<reopenedAt>
 *   digest:<rule>:<dest>:<period end>
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.js';
import type { Dialect, MetaDb } from '../storage/meta/db.js';
import { JobQueue } from '../jobs/queue.js';
import { TransientJobError, type JobHandler } from '../jobs/worker.js';
import { ProjectService, type Project } from '../projects/service.js';
import type { MetricService } from '../metrics/service.js';
import { MetricStore } from '../metrics/store.js';
import type { IncidentService } from '../incidents/service.js';
import type { Incident, IncidentChange } from '../incidents/types.js';
import type { Signal } from '../signals/store.js';
import { VigilError, badRequest, notFound } from '../errors.js';
import { createOutboundHttp, type OutboundHttp } from './outbound.js';
import { responseExcerpt } from './response-excerpt.js';
import { sendTo } from './destinations/index.js';
import type { Destination, SendResult } from './destinations/types.js';
import type { AlertMessage } from './message.js';
import { DeliveryStore, type Delivery, type DeliveryFilter, type NewDelivery } from './deliveries.js';
import { DestinationStore, type DestinationInput, type DestinationView } from './destinations-store.js';
import { RuleStore, type AlertRule } from './rule-store.js';
import { inCooldown, matchRule, parseRuleSpec, repeatDue, scopeKindOf, type AlertRuleSpec, type MatchTarget } from './rules.js';
import { asRepeat, digestMessage, incidentMessage, testMessage, type ComposeContext, type MetricInfo } from './compose.js';
import { digestEntries, duePeriod, type DigestCandidate } from './digest.js';
import { simulateRule, type SimulationResult } from './simulate.js';
import { AppLinks } from '../http/app-links.js';

export const JOB_DELIVER = 'alerts.deliver';
/** Attempts of one delivery before it is failed (the issue's figure). */
export const MAX_DELIVERY_ATTEMPTS = 5;
/** Retry delays double from 30 s up to 10 min (with jitter ×0.5–1.5): 5 attempts span about 7 minutes of outage. */
export const RETRY_BASE_MS = 30_000;
const RETRY_MAX_MS = 10 * 60_000;
/** A job's own attempts are for a worker that died mid-send (its lease expires); delivery attempts are counted apart. */
const JOB_ATTEMPTS = 3;
/** A resolve waits while its opened alert is still being tried, so a receiver never gets them out of order. */
const RESOLVE_WAIT_MS = 30_000;
/**
 * A pending delivery this long past its attempt time, with no job queued or running for it, lost
 * its job (dead-lettered after workers died mid-send three times): the scheduler queues it again.
 */
const ORPHAN_AFTER_MS = 15 * 60_000;
const ORPHAN_BATCH = 100;
/** Open incidents a repeat pass looks at, per project (the newest). */
const MAX_OPEN_INCIDENTS = 500;
/** Incidents that started this long before a simulation's window may still have opened in it. */
const SIMULATE_MARGIN_MS = 86_400_000;
/** Repeats look back this far for the alerts they repeat. */
const REPEAT_LOOKBACK_MS = 30 * 86_400_000;

export interface AlertServiceDeps {
  db: MetaDb;
  dialect: Dialect;
  config: Config;
  jobs: JobQueue;
  projects: ProjectService;
  catalog: MetricService;
  /** set once both services exist (each needs the other) */
  incidents: () => IncidentService;
  log: FastifyBaseLogger;
  now?: () => number;
  /** [0, 1): the retry jitter */
  random?: () => number;
  /** outbound HTTP for destinations (tests may pass their own); default: the guarded client per config */
  http?: OutboundHttp;
  /** where alerts link to; default: VIGIL_PUBLIC_URL, else the configured host and port */
  links?: AppLinks;
}

export interface DeliverPayload {
  deliveryId: number;
  /** the attempt after which a retryable failure is final (a manual retry extends it) */
  maxAttempts: number;
}

export interface TestResult {
  ok: boolean;
  status: number | null;
  body: string;
  error: string | null;
}

export interface RuleInput {
  name?: unknown;
  enabled?: unknown;
  mutedUntil?: unknown;
  [field: string]: unknown;
}

/** Exponential backoff with jitter, for attempt n (1-based) that just failed. */
export function retryDelayMs(attempt: number, random: () => number): number {
  const base = Math.min(RETRY_BASE_MS * 2 ** Math.max(0, attempt - 1), RETRY_MAX_MS);
  return Math.round(base * (0.5 + random()));
}

/** Cooldowns and repeats are per incident identity: its scope, breakdown and direction. */
export const cooldownScope = (i: Pick<Incident, 'scopeKey' | 'breakdown' | 'direction'>) =>
  `${i.scopeKey}|${i.breakdown}|${i.direction ?? ''}`;

const iso = (ms: number) => new Date(ms).toISOString();

export class AlertService {
  private now: () => number;
  private random: () => number;
  private http: OutboundHttp;
  private rules: RuleStore;
  private destinations: DestinationStore;
  private deliveries: DeliveryStore;
  private links: AppLinks;

  constructor(private deps: AlertServiceDeps) {
    this.links = deps.links ?? new AppLinks(deps.config);
    this.now = deps.now ?? Date.now;
    this.random = deps.random ?? Math.random;
    this.http =
      deps.http ?? createOutboundHttp({ allowPrivate: deps.config.alertsAllowPrivateUrls, allowHttp: deps.config.alertsAllowHttp });
    this.rules = new RuleStore(deps.db);
    this.destinations = new DestinationStore(deps.db, deps.config.secretKey, {
      allowPrivate: deps.config.alertsAllowPrivateUrls,
      allowHttp: deps.config.alertsAllowHttp,
    });
    this.deliveries = new DeliveryStore(deps.db);
  }

  // ---- rules ----

  listRules(project: Project): Promise<AlertRule[]> {
    return this.rules.list(project.id);
  }

  async getRule(project: Project, id: number): Promise<AlertRule> {
    const r = await this.rules.get(project.id, id);
    if (!r) throw notFound(`alert rule ${id}`);
    return r;
  }

  /** The rule's fields from a request, on top of `base` for an update; 400s name the field. */
  private async parseRule(project: Project, input: RuleInput, base?: AlertRule) {
    const name = input.name ?? base?.name;
    if (typeof name !== 'string' || name.trim() === '' || name.length > 200)
      throw badRequest('name must be 1-200 characters', { field: 'name' });
    const enabled = input.enabled ?? base?.enabled ?? true;
    if (typeof enabled !== 'boolean') throw badRequest('enabled must be true or false', { field: 'enabled' });
    let mutedUntil = base?.mutedUntil ?? null;
    if (input.mutedUntil !== undefined) {
      const t = input.mutedUntil === null ? null : typeof input.mutedUntil === 'string' ? Date.parse(input.mutedUntil) : NaN;
      if (t !== null && !Number.isFinite(t)) throw badRequest('mutedUntil must be an ISO 8601 time, or null', { field: 'mutedUntil' });
      mutedUntil = t;
    }
    const { name: _name, enabled: _enabled, mutedUntil: _muted, ...specInput } = input;
    const spec = parseRuleSpec(specInput, project.timeZone, base?.spec);
    const known = await this.destinations.kinds(project.id, spec.destinationIds);
    const missing = spec.destinationIds.filter((id) => !known.has(id));
    if (missing.length)
      throw badRequest(`destinationIds: no destination ${missing.join(', ')} in this project`, { field: 'destinationIds' });
    const other = await this.rules.byName(project.id, name.trim());
    if (other && other.id !== base?.id)
      throw new VigilError('VIGIL_ERR_CONFLICT', `an alert rule named "${name.trim()}" already exists in this project`, { field: 'name' });
    return { name: name.trim(), enabled, mutedUntil, spec };
  }

  async createRule(project: Project, input: RuleInput): Promise<AlertRule> {
    return this.rules.insert(project.id, await this.parseRule(project, input), this.now());
  }

  async updateRule(project: Project, id: number, input: RuleInput): Promise<AlertRule> {
    const base = await this.getRule(project, id);
    const fields = await this.parseRule(project, input, base);
    return this.rules.update(id, fields, this.now(), fields.spec.digest?.cron !== base.spec.digest?.cron);
  }

  async removeRule(project: Project, id: number): Promise<AlertRule> {
    const r = await this.getRule(project, id);
    await this.rules.delete(id);
    return r;
  }

  // ---- destinations ----

  listDestinations(project: Project): Promise<DestinationView[]> {
    return this.destinations.list(project.id);
  }

  getDestination(project: Project, id: number): Promise<DestinationView> {
    return this.destinations.get(project.id, id);
  }

  createDestination(project: Project, input: DestinationInput): Promise<DestinationView> {
    return this.destinations.create(project.id, input, this.now());
  }

  updateDestination(project: Project, id: number, input: DestinationInput): Promise<DestinationView> {
    return this.destinations.update(project.id, id, input, this.now());
  }

  /** 409 while rules send to it (their deliveries keep their history either way). */
  async removeDestination(project: Project, id: number): Promise<DestinationView> {
    await this.destinations.get(project.id, id);
    const users = await this.rules.using(project.id, id);
    if (users.length) {
      throw new VigilError(
        'VIGIL_ERR_CONFLICT',
        `alert rules ${users.map((r) => `"${r.name}"`).join(', ')} send to this destination: remove it from them first`,
        { rules: users.map((r) => r.id) },
      );
    }
    return this.destinations.remove(project.id, id);
  }

  /** "Send test": a test message to a saved destination (id) or to unsaved settings, now; the receiver's answer. */
  async testDestination(project: Project, target: { id: number } | { input: DestinationInput }): Promise<TestResult> {
    let destination: Destination;
    if ('id' in target) {
      await this.destinations.get(project.id, target.id);
      try {
        destination = (await this.destinations.forSend(project.id, target.id))!;
      } catch (err) {
        return { ok: false, status: null, body: '', error: err instanceof Error ? err.message : String(err) };
      }
    } else {
      const d = await this.destinations.check(target.input);
      destination = { id: 0, projectId: project.id, ...d };
    }
    const now = this.now();
    const result = await this.send(
      destination,
      testMessage({ id: project.id, slug: project.slug, name: project.name }, now),
      `test:${project.id}:${destination.id}:${now}`,
    );
    // an answer is shown as its status and a short excerpt; errors without one are Vigil's own words
    const error = result.error === undefined ? null : result.status === null ? result.error : responseExcerpt(result.error);
    return { ok: result.ok, status: result.status, body: responseExcerpt(result.body), error };
  }

  // ---- deliveries ----

  listDeliveries(project: Project, filter: DeliveryFilter): Promise<Delivery[]> {
    return this.deliveries.list(project.id, filter);
  }

  async getDelivery(project: Project, id: number): Promise<Delivery> {
    const d = await this.deliveries.get(id, project.id);
    if (!d) throw notFound(`alert delivery ${id}`);
    return d;
  }

  /** A failed delivery tried again: pending, with another round of attempts; 409 unless failed. */
  async retryDelivery(project: Project, id: number): Promise<Delivery> {
    const d = await this.getDelivery(project, id);
    if (d.status !== 'failed')
      throw new VigilError('VIGIL_ERR_CONFLICT', `only a failed delivery can be retried; this one is ${d.status}`, { status: d.status });
    await this.deps.db.transaction().execute(async (tx) => {
      if (!(await new DeliveryStore(tx).reopen(id, this.now())))
        throw new VigilError('VIGIL_ERR_CONFLICT', 'the delivery changed meanwhile; reload it', { status: d.status });
      await this.enqueueDeliver(tx, d.projectId, { deliveryId: id, maxAttempts: d.attempts + MAX_DELIVERY_ATTEMPTS }, this.now());
    });
    return this.getDelivery(project, id);
  }

  // ---- simulation ----

  /** What a rule (saved, or a draft body) would have sent over the last `days` days. Sends nothing. */
  async simulate(project: Project, rule: { id: number } | { input: RuleInput }, days: number): Promise<SimulationResult> {
    if (!Number.isInteger(days) || days < 1 || days > 90) throw badRequest('days: must be a whole number from 1 to 90', { field: 'days' });
    let spec: AlertRuleSpec;
    if ('id' in rule) spec = (await this.getRule(project, rule.id)).spec;
    else {
      const { name: _name, enabled: _enabled, mutedUntil: _muted, ...specInput } = rule.input;
      // a draft need not have destinations yet
      spec = parseRuleSpec({ destinationIds: [1], ...specInput }, project.timeZone);
    }
    const to = this.now();
    const from = to - days * 86_400_000;
    // by first bucket: a backfill opens the history's incidents all at once (simulate.ts places them)
    const opened = await this.deps.incidents().openedBetween(project, from - SIMULATE_MARGIN_MS, to, 'started');
    const metrics = await this.metricInfo(
      this.deps.db,
      project.id,
      opened.flatMap((o) => o.signals),
    );
    const candidates = opened.map(({ incident, signals }) => ({ incident, target: matchTargetOf(incident, signals, metrics) }));
    return simulateRule(spec, candidates, { from, to, timeZone: project.timeZone });
  }

  // ---- incident changes (inside the change's transaction) ----

  /** IncidentService's change hook: runs inside the change's transaction; every read and write goes through `tx`. */
  async onIncidentChange(tx: MetaDb, change: IncidentChange): Promise<void> {
    const { incident } = change;
    switch (change.type) {
      case 'opened':
        if (change.historical) return;
        return this.onOpened(tx, change);
      case 'acknowledged':
        await new DeliveryStore(tx).withdrawRepeats(incident.id);
        return;
      case 'resolved':
        await new DeliveryStore(tx).withdrawRepeats(incident.id);
        return this.onResolved(tx, change);
      case 'reopened':
        return this.onReopened(tx, change);
      case 'signal_added':
      case 'severity':
        return;
    }
  }

  private async onOpened(tx: MetaDb, change: IncidentChange): Promise<void> {
    const { incident, signals } = change;
    const now = change.at;
    if (incident.mutedUntil !== null && incident.mutedUntil > now) return;
    const rules = (await new RuleStore(tx).list(incident.projectId)).filter((r) => isActive(r, now) && !r.spec.digest);
    if (rules.length === 0) return;
    const metrics = await this.metricInfo(tx, incident.projectId, signals);
    const target = matchTargetOf(incident, signals, metrics);
    const deliveries = new DeliveryStore(tx);
    const scope = cooldownScope(incident);
    const compose = await this.composeContext(tx, incident.projectId, metrics, now);
    for (const rule of rules) {
      if (!matchRule(rule.spec.filters, target).matches) continue;
      if (inCooldown(rule.spec, await deliveries.lastSentAt(rule.id, scope), now)) continue;
      const message = incidentMessage('opened', incident, signals, { ...compose, rule: { id: rule.id, name: rule.name } });
      const kinds = await new DestinationStore(tx, this.deps.config.secretKey).kinds(incident.projectId, rule.spec.destinationIds);
      for (const destinationId of rule.spec.destinationIds.filter((id) => kinds.has(id))) {
        await this.queue(
          tx,
          {
            projectId: incident.projectId,
            ruleId: rule.id,
            destinationId,
            incidentId: incident.id,
            scopeKey: scope,
            event: 'opened',
            idempotencyKey: `inc:${incident.id}:opened:${rule.id}:${destinationId}`,
            message,
          },
          now,
        );
      }
    }
  }

  private async onResolved(tx: MetaDb, change: IncidentChange): Promise<void> {
    const { incident, signals } = change;
    const now = change.at;
    const told = toldOpen(await new DeliveryStore(tx).ofIncident(incident.id));
    if (told.length === 0) return;
    const rules = new Map((await new RuleStore(tx).list(incident.projectId)).map((r) => [r.id, r]));
    const kinds = await new DestinationStore(tx, this.deps.config.secretKey).kinds(
      incident.projectId,
      told.map((d) => d.destinationId!),
    );
    const metrics = await this.metricInfo(tx, incident.projectId, signals);
    const compose = await this.composeContext(tx, incident.projectId, metrics, now);
    for (const d of told) {
      const rule = rules.get(d.ruleId!);
      const kind = kinds.get(d.destinationId!);
      if (!rule || !kind) continue;
      // PagerDuty keeps its incident open until told; the others hear it when the rule asks for it
      if (kind !== 'pagerduty' && !(rule.spec.notifyOnResolve && isActive(rule, now))) continue;
      const message = incidentMessage('resolved', incident, signals, { ...compose, rule: { id: rule.id, name: rule.name } });
      await this.queue(
        tx,
        {
          ...keyParts(d),
          event: 'resolved',
          idempotencyKey: `inc:${incident.id}:resolved:${rule.id}:${d.destinationId}:${incident.resolvedAt ?? now}`,
          message,
        },
        now,
      );
    }
  }

  private async onReopened(tx: MetaDb, change: IncidentChange): Promise<void> {
    const { incident, signals } = change;
    const now = change.at;
    if (incident.mutedUntil !== null && incident.mutedUntil > now) return;
    const deliveries = new DeliveryStore(tx);
    const told = (await deliveries.ofIncident(incident.id)).filter(
      (d) => d.event === 'opened' && d.status !== 'failed' && d.ruleId !== null && d.destinationId !== null,
    );
    if (told.length === 0) return;
    const rules = new Map((await new RuleStore(tx).list(incident.projectId)).map((r) => [r.id, r]));
    const metrics = await this.metricInfo(tx, incident.projectId, signals);
    const compose = await this.composeContext(tx, incident.projectId, metrics, now);
    const scope = cooldownScope(incident);
    for (const d of told) {
      const rule = rules.get(d.ruleId!);
      if (!rule || !isActive(rule, now)) continue;
      if (inCooldown(rule.spec, await deliveries.lastSentAt(rule.id, scope), now)) continue;
      const message = incidentMessage('reopened', incident, signals, { ...compose, rule: { id: rule.id, name: rule.name } });
      await this.queue(
        tx,
        { ...keyParts(d), event: 'reopened', idempotencyKey: `inc:${incident.id}:reopened:${rule.id}:${d.destinationId}:${now}`, message },
        now,
      );
    }
  }

  // ---- the scheduler's step ----

  /** Repeats and digests that are due. Returns how many deliveries it queued. */
  async scheduleDue(): Promise<number> {
    const now = this.now();
    const rules = (await this.rules.enabled()).filter((r) => isActive(r, now));
    let queued = 0;
    for (const rule of rules) {
      try {
        if (rule.spec.digest) queued += await this.queueDigest(rule, now);
        else if (rule.spec.repeatEveryMinutes !== null) queued += await this.queueRepeats(rule, rule.spec.repeatEveryMinutes, now);
      } catch (err) {
        this.deps.log.error({ err, ruleId: rule.id }, 'scheduling alert repeats or digest failed');
      }
    }
    return queued + (await this.requeueOrphans(now));
  }

  /** Pending deliveries whose job is gone get a job again, so nothing stays pending for good. */
  private async requeueOrphans(now: number): Promise<number> {
    const overdue = await this.deliveries.overdue(now - ORPHAN_AFTER_MS, ORPHAN_BATCH);
    if (!overdue.length) return 0;
    const jobs = new JobQueue(this.deps.db, this.deps.dialect, this.now);
    const live = new Set<number>();
    for (const status of ['queued', 'running']) {
      for (const job of await jobs.list({ kind: JOB_DELIVER, status, limit: 1_000 })) live.add((job.payload as DeliverPayload).deliveryId);
    }
    let queued = 0;
    for (const d of overdue) {
      if (live.has(d.id)) continue;
      this.deps.log.warn({ deliveryId: d.id, attempts: d.attempts }, 'a pending alert delivery had lost its job: queued again');
      await this.enqueueDeliver(
        this.deps.db,
        d.projectId,
        { deliveryId: d.id, maxAttempts: Math.max(d.attempts + 1, MAX_DELIVERY_ATTEMPTS) },
        now,
      );
      queued++;
    }
    return queued;
  }

  private async queueRepeats(rule: AlertRule, everyMinutes: number, now: number): Promise<number> {
    // only open (not acknowledged, not resolved) incidents repeat: read them first, then only their alerts
    const project = await this.deps.projects.getById(rule.projectId);
    const open = new Map(
      (await this.deps.incidents().list(project, { status: 'open', limit: MAX_OPEN_INCIDENTS })).incidents.map((i) => [i.id, i]),
    );
    if (open.size === 0) return 0;
    const rows = await this.deliveries.recentOfRule(rule.id, [...open.keys()], now - REPEAT_LOOKBACK_MS);
    const byPair = new Map<string, Delivery[]>();
    for (const d of rows) {
      if (d.incidentId === null || d.destinationId === null) continue;
      const k = `${d.incidentId}:${d.destinationId}`;
      byPair.set(k, [...(byPair.get(k) ?? []), d]);
    }
    let queued = 0;
    for (const list of byPair.values()) {
      // one in flight at a time; and only what got through is repeated
      if (list.some((d) => d.status === 'pending')) continue;
      const sent = list.filter((d) => d.status === 'sent' && d.sentAt !== null);
      if (sent.length === 0) continue;
      const first = Math.min(...sent.map((d) => d.sentAt!));
      const last = Math.max(...sent.map((d) => d.sentAt!));
      const n = repeatDue(everyMinutes, first, last, now);
      if (n === 0) continue;
      const { incidentId, destinationId } = sent[0];
      const incident = open.get(incidentId!);
      if (!incident || (incident.mutedUntil !== null && incident.mutedUntil > now)) continue;
      const latest = sent[sent.length - 1];
      const message = asRepeat(latest.message, incident, n, now);
      await this.deps.db.transaction().execute(async (tx) => {
        const id = await this.queue(
          tx,
          { ...keyParts(latest), event: 'repeat', idempotencyKey: `inc:${incident.id}:repeat:${rule.id}:${destinationId}:${n}`, message },
          now,
        );
        if (id !== undefined) queued++;
      });
    }
    return queued;
  }

  private async queueDigest(rule: AlertRule, now: number): Promise<number> {
    const project = await this.deps.projects.getById(rule.projectId);
    const period = duePeriod(rule, project.timeZone, now);
    if (!period) return 0;
    const opened = await this.deps.incidents().openedBetween(project, period.from, period.to);
    const metrics = await this.metricInfo(
      this.deps.db,
      project.id,
      opened.flatMap((o) => o.signals),
    );
    const entries = digestEntries(
      rule.spec,
      opened.map((o) => ({ ...o, target: matchTargetOf(o.incident, o.signals, metrics) })),
      period,
      now,
    );
    const compose = await this.composeContext(this.deps.db, project.id, metrics, now);
    return this.deps.db.transaction().execute(async (tx) => {
      // another scheduler that got here first has moved the period on
      if (!(await new RuleStore(tx).advanceDigest(rule.id, rule.digestUntil, period.to))) return 0;
      if (entries.length === 0) return 0;
      const root = (e: DigestCandidate) => e.signals.find((s) => s.id === e.incident.rootSignalId) ?? e.signals[0];
      const message = digestMessage(
        entries.map((e) => ({ incident: e.incident, root: root(e) })),
        period,
        { ...compose, rule: { id: rule.id, name: rule.name } },
      );
      const kinds = await new DestinationStore(tx, this.deps.config.secretKey).kinds(project.id, rule.spec.destinationIds);
      let queued = 0;
      for (const destinationId of rule.spec.destinationIds.filter((id) => kinds.has(id))) {
        const id = await this.queue(
          tx,
          {
            projectId: project.id,
            ruleId: rule.id,
            destinationId,
            incidentId: null,
            scopeKey: null,
            event: 'digest',
            idempotencyKey: `digest:${rule.id}:${destinationId}:${period.to}`,
            message,
          },
          now,
        );
        if (id !== undefined) queued++;
      }
      return queued;
    });
  }

  // ---- the worker ----

  jobHandlers(): Record<string, JobHandler> {
    return { [JOB_DELIVER]: (job) => this.deliver(job.payload as DeliverPayload) };
  }

  /**
   * One attempt of one delivery. A retryable failure with attempts left queues the next attempt as
   * a new job at now + backoff·jitter, in the transaction that records this one; anything else ends
   * the delivery. A sent (or failed) delivery is never sent again by the worker.
   */
  async deliver(payload: DeliverPayload): Promise<Record<string, unknown>> {
    const d = await this.deliveries.get(payload.deliveryId);
    if (d?.status !== 'pending') return { skipped: d ? `delivery is ${d.status}` : 'delivery not found' };
    const now = this.now();
    if (d.event === 'resolved' && (await this.openedStillPending(d))) {
      await this.enqueueDeliver(this.deps.db, d.projectId, payload, now + RESOLVE_WAIT_MS);
      return { postponed: 'its opened alert is still being tried' };
    }
    let destination: Destination | undefined;
    try {
      destination = d.destinationId === null ? undefined : await this.destinations.forSend(d.projectId, d.destinationId);
    } catch (err) {
      await this.deliveries.markFailed(d.id, { status: null, body: '', error: err instanceof Error ? err.message : String(err) }, now);
      return { failed: 'secrets unreadable' };
    }
    if (!destination) {
      await this.deliveries.markFailed(d.id, { status: null, body: '', error: 'the destination was deleted' }, now);
      return { failed: 'destination deleted' };
    }
    if (!(await this.deliveries.beginAttempt(d, now))) return { skipped: 'another worker has this attempt' };
    const attempt = d.attempts + 1;
    let result: SendResult;
    try {
      result = await this.send(destination, d.message, d.idempotencyKey);
    } catch (err) {
      throw new TransientJobError(`sending delivery ${d.id} failed unexpectedly: ${err instanceof Error ? err.message : String(err)}`, {
        cause: err,
      });
    }
    const done = this.now();
    const outcome = {
      status: result.status,
      body: result.skipped ? '(nothing to send for this event)' : result.body,
      error: result.error,
      externalId: result.externalId,
    };
    if (result.ok) {
      await this.deliveries.markSent(d.id, outcome, done);
      if (d.incidentId !== null) await this.recordSent(d, destination, result, done);
      return { sent: true, attempt };
    }
    if (result.retryable && attempt < payload.maxAttempts) {
      const nextAt = done + retryDelayMs(attempt, this.random);
      await this.deps.db.transaction().execute(async (tx) => {
        if (await new DeliveryStore(tx).markRetry(d.id, outcome, nextAt, done)) await this.enqueueDeliver(tx, d.projectId, payload, nextAt);
      });
      return { retryAt: iso(nextAt), attempt, error: result.error ?? null };
    }
    await this.deliveries.markFailed(d.id, outcome, done);
    return { failed: result.error ?? 'failed', attempt };
  }

  private async send(destination: Destination, message: AlertMessage, idempotencyKey: string): Promise<SendResult> {
    const allowPrivate = this.deps.config.alertsAllowPrivateUrls;
    return sendTo(destination, message, { http: this.http, idempotencyKey, allowPrivate, now: this.now });
  }

  private async openedStillPending(d: Delivery): Promise<boolean> {
    if (d.incidentId === null) return false;
    return (await this.deliveries.ofIncident(d.incidentId)).some(
      (o) =>
        (o.event === 'opened' || o.event === 'reopened') &&
        o.status === 'pending' &&
        o.ruleId === d.ruleId &&
        o.destinationId === d.destinationId,
    );
  }

  /** The timeline's "alert sent"; a failure here is logged, never undoes the send. */
  private async recordSent(d: Delivery, destination: Destination, result: SendResult, at: number) {
    try {
      await this.deps.incidents().recordAlertSent(d.incidentId!, {
        deliveryId: d.id,
        event: d.event,
        ruleId: d.ruleId,
        ruleName: d.message.rule?.name ?? null,
        destinationId: destination.id,
        destination: destination.name,
        kind: destination.kind,
        externalId: result.externalId ?? null,
        at,
      });
    } catch (err) {
      this.deps.log.warn({ err, deliveryId: d.id }, 'recording an alert on the incident timeline failed');
    }
  }

  // ---- helpers ----

  /** A delivery and its first job, both in `tx`; nothing when the idempotency key exists. */
  private async queue(tx: MetaDb, d: NewDelivery, now: number): Promise<number | undefined> {
    const id = await new DeliveryStore(tx).insert(d, now);
    if (id !== undefined) await this.enqueueDeliver(tx, d.projectId, { deliveryId: id, maxAttempts: MAX_DELIVERY_ATTEMPTS }, now);
    return id;
  }

  private async enqueueDeliver(db: MetaDb, projectId: number, payload: DeliverPayload, runAt: number) {
    await new JobQueue(db, this.deps.dialect, this.now).enqueue({
      kind: JOB_DELIVER,
      projectId,
      payload,
      runAt,
      maxAttempts: JOB_ATTEMPTS,
      priority: 2,
    });
  }

  /** Names and tags of the signals' metrics, read through `db` (a change's transaction, or the store). */
  private async metricInfo(db: MetaDb, projectId: number, signals: Signal[]): Promise<Map<number, MetricInfo>> {
    const ids = [...new Set(signals.map((s) => s.metricId).filter((id): id is number => id !== null))];
    const store = new MetricStore(db);
    const out = new Map<number, MetricInfo>();
    for (const id of ids) {
      const m = await store.get(projectId, id);
      if (m) out.set(id, { name: m.name, displayName: m.displayName, tags: m.tags, unit: m.unit });
    }
    return out;
  }

  private async composeContext(db: MetaDb, projectId: number, metrics: Map<number, MetricInfo>, now: number): Promise<ComposeContext> {
    const p = await new ProjectService(db).getById(projectId);
    return { project: { id: p.id, slug: p.slug, name: p.name }, rule: null, metrics, origin: this.links.origin(), now };
  }
}

function isActive(rule: AlertRule, now: number): boolean {
  return rule.enabled && !(rule.mutedUntil !== null && rule.mutedUntil > now);
}

/**
 * The (rule, destination) deliveries whose last word on the incident is that it is open: their
 * latest opened, reopened or resolved alert (not failed) is not a resolve.
 */
function toldOpen(deliveries: Delivery[]): Delivery[] {
  const last = new Map<string, Delivery>();
  for (const d of deliveries) {
    if (d.ruleId === null || d.destinationId === null || d.status === 'failed') continue;
    if (d.event === 'opened' || d.event === 'reopened' || d.event === 'resolved') last.set(`${d.ruleId}:${d.destinationId}`, d);
  }
  return [...last.values()].filter((d) => d.event !== 'resolved');
}

/** The parts of a new delivery that stay those of an earlier one about the same incident. */
function keyParts(d: Delivery): Pick<NewDelivery, 'projectId' | 'ruleId' | 'destinationId' | 'incidentId' | 'scopeKey'> {
  return { projectId: d.projectId, ruleId: d.ruleId, destinationId: d.destinationId!, incidentId: d.incidentId, scopeKey: d.scopeKey };
}

/** What a rule looks at in an incident: its root signal (the first) and the metric behind it. */
export function matchTargetOf(incident: Incident, signals: Signal[], metrics: Map<number, MetricInfo>): MatchTarget {
  const root = signals.find((s) => s.id === incident.rootSignalId) ?? signals[0];
  const metricId = incident.metricId ?? root?.metricId ?? null;
  const metric = metricId === null ? undefined : metrics.get(metricId);
  const absoluteChange = root && root.expected !== null ? root.value - root.expected : null;
  const percentChange =
    root && root.expected !== null && root.expected !== 0 ? ((root.value - root.expected) / Math.abs(root.expected)) * 100 : null;
  return {
    scopeKind: scopeKindOf(root?.scope, incident.scopeKey),
    direction: incident.direction,
    severity: incident.severity,
    metric: metric ? { name: metric.name, tags: metric.tags } : null,
    absoluteChange,
    percentChange,
  };
}
