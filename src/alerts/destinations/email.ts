/**
 * Email over SMTP (nodemailer): a text and an HTML part. The SMTP host is resolved and checked like
 * an HTTP destination, and the connection goes to the checked address (TLS still verifies the name).
 */
import net from 'node:net';
import nodemailer from 'nodemailer';
import { badRequest } from '../../errors.js';
import type { AlertMessage } from '../message.js';
import { OutboundError, resolveChecked } from '../outbound.js';
import { RESULT_BODY_CHARS, optionalBoolean, optionalString, requireString } from './common.js';
import { contextLine, escapeHtml, itemFigures, itemKind, leadOf, plainText, safeLink, shownItems } from './render.js';
import type { DestinationDriver, SendResult } from './types.js';

const MAX_RECIPIENTS = 50;
const ADDRESS = /^[^\s@<>",;]+@[^\s@<>",;]+\.[^\s@<>",;]+$/;
/** "alerts@example.com" or "Vigil <alerts@example.com>" */
const MAILBOX = /^(?:[^<>\r\n]*<([^\s@<>]+@[^\s@<>]+)>|([^\s@<>]+@[^\s@<>]+))$/;
const CONNECTION_TIMEOUT_MS = 10_000;
const SOCKET_TIMEOUT_MS = 20_000;

function port(config: Record<string, unknown>): number {
  const value = config.port ?? 587;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535)
    throw badRequest('config.port must be an integer from 1 to 65535', { field: 'config.port' });
  return value;
}

function recipients(config: Record<string, unknown>): string[] {
  const to = config.to;
  const list =
    typeof to === 'string'
      ? to
          .split(',')
          .map((a) => a.trim())
          .filter(Boolean)
      : to;
  if (!Array.isArray(list) || list.length === 0) throw badRequest('config.to must list at least one address', { field: 'config.to' });
  if (list.length > MAX_RECIPIENTS) throw badRequest(`config.to lists more than ${MAX_RECIPIENTS} addresses`, { field: 'config.to' });
  list.forEach((a, i) => {
    if (typeof a !== 'string' || !ADDRESS.test(a))
      throw badRequest(`config.to[${i}] is not an email address`, { field: `config.to[${i}]` });
  });
  return list as string[];
}

export function emailHtml(message: AlertMessage): string {
  const { items, more } = shownItems(message);
  const a = (url: string | null | undefined, label: string) => {
    const safe = safeLink(url);
    return safe ? `<a href="${escapeHtml(safe)}">${escapeHtml(label)}</a>` : escapeHtml(label);
  };
  const rows = items.flatMap((i) => [
    `<tr><td style="padding:4px 12px 4px 0"><strong>${a(i.link, i.label)}</strong></td><td style="padding:4px 12px 4px 0">${escapeHtml(itemFigures(i))}</td><td style="padding:4px 0;color:#555">${escapeHtml(itemKind(i))}</td></tr>`,
    ...(i.explanation ? [`<tr><td colspan="3" style="padding:0 0 8px;color:#555">${escapeHtml(i.explanation)}</td></tr>`] : []),
  ]);
  if (more) rows.push(`<tr><td colspan="3" style="padding:4px 0;color:#555">… and ${more} more</td></tr>`);
  return [
    '<!doctype html><html><body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;font-size:14px;color:#111">',
    `<h2 style="margin:0 0 12px;font-size:18px">${escapeHtml(message.title)}</h2>`,
    `<p>${escapeHtml(leadOf(message))}</p>`,
    rows.length ? `<table style="border-collapse:collapse">${rows.join('')}</table>` : '',
    safeLink(message.incident?.url) ? `<p>${a(message.incident!.url, 'Open incident')}</p>` : '',
    `<p style="color:#888;font-size:12px">${escapeHtml(contextLine(message))}</p>`,
    '</body></html>',
  ].join('\n');
}

/** What an alert e-mail says: the subject is the title, which names the project already ("[Shop] Incident opened: ..."). */
export function emailContent(message: AlertMessage): { subject: string; text: string; html: string } {
  return { subject: message.title, text: plainText(message), html: emailHtml(message) };
}

/** SMTP replies 4xx (try later) and connection trouble are worth retrying; 5xx and bad credentials are not. */
function resultOfMailError(err: unknown): SendResult {
  if (err instanceof OutboundError) return { ok: false, status: null, body: '', error: err.message, retryable: err.retryable };
  const e = err as { code?: string; responseCode?: number; response?: string; message?: string };
  const status = typeof e.responseCode === 'number' ? e.responseCode : null;
  const retryable = status !== null ? status >= 400 && status < 500 : !['EAUTH', 'EENVELOPE', 'EMESSAGE', 'ETLS'].includes(e.code ?? '');
  return {
    ok: false,
    status,
    body: (e.response ?? '').slice(0, RESULT_BODY_CHARS),
    error: `${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}`,
    retryable,
  };
}

export const emailDriver: DestinationDriver = {
  kind: 'email',
  secretFields: ['password'],
  validate(config, secrets) {
    const host = requireString(config, 'host', 'config', 253);
    if (!net.isIP(host) && !/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(host))
      throw badRequest('config.host is not a host name', { field: 'config.host' });
    port(config);
    optionalBoolean(config, 'secure');
    const from = requireString(config, 'from', 'config', 320);
    if (!MAILBOX.test(from))
      throw badRequest('config.from must be an address, e.g. alerts@example.com or "Vigil <alerts@example.com>"', { field: 'config.from' });
    recipients(config);
    const user = optionalString(config, 'user', 'config', 320);
    if (user !== undefined) requireString(secrets, 'password', 'secrets', 1000);
  },
  targets(config) {
    return [{ field: 'config.host', host: String(config.host) }];
  },
  async send(destination, message, ctx) {
    const { config, secrets } = destination;
    const host = String(config.host);
    try {
      const [address] = await resolveChecked(host, { allowPrivate: ctx.allowPrivate });
      const user = optionalString(config, 'user');
      const transport = nodemailer.createTransport({
        host: address.address,
        port: port(config),
        // true: TLS from the first byte (port 465); false: STARTTLS when the server offers it
        secure: config.secure === true,
        tls: net.isIP(host) ? undefined : { servername: host },
        auth: user ? { user, pass: secrets.password } : undefined,
        connectionTimeout: CONNECTION_TIMEOUT_MS,
        greetingTimeout: CONNECTION_TIMEOUT_MS,
        socketTimeout: SOCKET_TIMEOUT_MS,
      });
      const from = String(config.from);
      const domain = (from.match(MAILBOX)?.slice(1).find(Boolean) ?? 'vigil.invalid').split('@')[1];
      try {
        const info = await transport.sendMail({
          from,
          to: recipients(config),
          ...emailContent(message),
          // the same delivery keeps its Message-ID, so a retried send threads (and dedups) as one
          messageId: `<${ctx.idempotencyKey.replace(/[^\w.-]/g, '_')}@${domain}>`,
          headers: { 'X-Vigil-Idempotency-Key': ctx.idempotencyKey, 'X-Vigil-Event': message.event },
        });
        const response = String(info.response ?? '');
        const code = Number(response.slice(0, 3));
        return {
          ok: true,
          status: Number.isInteger(code) && code > 0 ? code : null,
          body: response.slice(0, RESULT_BODY_CHARS),
          retryable: false,
          externalId: info.messageId,
        };
      } finally {
        transport.close();
      }
    } catch (err) {
      return resultOfMailError(err);
    }
  },
};
