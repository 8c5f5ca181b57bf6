/**
 * The alert_deliveries table: the outbox of alerts, one row per (event, rule, destination), and its
 * state machine:
 *
 *   pending ──attempt ok──▶ sent
 *   pending ──attempt failed, retryable, attempts left──▶ pending (next_attempt_at set)
 *   pending ──attempt failed otherwise──▶ failed ──manual retry──▶ pending
 *
 * Every transition is a conditional update on the state it leaves, so two workers (or a worker and
 * a manual retry) cannot both move one row. Only the alerts service calls this.
 */
import type { Selectable } from 'kysely';
import type { AlertDeliveryTable } from './tables.js';
import type { MetaDb } from '../meta-db.js';
import type { AlertEvent, AlertMessage } from './message.js';

export const DELIVERY_STATUSES = ['pending', 'sent', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
export const DELIVERY_EVENTS = ['opened', 'reopened', 'repeat', 'resolved', 'digest', 'test'] as const;
/** The alerts that say an incident is open: they start a rule's cooldown, and repeats repeat them. */
const ANNOUNCING_EVENTS: AlertEvent[] = ['opened', 'reopened', 'repeat'];

/** Column widths from migration 0008, which PostgreSQL enforces. */
const MAX_KEY = 300;
const MAX_ERROR = 4_000;
/** the start of a receiver's answer is enough to see what it said */
const MAX_RESPONSE = 2_000;

export interface Delivery {
  id: number;
  projectId: number;
  ruleId: number | null;
  destinationId: number | null;
  incidentId: number | null;
  scopeKey: string | null;
  event: AlertEvent;
  status: DeliveryStatus;
  idempotencyKey: string;
  message: AlertMessage;
  attempts: number;
  nextAttemptAt: number | null;
  lastError: string | null;
  responseStatus: number | null;
  responseBody: string | null;
  externalId: string | null;
  createdAt: number;
  updatedAt: number;
  sentAt: number | null;
}

export interface NewDelivery {
  projectId: number;
  ruleId: number | null;
  destinationId: number;
  incidentId: number | null;
  scopeKey: string | null;
  event: AlertEvent;
  idempotencyKey: string;
  message: AlertMessage;
}

export interface DeliveryFilter {
  status?: string;
  ruleId?: number;
  destinationId?: number;
  incidentId?: number;
  event?: string;
  /** keyset: deliveries with a smaller id (newest first) */
  beforeId?: number;
  limit: number;
}

export interface AttemptOutcome {
  status: number | null;
  body: string;
  error?: string;
  externalId?: string;
}

const num = (v: number | string | null) => (v === null ? null : Number(v));

function toDelivery(r: Selectable<AlertDeliveryTable>): Delivery {
  return {
    id: Number(r.id),
    projectId: Number(r.project_id),
    ruleId: num(r.rule_id),
    destinationId: num(r.destination_id),
    incidentId: num(r.incident_id),
    scopeKey: r.scope_key,
    event: r.event as AlertEvent,
    status: r.status as DeliveryStatus,
    idempotencyKey: r.idempotency_key,
    message: JSON.parse(r.message) as AlertMessage,
    attempts: Number(r.attempts),
    nextAttemptAt: num(r.next_attempt_at),
    lastError: r.last_error,
    responseStatus: num(r.response_status),
    responseBody: r.response_body,
    externalId: r.external_id,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    sentAt: num(r.sent_at),
  };
}

/** Keys longer than the column keep their start and end (ids sit at both). */
export function boundedKey(key: string): string {
  return key.length <= MAX_KEY ? key : `${key.slice(0, MAX_KEY - 120)}…${key.slice(-119)}`;
}

const answer = (o: AttemptOutcome) => ({ response_status: o.status, response_body: o.body.slice(0, MAX_RESPONSE) });

export class DeliveryStore {
  constructor(private db: MetaDb) {}

  /** Inserts a pending delivery; undefined when one with the same idempotency key exists (a replay). */
  async insert(d: NewDelivery, now: number): Promise<number | undefined> {
    const row = await this.db
      .insertInto('alert_deliveries')
      .values({
        project_id: d.projectId,
        rule_id: d.ruleId,
        destination_id: d.destinationId,
        incident_id: d.incidentId,
        scope_key: d.scopeKey === null ? null : boundedKey(d.scopeKey),
        event: d.event,
        status: 'pending',
        idempotency_key: boundedKey(d.idempotencyKey),
        message: JSON.stringify(d.message),
        attempts: 0,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.column('idempotency_key').doNothing())
      .returning('id')
      .executeTakeFirst();
    return row ? Number(row.id) : undefined;
  }

  /** Pending deliveries whose attempt was due before `before` (oldest first): candidates for a lost job. */
  async overdue(before: number, limit: number): Promise<Delivery[]> {
    const rows = await this.db
      .selectFrom('alert_deliveries')
      .selectAll()
      .where('status', '=', 'pending')
      .where((eb) => eb(eb.fn.coalesce('next_attempt_at', 'created_at'), '<', before))
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map(toDelivery);
  }

  async get(id: number, projectId?: number): Promise<Delivery | undefined> {
    const row = await this.db
      .selectFrom('alert_deliveries')
      .selectAll()
      .where('id', '=', id)
      .$if(projectId !== undefined, (qb) => qb.where('project_id', '=', projectId ?? 0))
      .executeTakeFirst();
    return row ? toDelivery(row) : undefined;
  }

  /** Newest first. */
  async list(projectId: number, f: DeliveryFilter): Promise<Delivery[]> {
    const rows = await this.db
      .selectFrom('alert_deliveries')
      .selectAll()
      .where('project_id', '=', projectId)
      .$if(f.status !== undefined, (qb) => qb.where('status', '=', f.status ?? ''))
      .$if(f.ruleId !== undefined, (qb) => qb.where('rule_id', '=', f.ruleId ?? 0))
      .$if(f.destinationId !== undefined, (qb) => qb.where('destination_id', '=', f.destinationId ?? 0))
      .$if(f.incidentId !== undefined, (qb) => qb.where('incident_id', '=', f.incidentId ?? 0))
      .$if(f.event !== undefined, (qb) => qb.where('event', '=', f.event ?? ''))
      .$if(f.beforeId !== undefined, (qb) => qb.where('id', '<', f.beforeId ?? 0))
      .orderBy('id', 'desc')
      .limit(f.limit)
      .execute();
    return rows.map(toDelivery);
  }

  /** An incident's deliveries (any rule), oldest first. */
  async ofIncident(incidentId: number): Promise<Delivery[]> {
    const rows = await this.db.selectFrom('alert_deliveries').selectAll().where('incident_id', '=', incidentId).orderBy('id').execute();
    return rows.map(toDelivery);
  }

  /** When a rule last got an alert about a scope through (opened, reopened or repeat): the cooldown's start. */
  async lastSentAt(ruleId: number, scopeKey: string): Promise<number | null> {
    const row = await this.db
      .selectFrom('alert_deliveries')
      .select((eb) => eb.fn.max('sent_at').as('at'))
      .where('rule_id', '=', ruleId)
      .where('scope_key', '=', boundedKey(scopeKey))
      .where('status', '=', 'sent')
      .where('event', 'in', ANNOUNCING_EVENTS)
      .executeTakeFirst();
    return row?.at === null || row?.at === undefined ? null : Number(row.at);
  }

  /** A rule's opened/reopened/repeat deliveries about these incidents made since `since`, oldest first (repeat scheduling). */
  async recentOfRule(ruleId: number, incidentIds: number[], since: number): Promise<Delivery[]> {
    if (incidentIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('alert_deliveries')
      .selectAll()
      .where('rule_id', '=', ruleId)
      .where('event', 'in', ANNOUNCING_EVENTS)
      .where('incident_id', 'in', incidentIds)
      .where('created_at', '>=', since)
      .orderBy('id')
      .execute();
    return rows.map(toDelivery);
  }

  /** Pending repeats that have not been tried yet: an acknowledge or resolve withdraws them. */
  async withdrawRepeats(incidentId: number): Promise<number> {
    const res = await this.db
      .deleteFrom('alert_deliveries')
      .where('incident_id', '=', incidentId)
      .where('event', '=', 'repeat')
      .where('status', '=', 'pending')
      .where('attempts', '=', 0)
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  /** Takes attempt number attempts+1; false when the row is not pending at that count (another worker has it). */
  async beginAttempt(d: Pick<Delivery, 'id' | 'attempts'>, now: number): Promise<boolean> {
    const res = await this.db
      .updateTable('alert_deliveries')
      .set({ attempts: d.attempts + 1, next_attempt_at: null, updated_at: now })
      .where('id', '=', d.id)
      .where('status', '=', 'pending')
      .where('attempts', '=', d.attempts)
      .executeTakeFirst();
    return res.numUpdatedRows > 0n;
  }

  async markSent(id: number, o: AttemptOutcome, now: number): Promise<boolean> {
    const res = await this.db
      .updateTable('alert_deliveries')
      .set({
        status: 'sent',
        ...answer(o),
        external_id: o.externalId?.slice(0, MAX_KEY) ?? null,
        last_error: null,
        next_attempt_at: null,
        sent_at: now,
        updated_at: now,
      })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return res.numUpdatedRows > 0n;
  }

  /** A failed attempt with another to come at `nextAt`. */
  async markRetry(id: number, o: AttemptOutcome, nextAt: number, now: number): Promise<boolean> {
    const res = await this.db
      .updateTable('alert_deliveries')
      .set({ ...answer(o), last_error: (o.error ?? 'failed').slice(0, MAX_ERROR), next_attempt_at: nextAt, updated_at: now })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return res.numUpdatedRows > 0n;
  }

  async markFailed(id: number, o: AttemptOutcome, now: number): Promise<boolean> {
    const res = await this.db
      .updateTable('alert_deliveries')
      .set({
        status: 'failed',
        ...answer(o),
        last_error: (o.error ?? 'failed').slice(0, MAX_ERROR),
        next_attempt_at: null,
        updated_at: now,
      })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return res.numUpdatedRows > 0n;
  }

  /** failed → pending for a manual retry; false when the delivery is not failed. */
  async reopen(id: number, now: number): Promise<boolean> {
    const res = await this.db
      .updateTable('alert_deliveries')
      .set({ status: 'pending', next_attempt_at: now, updated_at: now })
      .where('id', '=', id)
      .where('status', '=', 'failed')
      .executeTakeFirst();
    return res.numUpdatedRows > 0n;
  }
}
