/**
 * Linear: GraphQL `issueCreate`. The issue id is a UUID derived from the incident's dedup key, so a
 * second create for the same incident fails at Linear; the driver then looks the issue up by that id
 * and answers with it. Only "opened" and "test" create anything.
 */
import crypto from 'node:crypto';
import type { AlertMessage } from '../message.js';
import { SKIPPED, baseUrl, optionalHttpUrl, parseJson, postJson, requireString } from './common.js';
import { contextLine, itemFigures, itemKind, leadOf, safeLink, shownItems } from './render.js';
import type { DestinationDriver, SendContext, SendResult } from './types.js';

const DEFAULT_BASE = 'https://api.linear.app';
const TITLE_MAX = 255;

export const LINEAR_CREATE_MUTATION = `mutation VigilIssueCreate($input: IssueCreateInput!) {
  issueCreate(input: $input) { success issue { id identifier url } }
}`;
export const LINEAR_ISSUE_QUERY = `query VigilIssue($id: String!) { issue(id: $id) { id identifier url } }`;

/** Linear priorities: 1 urgent, 2 high, 3 medium (0 none) */
const PRIORITY: Record<string, number> = { critical: 1, warning: 2, info: 3 };

/** A v4-shaped UUID that is the same for the same key. */
export function linearIssueId(key: string): string {
  const b = crypto.createHash('sha256').update(`vigil:${key}`).digest().subarray(0, 16);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const md = (s: string) => s.replace(/([\\`*_[\]<>#|])/g, '\\$1');

export function linearDescription(message: AlertMessage): string {
  const { items, more } = shownItems(message);
  const lines: string[] = [];
  lines.push(md(leadOf(message)), '');
  for (const item of items) {
    const label = safeLink(item.link) ? `[${md(item.label)}](${item.link})` : md(item.label);
    lines.push(`- **${label}**: ${md(itemFigures(item))} · ${md(itemKind(item))}`);
    if (item.explanation) lines.push(`  _${md(item.explanation)}_`);
  }
  if (more) lines.push(`- … and ${more} more`);
  if (safeLink(message.incident?.url)) lines.push('', `[Open incident in Vigil](${message.incident!.url})`);
  lines.push('', `_${md(contextLine(message))}_`);
  return lines.join('\n');
}

interface GraphqlAnswer {
  data?: Record<string, unknown> | null;
  errors?: Array<{ message?: string; extensions?: { code?: string; userPresentableMessage?: string } }>;
}

function graphqlErrors(answer: GraphqlAnswer | null): { message: string; rateLimited: boolean } | null {
  if (!answer?.errors?.length) return null;
  return {
    message: answer.errors.map((e) => e.extensions?.userPresentableMessage ?? e.message ?? 'error').join('; '),
    rateLimited: answer.errors.some((e) => e.extensions?.code === 'RATELIMITED'),
  };
}

async function graphql(ctx: SendContext, url: string, apiKey: string, query: string, variables: Record<string, unknown>) {
  const { res, result } = await postJson(ctx, url, { query, variables }, { authorization: apiKey });
  const answer = res ? (parseJson(res.body) as GraphqlAnswer | null) : null;
  return { result, answer, errors: graphqlErrors(answer) };
}

export const linearDriver: DestinationDriver = {
  kind: 'linear',
  secretFields: ['apiKey'],
  validate(config, secrets) {
    requireString(config, 'teamId', 'config', 100);
    requireString(secrets, 'apiKey', 'secrets', 500);
    optionalHttpUrl(config, 'baseUrl');
  },
  targets(config) {
    // the service's own endpoint is public: only a base URL the user set is checked when saving
    return config.baseUrl ? [{ field: 'config.baseUrl', url: String(config.baseUrl) }] : [];
  },
  async send(destination, message, ctx): Promise<SendResult> {
    if (message.event !== 'opened' && message.event !== 'test') return SKIPPED;
    const url = `${baseUrl(destination.config, 'baseUrl', DEFAULT_BASE)}/graphql`;
    const apiKey = destination.secrets.apiKey;
    const id = linearIssueId(message.incident?.dedupKey ?? `test-${ctx.idempotencyKey}`);
    const input: Record<string, unknown> = {
      id,
      teamId: String(destination.config.teamId),
      title: message.title.length > TITLE_MAX ? `${message.title.slice(0, TITLE_MAX - 1)}…` : message.title,
      description: linearDescription(message),
    };
    const priority = PRIORITY[message.incident?.severity ?? ''];
    if (priority) input.priority = priority;

    const created = await graphql(ctx, url, apiKey, LINEAR_CREATE_MUTATION, { input });
    const issue = (created.answer?.data?.issueCreate as { success?: boolean; issue?: { id: string; identifier?: string } } | undefined)
      ?.issue;
    if (created.result.ok && !created.errors && issue) return { ...created.result, externalId: issue.identifier ?? issue.id };
    if (created.answer === null) return created.result;
    if (created.errors?.rateLimited)
      return { ...created.result, ok: false, retryable: true, error: `Linear rate limit: ${created.errors.message}` };

    // the create failed; if it failed because the issue exists (an earlier attempt made it), answer with that one
    const existing = await graphql(ctx, url, apiKey, LINEAR_ISSUE_QUERY, { id });
    const found = (existing.answer?.data?.issue as { id: string; identifier?: string } | null | undefined) ?? null;
    if (found) return { ...existing.result, ok: true, retryable: false, error: undefined, externalId: found.identifier ?? found.id };
    const why = created.errors?.message ?? created.result.error ?? 'issueCreate did not succeed';
    return { ...created.result, ok: false, retryable: created.result.retryable, error: `Linear: ${why}` };
  },
};
