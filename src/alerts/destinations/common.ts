/** What every driver shares: reading its settings (each error naming the field) and turning answers into SendResults. */
import { badRequest } from '../../errors.js';
import { OutboundError, type OutboundRequest, type OutboundResponse } from '../outbound.js';
import type { SendContext, SendResult } from './types.js';

/** how much of a receiver's answer a SendResult keeps */
export const RESULT_BODY_CHARS = 2000;

type Settings = Record<string, unknown>;

/** A required non-empty string setting (`where` is 'config' or 'secrets'). */
export function requireString(settings: Settings, key: string, where: 'config' | 'secrets' = 'config', max = 2000): string {
  const value = settings[key];
  const field = `${where}.${key}`;
  if (value === undefined || value === null || value === '') throw badRequest(`${field} is required`, { field });
  if (typeof value !== 'string') throw badRequest(`${field} must be a string`, { field });
  if (value.trim() === '') throw badRequest(`${field} must not be blank`, { field });
  if (value.length > max) throw badRequest(`${field} is too long (at most ${max} characters)`, { field });
  return value;
}

export function optionalString(settings: Settings, key: string, where: 'config' | 'secrets' = 'config', max = 2000): string | undefined {
  const value = settings[key];
  if (value === undefined || value === null || value === '') return undefined;
  return requireString(settings, key, where, max);
}

export function optionalBoolean(settings: Settings, key: string): boolean | undefined {
  const value = settings[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw badRequest(`config.${key} must be true or false`, { field: `config.${key}` });
  return value;
}

export function optionalEnum<T extends string>(settings: Settings, key: string, allowed: readonly T[]): T | undefined {
  const value = settings[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw badRequest(`config.${key} must be one of ${allowed.map((a) => `"${a}"`).join(', ')}`, { field: `config.${key}` });
  }
  return value as T;
}

/** An http(s) URL setting. Whether http is allowed and where the host resolves are checked by checkUrl/the guard. */
export function requireHttpUrl(settings: Settings, key: string, where: 'config' | 'secrets' = 'config'): URL {
  return httpUrl(requireString(settings, key, where), `${where}.${key}`);
}

export function optionalHttpUrl(settings: Settings, key: string): URL | undefined {
  const value = optionalString(settings, key);
  return value === undefined ? undefined : httpUrl(value, `config.${key}`);
}

function httpUrl(value: string, field: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw badRequest(`${field} is not a valid absolute URL`, { field });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw badRequest(`${field} must be an https URL`, { field });
  if (url.username || url.password) throw badRequest(`${field} must not contain a user name or password`, { field });
  return url;
}

/** A base URL with any trailing slash removed, so `${base}/path` never has two. */
export function baseUrl(settings: Settings, key: string, fallback: string): string {
  const value = settings[key];
  return (typeof value === 'string' && value !== '' ? value : fallback).replace(/\/+$/, '');
}

/** The message a receiver put in its error answer (JSON fields the services use, else the text). */
export function receiverMessage(body: string): string {
  const text = body.trim();
  try {
    const json: unknown = JSON.parse(text);
    const found = messageIn(json);
    if (found) return found.slice(0, 500);
  } catch {
    // not JSON: the text itself
  }
  return text.slice(0, 500);
}

function messageIn(json: unknown): string | null {
  if (typeof json === 'string') return json;
  if (typeof json !== 'object' || json === null) return null;
  const o = json as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of ['description', 'message', 'error_description', 'errorMessage'])
    if (typeof o[key] === 'string' && o[key]) parts.push(o[key] as string);
  if (typeof o.error === 'string') parts.push(o.error);
  else if (o.error && typeof o.error === 'object' && typeof (o.error as Record<string, unknown>).message === 'string')
    parts.push((o.error as Record<string, string>).message);
  // Jira: errorMessages [...] and errors {field: message}; PagerDuty: errors [...]; GraphQL: errors [{message}]
  if (Array.isArray(o.errorMessages)) parts.push(...o.errorMessages.filter((m): m is string => typeof m === 'string'));
  if (Array.isArray(o.errors))
    parts.push(...o.errors.map((e) => (typeof e === 'string' ? e : messageIn(e))).filter((m): m is string => !!m));
  else if (o.errors && typeof o.errors === 'object')
    parts.push(...Object.entries(o.errors as Record<string, unknown>).map(([k, v]) => `${k}: ${String(v)}`));
  return parts.length ? [...new Set(parts)].join('; ') : null;
}

export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 408 || status >= 500;
}

/** The SendResult for an HTTP answer: 2xx is ok; 429/408/5xx retryable; other statuses not, with the receiver's message. */
export function resultOf(res: OutboundResponse, extra: Partial<SendResult> = {}): SendResult {
  const body = res.body.slice(0, RESULT_BODY_CHARS);
  if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status, body, retryable: false, ...extra };
  const said = receiverMessage(res.body);
  return {
    ok: false,
    status: res.status,
    body,
    retryable: isRetryableStatus(res.status),
    error: `HTTP ${res.status}${said ? `: ${said}` : ''}`,
    ...extra,
  };
}

/** The SendResult for a request that got no answer (or anything else thrown while sending). */
export function resultOfError(err: unknown): SendResult {
  if (err instanceof OutboundError) return { ok: false, status: null, body: '', error: err.message, retryable: err.retryable };
  const e = err as { message?: string; status?: number };
  // a VigilError (bad settings) has a 4xx status: not worth retrying
  const retryable = !(typeof e.status === 'number' && e.status < 500);
  return { ok: false, status: null, body: '', error: e.message ?? String(err), retryable };
}

/** Sends one request: the answer, or the failed SendResult when none came. */
export async function exchange(
  ctx: SendContext,
  req: OutboundRequest,
): Promise<{ res: OutboundResponse; result: SendResult } | { res: null; result: SendResult }> {
  try {
    const res = await ctx.http.request(req);
    return { res, result: resultOf(res) };
  } catch (err) {
    return { res: null, result: resultOfError(err) };
  }
}

export function postJson(ctx: SendContext, url: string, payload: unknown, headers: Record<string, string> = {}) {
  return exchange(ctx, { method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(payload) });
}

export function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return null;
  }
}

export const SKIPPED: SendResult = { ok: true, skipped: true, status: null, body: '', retryable: false };
