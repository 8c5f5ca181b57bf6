/** Microsoft Teams incoming webhook (Workflows or a legacy connector): a message with one Adaptive Card. */
import type { AlertEvent, AlertMessage } from '../message.js';
import { postJson, requireHttpUrl } from './common.js';
import { contextLine, itemFigures, itemKind, leadOf, safeLink, shownItems } from './render.js';
import type { DestinationDriver } from './types.js';

/** Adaptive Card colours of the title per event */
const COLOR: Record<AlertEvent, string> = {
  opened: 'Attention',
  reopened: 'Attention',
  repeat: 'Warning',
  resolved: 'Good',
  digest: 'Accent',
  test: 'Accent',
};

export function teamsCard(message: AlertMessage) {
  const { items, more } = shownItems(message);
  const body: Record<string, unknown>[] = [
    { type: 'TextBlock', text: message.title, color: COLOR[message.event], size: 'Large', weight: 'Bolder', wrap: true },
    { type: 'TextBlock', text: leadOf(message), wrap: true },
  ];
  if (items.length) {
    body.push({
      type: 'FactSet',
      facts: [
        ...items.map((i) => ({
          title: i.label,
          value: `${itemFigures(i)} · ${itemKind(i)}${i.explanation ? `\n\n${i.explanation}` : ''}`,
        })),
        ...(more ? [{ title: '…', value: `and ${more} more` }] : []),
      ],
    });
  }
  body.push({ type: 'TextBlock', text: contextLine(message), isSubtle: true, size: 'Small', wrap: true });
  const url = safeLink(message.incident?.url);
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body,
          ...(url ? { actions: [{ type: 'Action.OpenUrl', title: 'Open incident', url }] } : {}),
        },
      },
    ],
  };
}

export const teamsDriver: DestinationDriver = {
  kind: 'teams',
  secretFields: ['webhookUrl'],
  validate(_config, secrets) {
    requireHttpUrl(secrets, 'webhookUrl', 'secrets');
  },
  targets(_config, secrets) {
    return [{ field: 'secrets.webhookUrl', url: secrets.webhookUrl }];
  },
  async send(destination, message, ctx) {
    const { result } = await postJson(ctx, destination.secrets.webhookUrl, teamsCard(message));
    return result;
  },
};
