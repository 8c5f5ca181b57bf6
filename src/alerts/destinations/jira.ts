/**
 * Jira Cloud (REST v3): one issue per incident. The issue carries a label derived from the
 * incident's dedup key; before creating, the driver looks for an issue with that label
 * (`GET /rest/api/3/search/jql`, the enhanced search that replaced `/rest/api/3/search`) and
 * answers with its key instead of creating a second. Only "opened" and "test" create anything.
 */
import crypto from 'node:crypto';
import { badRequest } from '../../errors.js';
import type { AlertMessage } from '../message.js';
import { SKIPPED, exchange, optionalString, parseJson, postJson, requireHttpUrl, requireString } from './common.js';
import { contextLine, itemFigures, itemKind, leadOf, safeLink, shownItems } from './render.js';
import type { DestinationDriver } from './types.js';

const SUMMARY_MAX = 255;
const LABEL_MAX = 255;

/** A Jira label for a dedup key: no spaces, readable, and unique (a short hash is added when characters had to change). */
export function jiraLabel(dedupKey: string): string {
  const cleaned = dedupKey.replace(/[^A-Za-z0-9_.-]+/g, '-');
  const label = `vigil-${cleaned}`;
  if (cleaned === dedupKey && label.length <= LABEL_MAX) return label;
  const hash = crypto.createHash('sha256').update(dedupKey).digest('hex').slice(0, 10);
  return `${label.slice(0, LABEL_MAX - 11)}-${hash}`;
}

type AdfNode = Record<string, unknown>;

const text = (value: string, marks?: AdfNode[]): AdfNode =>
  marks?.length ? { type: 'text', text: value, marks } : { type: 'text', text: value };
const linkMark = (href: string | null | undefined): AdfNode[] => {
  const safe = safeLink(href);
  return safe ? [{ type: 'link', attrs: { href: safe } }] : [];
};

/** A paragraph whose line breaks become hardBreak nodes (ADF text nodes hold no newlines and are never empty). */
function paragraph(value: string, marks?: AdfNode[]): AdfNode {
  const content: AdfNode[] = [];
  value.split('\n').forEach((line, i) => {
    if (i > 0) content.push({ type: 'hardBreak' });
    if (line) content.push(text(line, marks));
  });
  return { type: 'paragraph', content };
}

/** The issue description as an Atlassian Document Format document. */
export function jiraDescription(message: AlertMessage): AdfNode {
  const { items, more } = shownItems(message);
  const content: AdfNode[] = [];
  content.push(paragraph(leadOf(message)));
  if (items.length) {
    const listItems: AdfNode[] = items.map((item) => ({
      type: 'listItem',
      content: [
        {
          type: 'paragraph',
          content: [text(item.label, [{ type: 'strong' }, ...linkMark(item.link)]), text(`: ${itemFigures(item)} · ${itemKind(item)}`)],
        },
        ...(item.explanation ? [paragraph(item.explanation, [{ type: 'em' }])] : []),
      ],
    }));
    if (more) listItems.push({ type: 'listItem', content: [paragraph(`… and ${more} more`)] });
    content.push({ type: 'bulletList', content: listItems });
  }
  if (safeLink(message.incident?.url))
    content.push({ type: 'paragraph', content: [text('Open incident in Vigil', linkMark(message.incident!.url))] });
  content.push(paragraph(contextLine(message), [{ type: 'em' }]));
  return { type: 'doc', version: 1, content };
}

const PROJECT_KEY = /^[A-Z][A-Z0-9_]{0,49}$/;

export const jiraDriver: DestinationDriver = {
  kind: 'jira',
  secretFields: ['apiToken'],
  validate(config, secrets) {
    requireHttpUrl(config, 'baseUrl');
    const key = requireString(config, 'projectKey', 'config', 50);
    if (!PROJECT_KEY.test(key))
      throw badRequest('config.projectKey must be a Jira project key such as OPS (capital letters, digits, _)', {
        field: 'config.projectKey',
      });
    optionalString(config, 'issueType', 'config', 100);
    const email = requireString(config, 'email', 'config', 320);
    if (!email.includes('@'))
      throw badRequest('config.email must be the email address of the Jira account the API token belongs to', { field: 'config.email' });
    requireString(secrets, 'apiToken', 'secrets', 1000);
  },
  targets(config) {
    return [{ field: 'config.baseUrl', url: String(config.baseUrl) }];
  },
  async send(destination, message, ctx) {
    if (message.event !== 'opened' && message.event !== 'test') return SKIPPED;
    const { config, secrets } = destination;
    const base = String(config.baseUrl).replace(/\/+$/, '');
    const projectKey = String(config.projectKey);
    const headers = {
      authorization: `Basic ${Buffer.from(`${String(config.email)}:${secrets.apiToken}`).toString('base64')}`,
      accept: 'application/json',
    };
    // a test message has no incident: its delivery's key keeps a retried test from creating two issues
    const label = jiraLabel(message.incident?.dedupKey ?? `test-${ctx.idempotencyKey}`);

    const jql = `project = "${projectKey}" AND labels = "${label}"`;
    const search = await exchange(ctx, {
      method: 'GET',
      url: `${base}/rest/api/3/search/jql?jql=${encodeURIComponent(jql)}&fields=summary&maxResults=1`,
      headers,
    });
    if (!search.result.ok) return { ...search.result, error: `searching for an existing issue: ${search.result.error}` };
    const found = (parseJson(search.res!.body) as { issues?: Array<{ key?: string; id?: string }> } | null)?.issues?.[0];
    if (found) return { ...search.result, externalId: found.key ?? found.id };

    const summary = message.title.length > SUMMARY_MAX ? `${message.title.slice(0, SUMMARY_MAX - 1)}…` : message.title;
    const fields = {
      project: { key: projectKey },
      summary,
      issuetype: { name: optionalString(config, 'issueType') ?? 'Task' },
      labels: [label],
      description: jiraDescription(message),
    };
    const { res, result } = await postJson(ctx, `${base}/rest/api/3/issue`, { fields }, headers);
    if (!result.ok) return result;
    const created = parseJson(res!.body) as { key?: string; id?: string } | null;
    return { ...result, externalId: created?.key ?? created?.id };
  },
};
