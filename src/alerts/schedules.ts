/**
 * The scheduler's step for alerting: repeats of alerts on incidents still open, digests whose cron
 * period is over, and pending deliveries that lost their job.
 */
import type { UnitOn } from './unit-of-work.js';
import type { FastifyBaseLogger } from 'fastify';
import type { IncidentService } from '../incidents/service.js';
import type { ProjectService } from '../projects/service.js';
import type { MetaDb } from '../meta-db.js';
import type { AppLinks } from '../http/app-links.js';
import { asRepeat, digestMessage } from './compose.js';
import { composeContext, metricInfo } from './compose-context.js';
import type { Delivery, DeliveryStore } from './deliveries.js';
import { type DigestCandidate, digestEntries, duePeriod } from './digest.js';
import { isActive, matchTargetOf } from './incident-policy.js';
import { type DeliverPayload, JOB_DELIVER, keyParts, MAX_DELIVERY_ATTEMPTS, type Outbox } from './outbox.js';
import type { AlertRule, RuleStore } from './rule-store.js';
import { repeatDue } from './rules.js';

/**
 * A pending delivery this long past its attempt time, with no job queued or running for it, lost
 * its job (dead-lettered after workers died mid-send three times): the scheduler queues it again.
 */
const ORPHAN_AFTER_MS = 15 * 60_000;
const ORPHAN_BATCH = 100;
/** Open incidents a repeat pass looks at, per project (the newest). */
const MAX_OPEN_INCIDENTS = 500;
/** Repeats look back this far for the alerts they repeat. */
const REPEAT_LOOKBACK_MS = 30 * 86_400_000;

export interface AlertSchedulesDeps {
  db: MetaDb;
  unit: UnitOn;
  rules: RuleStore;
  deliveries: DeliveryStore;
  outbox: Outbox;
  projects: ProjectService;
  /** set once both services exist (each needs the other) */
  incidents: () => IncidentService;
  links: AppLinks;
  log: FastifyBaseLogger;
  now: () => number;
}

export class AlertSchedules {
  constructor(private deps: AlertSchedulesDeps) {}

  /** Repeats and digests that are due. Returns how many deliveries it queued. */
  async scheduleDue(): Promise<number> {
    const now = this.deps.now();
    const rules = (await this.deps.rules.enabled()).filter((r) => isActive(r, now));
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
    const overdue = await this.deps.deliveries.overdue(now - ORPHAN_AFTER_MS, ORPHAN_BATCH);
    if (!overdue.length) return 0;
    const jobs = this.deps.unit(this.deps.db).jobs;
    const live = new Set<number>();
    for (const status of ['queued', 'running']) {
      for (const job of await jobs.list({ kind: JOB_DELIVER, status, limit: 1_000 })) live.add((job.payload as DeliverPayload).deliveryId);
    }
    let queued = 0;
    for (const d of overdue) {
      if (live.has(d.id)) continue;
      this.deps.log.warn({ deliveryId: d.id, attempts: d.attempts }, 'a pending alert delivery had lost its job: queued again');
      await this.deps.outbox.enqueueDeliver(
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
    const rows = await this.deps.deliveries.recentOfRule(rule.id, [...open.keys()], now - REPEAT_LOOKBACK_MS);
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
        const id = await this.deps.outbox.queue(
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
    const { db } = this.deps;
    const project = await this.deps.projects.getById(rule.projectId);
    const period = duePeriod(rule, project.timeZone, now);
    if (!period) return 0;
    const opened = await this.deps.incidents().openedBetween(project, period.from, period.to);
    const metrics = await metricInfo(
      this.deps.unit(db),
      project.id,
      opened.flatMap((o) => o.signals),
    );
    const entries = digestEntries(
      rule.spec,
      opened.map((o) => ({ ...o, target: matchTargetOf(o.incident, o.signals, metrics) })),
      period,
      now,
    );
    const compose = await composeContext(this.deps.unit(db), project.id, metrics, this.deps.links.origin(), now);
    return db.transaction().execute(async (tx) => {
      // another scheduler that got here first has moved the period on
      if (!(await this.deps.unit(tx).rules.advanceDigest(rule.id, rule.digestUntil, period.to))) return 0;
      if (entries.length === 0) return 0;
      const root = (e: DigestCandidate) => e.signals.find((s) => s.id === e.incident.rootSignalId) ?? e.signals[0];
      const message = digestMessage(
        entries.map((e) => ({ incident: e.incident, root: root(e) })),
        period,
        { ...compose, rule: { id: rule.id, name: rule.name } },
      );
      const kinds = await this.deps.unit(tx).destinations.kinds(project.id, rule.spec.destinationIds);
      let queued = 0;
      for (const destinationId of rule.spec.destinationIds.filter((id) => kinds.has(id))) {
        const id = await this.deps.outbox.queue(
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
}
