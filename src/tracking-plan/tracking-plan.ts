/**
 * The discovered tracking plan: what a project's events look like in a window of days, read from
 * the daily schema profiles the drift check keeps (volumes per day, properties, types, values) and
 * from the drift signals (signals/drift/drift.ts) that mark what changed. Nothing here is stored; definitions and validation
 * of a planned schema are future work (DESIGN.md: src/plan/).
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Project } from '../projects/service.js';
import type { Signal } from '../signals/store.js';
import { projectOf } from '../auth/access.js';
import { SlugParams, errorResponses } from '../http-schemas.js';
import { mergeProfiles, PROFILE_MAX_EVENTS, PROFILE_MAX_PROPERTIES } from '../signals/drift/drift.js';
import { own } from '../detect/schema-drift.js';
import { bucketFloor, bucketStarts, nextBucket } from '../time/index.js';
import type { SignalJobs } from '../signals/drift/drift-jobs.js';
import type { SignalService } from '../signals/service.js';

/** drift marks kept per event (newest first); more would not fit on a row */
const MAX_MARKS = 20;
/** values listed per low-cardinality property */
const MAX_VALUES = 10;

const Mark = Type.Object({
  signalId: Type.Integer(),
  kind: Type.String({ description: 'new_event, new_property, property_gone, type_changed, new_value, distribution_drift' }),
  severity: Type.String(),
  property: Type.Union([Type.String(), Type.Null()]),
  detail: Type.String(),
  day: Type.String({ description: 'the day the change was seen (ISO 8601)' }),
});
const Property = Type.Object({
  name: Type.String(),
  /** JSON type → events carrying the property with a value of that type */
  types: Type.Record(Type.String(), Type.Number()),
  type: Type.String({ description: 'the most frequent type, or "mixed" when none holds more than half' }),
  /** share of the event's occurrences that carry the property */
  coverage: Type.Number(),
  distinct: Type.Number({ description: 'distinct non-null values' }),
  values: Type.Union([Type.Array(Type.Object({ value: Type.String(), count: Type.Number() })), Type.Null()], {
    description: 'the most frequent values, when the property has few',
  }),
  drift: Type.Array(Mark),
});
const PlanEvent = Type.Object({
  event: Type.String(),
  count: Type.Number({ description: 'occurrences in the window' }),
  daily: Type.Array(Type.Number(), { description: 'occurrences per day of the window (see days)' }),
  firstSeen: Type.Union([Type.String(), Type.Null()], { description: 'first day in the window with the event' }),
  lastSeen: Type.Union([Type.String(), Type.Null()], { description: 'last day in the window with the event' }),
  properties: Type.Array(Property),
  drift: Type.Array(Mark, { description: "every drift mark of the event, its properties' included, newest first" }),
});
export const TrackingPlanSchema = Type.Object({
  from: Type.String(),
  to: Type.String(),
  timeZone: Type.String(),
  days: Type.Array(Type.String(), { description: 'start of each day of the window, in the project time zone' }),
  events: Type.Array(PlanEvent, { description: 'busiest first' }),
  limits: Type.Object(
    { events: Type.Integer(), propertiesPerEvent: Type.Integer() },
    { description: 'the profile covers at most this many events and properties per event' },
  ),
});
export type TrackingPlan = Static<typeof TrackingPlanSchema>;
type MarkApi = Static<typeof Mark>;

const iso = (ms: number) => new Date(ms).toISOString();

function markOf(s: Signal): MarkApi | null {
  const d = s.details as { event?: unknown; property?: unknown; detail?: unknown; band?: unknown; adjusted?: unknown };
  if (typeof d.event !== 'string') return null;
  const property = typeof d.property === 'string' ? d.property : null;
  const detail =
    typeof d.detail === 'string'
      ? d.detail
      : s.kind === 'distribution_drift'
        ? `the distribution of ${property} shifted (PSI ${Number(d.adjusted ?? s.value).toFixed(2)}, ${String(d.band ?? '')})`
        : s.kind;
  return { signalId: s.id, kind: s.kind, severity: s.severity, property, detail, day: iso(s.bucket) };
}

/** What these routes use: their own services and the few they name. */
export interface TrackingPlanDeps {
  signalJobs: SignalJobs;
  signals: SignalService;
}

