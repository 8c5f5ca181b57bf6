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
import { VigilError, notFound } from '../errors.js';
import type { IncidentService } from '../incidents/service.js';
import type { IncidentChange } from '../incidents/types.js';
import type { JobQueue } from '../jobs/queue.js';
import type { JobHandler } from '../jobs/worker.js';
import type { MetricService } from '../metrics/service.js';
import type { Project, ProjectService } from '../projects/service.js';
import type { Dialect } from '../storage/meta/db.js';
import type { MetaDb } from '../meta-db.js';
import { AppLinks } from '../http/app-links.js';
import { testMessage } from './compose.js';
import { type Delivery, type DeliveryFilter, DeliveryStore } from './deliveries.js';
import { DeliveryWorker } from './delivery-worker.js';
import type { Destination } from './destinations/types.js';
import { type DestinationInput, DestinationStore, type DestinationView } from './destinations-store.js';
import { IncidentPolicy } from './incident-policy.js';
import { createOutboundHttp, type OutboundHttp } from './outbound.js';
import { type UnitOn, unitFactory } from './unit-of-work.js';
import { type DeliverPayload, MAX_DELIVERY_ATTEMPTS, Outbox } from './outbox.js';
import { responseExcerpt } from './response-excerpt.js';
import type { AlertRule } from './rule-store.js';
import { RuleStore } from './rule-store.js';
import { type RuleInput, RuleService } from './rule-service.js';
import { AlertSchedules } from './schedules.js';
import type { SimulationResult } from './simulate.js';

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

export interface TestResult {
  ok: boolean;
  status: number | null;
  body: string;
  error: string | null;
}

/** The alerting API in one place; each part lives in its own module (rules, policy, worker, schedules). */
export class AlertService {
  private now: () => number;
  private rules: RuleStore;
  private destinations: DestinationStore;
  private deliveries: DeliveryStore;
  private outbox: Outbox;
  private ruleService: RuleService;
  private policy: IncidentPolicy;
  private worker: DeliveryWorker;
  private schedules: AlertSchedules;

  private readonly unit: UnitOn;

  constructor(private deps: AlertServiceDeps) {
    const { db, config } = deps;
    const links = deps.links ?? new AppLinks(config);
    this.now = deps.now ?? Date.now;
    const http = deps.http ?? createOutboundHttp({ allowPrivate: config.alertsAllowPrivateUrls, allowHttp: config.alertsAllowHttp });
    this.rules = new RuleStore(db);
    this.destinations = new DestinationStore(db, config.secretKey, {
      allowPrivate: config.alertsAllowPrivateUrls,
      allowHttp: config.alertsAllowHttp,
    });
    this.deliveries = new DeliveryStore(db);
    this.unit = unitFactory({ dialect: deps.dialect, secretKey: config.secretKey, now: this.now });
    this.outbox = new Outbox(this.unit);
    const shared = { db, unit: this.unit, now: this.now, incidents: deps.incidents, log: deps.log };
    this.ruleService = new RuleService({ ...shared, rules: this.rules, destinations: this.destinations });
    this.policy = new IncidentPolicy({ unit: this.unit, outbox: this.outbox, links });
    this.worker = new DeliveryWorker({
      ...shared,
      deliveries: this.deliveries,
      destinations: this.destinations,
      outbox: this.outbox,
      http,
      allowPrivate: config.alertsAllowPrivateUrls,
      random: deps.random ?? Math.random,
    });
    this.schedules = new AlertSchedules({
      ...shared,
      rules: this.rules,
      deliveries: this.deliveries,
      outbox: this.outbox,
      projects: deps.projects,
      links,
    });
  }

  // ---- rules ----

  listRules(project: Project): Promise<AlertRule[]> {
    return this.ruleService.list(project);
  }

  getRule(project: Project, id: number): Promise<AlertRule> {
    return this.ruleService.get(project, id);
  }

  createRule(project: Project, input: RuleInput): Promise<AlertRule> {
    return this.ruleService.create(project, input);
  }

  updateRule(project: Project, id: number, input: RuleInput): Promise<AlertRule> {
    return this.ruleService.update(project, id, input);
  }

  removeRule(project: Project, id: number): Promise<AlertRule> {
    return this.ruleService.remove(project, id);
  }

  /** What a rule (saved, or a draft body) would have sent over the last `days` days. Sends nothing. */
  simulate(project: Project, rule: { id: number } | { input: RuleInput }, days: number): Promise<SimulationResult> {
    return this.ruleService.simulate(project, rule, days);
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
    const result = await this.worker.send(
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
      if (!(await this.unit(tx).deliveries.reopen(id, this.now())))
        throw new VigilError('VIGIL_ERR_CONFLICT', 'the delivery changed meanwhile; reload it', { status: d.status });
      await this.outbox.enqueueDeliver(tx, d.projectId, { deliveryId: id, maxAttempts: d.attempts + MAX_DELIVERY_ATTEMPTS }, this.now());
    });
    return this.getDelivery(project, id);
  }

  // ---- incident changes, the scheduler's step, the worker ----

  /** IncidentService's change hook: runs inside the change's transaction; every read and write goes through `tx`. */
  onIncidentChange(tx: MetaDb, change: IncidentChange): Promise<void> {
    return this.policy.onIncidentChange(tx, change);
  }

  /** Repeats and digests that are due. Returns how many deliveries it queued. */
  scheduleDue(): Promise<number> {
    return this.schedules.scheduleDue();
  }

  jobHandlers(): Record<string, JobHandler> {
    return this.worker.jobHandlers();
  }

  /** One attempt of one delivery (see DeliveryWorker.deliver). */
  deliver(payload: DeliverPayload): Promise<Record<string, unknown>> {
    return this.worker.deliver(payload);
  }
}
