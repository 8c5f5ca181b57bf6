/**
 * The permission matrix: every route of the running app × every kind of caller, with the status
 * the route's rule implies. The rules below are the reviewed specification: a route the app has
 * and this table lacks (or the other way round, or a rule that differs) fails the suite.
 * Also: objects of another project are 404 through this project's routes, and a session-cookie
 * change without the CSRF header is refused.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import type { Access } from '../../src/auth/access.js';
import type { Role } from '../../src/auth/memberships.js';
import type { Scope } from '../../src/auth/api-keys.js';
import type { Project } from '../../src/projects/service.js';
import { encryptSecrets } from '../../src/alerts/secrets.js';
import { testMessage } from '../../src/alerts/compose.js';

type Rule = 'public' | 'ingest' | 'signedIn' | 'signedIn+keys' | 'admin' | Role | `${Role}+keys` | `${Role}+${Role}-keys`;

const PASSWORD = 'correct horse battery staple';
const HOUR = 3_600_000;

// ---- the specification: every route and who may call it ----

const RULES: Record<string, Rule> = {
  'GET /': 'public',
  'GET /*': 'public',
  'GET /sdk.js': 'public',
  'GET /health': 'public',
  'GET /ready': 'public',
  'GET /metrics': 'public',
  'GET /api/docs': 'public',
  'GET /api/docs/json': 'public',
  'GET /api/docs/yaml': 'public',
  'GET /api/docs/static/index.html': 'public',
  'GET /api/docs/static/swagger-initializer.js': 'public',
  'GET /api/docs/static/*': 'public',
  'OPTIONS /v1/*': 'ingest',
  ...Object.fromEntries(
    ['track', 't', 'page', 'p', 'screen', 's', 'identify', 'i', 'group', 'g', 'alias', 'a', 'batch', 'b', 'import', 'measurements'].map(
      (p) => [`POST /v1/${p}`, 'ingest'],
    ),
  ),
  'GET /api/setup': 'public',
  'POST /api/setup': 'public',
  'POST /api/auth/sign-in': 'public',
  'POST /api/auth/register': 'public',
  'POST /api/auth/sign-out': 'signedIn',
  'GET /api/auth/me': 'signedIn',
  'POST /api/auth/password': 'signedIn',
  'GET /api/invitations/:token': 'public',
  'POST /api/invitations/:token/accept': 'public',
  'GET /api/auth/options': 'public',
  'POST /api/auth/forgot-password': 'public',
  'GET /api/auth/password-resets/:token': 'public',
  'POST /api/auth/password-resets/:token': 'public',
  'GET /api/projects': 'signedIn+keys',
  'POST /api/projects': 'admin',
  'GET /api/projects/:slug': 'viewer+keys',
  'PATCH /api/projects/:slug': 'owner',
  'DELETE /api/projects/:slug': 'owner',
  'GET /api/projects/:slug/events': 'viewer+keys',
  'GET /api/projects/:slug/export': 'viewer+keys',
  'GET /api/projects/:slug/timeseries': 'viewer+keys',
  'GET /api/projects/:slug/top-events': 'viewer+keys',
  'GET /api/projects/:slug/overview': 'viewer+keys',
  'GET /api/projects/:slug/live': 'viewer+keys',
  'GET /api/projects/:slug/tracking-plan': 'viewer+keys',
  'GET /api/projects/:slug/jobs': 'viewer+keys',
  'POST /api/projects/:slug/jobs/:id/retry': 'editor+keys',
  'GET /api/projects/:slug/detection': 'viewer+keys',
  'PUT /api/projects/:slug/detection': 'owner+keys',
  'GET /api/admin/users': 'admin',
  'POST /api/admin/users/:id/disable': 'admin',
  'POST /api/admin/users/:id/enable': 'admin',
  'POST /api/admin/users/:id/unlock': 'admin',
  'POST /api/admin/users/:id/password-reset': 'admin',
  'GET /api/projects/:slug/metrics': 'viewer+keys',
  'POST /api/projects/:slug/metrics': 'editor+keys',
  'POST /api/projects/:slug/test-event': 'editor+keys',
  'GET /api/projects/:slug/rules': 'viewer+keys',
  'POST /api/projects/:slug/metrics/preview': 'viewer+keys',
  'GET /api/projects/:slug/metrics/:id': 'viewer+keys',
  'PATCH /api/projects/:slug/metrics/:id': 'editor+keys',
  'POST /api/projects/:slug/metrics/:id/archive': 'editor+keys',
  'DELETE /api/projects/:slug/metrics/:id': 'owner+keys',
  'GET /api/projects/:slug/metrics/:id/series': 'viewer+keys',
  'GET /api/projects/:slug/metrics/:id/detection': 'viewer+keys',
  'POST /api/projects/:slug/metrics/:id/collect': 'editor+keys',
  'GET /api/projects/:slug/signals': 'viewer+keys',
  'GET /api/projects/:slug/metrics/:id/rules': 'viewer+keys',
  'POST /api/projects/:slug/metrics/:id/rules': 'editor+keys',
  'PATCH /api/projects/:slug/metrics/:id/rules/:ruleId': 'editor+keys',
  'DELETE /api/projects/:slug/metrics/:id/rules/:ruleId': 'editor+keys',
  'POST /api/projects/:slug/metrics/:id/backtest': 'viewer+keys',
  'POST /api/projects/:slug/metrics/backtest': 'viewer+keys',
  'GET /api/projects/:slug/metrics/:id/forecast': 'viewer+keys',
  'GET /api/projects/:slug/members': 'viewer',
  'PATCH /api/projects/:slug/members/:userId': 'owner',
  'DELETE /api/projects/:slug/members/:userId': 'owner',
  'GET /api/projects/:slug/invitations': 'owner',
  'POST /api/projects/:slug/invitations': 'owner',
  'DELETE /api/projects/:slug/invitations/:id': 'owner',
  'GET /api/projects/:slug/keys': 'owner',
  'POST /api/projects/:slug/keys': 'owner',
  'DELETE /api/projects/:slug/keys/:id': 'owner',
  'GET /api/projects/:slug/audit': 'owner',
  'GET /api/projects/:slug/audit/export': 'owner',
  'GET /api/projects/:slug/incidents': 'viewer+keys',
  'GET /api/projects/:slug/incidents/stats': 'viewer+keys',
  'GET /api/projects/:slug/incidents/:id': 'viewer+keys',
  ...Object.fromEntries(
    ['acknowledge', 'resolve', 'reopen', 'mute', 'unmute', 'false-positive', 'undo-false-positive', 'assign'].map((a) => [
      `POST /api/projects/:slug/incidents/:id/${a}`,
      'editor+keys',
    ]),
  ),
  // any member may comment; a key needs the write scope
  'POST /api/projects/:slug/incidents/:id/comments': 'viewer+editor-keys',
  'POST /api/projects/:slug/incidents/bulk': 'editor+keys',
  'GET /api/projects/:slug/alert-rules': 'viewer+keys',
  'POST /api/projects/:slug/alert-rules': 'editor+keys',
  'POST /api/projects/:slug/alert-rules/simulate': 'viewer+keys',
  'GET /api/projects/:slug/alert-rules/:id': 'viewer+keys',
  'PATCH /api/projects/:slug/alert-rules/:id': 'editor+keys',
  'DELETE /api/projects/:slug/alert-rules/:id': 'editor+keys',
  'POST /api/projects/:slug/alert-rules/:id/simulate': 'viewer+keys',
  'GET /api/projects/:slug/alert-destinations': 'viewer+keys',
  'POST /api/projects/:slug/alert-destinations': 'editor+keys',
  'POST /api/projects/:slug/alert-destinations/test': 'editor+keys',
  'GET /api/projects/:slug/alert-destinations/:id': 'viewer+keys',
  'PATCH /api/projects/:slug/alert-destinations/:id': 'editor+keys',
  'DELETE /api/projects/:slug/alert-destinations/:id': 'editor+keys',
  'POST /api/projects/:slug/alert-destinations/:id/test': 'editor+keys',
  'GET /api/projects/:slug/alert-deliveries': 'viewer+keys',
  'GET /api/projects/:slug/alert-deliveries/:id': 'viewer+keys',
  'POST /api/projects/:slug/alert-deliveries/:id/retry': 'editor+keys',
};

function ruleOf(a: Access): Rule {
  if ('public' in a) return 'public';
  if ('ingest' in a) return 'ingest';
  if ('signedIn' in a) return a.keys ? 'signedIn+keys' : 'signedIn';
  if ('admin' in a) return 'admin';
  if (!a.keys) return a.role;
  return a.keyRole ? `${a.role}+${a.keyRole}-keys` : `${a.role}+keys`;
}

// ---- callers ----

const USERS = ['owner', 'editor', 'viewer', 'non-member'] as const;
const KEYS = ['key:ingest', 'key:read', 'key:write', 'key:admin', 'key:expired', 'key:revoked', 'key:other-project'] as const;
const PRINCIPALS = ['anonymous', ...USERS, ...KEYS] as const;
type Principal = (typeof PRINCIPALS)[number];

const ROLE_RANK: Record<Role, number> = { viewer: 0, editor: 1, owner: 2 };
const KEY_RANK: Record<string, number> = { 'key:ingest': -1, 'key:read': 0, 'key:write': 1, 'key:admin': 2 };

type Expected = 'allowed' | 'any' | 401 | 403 | 404;

/** What a caller gets from a route with this rule: a status, or 'allowed' (anything but 401/403/404 and 5xx). */
function expected(rule: Rule, who: Principal, method: string): Expected {
  if (rule === 'public' || method === 'OPTIONS') return 'any';
  if (who === 'anonymous' || who === 'key:expired' || who === 'key:revoked') return 401;
  const isUser = (USERS as readonly string[]).includes(who);
  if (rule === 'ingest') {
    if (isUser) return 401; // a session is no write key
    return who === 'key:read' || who === 'key:write' ? 403 : 'allowed';
  }
  // an ingest key is public (it ships in web pages): it reaches /v1/* only (issue 15, item 11)
  if (who === 'key:ingest') return 403;
  if (rule === 'signedIn' || rule === 'signedIn+keys') return isUser || rule === 'signedIn+keys' ? 'allowed' : 403;
  if (rule === 'admin') return who === 'owner' ? 'allowed' : 403;
  const [role, keys] = rule.split('+') as [Role, string | undefined];
  if (who === 'non-member' || who === 'key:other-project') return 404;
  if (isUser) return ROLE_RANK[who as Role] >= ROLE_RANK[role] ? 'allowed' : 403;
  if (!keys) return 403;
  const keyRole = keys === 'keys' ? role : (keys.replace(/-keys$/, '') as Role);
  return KEY_RANK[who] >= ROLE_RANK[keyRole] ? 'allowed' : 403;
}

