/**
 * Telegram bot `sendMessage` with parse_mode HTML. A message longer than Telegram's 4,096 characters
 * is sent as several, cut at line ends where possible and never inside a tag or an entity; tags
 * open at a cut are closed at the end of one part and opened again at the start of the next.
 */
import { badRequest } from '../../errors.js';
import type { AlertEvent, AlertMessage } from '../message.js';
import { baseUrl, optionalHttpUrl, parseJson, postJson, requireString } from './common.js';
import { contextLine, escapeHtml, itemFigures, itemKind, leadOf, safeLink, shownItems } from './render.js';
import type { DestinationDriver, SendResult } from './types.js';

export const TELEGRAM_MAX_CHARS = 4096;
const DEFAULT_BASE = 'https://api.telegram.org';
const EMOJI: Record<AlertEvent, string> = { opened: '🔴', reopened: '🔴', repeat: '🟠', resolved: '✅', digest: '📋', test: '🧪' };

export function telegramHtml(message: AlertMessage): string {
  const { items, more } = shownItems(message);
  const a = (url: string | null | undefined, label: string) => {
    const safe = safeLink(url);
    return safe ? `<a href="${escapeHtml(safe)}">${escapeHtml(label)}</a>` : escapeHtml(label);
  };
  const lines = [`${EMOJI[message.event]} <b>${escapeHtml(message.title)}</b>`];
  lines.push(escapeHtml(leadOf(message)));
  if (items.length) lines.push('');
  for (const item of items) {
    lines.push(`• <b>${a(item.link, item.label)}</b>: ${escapeHtml(itemFigures(item))} · ${escapeHtml(itemKind(item))}`);
    if (item.explanation) lines.push(`  <i>${escapeHtml(item.explanation)}</i>`);
  }
  if (more) lines.push(`• … and ${more} more`);
  if (message.incident?.url) lines.push('', a(message.incident.url, 'Open incident'));
  lines.push('', `<i>${escapeHtml(contextLine(message))}</i>`);
  return lines.join('\n');
}

interface OpenTag {
  name: string;
  open: string;
}

const closing = (stack: OpenTag[]) =>
  stack
    .map((t) => `</${t.name}>`)
    .reverse()
    .join('');
const opening = (stack: OpenTag[]) => stack.map((t) => t.open).join('');

function applyTag(stack: OpenTag[], token: string): OpenTag[] {
  const m = token.match(/^<(\/?)([a-zA-Z][\w-]*)/);
  if (!m || token.endsWith('/>')) return stack;
  if (m[1]) {
    const i = stack.map((t) => t.name).lastIndexOf(m[2]);
    return i < 0 ? stack : stack.slice(0, i);
  }
  return [...stack, { name: m[2], open: token }];
}

/**
 * Splits Telegram HTML into parts of at most `limit` characters (UTF-16 units, as JavaScript and
 * Telegram count), each well-formed on its own.
 */
export function splitTelegramHtml(html: string, limit = TELEGRAM_MAX_CHARS): string[] {
  if (html.length <= limit) return [html];
  // a token is a whole tag, a whole entity, or one code point (a surrogate pair is never cut)
  const tokens = html.match(/<[^>]*>|&(?:#\d+|#x[\da-f]+|\w+);|[\s\S]/giu) ?? [];
  const parts: string[] = [];
  let stack: OpenTag[] = [];
  let part = '';
  let prefixLength = 0;
  let lastBreak: { length: number; stack: OpenTag[]; index: number } | null = null;
  const start = () => {
    part = opening(stack);
    prefixLength = part.length;
    lastBreak = null;
  };
  start();
  for (let i = 0; i < tokens.length; ) {
    const token = tokens[i];
    const next = token.startsWith('<') ? applyTag(stack, token) : stack;
    const fits = part.length + token.length + closing(next).length <= limit;
    if (!fits && part.length > prefixLength) {
      const cut: { length: number; stack: OpenTag[]; index: number } | null = lastBreak;
      if (cut && cut.length - prefixLength > (limit - prefixLength) / 2) {
        // end the part at the last line break (dropping the break itself) and go on after it
        parts.push(part.slice(0, cut.length - 1) + closing(cut.stack));
        stack = cut.stack;
        i = cut.index + 1;
      } else {
        parts.push(part + closing(stack));
      }
      start();
      continue;
    }
    part += token;
    stack = next;
    if (token === '\n') lastBreak = { length: part.length, stack, index: i };
    i++;
  }
  if (part.length > prefixLength) parts.push(part + closing(stack));
  return parts.filter((p) => p.replace(/<[^>]*>/g, '').trim() !== '');
}

function chatId(config: Record<string, unknown>): string | number {
  const value = config.chatId;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && (/^-?\d+$/.test(value) || /^@[A-Za-z]\w{3,}$/.test(value))) return value;
  if (value === undefined || value === null || value === '') throw badRequest('config.chatId is required', { field: 'config.chatId' });
  throw badRequest('config.chatId must be a numeric chat id (e.g. -1001234567890) or a channel name (@channel)', {
    field: 'config.chatId',
  });
}

export const telegramDriver: DestinationDriver = {
  kind: 'telegram',
  secretFields: ['botToken'],
  validate(config, secrets) {
    const token = requireString(secrets, 'botToken', 'secrets', 200);
    if (!/^\d+:[\w-]+$/.test(token))
      throw badRequest('secrets.botToken is not a bot token (expected <digits>:<letters>, as BotFather gives it)', {
        field: 'secrets.botToken',
      });
    chatId(config);
    optionalHttpUrl(config, 'baseUrl');
  },
  targets(config) {
    // the service's own endpoint is public: only a base URL the user set is checked when saving
    return config.baseUrl ? [{ field: 'config.baseUrl', url: String(config.baseUrl) }] : [];
  },
  async send(destination, message, ctx) {
    const url = `${baseUrl(destination.config, 'baseUrl', DEFAULT_BASE)}/bot${destination.secrets.botToken}/sendMessage`;
    const parts = splitTelegramHtml(telegramHtml(message));
    let last: SendResult | null = null;
    let firstId: string | undefined;
    for (const [i, text] of parts.entries()) {
      const { res, result } = await postJson(ctx, url, {
        chat_id: chatId(destination.config),
        text,
        parse_mode: 'HTML',
        link_preview_options: { is_disabled: true },
      });
      if (!result.ok) return parts.length > 1 ? { ...result, error: `part ${i + 1} of ${parts.length}: ${result.error}` } : result;
      const id = (parseJson(res!.body) as { result?: { message_id?: number } } | null)?.result?.message_id;
      if (firstId === undefined && id !== undefined) firstId = String(id);
      last = result;
    }
    return { ...last!, externalId: firstId };
  },
};
