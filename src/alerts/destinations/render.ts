/** Plain pieces every destination formats from: numbers, percentages, one line per item, the event's name. */
import type { AlertEvent, AlertItem, AlertMessage } from '../message.js';
import { percentDelta } from '../message.js';

export const EVENT_LABELS: Record<AlertEvent, string> = {
  opened: 'Incident opened',
  reopened: 'Incident reopened',
  repeat: 'Still open',
  resolved: 'Resolved',
  digest: 'Digest',
  test: 'Test alert',
};

/** at most this many items are spelled out; the rest are counted */
export const MAX_ITEMS_SHOWN = 10;

const big = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
const small = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 3 });

export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  return Math.abs(n) >= 1 || n === 0 ? big.format(n) : small.format(n);
}

export function formatPercent(p: number): string {
  return `${p >= 0 ? '+' : '−'}${Math.abs(p).toFixed(1)}%`;
}

/** percentDelta as the item says, recomputed when missing (null when expected is 0 or unknown) */
export function itemPercent(item: AlertItem): number | null {
  return item.percentDelta ?? percentDelta(item.actual, item.expected);
}

/** "120 (expected 200, −40.0%)" */
export function itemFigures(item: AlertItem): string {
  if (item.expected === null) return formatNumber(item.actual);
  const p = itemPercent(item);
  return `${formatNumber(item.actual)} (expected ${formatNumber(item.expected)}${p === null ? '' : `, ${formatPercent(p)}`})`;
}

/** "drop, major" */
export function itemKind(item: AlertItem): string {
  return `${item.kind.replace(/_/g, ' ')}, ${item.severity}`;
}

/** "signups: 120 (expected 200, −40.0%) — drop, major" */
export function itemLine(item: AlertItem): string {
  return `${item.label}: ${itemFigures(item)} — ${itemKind(item)}`;
}

export function shownItems(message: AlertMessage): { items: AlertItem[]; more: number } {
  return { items: message.items.slice(0, MAX_ITEMS_SHOWN), more: Math.max(0, message.items.length - MAX_ITEMS_SHOWN) };
}

/** "Shop · rule Checkout alerts · 2026-05-01T10:00:00Z" */
export function contextLine(message: AlertMessage): string {
  return [message.project.name, message.rule ? `rule ${message.rule.name}` : null, message.createdAt].filter(Boolean).join(' · ');
}

/** The whole message as plain text (email text part, Linear/Jira fallbacks). */
export function plainText(message: AlertMessage): string {
  const { items, more } = shownItems(message);
  const lines = [`${EVENT_LABELS[message.event]}: ${message.title}`, '', message.text];
  if (items.length) lines.push('', ...items.map((i) => `- ${itemLine(i)}${i.link ? ` <${i.link}>` : ''}`));
  if (more) lines.push(`- … and ${more} more`);
  if (message.incident?.url) lines.push('', `Incident: ${message.incident.url}`);
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