// ---- fixtures ----

interface World {
  t: TestApp;
  shop: Project;
  other: Project;
  users: Record<(typeof USERS)[number], number>;
  seq: number;
}

/** Credentials for one request: a fresh session (cookie + CSRF token) or a fresh key of the right kind. */
async function credentials(w: World, who: Principal, project: Project): Promise<Record<string, string>> {
  const ctx = w.t.ctx;
  if (who === 'anonymous') return {};
  if ((USERS as readonly string[]).includes(who)) {
    const { token } = await ctx.sessions.create(w.users[who as (typeof USERS)[number]]);
    return { cookie: `vigil_session=${token}`, 'x-csrf-token': ctx.sessions.csrfToken(token) };
  }
  const scopes: Record<string, Scope[]> = {
    'key:ingest': ['ingest'],
    'key:read': ['read'],
    'key:write': ['write'],
    'key:admin': ['admin'],
    'key:expired': ['admin'],
    'key:revoked': ['admin'],
    'key:other-project': ['admin', 'ingest'],
  };
  const { key, secret } = await ctx.apiKeys.create({
    projectId: who === 'key:other-project' ? w.other.id : project.id,
    scopes: scopes[who],
    expiresAt: who === 'key:expired' ? Date.now() - 1000 : null,
  });
  if (who === 'key:revoked') await ctx.apiKeys.revoke(key.id);
  return { authorization: `Bearer ${secret}` };
}

