/**
 * Request and response schemas of the alerting API, and the shaping of records into responses.
 * A rule's settings are left to the rule validator (rules.ts), whose 400s name the field; a
 * destination's response has no place for a secret value, so none can leak through it.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { RowId } from '../http-schemas.js';
import { DESTINATION_KINDS } from './destinations/types.js';
import { DELIVERY_EVENTS, DELIVERY_STATUSES, type Delivery } from './deliveries.js';
import type { DestinationView } from './destinations-store.js';
import { responseExcerpt } from './response-excerpt.js';
import type { AlertRule } from './rule-store.js';
import { DIRECTIONS, SCOPE_KINDS } from './rules.js';

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const IdParams = Type.Object({ slug: Type.String(), id: RowId() });

// ---- rules ----

/** A rule's filters: which incidents it is about. */
const FilterFields = {
  scopes: Type.Array(Type.String(), {
    description: `signal kinds: ${SCOPE_KINDS.join(', ')} (anomaly covers metric and event-volume anomalies); empty: all`,
  }),
  metricTags: Type.Array(Type.String(), {
    description: "the incident's metric has one of these tags (or one of metricNames); both empty: any incident",
  }),
  metricNames: Type.Array(Type.String()),
  direction: Type.String({ description: DIRECTIONS.join(' | ') }),
  minSeverity: Type.String({ description: 'info | warning | critical (the former minor | significant | major are read as these)' }),
  minPercentChange: Nullable(
    Type.Number({ description: '|% change| of the root signal against its expected value; signals without one pass' }),
  ),
  minAbsoluteChange: Nullable(
    Type.Number({ description: '|actual − expected| of the root signal; signals without an expected value pass' }),
  ),
};

/** Checked by the rule validator (rules.ts), whose messages name the field. */
const RuleSettings = {
  filters: Type.Optional(
    Type.Unknown({
      description:
        'which incidents: { scopes, metricTags, metricNames, direction, minSeverity, minPercentChange, minAbsoluteChange }, each optional',
    }),
  ),
  destinationIds: Type.Optional(Type.Unknown({ description: "ids of this project's destinations (1 to 20); required on create" })),
  cooldownMinutes: Type.Optional(
    Type.Unknown({
      description: 'after an alert about a scope got through, later incidents of that scope are not announced for this long (default 1440)',
    }),
  ),
  repeatEveryMinutes: Type.Optional(
    Type.Unknown({ description: 'repeat while the incident is open and unacknowledged (5 to 10080), or null' }),
  ),
  notifyOnResolve: Type.Optional(
    Type.Unknown({ description: 'tell the destinations when the incident resolves (default true; PagerDuty always hears it)' }),
  ),
  digest: Type.Optional(
    Type.Unknown({
      description:
        "{ cron } in the project's time zone: one message per period listing incidents opened in it, instead of one per incident; or null",
    }),
  ),
};
const RuleHead = {
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  enabled: Type.Optional(Type.Boolean()),
  mutedUntil: Type.Optional(Type.Unknown({ description: 'ISO 8601: the rule sends nothing until then; null: not muted' })),
};
export const RuleBody = Type.Object({ ...RuleHead, ...RuleSettings }, { additionalProperties: false });
export const SimulateDraftBody = Type.Object(
  { ...RuleHead, ...RuleSettings, days: Type.Integer({ minimum: 1, maximum: 90, description: '1 to 90' }) },
  { additionalProperties: false },
);
export const SimulateBody = Type.Object(
  { days: Type.Integer({ minimum: 1, maximum: 90, description: '1 to 90' }) },
  { additionalProperties: false },
);

export const RuleSchema = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  enabled: Type.Boolean(),
  mutedUntil: Nullable(Type.String()),
  filters: Type.Object(FilterFields),
  destinationIds: Type.Array(Type.Integer()),
  cooldownMinutes: Type.Integer(),
  repeatEveryMinutes: Nullable(Type.Integer()),
  notifyOnResolve: Type.Boolean(),
  digest: Nullable(Type.Object({ cron: Type.String() })),
  digestUntil: Nullable(Type.String({ description: 'the last digest covered incidents opened before this' })),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
export type RuleApi = Static<typeof RuleSchema>;

export function ruleForApi(r: AlertRule): RuleApi {
  return {
    id: r.id,
    name: r.name,
    enabled: r.enabled,
    mutedUntil: isoOrNull(r.mutedUntil),
    filters: r.spec.filters,
    destinationIds: r.spec.destinationIds,
    cooldownMinutes: r.spec.cooldownMinutes,
    repeatEveryMinutes: r.spec.repeatEveryMinutes,
    notifyOnResolve: r.spec.notifyOnResolve,
    digest: r.spec.digest,
    digestUntil: isoOrNull(r.digestUntil),
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
  };
}

