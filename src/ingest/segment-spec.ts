/**
 * The rules of Segment's Tracking API spec for one message: which fields each call type needs and
 * what shape they have. A failed rule names the field, so a client can see what to fix.
 */
import { EVENT_TYPES, type EventType } from '../storage/events/event-store.js';
import { NestedTooDeep, setOwn, wellFormed } from '../storage/events/well-formed.js';

export type RejectReason =
  | 'not_an_object'
  | 'invalid_type'
  | 'missing_identity'
  | 'missing_event'
  | 'missing_group_id'
  | 'missing_alias_ids'
  | 'invalid_field'
  | 'too_large'
  | 'too_deep';

/**
 * Levels of objects and arrays a field may nest (the field's own object counting as one): far more
 * than any real payload, and far fewer than the thousands that overflow the stack of the JSON
 * serializer serving the events list.
 */
export const MAX_NESTING = 32;

/**
 * Event times Vigil stores: 1970-01-01 to 9999-12-31 (UTC). Both DuckDB's TIMESTAMP and a JS Date
 * hold them, an ISO 8601 date writes them with four digits, and outside them lies no real event.
 */
const EARLIEST_TIME_MS = 0;
export const LATEST_TIME_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const TIME_RANGE_TEXT = 'a time from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z';

export const isStorableTime = (ms: number) => ms >= EARLIEST_TIME_MS && ms <= LATEST_TIME_MS;

export interface Rejection {
  index: number;
  field: string;
  reason: RejectReason;
  message: string;
}

type Obj = Record<string, unknown>;

export interface SegmentMessage {
  type: EventType;
  messageId?: string;
  event?: string;
  name?: string;
  userId?: string;
  anonymousId?: string;
  previousId?: string;
  groupId?: string;
  properties: Obj;
  traits: Obj;
  context: Obj;
  timestamp?: number;
  originalTimestamp?: number;
  sentAt?: number;
}

/** Fields a batch carries for all of its messages (the spec merges them into each). */
export interface BatchDefaults {
  context?: Obj;
  sentAt?: unknown;
}

export type Checked = { ok: true; message: SegmentMessage } | { ok: false; rejection: Rejection };

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

class Invalid {
  constructor(
    readonly field: string,
    readonly reason: RejectReason,
    readonly message: string,
  ) {}
}

function id(msg: Obj, field: string): string | undefined {
  const v = msg[field];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  throw new Invalid(field, 'invalid_field', `${field} must be a string`);
}

function text(msg: Obj, field: string): string | undefined {
  const v = msg[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new Invalid(field, 'invalid_field', `${field} must be a string`);
  return v;
}

function object(msg: Obj, field: string): Obj {
  const v = msg[field];
  if (v === undefined || v === null) return {};
  if (!isObj(v)) throw new Invalid(field, 'invalid_field', `${field} must be a JSON object`);
  return v;
}

/** An ISO 8601 date or date-time; the zone is optional (Segment's timestamps are UTC). */
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/** ISO 8601 strings (and epoch milliseconds) to epoch milliseconds. */
function time(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  // Date.parse alone takes almost anything ("foo 1" is 2001) and reads zone-less times in the server's zone
  const iso = typeof value === 'string' ? ISO_DATE_TIME.exec(value) : null;
  const utc = iso && iso[0].length > 10 && !iso[1] ? 'Z' : '';
  const ms = typeof value === 'number' ? value : iso ? Date.parse(iso[0] + utc) : NaN;
  if (!Number.isFinite(ms))
    throw new Invalid(field, 'invalid_field', `${field} must be an ISO 8601 date-time, e.g. 2026-11-27T12:00:00.000Z`);
  if (!isStorableTime(ms)) throw new Invalid(field, 'invalid_field', `${field} must be ${TIME_RANGE_TEXT}`);
  return Math.round(ms);
}

/**
 * The message with lone surrogates replaced (see well-formed.ts), or Invalid on the first field
 * that nests deeper than MAX_NESTING.
 */
function wellFormedFields<T extends Obj>(msg: T): T {
  let copy: Obj | null = null;
  for (const [field, value] of Object.entries(msg)) {
    let clean: unknown;
    try {
      clean = wellFormed(value, MAX_NESTING);
    } catch (err) {
      if (err instanceof NestedTooDeep)
        throw new Invalid(field, 'too_deep', `${field} nests objects and arrays deeper than ${MAX_NESTING} levels`);
      throw err;
    }
    if (clean !== value) setOwn((copy ??= { ...msg }), field, clean);
  }
  return (copy ?? msg) as T;
}

/**
 * The time an event is stored at, after Segment's clock-skew correction (enrich.ts), must be
 * storable too: two times each in range can still correct to one that is not.
 */
export function checkCorrectedTime(ms: number, m: SegmentMessage, index: number): Rejection | null {
  if (isStorableTime(ms)) return null;
  const field = m.originalTimestamp !== undefined ? 'originalTimestamp' : 'timestamp';
  return {
    index,
    field,
    reason: 'invalid_field',
    message: `${field} corrected by sentAt for the client's clock skew gives ${ms} ms since 1970, not ${TIME_RANGE_TEXT}`,
  };
}

export function checkMessage(input: unknown, index: number, impliedType: EventType | undefined, batch: BatchDefaults = {}): Checked {
  try {
    if (!isObj(input)) throw new Invalid('', 'not_an_object', 'each event must be a JSON object');
    const raw = wellFormedFields(input);
    if (batch.context) batch = { ...batch, context: wellFormedFields({ context: batch.context }).context };
    const type = impliedType ?? raw.type;
    if (typeof type !== 'string' || !(EVENT_TYPES as readonly string[]).includes(type)) {
      throw new Invalid('type', 'invalid_type', `type must be one of ${EVENT_TYPES.join(', ')}`);
    }
    const message: SegmentMessage = {
      type: type as EventType,
      messageId: id(raw, 'messageId'),
      userId: id(raw, 'userId'),
      anonymousId: id(raw, 'anonymousId'),
      properties: object(raw, 'properties'),
      traits: object(raw, 'traits'),
      context: batch.context ? { ...batch.context, ...object(raw, 'context') } : object(raw, 'context'),
      timestamp: time(raw.timestamp, 'timestamp'),
      originalTimestamp: time(raw.originalTimestamp, 'originalTimestamp'),
      sentAt: time(raw.sentAt ?? batch.sentAt, 'sentAt'),
    };
    object(raw, 'integrations');
    switch (message.type) {
      case 'track':
        message.event = text(raw, 'event');
        if (!message.event) throw new Invalid('event', 'missing_event', 'track calls need a non-empty event name');
        break;
      case 'page':
      case 'screen':
        message.name = text(raw, 'name');
        break;
      case 'group':
        message.groupId = id(raw, 'groupId');
        if (!message.groupId) throw new Invalid('groupId', 'missing_group_id', 'group calls need a groupId');
        break;
      case 'alias':
        message.previousId = id(raw, 'previousId');
        if (!message.previousId || !message.userId)
          throw new Invalid(message.previousId ? 'userId' : 'previousId', 'missing_alias_ids', 'alias calls need previousId and userId');
        break;
      case 'identify':
        break;
    }
    if (message.type !== 'alias' && !message.userId && !message.anonymousId) {
      throw new Invalid('userId', 'missing_identity', 'either userId or anonymousId is required');
    }
    return { ok: true, message };
  } catch (err) {
    if (!(err instanceof Invalid)) throw err;
    return { ok: false, rejection: { index, field: err.field, reason: err.reason, message: err.message } };
  }
}