/** Members for a project: owner, editor and viewer, as in project shop. */
async function addMembers(w: World, project: Project) {
  await w.t.ctx.memberships.grant(project.id, w.users.owner, 'owner');
  await w.t.ctx.memberships.grant(project.id, w.users.editor, 'editor');
  await w.t.ctx.memberships.grant(project.id, w.users.viewer, 'viewer');
}

const next = (w: World) => ++w.seq;

async function newMetric(w: World, project: Project) {
  return w.t.ctx.catalog.create(project, { name: `m${next(w)}`, kind: 'event', status: 'draft', definition: { event: 'Signed Up' } });
}

const RULE = { condition: { operator: '>', value: 100 }, severity: 'warning' };

async function newRule(w: World, project: Project) {
  const metric = await newMetric(w, project);
  return w.t.ctx.thresholdRules.create(project, metric.id, { name: `r${next(w)}`, rule: RULE });
}

async function newMember(w: World, project: Project) {
  const user = await w.t.ctx.users.create({ email: `member${next(w)}@example.com`, password: PASSWORD });
  await w.t.ctx.memberships.grant(project.id, user.id, 'viewer');
  return user.id;
}

async function newInvitation(w: World, project: Project) {
  return w.t.ctx.invitations.create(project.id, { email: `invitee${next(w)}@example.com`, role: 'viewer' }, w.users.owner);
}

