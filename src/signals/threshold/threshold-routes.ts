import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { projectOf } from '../../auth/access.js';
import { ErrorBody, SlugParams, errorResponses, RowId } from '../../http-schemas.js';
import { SEVERITIES, THRESHOLD_OPERATORS, MAX_CHANGE_PERIOD, type Severity, type ThresholdOperator } from '../../detect/threshold.js';
import type { ThresholdRuleRecord } from './threshold-rule-store.js';
import type { AuditLog } from '../../auth/audit.js';
import type { ThresholdRuleService } from './threshold-rules.js';

const MetricParams = Type.Object({ slug: Type.String(), id: RowId() });
const RuleParams = Type.Object({ slug: Type.String(), id: RowId(), ruleId: RowId() });
const errors = { ...errorResponses, 409: ErrorBody };
const tags = ['threshold rules'];
const VIEWER = { access: { role: 'viewer', keys: true } } as const;
const EDITOR = { access: { role: 'editor', keys: true } } as const;

const ConditionSchema = Type.Object({
  operator: Type.Unsafe<ThresholdOperator>({ type: 'string', enum: [...THRESHOLD_OPERATORS], description: THRESHOLD_OPERATORS.join(' ') }),
  value: Type.Number(),
  changeOverPeriod: Type.Optional(
    Type.Integer({
      description: `compare the % change against the bucket this many buckets earlier (1 to ${MAX_CHANGE_PERIOD}) instead of the value`,
    }),
  ),
});
/**
 * A rule as stored (the response); requests send the same shape, checked by the rule validator.
 * Its values are strings with an enum, not unions: the serializer writes them unchecked.
 */
export const ThresholdRuleShape = Type.Object({
  condition: ConditionSchema,
  forBuckets: Type.Optional(Type.Integer({ description: 'consecutive buckets meeting the condition before it fires (default 1)' })),
  recovery: Type.Optional(ConditionSchema),
  recoverFor: Type.Optional(Type.Integer({ description: 'consecutive buckets meeting the recovery before it recovers (default 1)' })),
  severity: Type.Unsafe<Severity>({ type: 'string', enum: [...SEVERITIES], description: SEVERITIES.join(', ') }),
});
/** Left to the rule validator (so its messages, which name the field, are the ones a client sees). */
export const RuleInput = Type.Unknown({
  description:
    'a threshold rule: { condition: { operator: > >= < <= == !=, value, changeOverPeriod? }, forBuckets?, recovery?, recoverFor?, severity: info | warning | critical }',
});

const RuleSchema = Type.Object({
  id: Type.Integer(),
  metricId: Type.Integer(),
  name: Type.String(),
  rule: ThresholdRuleShape,
  enabled: Type.Boolean(),
  breached: Type.Boolean({ description: 'whether the rule stands breached after the last bucket evaluated' }),
  evaluatedUntil: Type.Union([Type.String(), Type.Null()], {
    description: 'buckets before this have been evaluated (ISO 8601); null before the first evaluation',
  }),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
type RuleApi = Static<typeof RuleSchema>;

const Name = Type.String({ minLength: 1, maxLength: 200 });
const CreateRule = Type.Object({ name: Name, rule: RuleInput, enabled: Type.Optional(Type.Boolean()) }, { additionalProperties: false });
const UpdateRule = Type.Object(
  { name: Type.Optional(Name), rule: Type.Optional(RuleInput), enabled: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);

const iso = (ms: number) => new Date(ms).toISOString();

/** What these routes use: their own services and the few they name. */
export interface ThresholdRouteDeps {
  audit: AuditLog;
  thresholdRules: ThresholdRuleService;
}

export function ruleForApi(r: ThresholdRuleRecord): RuleApi {
  return {
    id: r.id,
    metricId: r.metricId,
    name: r.name,
    rule: r.rule,
    enabled: r.enabled,
    breached: r.state?.breached ?? false,
    evaluatedUntil: r.evaluatedUntil === null ? null : iso(r.evaluatedUntil),
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
  };
}

/** A metric's threshold rules: viewers read them, editors change them (API keys with read / write scope). */
// long because each of its routes declares its schema inline
export async function thresholdRoutes(root: FastifyInstance, deps: ThresholdRouteDeps) {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const rules = deps.thresholdRules;
  const audit = (action: string, id: number) => ({ action: `threshold_rule.${action}`, target: { type: 'threshold_rule', id } });

  app.get(
    '/api/projects/:slug/rules',
    {
      config: VIEWER,
      schema: {
        tags,
        summary: 'Every threshold rule of the project, by metric',
        params: SlugParams,
        response: { 200: Type.Object({ rules: Type.Array(RuleSchema) }), ...errors },
      },
    },
    async (request) => ({ rules: (await rules.listProject(projectOf(request))).map(ruleForApi) }),
  );

  app.get(
    '/api/projects/:slug/metrics/:id/rules',
    {
      config: VIEWER,
      schema: {
        tags,
        summary: "A metric's threshold rules",
        params: MetricParams,
        response: { 200: Type.Object({ rules: Type.Array(RuleSchema) }), ...errors },
      },
    },
    async (request) => ({ rules: (await rules.list(projectOf(request), request.params.id)).map(ruleForApi) }),
  );

  app.post(
    '/api/projects/:slug/metrics/:id/rules',
    {
      config: EDITOR,
      schema: {
        tags,
        summary: 'Add a threshold rule: evaluated from the next collection on',
        params: MetricParams,
        body: CreateRule,
        response: { 201: RuleSchema, ...errors },
      },
    },
    async (request, reply) => {
      const rule = ruleForApi(await rules.create(projectOf(request), request.params.id, request.body));
      await deps.audit.record(request, { ...audit('create', rule.id), after: rule });
      reply.code(201);
      return rule;
    },
  );

  app.patch(
    '/api/projects/:slug/metrics/:id/rules/:ruleId',
    {
      config: EDITOR,
      schema: {
        tags,
        summary: 'Change a threshold rule; a changed rule, or one enabled again, starts afresh from the next collection',
        params: RuleParams,
        body: UpdateRule,
        response: { 200: RuleSchema, ...errors },
      },
    },
    async (request) => {
      const project = projectOf(request);
      const { id, ruleId } = request.params;
      const before = ruleForApi(await rules.get(project, id, ruleId));
      const after = ruleForApi(await rules.update(project, id, ruleId, request.body));
      await deps.audit.record(request, { ...audit('update', ruleId), before, after });
      return after;
    },
  );

  app.delete(
    '/api/projects/:slug/metrics/:id/rules/:ruleId',
    {
      config: EDITOR,
      schema: {
        tags,
        summary: 'Delete a threshold rule (the signals it raised stay)',
        params: RuleParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      const removed = await rules.remove(projectOf(request), request.params.id, request.params.ruleId);
      await deps.audit.record(request, { ...audit('delete', removed.id), before: ruleForApi(removed) });
      return reply.code(204).send(null);
    },
  );
}