const SimulatedAlertSchema = Type.Object({
  event: Type.String(),
  at: Type.String(),
  incidentId: Type.Integer(),
  title: Type.String(),
  scopeKey: Type.String(),
  incidents: Type.Optional(Type.Integer()),
});
export const SimulationSchema = Type.Object({
  from: Type.String(),
  to: Type.String(),
  incidents: Type.Integer({ description: 'incidents opened in the window' }),
  matched: Type.Integer({ description: 'of those, the ones the filters match' }),
  suppressedByCooldown: Type.Integer(),
  filteredOut: Type.Record(Type.String(), Type.Integer(), { description: 'why the others did not match (filter → count)' }),
  total: Type.Integer({ description: 'alerts the rule would have sent (each to every destination)' }),
  byEvent: Type.Record(Type.String(), Type.Integer()),
  perDay: Type.Array(Type.Object({ day: Type.String(), alerts: Type.Integer() })),
  alerts: Type.Array(SimulatedAlertSchema),
});

// ---- destinations ----

export const DestinationBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    kind: Type.Optional(Type.String({ description: DESTINATION_KINDS.join(' | ') })),
    config: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), { description: 'the settings that are not secret (URLs, channel, project key, ...)' }),
    ),
    secrets: Type.Optional(
      Type.Record(Type.String(), Nullable(Type.String()), {
        description: 'write-only: stored encrypted, never returned; on PATCH, omitted fields are kept and null removes one',
      }),
    ),
  },
  { additionalProperties: false },
);

export const DestinationSchema = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  kind: Type.String(),
  config: Type.Record(Type.String(), Type.Unknown()),
  secrets: Type.Record(Type.String(), Type.Literal('set'), { description: 'which secret fields are set; never their values' }),
  secretsReadable: Type.Boolean({
    description: 'false when the secrets cannot be decrypted with the current VIGIL_SECRET_KEY: enter them again',
  }),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

export function destinationForApi(d: DestinationView): Static<typeof DestinationSchema> {
  return {
    id: d.id,
    name: d.name,
    kind: d.kind,
    config: d.config,
    secrets: d.secrets,
    secretsReadable: d.secretsReadable,
    createdAt: iso(d.createdAt),
    updatedAt: iso(d.updatedAt),
  };
}

export const TestResultSchema = Type.Object({
  ok: Type.Boolean(),
  status: Nullable(Type.Integer({ description: "the receiver's HTTP status (or SMTP code); null when it did not answer" })),
  body: Type.String({ description: 'a short excerpt of its answer: printable text without markup, at most 200 characters' }),
  error: Nullable(Type.String()),
});

// ---- deliveries ----

export const DeliveryQuery = Type.Object(
  {
    status: Type.Optional(Type.Union(DELIVERY_STATUSES.map((s) => Type.Literal(s)))),
    event: Type.Optional(Type.Union(DELIVERY_EVENTS.map((s) => Type.Literal(s)))),
    rule: Type.Optional(RowId()),
    destination: Type.Optional(RowId()),
    incident: Type.Optional(RowId()),
    cursor: Type.Optional(Type.String({ pattern: '^[0-9]+$', description: 'nextCursor of the previous page' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  },
  { additionalProperties: false },
);

const DeliveryFields = {
  id: Type.Integer(),
  ruleId: Nullable(Type.Integer()),
  destinationId: Nullable(Type.Integer()),
  incidentId: Nullable(Type.Integer()),
  scopeKey: Nullable(Type.String()),
  event: Type.String(),
  status: Type.String({ description: 'pending | sent | failed' }),
  idempotencyKey: Type.String(),
  title: Type.String(),
  attempts: Type.Integer(),
  nextAttemptAt: Nullable(Type.String()),
  lastError: Nullable(Type.String()),
  responseStatus: Nullable(Type.Integer()),
  responseBody: Nullable(Type.String()),
  externalId: Nullable(Type.String()),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  sentAt: Nullable(Type.String()),
};
export const DeliverySchema = Type.Object(DeliveryFields);
export const DeliveryDetailSchema = Type.Object({
  ...DeliveryFields,
  message: Type.Unknown({ description: 'the AlertMessage as built when the change happened (what every attempt sends)' }),
});
export const DeliveryListSchema = Type.Object({ deliveries: Type.Array(DeliverySchema), nextCursor: Nullable(Type.String()) });

export function deliveryForApi(d: Delivery): Static<typeof DeliverySchema> {
  return {
    id: d.id,
    ruleId: d.ruleId,
    destinationId: d.destinationId,
    incidentId: d.incidentId,
    scopeKey: d.scopeKey,
    event: d.event,
    status: d.status,
    idempotencyKey: d.idempotencyKey,
    title: d.message.title,
    attempts: d.attempts,
    nextAttemptAt: isoOrNull(d.nextAttemptAt),
    lastError: d.lastError,
    responseStatus: d.responseStatus,
    responseBody: d.responseBody === null ? null : responseExcerpt(d.responseBody),
    externalId: d.externalId,
    createdAt: iso(d.createdAt),
    updatedAt: iso(d.updatedAt),
    sentAt: isoOrNull(d.sentAt),
  };
}

export function deliveryDetailForApi(d: Delivery): Static<typeof DeliveryDetailSchema> {
  return { ...deliveryForApi(d), message: d.message };
}
