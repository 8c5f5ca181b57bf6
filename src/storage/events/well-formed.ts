/**
 * JSON values made safe for the event stores: a lone UTF-16 surrogate (JSON.parse turns "\ud800"
 * into one; it is not valid Unicode) makes DuckDB's read_json and ClickHouse's JSON reader refuse
 * the whole file or insert, so it becomes U+FFFD, as any UTF-8 encoder would write it.
 */

// ES2024's String.prototype.isWellFormed/toWellFormed (native in Node 20), not yet in TypeScript's ES2023 lib
interface WellFormedString {
  isWellFormed(): boolean;
  toWellFormed(): string;
}
/** `s` with each lone surrogate replaced by U+FFFD (`s` itself when it has none, the common case, checked natively). */
const wellFormedString = (s: string): string =>
  (s as unknown as WellFormedString).isWellFormed() ? s : (s as unknown as WellFormedString).toWellFormed();

/** Sets an own property, even one named "__proto__" (which JSON.parse makes, and `o[k] = v` would take as the prototype). */
export function setOwn(o: Record<string, unknown>, key: string, value: unknown) {
  Object.defineProperty(o, key, { value, writable: true, enumerable: true, configurable: true });
}

/** Thrown by `wellFormed` when objects and arrays nest deeper than its limit. */
export class NestedTooDeep extends RangeError {}

/**
 * `v` with every lone surrogate in its strings and keys replaced by U+FFFD; `v` itself (not a copy)
 * when it holds none. Throws NestedTooDeep when objects and arrays nest more than `maxDepth` levels
 * (`v` itself counting as one), before the walk could overflow the stack.
 */
export function wellFormed(v: unknown, maxDepth = Infinity): unknown {
  if (typeof v === 'string') return wellFormedString(v);
  if (v === null || typeof v !== 'object') return v;
  if (maxDepth < 1) throw new NestedTooDeep('nested too deep');
  if (Array.isArray(v)) {
    let copy: unknown[] | null = null;
    for (let i = 0; i < v.length; i++) {
      const x = wellFormed(v[i], maxDepth - 1);
      if (x !== v[i]) (copy ??= v.slice())[i] = x;
    }
    return copy ?? v;
  }
  const obj = v as Record<string, unknown>;
  let copy: Record<string, unknown> | null = null;
  const keys = Object.keys(obj);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    const clean = wellFormed(obj[k], maxDepth - 1);
    const cleanKey = wellFormedString(k);
    if (copy) setOwn(copy, cleanKey, clean);
    else if (clean !== obj[k] || cleanKey !== k) {
      // keys are rebuilt in order from here on, so a renamed key keeps its place
      copy = {};
      for (let j = 0; j < i; j++) setOwn(copy, keys[j], obj[keys[j]]);
      setOwn(copy, cleanKey, clean);
    }
  }
  return copy ?? v;
}

/**
 * Levels of a stored JSON value that reads return: twice what ingest accepts (MAX_NESTING in
 * ingest/segment-spec.ts), far below the thousands that overflow a serializer's stack.
 */
export const MAX_SERVED_NESTING = 64;

/**
 * `v` with whatever nests deeper than `maxDepth` replaced by a note saying so: a row stored before
 * ingest limited nesting must not break a page or an export. `v` itself when nothing is cut.
 */
export function cutDeep(v: unknown, maxDepth = MAX_SERVED_NESTING): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (maxDepth < 1) return `[nested deeper than ${MAX_SERVED_NESTING} levels: not shown]`;
  if (Array.isArray(v)) {
    let copy: unknown[] | null = null;
    for (let i = 0; i < v.length; i++) {
      const x = cutDeep(v[i], maxDepth - 1);
      if (x !== v[i]) (copy ??= v.slice())[i] = x;
    }
    return copy ?? v;
  }
  let copy: Record<string, unknown> | null = null;
  for (const [k, x] of Object.entries(v)) {
    const y = cutDeep(x, maxDepth - 1);
    if (y !== x) setOwn((copy ??= { ...v }), k, y);
  }
  return copy ?? v;
}
