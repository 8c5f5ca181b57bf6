/**
 * Generic webhook: a JSON POST signed like Stripe's: `X-Vigil-Signature: v1=<hex HMAC-SHA256 of
 * "<X-Vigil-Timestamp>.<raw body>">` with the destination's secret. Receivers check it with
 * verifyWebhookSignature (or its few lines in their own language; see README "Alert destinations").
 */
import crypto from 'node:crypto';
import { badRequest } from '../../errors.js';
import type { AlertMessage } from '../message.js';
import { exchange, requireHttpUrl, requireString } from './common.js';
import { itemPercent } from './render.js';
import type { DestinationDriver } from './types.js';

export const SIGNATURE_HEADER = 'X-Vigil-Signature';
export const TIMESTAMP_HEADER = 'X-Vigil-Timestamp';
export const IDEMPOTENCY_HEADER = 'X-Vigil-Idempotency-Key';
export const EVENT_HEADER = 'X-Vigil-Event';

/** Headers a destination's custom headers may not set (ours, and those the HTTP client owns). */
const RESERVED_HEADERS = new Set(['content-type', 'content-length', 'host', 'transfer-encoding', 'connection', 'user-agent']);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const MAX_CUSTOM_HEADERS = 20;

/** A fresh signing secret, for a webhook saved without one. */
export function generateWebhookSecret(): string {
  return `whsec_${crypto.randomBytes(24).toString('base64url')}`;
}

export function signWebhook(secret: string, timestamp: number | string, body: string): string {
  return `v1=${crypto.createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * True when `header` (X-Vigil-Signature; several `v1=` values separated by commas are accepted,
 * for secret rotation) signs `timestamp` + `body` with `secret`, and the timestamp is within
 * `toleranceS` seconds of now. `body` must be the raw bytes received, not re-serialized JSON.
 */
export function verifyWebhookSignature(
  secret: string,
  timestamp: string | number,
  body: string,
  header: string,
  toleranceS = 300,
  nowMs = Date.now(),
): boolean {
  const ts = Number(timestamp);
  if (!Number.isInteger(ts) || Math.abs(nowMs / 1000 - ts) > toleranceS) return false;
  const expected = Buffer.from(signWebhook(secret, ts, body));
  return header.split(',').some((candidate) => {
    const given = Buffer.from(candidate.trim());
    return given.length === expected.length && crypto.timingSafeEqual(given, expected);
  });
}

/** The JSON a webhook receives. */
export function webhookPayload(message: AlertMessage) {
  return {
    project: message.project,
    rule: message.rule,
    incident: message.incident,
    event: message.event,
    items: message.items.map((item) => ({
      scopeKey: item.scopeKey,
      kind: item.kind,
      label: item.label,
      direction: item.direction,
      bucket: item.bucket,
      severity: item.severity,
      actual: item.actual,
      expected: item.expected,
      delta: item.delta ?? (item.expected === null ? null : item.actual - item.expected),
      percentDelta: itemPercent(item),
      explanation: item.explanation ?? null,
      links: { item: item.link, incident: message.incident?.url ?? null },
    })),
    title: message.title,
    text: message.text,
    createdAt: message.createdAt,
  };
}

function customHeaders(config: Record<string, unknown>): Record<string, string> {
  const headers = config.headers;
  if (headers === undefined || headers === null) return {};
  if (typeof headers !== 'object' || Array.isArray(headers))
    throw badRequest('config.headers must be an object of header names to values', { field: 'config.headers' });
  const entries = Object.entries(headers as Record<string, unknown>);
  if (entries.length > MAX_CUSTOM_HEADERS)
    throw badRequest(`config.headers has more than ${MAX_CUSTOM_HEADERS} headers`, { field: 'config.headers' });
  for (const [name, value] of entries) {
    const field = `config.headers.${name}`;
    if (!HEADER_NAME.test(name)) throw badRequest(`${field}: "${name}" is not a valid header name`, { field });
    const lower = name.toLowerCase();
    if (lower.startsWith('x-vigil-') || RESERVED_HEADERS.has(lower))
      throw badRequest(`${field}: ${name} is set by Vigil and cannot be overridden`, { field });
    if (typeof value !== 'string') throw badRequest(`${field} must be a string`, { field });
    if (/[\r\n\0]/.test(value)) throw badRequest(`${field} must not contain line breaks`, { field });
    if (value.length > 4000) throw badRequest(`${field} is too long (at most 4000 characters)`, { field });
  }
  return headers as Record<string, string>;
}

export const webhookDriver: DestinationDriver = {
  kind: 'webhook',
  secretFields: ['secret'],
  validate(config, secrets) {
    requireHttpUrl(config, 'url');
    const secret = requireString(secrets, 'secret', 'secrets', 500);
    if (secret.length < 16) throw badRequest('secrets.secret is too short (at least 16 characters)', { field: 'secrets.secret' });
    customHeaders(config);
  },
  targets(config) {
    return [{ field: 'config.url', url: String(config.url) }];
  },
  async send(destination, message, ctx) {
    const body = JSON.stringify(webhookPayload(message));
    const timestamp = Math.floor(ctx.now() / 1000);
    const headers = {
      ...customHeaders(destination.config),
      'content-type': 'application/json',
      [TIMESTAMP_HEADER]: String(timestamp),
      [SIGNATURE_HEADER]: signWebhook(destination.secrets.secret, timestamp, body),
      [IDEMPOTENCY_HEADER]: ctx.idempotencyKey,
      [EVENT_HEADER]: message.event,
    };
    // the signature covers exactly these bytes: sent as they are, never re-serialized
    const { result } = await exchange(ctx, { method: 'POST', url: String(destination.config.url), headers, body });
    return result;
  },
};
