import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { projectOf } from '../auth/access.js';
import { ErrorBody, SlugParams, errorResponses } from '../http-schemas.js';
import {
  DeliveryDetailSchema,
  DeliveryListSchema,
  DeliveryQuery,
  DestinationBody,
  DestinationSchema,
  IdParams,
  RuleBody,
  RuleSchema,
  SimulateBody,
  SimulateDraftBody,
  SimulationSchema,
  TestResultSchema,
  deliveryDetailForApi,
  deliveryForApi,
  destinationForApi,
  ruleForApi,
} from './schemas.js';
import type { AuditLog } from '../auth/audit.js';
import type { JobWorker } from '../jobs/index.js';
import type { AlertService } from './service.js';

const errors = { ...errorResponses, 409: ErrorBody };
const VIEWER = { access: { role: 'viewer', keys: true } } as const;
const EDITOR = { access: { role: 'editor', keys: true } } as const;

/** What these routes use: their own services and the few they name. */
export interface AlertRouteDeps {
  alerts: AlertService;
  audit: AuditLog;
  worker: Pick<JobWorker, 'wake'>;
}

/** Alert rules, destinations and the delivery log: viewers read, editors change (API keys with read / write scope). */
// long because each of its routes declares its schema and access rule inline
export async function alertRoutes(root: FastifyInstance, deps: AlertRouteDeps) {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const alerts = deps.alerts;
  const audit = (request: FastifyRequest, type: string, action: string, id: number, change: { before?: unknown; after?: unknown }) =>
    deps.audit.record(request, { action: `${type}.${action}`, target: { type, id }, ...change });

  // ---- rules ----
  const rules = '/api/projects/:slug/alert-rules';
  const ruleTags = ['alert rules'];

  app.get(
    rules,
    {
      config: VIEWER,
      schema: {
        tags: ruleTags,
        summary: "The project's alert rules",
        params: SlugParams,
        response: { 200: Type.Object({ rules: Type.Array(RuleSchema) }), ...errors },
      },
    },
    async (request) => ({ rules: (await alerts.listRules(projectOf(request))).map(ruleForApi) }),
  );

  app.post(
    rules,
    {
      config: EDITOR,
      schema: {
        tags: ruleTags,
        summary: 'Add an alert rule',
        params: SlugParams,
        body: RuleBody,
        response: { 201: RuleSchema, ...errors },
      },
    },
    async (request, reply) => {
      const rule = ruleForApi(await alerts.createRule(projectOf(request), request.body));
      await audit(request, 'alert_rule', 'create', rule.id, { after: rule });
      reply.code(201);
      return rule;
    },
  );

  app.post(
    `${rules}/simulate`,
    {
      config: VIEWER,
      schema: {
        tags: ruleTags,
        summary: 'What a draft rule would have sent over the last N days (sends nothing)',
        params: SlugParams,
        body: SimulateDraftBody,
        response: { 200: SimulationSchema, ...errors },
      },
    },
    async (request) => {
      const { days, ...input } = request.body;
      return alerts.simulate(projectOf(request), { input }, days);
    },
  );

  app.get(
    `${rules}/:id`,
    {
      config: VIEWER,
      schema: { tags: ruleTags, summary: 'An alert rule', params: IdParams, response: { 200: RuleSchema, ...errors } },
    },
    async (request) => ruleForApi(await alerts.getRule(projectOf(request), request.params.id)),
  );

  app.patch(
    `${rules}/:id`,
    {
      config: EDITOR,
      schema: {
        tags: ruleTags,
        summary: 'Change an alert rule (only the fields sent)',
        params: IdParams,
        body: RuleBody,
        response: { 200: RuleSchema, ...errors },
      },
    },
    async (request) => {
      const project = projectOf(request);
      const before = ruleForApi(await alerts.getRule(project, request.params.id));
      const after = ruleForApi(await alerts.updateRule(project, request.params.id, request.body));
      await audit(request, 'alert_rule', 'update', after.id, { before, after });
      return after;
    },
  );

  app.delete(
    `${rules}/:id`,
    {
      config: EDITOR,
      schema: {
        tags: ruleTags,
        summary: 'Delete an alert rule (its deliveries stay in the log)',
        params: IdParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      const removed = await alerts.removeRule(projectOf(request), request.params.id);
      await audit(request, 'alert_rule', 'delete', removed.id, { before: ruleForApi(removed) });
      return reply.code(204).send(null);
    },
  );

  app.post(
    `${rules}/:id/simulate`,
    {
      config: VIEWER,
      schema: {
        tags: ruleTags,
        summary: 'What this rule would have sent over the last N days (sends nothing)',
        params: IdParams,
        body: SimulateBody,
        response: { 200: SimulationSchema, ...errors },
      },
    },
    async (request) => alerts.simulate(projectOf(request), { id: request.params.id }, request.body.days),
  );

  // ---- destinations ----
  const destinations = '/api/projects/:slug/alert-destinations';
  const destinationTags = ['alert destinations'];

  app.get(
    destinations,
    {
      config: VIEWER,
      schema: {
        tags: destinationTags,
        summary: "The project's alert destinations (secrets: which are set, never their values)",
        params: SlugParams,
        response: { 200: Type.Object({ destinations: Type.Array(DestinationSchema) }), ...errors },
      },
    },
    async (request) => ({ destinations: (await alerts.listDestinations(projectOf(request))).map(destinationForApi) }),
  );

  app.post(
    destinations,
    {
      config: EDITOR,
      schema: {
        tags: destinationTags,
        summary: 'Add a destination; its secrets are stored encrypted',
        params: SlugParams,
        body: DestinationBody,
        response: { 201: DestinationSchema, ...errors },
      },
    },
    async (request, reply) => {
      const d = destinationForApi(await alerts.createDestination(projectOf(request), request.body));
      await audit(request, 'alert_destination', 'create', d.id, { after: d });
      reply.code(201);
      return d;
    },
  );

  app.post(
    `${destinations}/test`,
    {
      config: EDITOR,
      schema: {
        tags: destinationTags,
        summary: "Send a test message to unsaved settings; the receiver's answer",
        params: SlugParams,
        body: DestinationBody,
        response: { 200: TestResultSchema, ...errors },
      },
    },
    async (request) => alerts.testDestination(projectOf(request), { input: request.body }),
  );

  app.get(
    `${destinations}/:id`,
    {
      config: VIEWER,
      schema: { tags: destinationTags, summary: 'An alert destination', params: IdParams, response: { 200: DestinationSchema, ...errors } },
    },
    async (request) => destinationForApi(await alerts.getDestination(projectOf(request), request.params.id)),
  );

  app.patch(
    `${destinations}/:id`,
    {
      config: EDITOR,
      schema: {
        tags: destinationTags,
        summary: 'Change a destination; secrets left out are kept',
        params: IdParams,
        body: DestinationBody,
        response: { 200: DestinationSchema, ...errors },
      },
    },
    async (request) => {
      const project = projectOf(request);
      const before = destinationForApi(await alerts.getDestination(project, request.params.id));
      const after = destinationForApi(await alerts.updateDestination(project, request.params.id, request.body));
      await audit(request, 'alert_destination', 'update', after.id, { before, after });
      return after;
    },
  );

  app.delete(
    `${destinations}/:id`,
    {
      config: EDITOR,
      schema: {
        tags: destinationTags,
        summary: 'Delete a destination (409 while rules send to it)',
        params: IdParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      const removed = destinationForApi(await alerts.removeDestination(projectOf(request), request.params.id));
      await audit(request, 'alert_destination', 'delete', removed.id, { before: removed });
      return reply.code(204).send(null);
    },
  );

  app.post(
    `${destinations}/:id/test`,
    {
      config: EDITOR,
      schema: {
        tags: destinationTags,
        summary: "Send a test message now; the receiver's answer",
        params: IdParams,
        response: { 200: TestResultSchema, ...errors },
      },
    },
    async (request) => alerts.testDestination(projectOf(request), { id: request.params.id }),
  );

  // ---- deliveries ----
  const deliveries = '/api/projects/:slug/alert-deliveries';
  const deliveryTags = ['alert deliveries'];

  app.get(
    deliveries,
    {
      config: VIEWER,
      schema: {
        tags: deliveryTags,
        summary: 'The delivery log, newest first',
        params: SlugParams,
        querystring: DeliveryQuery,
        response: { 200: DeliveryListSchema, ...errors },
      },
    },
    async (request) => {
      const q = request.query;
      const limit = q.limit ?? 50;
      const list = await alerts.listDeliveries(projectOf(request), {
        status: q.status,
        event: q.event,
        ruleId: q.rule,
        destinationId: q.destination,
        incidentId: q.incident,
        beforeId: q.cursor === undefined ? undefined : Number(q.cursor),
        limit,
      });
      return { deliveries: list.map(deliveryForApi), nextCursor: list.length === limit ? String(list[list.length - 1].id) : null };
    },
  );

  app.get(
    `${deliveries}/:id`,
    {
      config: VIEWER,
      schema: {
        tags: deliveryTags,
        summary: 'A delivery, with the message it sends',
        params: IdParams,
        response: { 200: DeliveryDetailSchema, ...errors },
      },
    },
    async (request) => deliveryDetailForApi(await alerts.getDelivery(projectOf(request), request.params.id)),
  );

  app.post(
    `${deliveries}/:id/retry`,
    {
      config: EDITOR,
      schema: {
        tags: deliveryTags,
        summary: 'Try a failed delivery again (409 unless it failed)',
        params: IdParams,
        response: { 200: DeliveryDetailSchema, ...errors },
      },
    },
    async (request) => {
      const d = deliveryDetailForApi(await alerts.retryDelivery(projectOf(request), request.params.id));
      await audit(request, 'alert_delivery', 'retry', d.id, {});
      deps.worker.wake();
      return d;
    },
  );
}
