/** Request and response schemas of the incidents API (TypeBox). */
import { Type, type Static } from '@sinclair/typebox';
import { LEGACY_SEVERITIES } from '../detect/severity.js';
import { WindowQuery, RowId } from '../http-schemas.js';
import { SignalSchema } from '../signals/schemas.js';
import { INCIDENT_ACTIONS, MAX_COMMENT_CHARS } from './lifecycle.js';
import { INCIDENT_EVENT_TYPES, INCIDENT_SEVERITIES, INCIDENT_STATUSES } from './types.js';

const StringEnum = <T extends readonly string[]>(values: T, description?: string) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], description: description ?? values.join(', ') });
const NullableString = Type.Union([Type.String(), Type.Null()]);
const NullableInteger = Type.Union([Type.Integer(), Type.Null()]);

export const IncidentSchema = Type.Object({
  id: Type.Integer(),
  title: Type.String(),
  // a string with an enum, not a union: the serializer writes it unchecked, as it did a plain string
  status: StringEnum(INCIDENT_STATUSES),
  resolution: Type.Union([Type.String({ description: 'recovered, manual, false_positive' }), Type.Null()]),
  severity: StringEnum(INCIDENT_SEVERITIES),
  scopeKey: Type.String({ description: 'what its root signal watched: metric:12, rule:3, event:Signed Up, ...' }),
  breakdown: Type.String({ description: "a breakdown value, '' for a total" }),
  direction: Type.Union([Type.String({ description: 'up or down' }), Type.Null()]),
  metricId: NullableInteger,
  rootSignalId: NullableInteger,
  assigneeId: Type.Union([Type.Integer({ description: 'a member of the project' }), Type.Null()]),
  mutedUntil: Type.Union([Type.String({ description: 'no alerts until then (ISO 8601)' }), Type.Null()]),
  muted: Type.Boolean(),
  startedBucket: Type.String({ description: 'the first bucket of its root signal (ISO 8601)' }),
  lastBucket: Type.String({ description: 'the last bucket any of its signals reached' }),
  openedAt: Type.String(),
  acknowledgedAt: NullableString,
  resolvedAt: NullableString,
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
export type IncidentApi = Static<typeof IncidentSchema>;

export const IncidentPage = Type.Object({ incidents: Type.Array(IncidentSchema), nextCursor: NullableString });

export const TimelineEntry = Type.Object({
  id: Type.Integer(),
  type: Type.String({ description: INCIDENT_EVENT_TYPES.join(', ') }),
  actorId: Type.Union([
    Type.Integer({ description: 'the user who made the change' }),
    Type.Null({ description: 'Vigil itself, or an API key (named in data.actor)' }),
  ]),
  data: Type.Record(Type.String(), Type.Unknown()),
  at: Type.String(),
});

/** Why a signal fired, in words (src/signals/explain.ts). */
export const SignalExplanationSchema = Type.Object({
  subject: Type.String({ description: "what it is about: a metric, an event, the project's event volume, a rule" }),
  observed: Type.String(),
  expected: Type.Union([Type.String(), Type.Null()]),
  band: Type.Union([Type.String({ description: 'lower–upper' }), Type.Null()]),
  samples: Type.Union([
    Type.Number({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'the events, denominator or rows behind the peak bucket' }),
    Type.Null(),
  ]),
  detector: Type.String({ description: 'the detector and its model, or the threshold rule' }),
  sentence: Type.String({ description: 'one plain sentence: what was seen against what, and why it fired' }),
});

export const IncidentDetailSchema = Type.Object({
  incident: IncidentSchema,
  signals: Type.Array(
    Type.Object({
      role: Type.String({ description: 'root, same_scope, related' }),
      addedAt: Type.String(),
      signal: SignalSchema,
      explanation: SignalExplanationSchema,
    }),
    { description: 'root first' },
  ),
  timeline: Type.Array(TimelineEntry, { description: 'oldest first' }),
});

export const IncidentsQuery = Type.Object({
  status: Type.Optional(StringEnum(INCIDENT_STATUSES)),
  severity: Type.Optional(
    StringEnum(
      [...INCIDENT_SEVERITIES, ...Object.keys(LEGACY_SEVERITIES)],
      `${INCIDENT_SEVERITIES.join(', ')} (the former ${Object.keys(LEGACY_SEVERITIES).join(', ')} are read as these)`,
    ),
  ),
  metric: Type.Optional(RowId({ description: 'a metric id' })),
  scope: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 300,
      description: 'a scope key (metric:12, rule:3, event:Signed Up), or a prefix ending in * (rule:*)',
    }),
  ),
  ...WindowQuery,
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
  cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', description: 'nextCursor of the previous page' })),
});

export const IncidentParams = Type.Object({ slug: Type.String(), id: RowId() });

const Until = Type.String({
  minLength: 1,
  maxLength: 64,
  description: 'ISO 8601, epoch ms, or relative such as +2h; at most a year ahead',
});
const UserId = Type.Union([RowId(), Type.Null()], { description: 'a member of the project, or null to unassign' });
const Body = Type.String({ minLength: 1, maxLength: MAX_COMMENT_CHARS, description: 'markdown' });

export const MuteBody = Type.Object({ until: Until }, { additionalProperties: false });
export const AssignBody = Type.Object({ userId: UserId }, { additionalProperties: false });
export const CommentBody = Type.Object({ body: Body }, { additionalProperties: false });

export const BulkBody = Type.Object(
  {
    ids: Type.Array(RowId(), { minItems: 1, maxItems: 500 }),
    action: StringEnum(INCIDENT_ACTIONS),
    until: Type.Optional(Until),
    userId: Type.Optional(UserId),
    body: Type.Optional(Body),
  },
  { additionalProperties: false },
);

export const BulkResult = Type.Object({ incidents: Type.Array(IncidentSchema) });

export const StatsQuery = Type.Object({ days: Type.Integer({ minimum: 1, maximum: 365, default: 30 }) });

const Duration = Type.Object({
  count: Type.Integer(),
  meanMs: Type.Union([Type.Number(), Type.Null()]),
  medianMs: Type.Union([Type.Number(), Type.Null()]),
});
const Counts = Type.Record(Type.String(), Type.Integer());

const ScopeCount = Type.Object({
  scopeKey: Type.String(),
  metricId: NullableInteger,
  title: Type.String({ description: 'of its latest incident' }),
  incidents: Type.Integer(),
  falsePositives: Type.Integer(),
});

export const StatsSchema = Type.Object({
  days: Type.Integer(),
  total: Type.Integer({ description: 'incidents opened in the window' }),
  byStatus: Counts,
  bySeverity: Counts,
  byResolution: Counts,
  noisiest: Type.Array(ScopeCount, { description: 'scopes (threshold rules, metrics, events, ...) with the most incidents' }),
  topRules: Type.Array(Type.Composite([ScopeCount, Type.Object({ ruleId: Type.Integer() })]), {
    description: 'threshold rules with the most incidents',
  }),
  timeToAcknowledge: Duration,
  timeToResolve: Duration,
});
