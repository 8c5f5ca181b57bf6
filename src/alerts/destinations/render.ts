/**
 * Plain pieces every destination formats from. A rendered message says each thing once: the title
 * (project, what happened, the incident), the lead (the text's first line: severity, start, how
 * many signals), one line per item, the incident's link, and a footer (rule, time sent).
 */
import { formatDistinct, formatNumber, formatPercentChange } from '../../format/number.js';
import type { AlertItem, AlertMessage } from '../message.js';
import { percentDelta } from '../message.js';

/** at most this many items are spelled out; the rest are counted */
export const MAX_ITEMS_SHOWN = 10;

/** percentDelta as the item says, recomputed when missing (null when expected is 0 or unknown) */
export function itemPercent(item: AlertItem): number | null {
  return item.percentDelta ?? percentDelta(item.actual, item.expected);
}

/** "120 (expected 200, −40%)"; the value and the expected one with the digits that tell them apart */
export function itemFigures(item: AlertItem): string {
  if (item.expected === null) return formatNumber(item.actual);
  const p = itemPercent(item);
  const [actual, expected] = formatDistinct([item.actual, item.expected]);
  return `${actual} (expected ${expected}${p === null ? '' : `, ${formatPercentChange(p)}`})`;
}

/** "drop, critical" */
export function itemKind(item: AlertItem): string {
  return `${item.kind.replace(/_/g, ' ')}, ${item.severity}`;
}

/** "signups: 120 (expected 200, −40%) — drop, critical" */
export function itemLine(item: AlertItem): string {
  return `${item.label}: ${itemFigures(item)} — ${itemKind(item)}`;
}

export function shownItems(message: AlertMessage): { items: AlertItem[]; more: number } {
  return { items: message.items.slice(0, MAX_ITEMS_SHOWN), more: Math.max(0, message.items.length - MAX_ITEMS_SHOWN) };
}

/** An instant as people read it in a message: "2026-05-01 10:05 UTC" */
export function formatUtc(at: string | number): string {
  return `${new Date(at).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** The text's first line: what the title does not say (the rest of the text lists the items again, for plain receivers). */
export function leadOf(message: AlertMessage): string {
  return message.text.split('\n')[0];
}

/** The footer: "Rule “Checkout alerts” · 2026-05-01 10:05 UTC" (the project is in the title) */
export function contextLine(message: AlertMessage): string {
  return `${message.rule ? `Rule “${message.rule.name}”` : 'Vigil'} · ${formatUtc(message.createdAt)}`;
}

/** The whole message as plain text (the email's text part). */
export function plainText(message: AlertMessage): string {
  const { items, more } = shownItems(message);
  const lines = [message.title, '', leadOf(message)];
  if (items.length)
    lines.push(
      '',
      ...items.flatMap((i) => [`• ${itemLine(i)}${i.link ? ` <${i.link}>` : ''}`, ...(i.explanation ? [`  ${i.explanation}`] : [])]),
    );
  if (more) lines.push(`• … and ${more} more`);
  if (message.incident?.url) lines.push('', `Open incident: ${message.incident.url}`);
  lines.push('', contextLine(message));
  return lines.join('\n');
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A link worth rendering: only http(s), so a stored value cannot become javascript: in a client. */
export function safeLink(url: string | null | undefined): string | null {
  return url && /^https?:\/\//i.test(url) ? url : null;
}
