import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { projectOf } from '../auth/access.js';
import { actorOf } from '../auth/audit.js';
import { severityFromInput } from '../detect/severity.js';
import { badRequest } from '../errors.js';
import { ErrorBody, SlugParams, errorResponses } from '../http-schemas.js';
import { parseWindow } from '../time/window.js';
import { signalForApi } from '../signals/schemas.js';
import { parseTimeInput } from '../time/index.js';
import type { Project } from '../projects/service.js';
import type { IncidentAction, IncidentActionName } from './lifecycle.js';
import {
  AssignBody,
  BulkBody,
  BulkResult,
  CommentBody,
  IncidentDetailSchema,
  IncidentPage,
  IncidentParams,
  IncidentSchema,
  IncidentsQuery,
  MuteBody,
  StatsQuery,
  StatsSchema,
  type IncidentApi,
} from './schemas.js';
import type { IncidentDetail } from './service.js';
import type { Incident, IncidentActor } from './types.js';
import type { AuditLog } from '../auth/audit.js';
import type { MembershipService } from '../auth/memberships.js';
import type { IncidentService } from './service.js';

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));
const errors = { ...errorResponses, 409: ErrorBody };
const tags = ['incidents'];
const VIEWER = { access: { role: 'viewer', keys: true } } as const;
const EDITOR = { access: { role: 'editor', keys: true } } as const;
/** any member may discuss an incident (a comment changes nothing else); a key needs the write scope */
const COMMENTER = { access: { role: 'viewer', keys: true, keyRole: 'editor' } } as const;

/** What these routes use: their own services and the few they name. */
export interface IncidentRouteDeps {
  audit: AuditLog;
  incidents: IncidentService;
  memberships: MembershipService;
}

export function incidentForApi(i: Incident, now = Date.now()): IncidentApi {
  return {
    id: i.id,
    title: i.title,
    status: i.status,
    resolution: i.resolution,
    severity: i.severity,
    scopeKey: i.scopeKey,
    breakdown: i.breakdown,
    direction: i.direction,
    metricId: i.metricId,
    rootSignalId: i.rootSignalId,
    assigneeId: i.assigneeId,
    mutedUntil: isoOrNull(i.mutedUntil),
    muted: i.mutedUntil !== null && i.mutedUntil > now,
    startedBucket: iso(i.startedBucket),
    lastBucket: iso(i.lastBucket),
    openedAt: iso(i.openedAt),
    acknowledgedAt: isoOrNull(i.acknowledgedAt),
    resolvedAt: isoOrNull(i.resolvedAt),
    createdAt: iso(i.createdAt),
    updatedAt: iso(i.updatedAt),
  };
}

function detailForApi(d: IncidentDetail) {
  return {
    incident: incidentForApi(d.incident),
    signals: d.signals.map((s) => ({ role: s.role, addedAt: iso(s.addedAt), signal: signalForApi(s.signal), explanation: s.explanation })),
    timeline: d.timeline.map((e) => ({ id: e.id, type: e.type, actorId: e.actorId, data: e.data, at: iso(e.at) })),
  };
}

function actorOfRequest(request: FastifyRequest): IncidentActor {
  const a = actorOf(request);
  return a.type === 'user' ? { userId: a.id, label: a.label } : { userId: null, label: a.label };
}

/** The fields an audit entry keeps of an incident. */
const audited = (i: Incident) => ({
  status: i.status,
  resolution: i.resolution,
  assigneeId: i.assigneeId,
  mutedUntil: i.mutedUntil,
  severity: i.severity,
});