/** An open incident (its own metric and event, so it groups with nothing), after `action` when given. */
async function newIncident(w: World, project: Project, action?: 'resolve' | 'mute' | 'false-positive') {
  const ctx = w.t.ctx;
  const metric = await ctx.catalog.create(project, {
    name: `inc${next(w)}`,
    kind: 'event',
    status: 'draft',
    definition: { event: `Event ${next(w)}` },
  });
  const bucket = Math.floor(Date.now() / HOUR) * HOUR - 10 * HOUR;
  await ctx.signals.upsert(project.id, [
    {
      scope: 'metric',
      scopeKey: `metric:${metric.id}`,
      metricId: metric.id,
      bucket,
      endBucket: bucket,
      kind: 'drop',
      direction: 'down',
      value: 50,
      expected: 100,
      lower: 80,
      upper: 120,
      z: -6,
      score: 0.6,
      severity: 'warning',
      details: { interval: '1h', threshold: 4 },
    },
  ]);
  const [incident] = (await ctx.incidents.list(project, { metricId: metric.id, limit: 1 })).incidents;
  if (action === 'mute') await ctx.incidents.actOn(project, incident.id, { action, until: Date.now() + HOUR }, { userId: null });
  else if (action) await ctx.incidents.actOn(project, incident.id, { action }, { userId: null });
  return incident;
}
const incidentCall =
  (action?: 'resolve' | 'mute' | 'false-positive', body?: unknown): Prepare =>
  async (w) => ({ params: { id: (await newIncident(w, w.shop, action)).id }, body });

/** A PagerDuty destination: saving it makes no request (its endpoint is public and fixed). */
async function newDestination(w: World, project: Project) {
  return w.t.ctx.alerts.createDestination(project, { name: `dest${next(w)}`, kind: 'pagerduty', secrets: { routingKey: 'R'.repeat(32) } });
}

