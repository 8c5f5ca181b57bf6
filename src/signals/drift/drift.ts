/**
 * Drift of a project's events, day over day: schema changes (detect/schema-drift.ts) and shifts in
 * the distribution of low-cardinality properties (detect/psi.ts), each compared with a baseline of
 * the 7 days before.
 *
 * Every day's schema profile is computed once, by one statement, and stored (event_profiles); the
 * baseline merges the stored profiles of its days. Late events of a day already profiled are not
 * seen (the daily run waits for the settling time first).
 */
import { createHash } from 'node:crypto';
import type { EventStore, SchemaProfileRow } from '../../storage/events/event-store.js';
import type { MetaDb } from '../../meta-db.js';
import type { Project } from '../../projects/service.js';
import {
  LOW_CARDINALITY,
  own,
  put,
  schemaChanges,
  type DayProfile,
  type PropertyProfile,
  type SchemaChange,
} from '../../detect/schema-drift.js';
import { PSI_STABLE_BELOW, psi, type PsiResult } from '../../detect/psi.js';
import { badRequest } from '../../errors.js';
import { bucketFloor, nextBucket } from '../../time/index.js';
import type { SignalService } from '../service.js';
import { RunningDayProfiles } from './running-day-profile.js';
import type { Severity, SignalInput } from '../store.js';

/** days compared with the day checked */
export const BASELINE_DAYS = 7;
/** a baseline with fewer days that had events is no baseline: everything would look new */
export const MIN_BASELINE_DAYS = 3;
/** the profile's caps: the most frequent events, and per event its most frequent properties */
export const PROFILE_MAX_EVENTS = 200;
export const PROFILE_MAX_PROPERTIES = 100;
/** distribution drift is computed for the busiest events of the day ... */
export const PSI_TOP_EVENTS = 20;
/** ... and a property needs this many values on each side: below it PSI's χ² correction is a poor guess */
export const MIN_PSI_VALUES = 30;
/** contributions of the largest movers kept in a distribution signal */
const PSI_TOP_VALUES = 5;
/** profiles older than this are deleted (the baseline reads 7 days, the tracking plan up to 90) */
const PROFILE_KEEP_DAYS = 92;
/** the signals table's scope_key column is varchar(300) */
const MAX_SCOPE_KEY = 300;

const SCHEMA_SEVERITY: Record<SchemaChange['kind'], Severity> = {
  new_event: 'info',
  new_property: 'info',
  new_value: 'info',
  property_gone: 'warning',
  type_changed: 'warning',
};

