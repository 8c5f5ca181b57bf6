/** The job worker's side of alerting: one attempt of one delivery from the outbox, and its retries. */
import type { UnitOn } from './unit-of-work.js';
import type { FastifyBaseLogger } from 'fastify';
import type { IncidentService } from '../incidents/service.js';
import { type JobHandler, TransientJobError } from '../jobs/worker.js';
import type { MetaDb } from '../meta-db.js';
import type { Delivery, DeliveryStore } from './deliveries.js';
import type { DestinationStore } from './destinations-store.js';
import { sendTo } from './destinations/index.js';
import type { Destination, SendResult } from './destinations/types.js';
import type { AlertMessage } from './message.js';
import type { OutboundHttp } from './outbound.js';
import { type DeliverPayload, JOB_DELIVER, type Outbox } from './outbox.js';

/** Retry delays double from 30 s up to 10 min (with jitter ×0.5–1.5): 5 attempts span about 7 minutes of outage. */
export const RETRY_BASE_MS = 30_000;
const RETRY_MAX_MS = 10 * 60_000;
/** A resolve waits while its opened alert is still being tried, so a receiver never gets them out of order. */
const RESOLVE_WAIT_MS = 30_000;

/** Exponential backoff with jitter, for attempt n (1-based) that just failed. */
export function retryDelayMs(attempt: number, random: () => number): number {
  const base = Math.min(RETRY_BASE_MS * 2 ** Math.max(0, attempt - 1), RETRY_MAX_MS);
  return Math.round(base * (0.5 + random()));
}

const iso = (ms: number) => new Date(ms).toISOString();

export interface DeliveryWorkerDeps {
  db: MetaDb;
  unit: UnitOn;
  deliveries: DeliveryStore;
  destinations: DestinationStore;
  outbox: Outbox;
  http: OutboundHttp;
  allowPrivate: boolean;
  /** set once both services exist (each needs the other) */
  incidents: () => IncidentService;
  log: FastifyBaseLogger;
  now: () => number;
  /** [0, 1): the retry jitter */
  random: () => number;
}

export class DeliveryWorker {
  constructor(private deps: DeliveryWorkerDeps) {}

  jobHandlers(): Record<string, JobHandler> {
    return { [JOB_DELIVER]: (job) => this.deliver(job.payload as DeliverPayload) };
  }

  /**
   * One attempt of one delivery. A retryable failure with attempts left queues the next attempt as
   * a new job at now + backoff·jitter, in the transaction that records this one; anything else ends
   * the delivery. A sent (or failed) delivery is never sent again by the worker.
   */
  async deliver(payload: DeliverPayload): Promise<Record<string, unknown>> {
    const { deliveries } = this.deps;
    const d = await deliveries.get(payload.deliveryId);
    if (d?.status !== 'pending') return { skipped: d ? `delivery is ${d.status}` : 'delivery not found' };
    const now = this.deps.now();
    if (d.event === 'resolved' && (await this.openedStillPending(d))) {
      await this.deps.outbox.enqueueDeliver(this.deps.db, d.projectId, payload, now + RESOLVE_WAIT_MS);
      return { postponed: 'its opened alert is still being tried' };
    }
    let destination: Destination | undefined;
    try {
      destination = d.destinationId === null ? undefined : await this.deps.destinations.forSend(d.projectId, d.destinationId);
    } catch (err) {
      await deliveries.markFailed(d.id, { status: null, body: '', error: err instanceof Error ? err.message : String(err) }, now);
      return { failed: 'secrets unreadable' };
    }
    if (!destination) {
      await deliveries.markFailed(d.id, { status: null, body: '', error: 'the destination was deleted' }, now);
      return { failed: 'destination deleted' };
    }
    if (!(await deliveries.beginAttempt(d, now))) return { skipped: 'another worker has this attempt' };
    const attempt = d.attempts + 1;
    let result: SendResult;
    try {
      result = await this.send(destination, d.message, d.idempotencyKey);
    } catch (err) {
      throw new TransientJobError(`sending delivery ${d.id} failed unexpectedly: ${err instanceof Error ? err.message : String(err)}`, {
        cause: err,
      });
    }
    const done = this.deps.now();
    const outcome = {
      status: result.status,
      body: result.skipped ? '(nothing to send for this event)' : result.body,
      error: result.error,
      externalId: result.externalId,
    };
    if (result.ok) {
      await deliveries.markSent(d.id, outcome, done);
      if (d.incidentId !== null) await this.recordSent(d, destination, result, done);
      return { sent: true, attempt };
    }
    if (result.retryable && attempt < payload.maxAttempts) {
      const nextAt = done + retryDelayMs(attempt, this.deps.random);
      await this.deps.db.transaction().execute(async (tx) => {
        if (await this.deps.unit(tx).deliveries.markRetry(d.id, outcome, nextAt, done))
          await this.deps.outbox.enqueueDeliver(tx, d.projectId, payload, nextAt);
      });
      return { retryAt: iso(nextAt), attempt, error: result.error ?? null };
    }
    await deliveries.markFailed(d.id, outcome, done);
    return { failed: result.error ?? 'failed', attempt };
  }

  /** One message to one destination, through the guarded outbound HTTP. */
  async send(destination: Destination, message: AlertMessage, idempotencyKey: string): Promise<SendResult> {
    return sendTo(destination, message, { http: this.deps.http, idempotencyKey, allowPrivate: this.deps.allowPrivate, now: this.deps.now });
  }

  private async openedStillPending(d: Delivery): Promise<boolean> {
    if (d.incidentId === null) return false;
    return (await this.deps.deliveries.ofIncident(d.incidentId)).some(
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
}