/** A webhook to a loopback address, stored as is: "send test" on it is refused by the SSRF guard, no request leaves. */
async function newLoopbackDestination(w: World, project: Project) {
  const t = Date.now();
  const row = await w.t.ctx.meta.db
    .insertInto('alert_destinations')
    .values({
      project_id: project.id,
      name: `loop${next(w)}`,
      kind: 'webhook',
      config: JSON.stringify({ url: 'http://127.0.0.1:9/hook' }),
      secrets: encryptSecrets({ secret: 'x'.repeat(20) }, w.t.ctx.config.secretKey),
      created_at: t,
      updated_at: t,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

async function newAlertRule(w: World, project: Project) {
  return w.t.ctx.alerts.createRule(project, { name: `alert${next(w)}`, destinationIds: [(await newDestination(w, project)).id] });
}

/** A dead job of the project (retry accepts it). */
async function newDeadJob(w: World, project: Project) {
  const t = Date.now();
  const row = await w.t.ctx.meta.db
    .insertInto('jobs')
    .values({
      kind: 'test.dead',
      project_id: project.id,
      payload: '{}',
      status: 'dead',
      priority: 0,
      attempts: 5,
      max_attempts: 5,
      run_at: t,
      last_error: 'gave up',
      created_at: t,
      updated_at: t,
      finished_at: t,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

/** A failed delivery (retry accepts it). */
async function newDelivery(w: World, project: Project) {
  const t = Date.now();
  const row = await w.t.ctx.meta.db
    .insertInto('alert_deliveries')
    .values({
      project_id: project.id,
      rule_id: null,
      destination_id: (await newDestination(w, project)).id,
      incident_id: null,
      scope_key: null,
      event: 'test',
      status: 'failed',
      idempotency_key: `permissions:${next(w)}`,
      message: JSON.stringify(testMessage(project, t)),
      attempts: 1,
      last_error: 'HTTP 500',
      created_at: t,
      updated_at: t,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

/** Path parameters and a body that an allowed caller gets a non-error answer for. */
interface Call {
  project?: Project;
  params?: Record<string, string | number>;
  body?: unknown;
}
type Prepare = (w: World) => Promise<Call>;

const event = { userId: 'u1', event: 'Signed Up' };
const SAMPLES: Record<string, Prepare> = {
  'POST /v1/track': async () => ({ body: event }),
  'POST /v1/t': async () => ({ body: event }),
  'POST /v1/page': async () => ({ body: { userId: 'u1', name: 'Home' } }),
  'POST /v1/p': async () => ({ body: { userId: 'u1', name: 'Home' } }),
  'POST /v1/screen': async () => ({ body: { userId: 'u1', name: 'Home' } }),
  'POST /v1/s': async () => ({ body: { userId: 'u1', name: 'Home' } }),
  'POST /v1/identify': async () => ({ body: { userId: 'u1', traits: { plan: 'pro' } } }),
  'POST /v1/i': async () => ({ body: { userId: 'u1', traits: { plan: 'pro' } } }),
  'POST /v1/group': async () => ({ body: { userId: 'u1', groupId: 'g1' } }),
  'POST /v1/g': async () => ({ body: { userId: 'u1', groupId: 'g1' } }),
  'POST /v1/alias': async () => ({ body: { userId: 'u1', previousId: 'a1' } }),
  'POST /v1/a': async () => ({ body: { userId: 'u1', previousId: 'a1' } }),
  'POST /v1/batch': async () => ({ body: { batch: [{ type: 'track', ...event }] } }),
  'POST /v1/b': async () => ({ body: { batch: [{ type: 'track', ...event }] } }),
  'POST /v1/import': async () => ({ body: { batch: [{ type: 'track', ...event }] } }),
  'POST /v1/measurements': async () => ({ body: [{ service: 'api', metric: 'latency_ms', value: 12 }] }),
  'POST /api/setup': async () => ({ body: { email: 'late@example.com', password: PASSWORD } }),
  'POST /api/auth/sign-in': async () => ({ body: { email: 'viewer@example.com', password: PASSWORD } }),
  'POST /api/auth/register': async (w) => ({ body: { email: `new${next(w)}@example.com`, password: PASSWORD } }),
  'POST /api/auth/password': async () => ({ body: { currentPassword: 'not the password', newPassword: 'another long passphrase' } }),
  'GET /api/invitations/:token': async (w) => ({ params: { token: (await newInvitation(w, w.shop)).token } }),
  'POST /api/invitations/:token/accept': async (w) => ({
    params: { token: (await newInvitation(w, w.shop)).token },
    body: { password: PASSWORD },
  }),
  'POST /api/projects': async (w) => ({ body: { slug: `p${next(w)}` } }),
  'PATCH /api/projects/:slug': async () => ({ body: { name: 'Shop (renamed)' } }),
  'POST /api/projects/:slug/jobs/:id/retry': async (w) => ({ params: { id: await newDeadJob(w, w.shop) } }),
  'PUT /api/projects/:slug/detection': async () => ({ body: { sensitivity: 'high', settlingMinutes: 60 } }),
  'POST /api/admin/users/:id/disable': async (w) => ({
    params: { id: (await w.t.ctx.users.create({ email: `disabled${next(w)}@example.com`, password: PASSWORD })).id },
  }),
  'POST /api/admin/users/:id/enable': async (w) => ({ params: { id: w.users.viewer } }),
  'POST /api/admin/users/:id/unlock': async (w) => ({ params: { id: w.users.viewer } }),
  'POST /api/admin/users/:id/password-reset': async (w) => ({ params: { id: w.users.viewer } }),
  'DELETE /api/projects/:slug': async (w) => {
    const project = await w.t.ctx.projects.create({ slug: `doomed${next(w)}` });
    await addMembers(w, project);
    return { project };
  },
  'POST /api/projects/:slug/metrics': async (w) => ({
    body: { name: `new${next(w)}`, kind: 'event', status: 'draft', definition: { event: 'Signed Up' } },
  }),
  'POST /api/projects/:slug/metrics/preview': async () => ({ body: { kind: 'event', definition: { event: 'Signed Up' }, buckets: 2 } }),
  'GET /api/projects/:slug/metrics/:id': async (w) => ({ params: { id: (await newMetric(w, w.shop)).id } }),
  'PATCH /api/projects/:slug/metrics/:id': async (w) => ({
    params: { id: (await newMetric(w, w.shop)).id },
    body: { displayName: 'Renamed' },
  }),
  'POST /api/projects/:slug/metrics/:id/archive': async (w) => ({ params: { id: (await newMetric(w, w.shop)).id } }),
  'DELETE /api/projects/:slug/metrics/:id': async (w) => ({ params: { id: (await newMetric(w, w.shop)).id } }),
  'GET /api/projects/:slug/metrics/:id/series': async (w) => ({ params: { id: (await newMetric(w, w.shop)).id } }),
  'GET /api/projects/:slug/metrics/:id/detection': async (w) => ({ params: { id: (await newMetric(w, w.shop)).id } }),
  'POST /api/projects/:slug/metrics/:id/collect': async (w) => ({ params: { id: (await newMetric(w, w.shop)).id } }),
  'GET /api/projects/:slug/metrics/:id/rules': async (w) => ({ params: { id: (await newMetric(w, w.shop)).id } }),
  'POST /api/projects/:slug/metrics/:id/rules': async (w) => ({
    params: { id: (await newMetric(w, w.shop)).id },
    body: { name: 'high', rule: RULE },
  }),
  'PATCH /api/projects/:slug/metrics/:id/rules/:ruleId': async (w) => {
    const rule = await newRule(w, w.shop);
    return { params: { id: rule.metricId, ruleId: rule.id }, body: { enabled: false } };
  },
  'DELETE /api/projects/:slug/metrics/:id/rules/:ruleId': async (w) => {
    const rule = await newRule(w, w.shop);
    return { params: { id: rule.metricId, ruleId: rule.id } };
  },
  'POST /api/projects/:slug/metrics/:id/backtest': async (w) => ({
    params: { id: (await newMetric(w, w.shop)).id },
    body: { from: '-1d', to: 'now' },
  }),
  'POST /api/projects/:slug/metrics/backtest': async () => ({
    body: { kind: 'event', definition: { event: 'Signed Up' }, interval: '1d', from: '-3d', to: 'now', rule: RULE },
  }),
  'GET /api/projects/:slug/metrics/:id/forecast': async (w) => ({ params: { id: (await newMetric(w, w.shop)).id } }),
  'PATCH /api/projects/:slug/members/:userId': async (w) => ({ params: { userId: await newMember(w, w.shop) }, body: { role: 'editor' } }),
  'DELETE /api/projects/:slug/members/:userId': async (w) => ({ params: { userId: await newMember(w, w.shop) } }),
  'POST /api/projects/:slug/invitations': async (w) => ({ body: { email: `guest${next(w)}@example.com`, role: 'viewer' } }),
  'DELETE /api/projects/:slug/invitations/:id': async (w) => ({ params: { id: (await newInvitation(w, w.shop)).invitation.id } }),
  'POST /api/projects/:slug/keys': async () => ({ body: { name: 'ci', scopes: ['read'] } }),
  'DELETE /api/projects/:slug/keys/:id': async (w) => ({
    params: { id: (await w.t.ctx.apiKeys.create({ projectId: w.shop.id, scopes: ['read'] })).key.id },
  }),
  'GET /api/projects/:slug/incidents/:id': incidentCall(),
  'POST /api/projects/:slug/incidents/:id/acknowledge': incidentCall(),
  'POST /api/projects/:slug/incidents/:id/resolve': incidentCall(),
  'POST /api/projects/:slug/incidents/:id/reopen': incidentCall('resolve'),
  'POST /api/projects/:slug/incidents/:id/mute': incidentCall(undefined, { until: '+1h' }),
  'POST /api/projects/:slug/incidents/:id/unmute': incidentCall('mute'),
  'POST /api/projects/:slug/incidents/:id/false-positive': incidentCall(),
  'POST /api/projects/:slug/incidents/:id/undo-false-positive': incidentCall('false-positive'),
  'POST /api/projects/:slug/incidents/:id/assign': incidentCall(undefined, { userId: null }),
  'POST /api/projects/:slug/incidents/:id/comments': incidentCall(undefined, { body: 'looking' }),
  'POST /api/projects/:slug/incidents/bulk': async (w) => ({ body: { ids: [(await newIncident(w, w.shop)).id], action: 'acknowledge' } }),
  'POST /api/projects/:slug/alert-rules': async (w) => ({
    body: { name: `new alert${next(w)}`, destinationIds: [(await newDestination(w, w.shop)).id] },
  }),
  'POST /api/projects/:slug/alert-rules/simulate': async () => ({ body: { filters: { minSeverity: 'major' }, days: 7 } }),
  'GET /api/projects/:slug/alert-rules/:id': async (w) => ({ params: { id: (await newAlertRule(w, w.shop)).id } }),
  'PATCH /api/projects/:slug/alert-rules/:id': async (w) => ({
    params: { id: (await newAlertRule(w, w.shop)).id },
    body: { enabled: false },
  }),
  'DELETE /api/projects/:slug/alert-rules/:id': async (w) => ({ params: { id: (await newAlertRule(w, w.shop)).id } }),
  'POST /api/projects/:slug/alert-rules/:id/simulate': async (w) => ({
    params: { id: (await newAlertRule(w, w.shop)).id },
    body: { days: 7 },
  }),
  'POST /api/projects/:slug/alert-destinations': async (w) => ({
    body: { name: `new dest${next(w)}`, kind: 'pagerduty', secrets: { routingKey: 'R'.repeat(32) } },
  }),
  'POST /api/projects/:slug/alert-destinations/test': async () => ({
    body: { name: 'draft', kind: 'webhook', config: { url: 'http://127.0.0.1:9/hook' }, secrets: { secret: 'x'.repeat(20) } },
  }),
  'GET /api/projects/:slug/alert-destinations/:id': async (w) => ({ params: { id: (await newDestination(w, w.shop)).id } }),
  'PATCH /api/projects/:slug/alert-destinations/:id': async (w) => ({
    params: { id: (await newDestination(w, w.shop)).id },
    body: { config: { source: 'vigil' } },
  }),
  'DELETE /api/projects/:slug/alert-destinations/:id': async (w) => ({ params: { id: (await newDestination(w, w.shop)).id } }),
  'POST /api/projects/:slug/alert-destinations/:id/test': async (w) => ({ params: { id: await newLoopbackDestination(w, w.shop) } }),
  'GET /api/projects/:slug/alert-deliveries/:id': async (w) => ({ params: { id: await newDelivery(w, w.shop) } }),
  'POST /api/projects/:slug/alert-deliveries/:id/retry': async (w) => ({ params: { id: await newDelivery(w, w.shop) } }),
};

async function request(w: World, method: string, url: string, who: Principal) {
  const call = await (SAMPLES[`${method} ${url}`] ?? (async () => ({})))(w);
  const project = call.project ?? w.shop;
  let path = url.replace(':slug', project.slug).replace('/*', '/x');
  for (const [k, v] of Object.entries(call.params ?? {})) path = path.replace(`:${k}`, String(v));
  const headers: Record<string, string> = { ...(await credentials(w, who, project)) };
  if (call.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(w.t.url + path, { method, headers, body: call.body === undefined ? undefined : JSON.stringify(call.body) });
  // a stream (the live view) stays open: its status is the answer
  if (res.headers.get('content-type')?.startsWith('text/event-stream')) {
    await res.body?.cancel();
    return { status: res.status, text: '' };
  }
  const text = await res.text();
  return { status: res.status, text };
}

describe('permissions', () => {
  const w = { seq: 0 } as World;
  before(async () => {
    w.t = await startTestApp({ config: { openRegistration: 'true', signinRateLimit: 100_000, keyFailureRateLimit: 100_000 } });
    w.shop = w.t.project;
    w.other = await w.t.ctx.projects.create({ slug: 'other' });
    const create = async (name: string, isAdmin = false) =>
      (await w.t.ctx.users.create({ email: `${name}@example.com`, password: PASSWORD, isAdmin })).id;
    w.users = {
      owner: await create('owner', true),
      editor: await create('editor'),
      viewer: await create('viewer'),
      'non-member': await create('outsider'),
    };
    await addMembers(w, w.shop);
    await w.t.ctx.memberships.grant(w.other.id, w.users['non-member'], 'owner');
    // some data, so reads have something to read
    const hour = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
    await w.t.ctx.ingest.ingest(
      w.shop.id,
      [{ type: 'track', userId: 'u1', event: 'Signed Up', messageId: 'seed-1', timestamp: new Date(hour).toISOString() }],
      undefined,
      {},
      { receivedAt: Date.now(), ip: '' },
    );
    await w.t.ctx.flush();
  });
  after(() => w.t.close());

  test('every route has a rule in the specification, and the app enforces that rule', () => {
    const declared = new Map(w.t.app.routeTable.filter((r) => r.method !== 'HEAD').map((r) => [`${r.method} ${r.url}`, ruleOf(r.access)]));
    const missing = [...declared.keys()].filter((k) => !(k in RULES));
    assert.deepEqual(missing, [], 'routes without an entry in RULES: add one (and a sample call if it needs parameters or a body)');
    const gone = Object.keys(RULES).filter((k) => !declared.has(k));
    assert.deepEqual(gone, [], 'entries in RULES for routes the app does not have');
    for (const [route, rule] of declared)
      assert.equal(rule, RULES[route], `${route} declares ${rule}, the specification says ${RULES[route]}`);
  });

  test('the matrix: every route × every caller gets the status its rule implies', async () => {
    const failures: string[] = [];
    let cells = 0;
    for (const r of w.t.app.routeTable) {
      if (r.method === 'HEAD') continue;
      const rule = ruleOf(r.access);
      for (const who of PRINCIPALS) {
        cells++;
        const want = expected(rule, who, r.method);
        const got = await request(w, r.method, r.url, who);
        const ok =
          want === 'any'
            ? got.status < 500 && got.status !== 401
            : want === 'allowed'
              ? got.status < 500 && ![401, 403, 404].includes(got.status)
              : got.status === want;
        if (!ok) failures.push(`${r.method} ${r.url} as ${who}: expected ${want}, got ${got.status} ${got.text.slice(0, 200)}`);
      }
    }
    console.log(`permission matrix: ${cells} cells (${cells / PRINCIPALS.length} routes × ${PRINCIPALS.length} callers)`);
    assert.deepEqual(failures, []);
  });

  test("objects of another project are not found through this project's routes", async () => {
    // the owner of shop also owns "other": a 404 here comes from the object check, not membership
    await w.t.ctx.memberships.grant(w.other.id, w.users.owner, 'owner');
    const metric = await newMetric(w, w.other);
    const member = await newMember(w, w.other);
    const invitation = await newInvitation(w, w.other);
    const key = (await w.t.ctx.apiKeys.create({ projectId: w.other.id, scopes: ['read'] })).key;
    const rule = await newRule(w, w.other);
    const ids: Record<string, string | number> = { id: metric.id, userId: member };
    const incident = await newIncident(w, w.other);
    const foreignId: Record<string, number> = { '/invitations/': invitation.invitation.id, '/keys/': key.id, '/incidents/': incident.id };
    Object.assign(foreignId, {
      '/alert-rules/': (await newAlertRule(w, w.other)).id,
      '/alert-destinations/': await newLoopbackDestination(w, w.other),
      '/alert-deliveries/': await newDelivery(w, w.other),
    });
    const failures: string[] = [];
    let checked = 0;
    for (const r of w.t.app.routeTable) {
      if (r.method === 'HEAD' || !r.url.startsWith('/api/projects/:slug/') || !/:(id|userId)/.test(r.url)) continue;
      const id = Object.entries(foreignId).find(([part]) => r.url.includes(part))?.[1] ?? ids[r.url.includes(':userId') ? 'userId' : 'id'];
      // a rule route: the other project's rule under its own metric
      const path = r.url
        .replace(':slug', 'shop')
        .replace(':ruleId', String(rule.id))
        .replace(/:(id|userId)/, String(r.url.includes(':ruleId') ? rule.metricId : id));
      const call = await (SAMPLES[`${r.method} ${r.url}`] ?? (async () => ({})))(w);
      const headers: Record<string, string> = { ...(await credentials(w, 'owner', w.shop)) };
      if (call.body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(w.t.url + path, {
        method: r.method,
        headers,
        body: call.body === undefined ? undefined : JSON.stringify(call.body),
      });
      checked++;
      if (res.status !== 404) failures.push(`${r.method} ${path}: ${res.status} ${(await res.text()).slice(0, 200)}`);
    }
    assert.ok(checked >= 10, `${checked} routes with an object id`);
    assert.deepEqual(failures, []);
    // and the objects are untouched
    assert.equal((await w.t.ctx.catalog.get(w.other, metric.id)).status, 'draft');
    assert.equal(await w.t.ctx.memberships.roleOf(w.other.id, member), 'viewer');
    assert.equal((await w.t.ctx.incidents.byId(w.other.id, incident.id))?.status, 'open');
  });

  test('a change made with the session cookie but without the CSRF header is refused on every such route', async () => {
    const failures: string[] = [];
    for (const r of w.t.app.routeTable) {
      if (['GET', 'HEAD', 'OPTIONS'].includes(r.method)) continue;
      const rule = ruleOf(r.access);
      if (rule === 'public' || rule === 'ingest' || !(expected(rule, 'owner', r.method) === 'allowed')) continue;
      const call = await (SAMPLES[`${r.method} ${r.url}`] ?? (async () => ({})))(w);
      const project = call.project ?? w.shop;
      let path = r.url.replace(':slug', project.slug);
      for (const [k, v] of Object.entries(call.params ?? {})) path = path.replace(`:${k}`, String(v));
      const { cookie } = await credentials(w, 'owner', project);
      const headers: Record<string, string> = { cookie, ...(call.body !== undefined && { 'content-type': 'application/json' }) };
      const res = await fetch(w.t.url + path, {
        method: r.method,
        headers,
        body: call.body === undefined ? undefined : JSON.stringify(call.body),
      });
      const body = await res.json().catch(() => ({}));
      if (res.status !== 403 || !/x-csrf-token/.test(body?.error?.message ?? '')) failures.push(`${r.method} ${r.url}: ${res.status}`);
      // a wrong token is no better than none
      const wrong = await fetch(w.t.url + path, {
        method: r.method,
        headers: { ...headers, 'x-csrf-token': 'forged' },
        body: call.body === undefined ? undefined : JSON.stringify(call.body),
      });
      if (wrong.status !== 403) failures.push(`${r.method} ${r.url} with a forged token: ${wrong.status}`);
    }
    assert.deepEqual(failures, []);
  });
});
