/**
 * The settings each destination kind takes, as its driver's validate() reads them
 * (src/alerts/destinations/<kind>.ts): which are plain config and which are secrets (write-only:
 * stored encrypted, never shown again).
 */
import { ApiError } from '../../api/client';
import type { DestinationKind } from '../../api/alerts';

export interface DestinationField {
  key: string;
  where: 'config' | 'secrets';
  label: string;
  /** text (default), a number, a yes/no, one of options, a JSON object, or a comma-separated list */
  type?: 'text' | 'url' | 'number' | 'checkbox' | 'select' | 'json' | 'list';
  options?: string[];
  required?: boolean;
  hint?: string;
  placeholder?: string;
}

export const KIND_LABELS: Record<DestinationKind, string> = {
  webhook: 'Webhook',
  slack: 'Slack',
  telegram: 'Telegram',
  email: 'Email (SMTP)',
  jira: 'Jira',
  linear: 'Linear',
  pagerduty: 'PagerDuty',
  teams: 'Microsoft Teams',
};

export const DESTINATION_FIELDS: Record<DestinationKind, DestinationField[]> = {
  webhook: [
    { key: 'url', where: 'config', label: 'URL', type: 'url', required: true, placeholder: 'https://example.com/hooks/vigil' },
    {
      key: 'secret',
      where: 'secrets',
      label: 'Signing secret',
      required: true,
      hint: 'At least 16 characters; requests carry X-Vigil-Signature, an HMAC-SHA256 with it.',
    },
    {
      key: 'headers',
      where: 'config',
      label: 'Extra headers',
      type: 'json',
      hint: 'A JSON object of header names to values, e.g. {"Authorization": "Bearer …"}',
    },
  ],
  slack: [
    {
      key: 'webhookUrl',
      where: 'secrets',
      label: 'Incoming webhook URL',
      type: 'url',
      required: true,
      placeholder: 'https://hooks.slack.com/services/…',
    },
    { key: 'format', where: 'config', label: 'Format', type: 'select', options: ['blocks', 'text'] },
  ],
  telegram: [
    { key: 'botToken', where: 'secrets', label: 'Bot token', required: true, hint: 'As BotFather gives it: 123456:ABC…' },
    {
      key: 'chatId',
      where: 'config',
      label: 'Chat',
      required: true,
      hint: 'A numeric chat id (-1001234567890) or a channel name (@channel)',
    },
    { key: 'baseUrl', where: 'config', label: 'API base URL', type: 'url', hint: 'Leave empty for api.telegram.org' },
  ],
  email: [
    { key: 'host', where: 'config', label: 'SMTP host', required: true, placeholder: 'smtp.example.com' },
    { key: 'port', where: 'config', label: 'Port', type: 'number', placeholder: '587' },
    { key: 'secure', where: 'config', label: 'TLS from the first byte (port 465)', type: 'checkbox' },
    { key: 'from', where: 'config', label: 'From', required: true, placeholder: 'Vigil <alerts@example.com>' },
    { key: 'to', where: 'config', label: 'To', type: 'list', required: true, hint: 'Addresses, separated by commas' },
    { key: 'user', where: 'config', label: 'User name', hint: 'Leave empty when the server needs no sign-in' },
    { key: 'password', where: 'secrets', label: 'Password', hint: 'Needed with a user name' },
  ],
  jira: [
    { key: 'baseUrl', where: 'config', label: 'Jira URL', type: 'url', required: true, placeholder: 'https://yourteam.atlassian.net' },
    { key: 'projectKey', where: 'config', label: 'Project key', required: true, placeholder: 'OPS' },
    { key: 'issueType', where: 'config', label: 'Issue type', placeholder: 'Task' },
    { key: 'email', where: 'config', label: 'Account email', required: true, hint: 'The Jira account the API token belongs to' },
    { key: 'apiToken', where: 'secrets', label: 'API token', required: true },
  ],
  linear: [
    { key: 'teamId', where: 'config', label: 'Team id', required: true },
    { key: 'apiKey', where: 'secrets', label: 'API key', required: true },
    { key: 'baseUrl', where: 'config', label: 'API base URL', type: 'url', hint: 'Leave empty for api.linear.app' },
  ],
  pagerduty: [
    { key: 'routingKey', where: 'secrets', label: 'Integration key (Events API v2)', required: true },
    { key: 'source', where: 'config', label: 'Source', hint: 'Shown in PagerDuty; vigil/<project> when empty' },
    { key: 'baseUrl', where: 'config', label: 'Events API base URL', type: 'url', hint: 'Leave empty for events.pagerduty.com' },
  ],
  teams: [
    {
      key: 'webhookUrl',
      where: 'secrets',
      label: 'Incoming webhook URL',
      type: 'url',
      required: true,
      hint: 'A Workflows or connector webhook of the channel',
    },
  ],
};

export const fieldName = (f: DestinationField) => `${f.where}.${f.key}`;

/** The server's message about `field`, also when it names an item of it (`config.to[0]`, `config.headers.X`). */
export function destinationFieldError(error: unknown, field: string): string | undefined {
  if (!(error instanceof ApiError) || !error.field) return undefined;
  const f = error.field;
  return f === field || f.startsWith(field + '.') || f.startsWith(field + '[') ? error.message : undefined;
}

/** A fresh webhook signing secret, made in the browser (like the server's whsec_ ones). */
export function generateSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return (
    'whsec_' +
    btoa(String.fromCharCode(...bytes))
      .replace(/\+/g, '-')
      .replace(/\//g, '_')
      .replace(/=+$/, '')
  );
}
