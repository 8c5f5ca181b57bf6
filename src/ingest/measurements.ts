import { VigilError } from '../errors.js';
import type { MeasurementInput } from './measurement-store.js';

/*
 * Validation of pushed measurements (`POST /v1/measurements`).
 *
 * Policy: all or nothing. If any item is invalid the whole request is refused and nothing is
 * stored; the error lists every bad item by index with the field at fault. Events use partial
 * acceptance instead (the valid ones are stored), because a batch of events is large and its
 * retries are deduplicated by messageId. Measurements have no id to deduplicate on, are small,
 * and clients retry them whole: storing part of a request would store that part twice on retry.
 */

export const MAX_MEASUREMENTS = 1000;
/** Enough to say what was wrong without making the error body as large as the request. */
const MAX_REJECTED_LISTED = 100;
const NAME = /^[A-Za-z0-9_.:/-]{1,200}$/;
const MAX_TAGS = 20;
const MAX_TAG_KEY = 100;
const MAX_TAG_VALUE = 500;
/** Clocks drift; a point further ahead than this is a unit or zone mistake. */
const MAX_FUTURE_MS = 3_600_000;
/** A whole-number timestamp below this (3 March 1973) is almost surely epoch seconds, not milliseconds. */
const MIN_EPOCH_MS = 100_000_000_000;
/** An ISO 8601 date-time with a zone: Z, ±hh:mm or ±hhmm. */
const ISO_WITH_ZONE = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}:?\d{2})$/i;

export interface RejectedMeasurement {
  index: number;
  field: string;
  message: string;
}

class Invalid extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const bodyError = (message: string) =>
  new VigilError('VIGIL_ERR_INVALID_MEASUREMENTS', `${message}; nothing was stored`, { field: 'measurements' });

/** The raw request text (already decompressed) to validated measurements; see `parseMeasurements`. */
export function parseMeasurementsText(text: string, now: number): MeasurementInput[] {
  if (!text.trim())
    throw new VigilError('VIGIL_ERR_INVALID_JSON', 'the body is empty: send a JSON array of measurements or {"measurements": [...]}');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new VigilError('VIGIL_ERR_INVALID_JSON', `the body is not valid JSON: ${(err as Error).message}`);
  }
  return parseMeasurements(body, now);
}

/**
 * A JSON array `[{service, metric, value, timestamp?, tags?}]` or `{measurements: [...]}` to
 * measurements, or a `VIGIL_ERR_INVALID_MEASUREMENTS` error listing every invalid item.
 * A missing (or null) timestamp is `now`.
 */
export function parseMeasurements(body: unknown, now: number): MeasurementInput[] {
  const items = isObj(body) ? body.measurements : body;
  if (!Array.isArray(items)) throw bodyError('the body must be a JSON array of measurements or an object {"measurements": [...]}');
  if (items.length === 0) throw bodyError('the request holds no measurements (send 1 to 1000)');
  if (items.length > MAX_MEASUREMENTS)
    throw bodyError(`the request holds ${items.length} measurements; at most ${MAX_MEASUREMENTS} are accepted at once`);

  const out: MeasurementInput[] = [];
  const rejected: RejectedMeasurement[] = [];
  let invalid = 0;
  items.forEach((raw, index) => {
    try {
      out.push(checkMeasurement(raw, now));
    } catch (err) {
      if (!(err instanceof Invalid)) throw err;
      invalid++;
      if (rejected.length < MAX_REJECTED_LISTED) rejected.push({ index, field: err.field, message: err.message });
    }
  });
  if (invalid)
    throw new VigilError('VIGIL_ERR_INVALID_MEASUREMENTS', `${invalid} measurement(s) are invalid; nothing was stored`, { rejected });
  return out;
}

function checkMeasurement(raw: unknown, now: number): MeasurementInput {
  if (!isObj(raw)) throw new Invalid('', 'each measurement must be a JSON object');
  return {
    service: name(raw, 'service'),
    metric: name(raw, 'metric'),
    value: value(raw.value),
    ts: timestamp(raw.timestamp, now),
    tags: tags(raw.tags),
  };
}

function name(raw: Obj, field: 'service' | 'metric'): string {
  const v = raw[field];
  if (v === undefined || v === null) throw new Invalid(field, `${field} is required`);
  if (typeof v !== 'string' || !NAME.test(v)) {
    throw new Invalid(field, `${field} must be 1-200 characters of letters, digits and _ . : / -`);
  }
  return v;
}

function value(v: unknown): number {
  if (v === undefined || v === null) throw new Invalid('value', 'value is required');
  // numeric strings are refused: a quoted number usually means the client sends the wrong field
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Invalid('value', 'value must be a finite JSON number (not a string)');
  return v;
}

function timestamp(v: unknown, now: number): number {
  if (v === undefined || v === null) return now;
  let ms: number;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) throw new Invalid('timestamp', 'timestamp as a number must be whole epoch milliseconds');
    if (v < MIN_EPOCH_MS) throw new Invalid('timestamp', 'timestamp must be epoch milliseconds (this looks like seconds)');
    ms = v;
  } else if (typeof v === 'string') {
    const iso = ISO_WITH_ZONE.exec(v);
    // ±hhmm is valid ISO 8601; Date.parse wants ±hh:mm
    const zone = iso && iso[2].length === 5 ? `${iso[2].slice(0, 3)}:${iso[2].slice(3)}` : iso?.[2];
    ms = iso && realDate(iso[1]) ? Date.parse(iso[1] + zone) : NaN;
    if (!Number.isFinite(ms))
      throw new Invalid(
        'timestamp',
        'timestamp must be an ISO 8601 date-time with a zone (e.g. 2026-11-27T12:00:00Z) or epoch milliseconds',
      );
  } else {
    throw new Invalid('timestamp', 'timestamp must be an ISO 8601 string or a number of epoch milliseconds');
  }
  if (ms > now + MAX_FUTURE_MS) throw new Invalid('timestamp', 'timestamp is more than 1 hour in the future');
  return ms;
}

/** Date.parse rolls 2026-02-30 over into March; a calendar date that does not exist is refused. */
function realDate(dateTime: string): boolean {
  const [y, m, d] = dateTime.slice(0, 10).split('-').map(Number);
  return m >= 1 && m <= 12 && d >= 1 && d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

function tags(v: unknown): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!isObj(v)) throw new Invalid('tags', 'tags must be a JSON object of string values');
  const entries = Object.entries(v);
  if (entries.length > MAX_TAGS) throw new Invalid('tags', `at most ${MAX_TAGS} tags are allowed (got ${entries.length})`);
  for (const [k, tag] of entries) {
    if (!k.length || k.length > MAX_TAG_KEY) throw new Invalid('tags', `tag names must be 1-${MAX_TAG_KEY} characters`);
    if (typeof tag !== 'string') throw new Invalid(`tags.${k}`, 'tag values must be strings');
    if (tag.length > MAX_TAG_VALUE) throw new Invalid(`tags.${k}`, `tag values must be at most ${MAX_TAG_VALUE} characters`);
  }
  // fromEntries defines own properties, so a "__proto__" tag stays a tag
  return Object.fromEntries(entries) as Record<string, string>;
}
