/**
 * Schema drift of ingested events, day over day: a new event name, a new property, a property
 * gone, a property whose type changed, a new value in a low-cardinality property.
 *
 * Works on daily profiles (per event: count; per property: type counts, distinct values, and the
 * values themselves when few). `profileEvents` builds one from rows; the store builds the same
 * shape with SQL. Properties starting with `$` are set by SDKs and Vigil itself and are ignored.
 * Values are keyed as text: strings as they are, other scalars by String(), objects and arrays by
 * JSON; null counts as a type, never as a value.
 */

/** At most this many distinct values makes a property an enum (plan, tier) whose new values are news; beyond it (ids, urls) they are routine. */
export const LOW_CARDINALITY = 20;
/** A property is 'gone' only on a day with at least this many of its events: on quiet days absence is chance. */
export const DEFAULT_MIN_EVENTS_FOR_GONE = 20;
/** ... and only if it was on at least this share of baseline events: optional properties come and go. */
export const GONE_MIN_BASELINE_SHARE = 0.5;
/** A type is the property's type when it holds more than this share of non-null values; a mixed property has none. */
export const DOMINANT_TYPE_SHARE = 0.5;

export type ValueType = 'string' | 'number' | 'boolean' | 'object' | 'array' | 'null';

export interface PropertyProfile {
  /** ValueType → number of events with the property of that type */
  types: Record<string, number>;
  /** value → count; only kept when distinct values ≤ LOW_CARDINALITY */
  values?: Record<string, number>;
  /** distinct non-null values */
  distinct: number;
}
export interface EventProfile {
  count: number;
  properties: Record<string, PropertyProfile>;
}
export type DayProfile = Record<string /* event name */, EventProfile>;

export interface SchemaChange {
  kind: 'new_event' | 'new_property' | 'property_gone' | 'type_changed' | 'new_value';
  event: string;
  property?: string;
  /** a human sentence */
  detail: string;
  before?: unknown;
  after?: unknown;
}

function typeOf(v: unknown): ValueType | undefined {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'number':
    case 'bigint':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'object':
      return 'object';
    default:
      return undefined; // undefined, functions: not a JSON value, the property is absent
  }
}

/**
 * Event and property names come from clients: `__proto__`, `constructor` or `toString` are names
 * like any other. Profiles read them with `own` (never from Object.prototype) and write them with
 * `put` (an own property, even for `__proto__`).
 */
export function own<T>(o: Record<string, T> | undefined, key: string): T | undefined {
  return o !== undefined && Object.hasOwn(o, key) ? o[key] : undefined;
}
export function put<T>(o: Record<string, T>, key: string, value: NoInfer<T>): T {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  return value;
}

function valueKey(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** Builds a day's profile from event rows (tests and small days; the store uses SQL). */
export function profileEvents(events: { event: string; properties: Record<string, unknown> }[]): DayProfile {
  const day: DayProfile = {};
  const seen = new Map<PropertyProfile, Map<string, number>>();
  for (const row of events) {
    const ev = own(day, row.event) ?? put(day, row.event, { count: 0, properties: {} });
    ev.count++;
    for (const [name, v] of Object.entries(row.properties)) {
      const type = typeOf(v);
      if (type === undefined) continue;
      const p = own(ev.properties, name) ?? put(ev.properties, name, { types: {}, distinct: 0 });
      p.types[type] = (p.types[type] ?? 0) + 1;
      if (type === 'null') continue;
      const values = seen.get(p) ?? new Map<string, number>();
      seen.set(p, values);
      const key = valueKey(v);
      values.set(key, (values.get(key) ?? 0) + 1);
    }
  }
  for (const [p, values] of seen) {
    p.distinct = values.size;
    if (values.size <= LOW_CARDINALITY) p.values = Object.fromEntries(values);
  }
  return day;
}

function presence(p: PropertyProfile | undefined): number {
  let n = 0;
  for (const c of Object.values(p?.types ?? {})) n += c;
  return n;
}

function dominantType(p: PropertyProfile): ValueType | undefined {
  const nonNull = presence(p) - (p.types.null ?? 0);
  for (const [type, c] of Object.entries(p.types)) {
    if (type !== 'null' && c > DOMINANT_TYPE_SHARE * nonNull) return type as ValueType;
  }
  return undefined;
}

const sortedKeys = (o: Record<string, unknown>): string[] => Object.keys(o).sort();
const pct = (x: number): string => `${Math.round(x * 100)} %`;

/** Changes from `baseline` to `today` (the day profiled: yesterday, once it is over), ordered by event, then property; their texts say "that day". */
export function schemaChanges(baseline: DayProfile, today: DayProfile, opts: { minEventsForGone?: number } = {}): SchemaChange[] {
  const minEventsForGone = opts.minEventsForGone ?? DEFAULT_MIN_EVENTS_FOR_GONE;
  const changes: SchemaChange[] = [];
  for (const event of sortedKeys(today)) {
    const now = own(today, event)!;
    if (now.count <= 0) continue;
    const before = own(baseline, event);
    if (!before || before.count <= 0) {
      changes.push({ kind: 'new_event', event, detail: `New event '${event}' (${now.count} that day).`, after: now.count });
      continue;
    }
    const names = [...new Set([...Object.keys(before.properties), ...Object.keys(now.properties)])]
      .filter((n) => !n.startsWith('$'))
      .sort();
    for (const property of names) {
      const b = own(before.properties, property);
      const t = own(now.properties, property);
      const bSeen = presence(b);
      const tSeen = presence(t);
      if (tSeen > 0 && bSeen === 0) {
        const type = dominantType(t!) ?? 'mixed';
        changes.push({
          kind: 'new_property',
          event,
          property,
          detail: `'${event}' has a new property '${property}' (${type}, on ${tSeen} of ${now.count} events).`,
          after: type,
        });
        continue;
      }
      if (tSeen === 0 && bSeen > 0) {
        const share = bSeen / before.count;
        if (now.count >= minEventsForGone && share >= GONE_MIN_BASELINE_SHARE) {
          changes.push({
            kind: 'property_gone',
            event,
            property,
            detail: `'${event}' no longer has '${property}' (on ${pct(share)} of baseline events, none of ${now.count} that day).`,
            before: share,
          });
        }
        continue;
      }
      if (tSeen === 0) continue;
      const typeBefore = dominantType(b!);
      const typeNow = dominantType(t!);
      if (typeBefore && typeNow && typeBefore !== typeNow) {
        changes.push({
          kind: 'type_changed',
          event,
          property,
          detail: `'${property}' of '${event}' changed type from ${typeBefore} to ${typeNow}.`,
          before: typeBefore,
          after: typeNow,
        });
      }
      if (b!.values && t!.values && b!.distinct <= LOW_CARDINALITY && t!.distinct <= LOW_CARDINALITY) {
        const known = sortedKeys(b!.values);
        for (const value of sortedKeys(t!.values)) {
          const count = own(t!.values, value) ?? 0;
          if (count <= 0 || (own(b!.values, value) ?? 0) > 0) continue;
          changes.push({
            kind: 'new_value',
            event,
            property,
            detail: `'${property}' of '${event}' has a new value '${value}' (${count} that day).`,
            before: known,
            after: value,
          });
        }
      }
    }
  }
  return changes;
}
