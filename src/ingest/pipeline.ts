/**
 * The CPU-heavy ingest steps, run on the pipeline worker thread: parse a request body, check each
 * message against the spec, enrich it into a row and serialize the row as a segment line.
 * Authentication, dedup and the durable write stay on the main thread (see service.ts).
 */
import type { EventType } from '../storage/events/event-store.js';
import { VigilError } from '../errors.js';
import { toEventRow, type Enrichers, type RequestInfo } from './enrich.js';
import { checkCorrectedTime, checkMessage, type BatchDefaults, type Rejection } from './segment-spec.js';

/** Segment's limit for one event, measured on the stored line. */
export const MAX_EVENT_BYTES = 32 * 1024;
export const MAX_BATCH_EVENTS = 2500;

/** What a route's body holds: one event of a known type, or a batch. */
export type BodyKind = { single: EventType } | { batch: true };

export interface ParsedBody {
  messages: unknown[];
  impliedType: EventType | undefined;
  defaults: BatchDefaults;
  writeKey: string | undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseBody(text: string, kind: BodyKind): ParsedBody {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new VigilError('VIGIL_ERR_INVALID_JSON', `the body is not valid JSON: ${(err as Error).message}`);
  }
  const writeKey = isObject(body) && typeof body.writeKey === 'string' && body.writeKey ? body.writeKey : undefined;
  if ('single' in kind) {
    if (!isObject(body)) throw new VigilError('VIGIL_ERR_BAD_REQUEST', 'the body must be one JSON object (an event)');
    return { messages: [body], impliedType: kind.single, defaults: {}, writeKey };
  }
  if (!isObject(body) || !Array.isArray(body.batch)) {
    throw new VigilError('VIGIL_ERR_BAD_REQUEST', 'the body must be a JSON object with a "batch" array of events', { field: 'batch' });
  }
  if (body.batch.length > MAX_BATCH_EVENTS) {
    throw new VigilError(
      'VIGIL_ERR_PAYLOAD_TOO_LARGE',
      `a batch holds at most ${MAX_BATCH_EVENTS} events; this one has ${body.batch.length}`,
      { field: 'batch' },
    );
  }
  const context = body.context;
  if (context !== undefined && !isObject(context))
    throw new VigilError('VIGIL_ERR_BAD_REQUEST', 'context must be a JSON object', { field: 'context' });
  return { messages: body.batch, impliedType: undefined, defaults: { context, sentAt: body.sentAt }, writeKey };
}

export interface PipelineOutput {
  /** one serialized EventRow per accepted message */
  lines: string[];
  /** the client's messageId of each line (null when the server made one: nothing to dedupe) */
  messageIds: (string | null)[];
  hasIdentify: boolean;
  rejected: Rejection[];
  received: number;
}

export function processMessages(
  messages: unknown[],
  impliedType: EventType | undefined,
  defaults: BatchDefaults,
  projectId: number,
  req: RequestInfo,
  enrichers: Enrichers,
): PipelineOutput {
  const out: PipelineOutput = { lines: [], messageIds: [], hasIdentify: false, rejected: [], received: messages.length };
  for (let i = 0; i < messages.length; i++) {
    const checked = checkMessage(messages[i], i, impliedType, defaults);
    if (!checked.ok) {
      out.rejected.push(checked.rejection);
      continue;
    }
    const row = toEventRow(checked.message, projectId, req, enrichers);
    const badTime = checkCorrectedTime(row.timestamp, checked.message, i);
    if (badTime) {
      out.rejected.push(badTime);
      continue;
    }
    const line = JSON.stringify(row);
    // a UTF-16 unit is at most 3 bytes of UTF-8, so most lines need no byte count
    if (line.length * 3 > MAX_EVENT_BYTES && Buffer.byteLength(line) > MAX_EVENT_BYTES) {
      out.rejected.push({ index: i, field: '', reason: 'too_large', message: `the event is larger than ${MAX_EVENT_BYTES / 1024} KB` });
      continue;
    }
    out.lines.push(line);
    out.messageIds.push(checked.message.messageId === undefined ? null : row.message_id);
    out.hasIdentify ||= row.type === 'identify';
  }
  return out;
}