/** A scope key that fits its column: a long one keeps its head and gets a hash of the whole. */
export function boundedKey(key: string): string {
  if (key.length <= MAX_SCOPE_KEY) return key;
  return `${key.slice(0, MAX_SCOPE_KEY - 17)}#${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
}

/** The store's profile rows as a DayProfile (the same shape profileEvents builds from events). */
export function foldProfile(rows: SchemaProfileRow[], maxValues = LOW_CARDINALITY): DayProfile {
  const day: DayProfile = {};
  for (const r of rows) {
    const ev = own(day, r.event) ?? put(day, r.event, { count: r.events, properties: {} });
    if (r.key === null || r.type === null) continue;
    const p = own(ev.properties, r.key) ?? put(ev.properties, r.key, { types: {}, distinct: r.distinct });
    p.types[r.type] = (p.types[r.type] ?? 0) + r.count;
    if (r.value !== null && r.distinct <= maxValues) put((p.values ??= {}), r.value, (own(p.values, r.value) ?? 0) + r.count);
  }
  return day;
}

/**
 * Profiles of several days as one: counts summed. A property's values stay known while every day
 * knew them and their union stays few; otherwise its distinct count is a lower bound (the largest
 * of the union so far and each day's).
 */
export function mergeProfiles(days: DayProfile[]): DayProfile {
  const out: DayProfile = {};
  const unknown = new Set<PropertyProfile>();
  for (const day of days) {
    for (const [event, ev] of Object.entries(day)) {
      const into = own(out, event) ?? put(out, event, { count: 0, properties: {} });
      into.count += ev.count;
      for (const [name, p] of Object.entries(ev.properties)) {
        const q = own(into.properties, name) ?? put(into.properties, name, { types: {}, distinct: 0, values: {} });
        for (const [type, n] of Object.entries(p.types)) q.types[type] = (q.types[type] ?? 0) + n;
        if (!unknown.has(q) && (p.values || p.distinct === 0)) {
          for (const [value, n] of Object.entries(p.values ?? {})) put(q.values!, value, (own(q.values, value) ?? 0) + n);
          q.distinct = Object.keys(q.values!).length;
          if (q.distinct > LOW_CARDINALITY) unknown.add(q);
        } else {
          unknown.add(q);
          q.distinct = Math.max(q.distinct, p.distinct);
        }
      }
    }
  }
  for (const ev of Object.values(out)) {
    for (const p of Object.values(ev.properties)) if (unknown.has(p) || p.distinct === 0) delete p.values;
  }
  return out;
}

/** How many of the day's events show the change. */
function changeCount(c: SchemaChange, today: DayProfile): number {
  const ev = own(today, c.event);
  const p = c.property === undefined ? undefined : own(ev?.properties, c.property);
  switch (c.kind) {
    case 'new_event':
      return ev?.count ?? 0;
    case 'new_property':
      return Object.values(p?.types ?? {}).reduce((a, b) => a + b, 0);
    case 'type_changed':
      return p?.types[String(c.after)] ?? 0;
    case 'new_value':
      return p?.values?.[String(c.after)] ?? 0;
    case 'property_gone':
      return 0;
  }
}

/** A schema change is a fact, not a deviation: z 0, score 1. */
export function schemaSignal(c: SchemaChange, day: number, today: DayProfile, baselineDays: number): SignalInput {
  const value = c.kind === 'new_value' ? `:${String(c.after)}` : '';
  return {
    scope: 'schema',
    scopeKey: boundedKey(`schema:${c.event}:${c.property ?? '*'}:${c.kind}${value}`),
    metricId: null,
    bucket: day,
    endBucket: day,
    kind: c.kind,
    direction: null,
    value: changeCount(c, today),
    expected: null,
    lower: null,
    upper: null,
    z: 0,
    score: 1,
    severity: SCHEMA_SEVERITY[c.kind],
    details: {
      event: c.event,
      ...(c.property !== undefined && { property: c.property }),
      detail: c.detail,
      before: c.before ?? null,
      after: c.after ?? null,
      baselineDays,
    },
  };
}

/** A drifted distribution: its value is the adjusted PSI, its band's edge the stable limit (score 0.5 there). */
export function distributionSignal(
  event: string,
  property: string,
  r: PsiResult,
  day: number,
  n: { baseline: number; current: number; baselineDays: number },
): SignalInput {
  return {
    scope: 'distribution',
    scopeKey: boundedKey(`distribution:${event}:${property}`),
    metricId: null,
    bucket: day,
    endBucket: day,
    kind: 'distribution_drift',
    direction: null,
    value: r.adjusted,
    expected: null,
    lower: null,
    upper: PSI_STABLE_BELOW,
    z: 0,
    score: r.adjusted / (r.adjusted + PSI_STABLE_BELOW),
    severity: r.band === 'significant' ? 'warning' : 'info',
    details: {
      event,
      property,
      psi: r.psi,
      correction: r.correction,
      adjusted: r.adjusted,
      band: r.band,
      top: r.categories.slice(0, PSI_TOP_VALUES),
      baselineValues: n.baseline,
      currentValues: n.current,
      baselineDays: n.baselineDays,
    },
  };
}

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

export interface DriftResult {
  day: number;
  /** baseline days that had events */
  baselineDays: number;
  /** days profiled now (the others were stored) */
  profiled: number;
  schema: number;
  distribution: number;
  inserted: number;
  updated: number;
  skipped?: string;
  ms: number;
}

export interface DriftDeps {
  db: MetaDb;
  events: EventStore;
  signals: SignalService;
  now?: () => number;
}

export type StoredProfile = { profile: DayProfile; events: number };

export class DriftDetector {
  private now: () => number;
  private running = new RunningDayProfiles();

  constructor(private deps: DriftDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Schema and distribution drift of the (project-local) day starting at `day` against the 7 days before; idempotent. */
  async detectDay(project: Project, day: number): Promise<DriftResult> {
    const started = performance.now();
    const tz = project.timeZone;
    const start = bucketFloor(tz, '1d', day);
    if (nextBucket(tz, '1d', start) > this.now()) throw badRequest('drift is checked for a day that has ended', { field: 'day' });
    const days = [start];
    while (days.length <= BASELINE_DAYS) days.unshift(bucketFloor(tz, '1d', days[0] - 1));
    const { profiles, profiled } = await this.dayProfiles(project, days);
    const base = days
      .slice(0, -1)
      .map((d) => profiles.get(d)!)
      .filter((p) => p.events > 0);
    const result = { day: start, baselineDays: base.length, profiled, schema: 0, distribution: 0, inserted: 0, updated: 0 };
    const done = (r: Omit<DriftResult, 'ms'>): DriftResult => ({ ...r, ms: Math.round(performance.now() - started) });
    if (base.length < MIN_BASELINE_DAYS)
      return done({ ...result, skipped: `the baseline has ${base.length} days with events; ${MIN_BASELINE_DAYS} are needed` });
    const baseline = mergeProfiles(base.map((p) => p.profile));
    const today = profiles.get(start)!.profile;

    const signals = schemaChanges(baseline, today).map((c) => schemaSignal(c, start, today, base.length));
    const schema = signals.length;
    const busiest = Object.entries(today)
      .filter(([event]) => own(baseline, event))
      .sort((a, b) => b[1].count - a[1].count || (a[0] < b[0] ? -1 : 1))
      .slice(0, PSI_TOP_EVENTS);
    for (const [event, ev] of busiest) {
      for (const [property, b] of Object.entries(own(baseline, event)!.properties)) {
        if (property.startsWith('$') || !b.values || b.distinct > LOW_CARDINALITY) continue;
        const current = await this.currentValues(
          project,
          event,
          property,
          own(ev.properties, property),
          start,
          nextBucket(tz, '1d', start),
        );
        const n = { baseline: sum(b.values), current: current ? sum(current) : 0, baselineDays: base.length };
        if (!current || n.current < MIN_PSI_VALUES || n.baseline < MIN_PSI_VALUES) continue;
        const r = psi(b.values, current);
        if (r.band !== 'stable') signals.push(distributionSignal(event, property, r, start, n));
      }
    }
    const dayEnd = nextBucket(tz, '1d', start);
    const r = await this.deps.signals.upsert(
      project.id,
      signals,
      ['schema:*', 'distribution:*'].map((scopeKey) => ({ scopeKey, until: dayEnd, stepMs: 86_400_000 })),
    );
    return done({ ...result, schema, distribution: signals.length - schema, ...r });
  }

  /** The day's counts per value: from its profile, or (more values than a profile keeps) from the store. */
  private async currentValues(
    project: Project,
    event: string,
    property: string,
    p: PropertyProfile | undefined,
    fromMs: number,
    toMs: number,
  ): Promise<Record<string, number> | undefined> {
    if (!p) return undefined;
    if (p.values) return p.values;
    if (p.distinct === 0) return undefined;
    const rows = await this.deps.events.valueShares({ projectId: project.id, event, property, fromMs, toMs, limit: LOW_CARDINALITY });
    return Object.fromEntries(rows.map((r) => [r.value, r.count]));
  }

  /**
   * The profiles of these (project-local) days: stored ones, the others computed (and stored once
   * their day has ended and settled, so a day is read from the event store once); a day not yet
   * settled is computed at most once a minute (running-day-profile.ts).
   */
  async dayProfiles(project: Project, days: number[]): Promise<{ profiles: Map<number, StoredProfile>; profiled: number }> {
    const { db } = this.deps;
    // a day is stored once its late events have had the project's settling time to arrive
    const { settlingMinutes } = await this.deps.signals.resolve(project.id, null);
    const settledBefore = this.now() - settlingMinutes * 60_000;
    const rows = await db
      .selectFrom('event_profiles')
      .select(['day', 'profile', 'events'])
      .where('project_id', '=', project.id)
      .where('day', 'in', days)
      .execute();
    const profiles = new Map<number, StoredProfile>(
      rows.map((r) => [Number(r.day), { profile: JSON.parse(r.profile) as DayProfile, events: Number(r.events) }]),
    );
    let profiled = 0;
    const profileOf = async (fromMs: number, toMs: number) =>
      foldProfile(
        await this.deps.events.schemaProfile({
          projectId: project.id,
          fromMs,
          toMs,
          maxEvents: PROFILE_MAX_EVENTS,
          maxProperties: PROFILE_MAX_PROPERTIES,
          maxValues: LOW_CARDINALITY,
        }),
      );
    for (const day of days) {
      if (profiles.has(day)) continue;
      const toMs = nextBucket(project.timeZone, '1d', day);
      const settled = toMs <= settledBefore;
      const profile = settled ? await profileOf(day, toMs) : await this.running.get(project.id, day, toMs, this.now(), profileOf);
      profiles.set(day, { profile, events: Object.values(profile).reduce((a, e) => a + e.count, 0) });
      profiled++;
      if (!settled) continue;
      await db
        .insertInto('event_profiles')
        .values({
          project_id: project.id,
          day,
          profile: JSON.stringify(profile),
          events: profiles.get(day)!.events,
          created_at: this.now(),
        })
        .onConflict((oc) => oc.columns(['project_id', 'day']).doNothing())
        .execute();
      this.running.forget(project.id, day);
    }
    if (profiled)
      await db
        .deleteFrom('event_profiles')
        .where('project_id', '=', project.id)
        .where('day', '<', days[0] - PROFILE_KEEP_DAYS * 86_400_000)
        .execute();
    return { profiles, profiled };
  }
}
