/** Request and response schemas of the signals API (TypeBox). */
import { Type, type Static } from '@sinclair/typebox';
import { WindowQuery, RowId } from '../http-schemas.js';
import { SIGNAL_SCOPES, type Signal } from './store.js';

const NullableNumber = Type.Union([Type.Number(), Type.Null()]);

export const SignalSchema = Type.Object({
  id: Type.Integer(),
  scope: Type.String({ description: SIGNAL_SCOPES.join(', ') }),
  scopeKey: Type.String({ description: 'what was watched, e.g. metric:12' }),
  metricId: Type.Union([Type.Integer(), Type.Null()]),
  bucket: Type.String({ description: 'the first bucket of the episode, where the signal is anchored (ISO 8601, UTC)' }),
  endBucket: Type.String({ description: 'the last bucket of the episode so far' }),
  kind: Type.String({
    description:
      'metric and event signals: spike, drop, level_shift, outage; threshold rules: breach, recovery; schema: new_event, new_property, new_value, property_gone, type_changed; distribution: distribution_drift',
  }),
  direction: Type.Union([Type.String({ description: 'up or down' }), Type.Null()]),
  value: Type.Number({ description: "the peak bucket's value" }),
  expected: NullableNumber,
  lower: NullableNumber,
  upper: NullableNumber,
  z: Type.Number(),
  score: Type.Number({ description: "|z| / (|z| + threshold): 0.5 at the band's edge" }),
  severity: Type.String({ description: 'info, warning, critical' }),
  details: Type.Record(Type.String(), Type.Unknown()),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
export type SignalApi = Static<typeof SignalSchema>;

export const SignalsQuery = Type.Object({
  scope: Type.Optional(Type.Unsafe<(typeof SIGNAL_SCOPES)[number]>({ type: 'string', enum: [...SIGNAL_SCOPES] })),
  metric: Type.Optional(RowId({ description: 'a metric id' })),
  kind: Type.Optional(Type.String({ minLength: 1, maxLength: 24 })),
  ...WindowQuery,
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
  cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}_[0-9]{1,15}$', description: 'nextCursor of the previous page' })),
});

export const SignalPage = Type.Object({ signals: Type.Array(SignalSchema), nextCursor: Type.Union([Type.String(), Type.Null()]) });

const iso = (ms: number) => new Date(ms).toISOString();

/** A stored signal as the API shows it. */
export function signalForApi(s: Signal): SignalApi {
  return {
    id: s.id,
    scope: s.scope,
    scopeKey: s.scopeKey,
    metricId: s.metricId,
    bucket: iso(s.bucket),
    endBucket: iso(s.endBucket),
    kind: s.kind,
    direction: s.direction,
    value: s.value,
    expected: s.expected,
    lower: s.lower,
    upper: s.upper,
    z: s.z,
    score: s.score,
    severity: s.severity,
    details: s.details,
    createdAt: iso(s.createdAt),
    updatedAt: iso(s.updatedAt),
  };
}
