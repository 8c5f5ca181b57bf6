/** Slack incoming webhook: `{ text }` in mrkdwn, or Block Kit `{ text, blocks }` (text is the notification fallback). */
import type { AlertEvent, AlertItem, AlertMessage } from '../message.js';
import { optionalEnum, postJson, requireHttpUrl } from './common.js';
import { contextLine, itemFigures, itemKind, leadOf, safeLink, shownItems } from './render.js';
import type { DestinationDriver } from './types.js';

export const SLACK_FORMATS = ['text', 'blocks'] as const;

const EMOJI: Record<AlertEvent, string> = {
  opened: ':red_circle:',
  reopened: ':red_circle:',
  repeat: ':large_orange_circle:',
  resolved: ':white_check_mark:',
  digest: ':clipboard:',
  test: ':test_tube:',
};
/** Block Kit limits: header text 150 characters, section text 3,000 */
const HEADER_MAX = 150;
const SECTION_MAX = 3000;

/** Slack's mrkdwn needs &, < and > escaped; everything else is literal. */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function link(url: string | null | undefined, label: string): string {
  const safe = safeLink(url);
  return safe ? `<${safe.replace(/[|>]/g, encodeURIComponent)}|${escapeSlack(label)}>` : escapeSlack(label);
}

function itemMrkdwn(item: AlertItem): string {
  // a quote, not italics: an event or metric name with "_" in it would end an italic span early
  const why = item.explanation ? `\n>${escapeSlack(item.explanation)}` : '';
  return `*${link(item.link, item.label)}*: ${escapeSlack(itemFigures(item))} · ${escapeSlack(itemKind(item))}${why}`;
}

export function slackText(message: AlertMessage): string {
  const { items, more } = shownItems(message);
  const lines = [`${EMOJI[message.event]} *${escapeSlack(message.title)}*`, escapeSlack(leadOf(message))];
  lines.push(...items.map((i) => `• ${itemMrkdwn(i)}`));
  if (more) lines.push(`• … and ${more} more`);
  if (message.incident?.url) lines.push(link(message.incident.url, 'Open incident'));
  lines.push(`_${escapeSlack(contextLine(message))}_`);
  return lines.join('\n');
}

export function slackBlocks(message: AlertMessage): unknown[] {
  const { items, more } = shownItems(message);
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(`${EMOJI[message.event]} ${message.title}`, HEADER_MAX), emoji: true } },
  ];
  blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(escapeSlack(leadOf(message)), SECTION_MAX) } });
  for (const item of items) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(itemMrkdwn(item), SECTION_MAX) } });
  if (more) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `… and ${more} more` } });
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: escapeSlack(contextLine(message)) }] });
  const url = safeLink(message.incident?.url);
  if (url) blocks.push({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open incident' }, url }] });
  return blocks;
}

export const slackDriver: DestinationDriver = {
  kind: 'slack',
  secretFields: ['webhookUrl'],
  validate(config, secrets) {
    requireHttpUrl(secrets, 'webhookUrl', 'secrets');
    optionalEnum(config, 'format', SLACK_FORMATS);
  },
  targets(_config, secrets) {
    return [{ field: 'secrets.webhookUrl', url: secrets.webhookUrl }];
  },
  async send(destination, message, ctx) {
    const format = destination.config.format === 'text' ? 'text' : 'blocks';
    const payload =
      format === 'text' ? { text: slackText(message), mrkdwn: true } : { text: `${message.title}`, blocks: slackBlocks(message) };
    const { result } = await postJson(ctx, destination.secrets.webhookUrl, payload);
    return result;
  },
};
