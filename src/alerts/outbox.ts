/**
 * The outbox: a delivery row and the job that sends it, written together (in the caller's
 * transaction when there is one), so a delivery never exists without a job to send it.
 */
import type { MetaDb } from '../meta-db.js';
import type { Delivery, NewDelivery } from './deliveries.js';
import type { UnitOn } from './unit-of-work.js';

export const JOB_DELIVER = 'alerts.deliver';
/** Attempts of one delivery before it is failed (the figure). */
export const MAX_DELIVERY_ATTEMPTS = 5;
/** A job's own attempts are for a worker that died mid-send (its lease expires); delivery attempts are counted apart. */
const JOB_ATTEMPTS = 3;

export interface DeliverPayload {
  deliveryId: number;
  /** the attempt after which a retryable failure is final (a manual retry extends it) */
  maxAttempts: number;
}

export class Outbox {
  constructor(private unit: UnitOn) {}

  /** A delivery and its first job, both in `tx`; nothing when the idempotency key exists. */
  async queue(tx: MetaDb, d: NewDelivery, now: number): Promise<number | undefined> {
    const id = await this.unit(tx).deliveries.insert(d, now);
    if (id !== undefined) await this.enqueueDeliver(tx, d.projectId, { deliveryId: id, maxAttempts: MAX_DELIVERY_ATTEMPTS }, now);
    return id;
  }

  /** A job for one more attempt of a delivery, at `runAt`. */
  async enqueueDeliver(db: MetaDb, projectId: number, payload: DeliverPayload, runAt: number) {
    await this.unit(db).jobs.enqueue({
      kind: JOB_DELIVER,
      projectId,
      payload,
      runAt,
      maxAttempts: JOB_ATTEMPTS,
      priority: 2,
    });
  }
}

/** The parts of a new delivery that stay those of an earlier one about the same incident. */
export function keyParts(d: Delivery): Pick<NewDelivery, 'projectId' | 'ruleId' | 'destinationId' | 'incidentId' | 'scopeKey'> {
  return { projectId: d.projectId, ruleId: d.ruleId, destinationId: d.destinationId!, incidentId: d.incidentId, scopeKey: d.scopeKey };
}