/** Incidents: list, detail with signals and timeline, stats; actions one at a time or in bulk (all or nothing). */
// long because each of its routes declares its schema and access rule inline
export async function incidentRoutes(root: FastifyInstance, deps: IncidentRouteDeps) {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const incidents = deps.incidents;

  /** An action from the route's fields, checked (400 naming the field). */
  async function actionOf(
    project: Project,
    name: IncidentActionName,
    f: { until?: string; userId?: number | null; body?: string },
  ): Promise<IncidentAction> {
    switch (name) {
      case 'mute': {
        if (f.until === undefined) throw badRequest('until is required to mute', { field: 'until' });
        const until = parseTimeInput(f.until, Date.now());
        if (until === null)
          throw badRequest(`until is not a time: "${f.until}" (use ISO 8601, epoch milliseconds, or a relative time such as +2h)`, {
            field: 'until',
          });
        return { action: 'mute', until };
      }
      case 'assign': {
        if (f.userId === undefined) throw badRequest('userId is required to assign (null unassigns)', { field: 'userId' });
        if (f.userId !== null && !(await deps.memberships.roleOf(project.id, f.userId)))
          throw badRequest(`user ${f.userId} is not a member of this project`, { field: 'userId' });
        return { action: 'assign', userId: f.userId };
      }
      case 'comment':
        if (f.body === undefined) throw badRequest('body is required to comment', { field: 'body' });
        return { action: 'comment', body: f.body };
      default:
        return { action: name };
    }
  }

  async function act(
    request: FastifyRequest,
    ids: number[],
    name: IncidentActionName,
    fields: { until?: string; userId?: number | null; body?: string } = {},
  ): Promise<Incident[]> {
    const project = projectOf(request);
    const action = await actionOf(project, name, fields);
    const before = new Map(
      (await Promise.all(ids.map((id) => incidents.byId(project.id, id)))).filter((i): i is Incident => !!i).map((i) => [i.id, i]),
    );
    const after = await incidents.act(project, ids, action, actorOfRequest(request));
    for (const i of after) {
      const was = before.get(i.id);
      await deps.audit.record(request, {
        action: `incident.${name}`,
        target: { type: 'incident', id: i.id },
        before: was && audited(was),
        after: {
          ...audited(i),
          ...(action.action === 'comment' && { commentChars: action.body.length }),
          ...(ids.length > 1 && { bulk: ids.length }),
        },
      });
    }
    return after;
  }

  app.get(
    '/api/projects/:slug/incidents',
    {
      config: VIEWER,
      schema: {
        tags,
        summary: "A project's incidents, newest first, a page at a time (from/to: incidents whose buckets overlap the window)",
        params: SlugParams,
        querystring: IncidentsQuery,
        response: { 200: IncidentPage, ...errors },
      },
    },
    async (request) => {
      const { status, severity, metric, scope, from, to, limit, cursor } = request.query;
      const window = from === undefined && to === undefined ? {} : parseWindow(from, to, Date.now());
      const page = await incidents.list(projectOf(request), {
        status,
        severity: severityFromInput(severity),
        metricId: metric,
        scope,
        ...window,
        limit,
        cursor,
      });
      return { incidents: page.incidents.map((i) => incidentForApi(i)), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/api/projects/:slug/incidents/stats',
    {
      config: VIEWER,
      schema: {
        tags,
        summary: 'Incidents of the last `days`: counts, the noisiest scopes (rules, metrics, events), time to acknowledge and to resolve',
        params: SlugParams,
        querystring: StatsQuery,
        response: { 200: StatsSchema, ...errors },
      },
    },
    async (request) => incidents.stats(projectOf(request), request.query.days),
  );

  app.get(
    '/api/projects/:slug/incidents/:id',
    {
      config: VIEWER,
      schema: {
        tags,
        summary: 'An incident with its signals (root first) and its timeline',
        params: IncidentParams,
        response: { 200: IncidentDetailSchema, ...errors },
      },
    },
    async (request) => detailForApi(await incidents.detail(projectOf(request), request.params.id)),
  );

  const simple: { name: IncidentActionName; summary: string }[] = [
    { name: 'acknowledge', summary: 'Acknowledge an open incident (someone is on it: repeats stop)' },
    { name: 'resolve', summary: 'Resolve an open or acknowledged incident by hand' },
    { name: 'reopen', summary: 'Reopen a resolved incident (not one marked a false positive: undo that first)' },
    { name: 'unmute', summary: 'Unmute a muted incident' },
    {
      name: 'false-positive',
      summary:
        'Mark a false positive: resolves it and makes its metrics one notch less sensitive (bounded); the timeline keeps the previous setting',
    },
    {
      name: 'undo-false-positive',
      summary:
        'Undo a false positive: puts back the sensitivity it changed (unless changed since); the incident stays resolved, as resolved by hand',
    },
  ];
  for (const { name, summary } of simple) {
    app.post(
      `/api/projects/:slug/incidents/:id/${name}`,
      {
        config: EDITOR,
        schema: { tags, summary, params: IncidentParams, response: { 200: IncidentSchema, ...errors } },
      },
      async (request) => incidentForApi((await act(request, [request.params.id], name))[0]),
    );
  }

  app.post(
    '/api/projects/:slug/incidents/:id/mute',
    {
      config: EDITOR,
      schema: {
        tags,
        summary: 'Mute an incident until a time: no alerts for it until then',
        params: IncidentParams,
        body: MuteBody,
        response: { 200: IncidentSchema, ...errors },
      },
    },
    async (request) => incidentForApi((await act(request, [request.params.id], 'mute', request.body))[0]),
  );

  app.post(
    '/api/projects/:slug/incidents/:id/assign',
    {
      config: EDITOR,
      schema: {
        tags,
        summary: 'Assign an incident to a member of the project (null unassigns)',
        params: IncidentParams,
        body: AssignBody,
        response: { 200: IncidentSchema, ...errors },
      },
    },
    async (request) => incidentForApi((await act(request, [request.params.id], 'assign', request.body))[0]),
  );

  app.post(
    '/api/projects/:slug/incidents/:id/comments',
    {
      config: COMMENTER,
      schema: {
        tags,
        summary: 'Comment on an incident (markdown, at most 10,000 characters)',
        params: IncidentParams,
        body: CommentBody,
        response: { 201: IncidentSchema, ...errors },
      },
    },
    async (request, reply) => {
      const [incident] = await act(request, [request.params.id], 'comment', request.body);
      reply.code(201);
      return incidentForApi(incident);
    },
  );

  app.post(
    '/api/projects/:slug/incidents/bulk',
    {
      config: EDITOR,
      schema: {
        tags,
        summary:
          'One action on many incidents, all or nothing: an unknown id (404) or a transition not allowed for any of them (409) changes none',
        params: SlugParams,
        body: BulkBody,
        response: { 200: BulkResult, ...errors },
      },
    },
    async (request) => {
      const { ids, action, ...fields } = request.body;
      return { incidents: (await act(request, ids, action, fields)).map((i) => incidentForApi(i)) };
    },
  );
}