// long because it merges the day profiles and the schema and distribution signals into one answer
export async function trackingPlan(deps: TrackingPlanDeps, project: Project, days: number, now: number): Promise<TrackingPlan> {
  const tz = project.timeZone;
  const toMs = nextBucket(tz, '1d', bucketFloor(tz, '1d', now));
  const starts = bucketStarts(tz, '1d', toMs - days * 86_400_000, toMs).slice(-days);
  const fromMs = starts[0];
  // the drift check's daily profiles: each ended day is read from the event store once, and only
  // the day still running is profiled on every request (so late events of an ended day are not seen)
  const [{ profiles }, schema, distribution] = await Promise.all([
    deps.signalJobs.drift.dayProfiles(project, starts),
    deps.signals.list(project, { scope: 'schema', fromMs, toMs, limit: 1000 }),
    deps.signals.list(project, { scope: 'distribution', fromMs, toMs, limit: 1000 }),
  ]);
  const perDay = starts.map((day) => profiles.get(day)?.profile ?? {});

  const daily = new Map<string, number[]>();
  perDay.forEach((dayProfile, i) => {
    for (const [event, ev] of Object.entries(dayProfile)) {
      let values = daily.get(event);
      if (!values) daily.set(event, (values = new Array(starts.length).fill(0)));
      values[i] += ev.count;
    }
  });
  const profile = mergeProfiles(perDay);
  const marks = new Map<string, MarkApi[]>();
  for (const s of [...schema.signals, ...distribution.signals]) {
    const m = markOf(s);
    if (!m) continue;
    const event = s.details.event as string;
    let list = marks.get(event);
    if (!list) marks.set(event, (list = []));
    list.push(m);
  }

  const events = [...daily]
    .map(([event, values]) => {
      const first = values.findIndex((v) => v > 0);
      const last = values.findLastIndex((v) => v > 0);
      const p = own(profile, event);
      const count = values.reduce((a, b) => a + b, 0);
      const eventMarks = (marks.get(event) ?? []).sort((a, b) => b.day.localeCompare(a.day) || b.signalId - a.signalId);
      const properties = Object.entries(p?.properties ?? {})
        .map(([name, prop]) => {
          const carried = Object.values(prop.types).reduce((a, b) => a + b, 0);
          const nonNull = Object.entries(prop.types).filter(([t]) => t !== 'null');
          const total = nonNull.reduce((a, [, n]) => a + n, 0);
          const top = nonNull.sort((a, b) => b[1] - a[1])[0];
          return {
            name,
            types: prop.types,
            type: !top ? 'null' : top[1] > total / 2 ? top[0] : 'mixed',
            coverage: p?.count ? Math.min(1, carried / p.count) : 0,
            distinct: prop.distinct,
            values: prop.values
              ? Object.entries(prop.values)
                  .sort((a, b) => b[1] - a[1])
                  .slice(0, MAX_VALUES)
                  .map(([value, n]) => ({ value, count: n }))
              : null,
            drift: eventMarks.filter((m) => m.property === name),
          };
        })
        .sort((a, b) => b.coverage - a.coverage || a.name.localeCompare(b.name));
      return {
        event,
        count,
        daily: values,
        firstSeen: first < 0 ? null : iso(starts[first]),
        lastSeen: last < 0 ? null : iso(starts[last]),
        properties,
        drift: eventMarks.slice(0, MAX_MARKS),
      };
    })
    .sort((a, b) => b.count - a.count || a.event.localeCompare(b.event));

  return {
    from: iso(fromMs),
    to: iso(toMs),
    timeZone: tz,
    days: starts.map(iso),
    events,
    limits: { events: PROFILE_MAX_EVENTS, propertiesPerEvent: PROFILE_MAX_PROPERTIES },
  };
}

export async function trackingPlanRoutes(root: FastifyInstance, deps: TrackingPlanDeps) {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/api/projects/:slug/tracking-plan',
    {
      config: { access: { role: 'viewer', keys: true } },
      schema: {
        tags: ['events'],
        summary:
          'The discovered tracking plan: events and their properties, types, volumes, first and last seen, and schema-drift marks, over the last `days` days',
        params: SlugParams,
        querystring: Type.Object({ days: Type.Integer({ minimum: 1, maximum: 90, default: 30 }) }),
        response: { 200: TrackingPlanSchema, ...errorResponses },
      },
    },
    async (request) => trackingPlan(deps, projectOf(request), request.query.days, Date.now()),
  );
}
