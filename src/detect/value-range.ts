/**
 * The values a series can take, so that an expected range (the detector's band, a forecast's)
 * never shows what cannot happen: a count below 0, a conversion rate below 0 % or above 100 %.
 * The detector decides on the unclamped band; only what it reports is clamped.
 */
export interface ValueRange {
  min: number;
  max: number;
}

/**
 * count: events, users, sums of counts — never below 0. ratio: one count over another (a ratio or
 * per-user metric) — never below 0, and never above 1 when every value seen is within [0, 1] (a
 * share such as a conversion rate; events per user go past 1 and keep no upper bound). any: a
 * gauge, an average, a sum of a property, SQL — anything.
 */
export type SeriesShape = 'count' | 'ratio' | 'any';

export const UNBOUNDED: ValueRange = { min: -Infinity, max: Infinity };

export function naturalRange(shape: SeriesShape, values: readonly (number | null | undefined)[]): ValueRange {
  if (shape === 'any') return UNBOUNDED;
  if (shape === 'count') return { min: 0, max: Infinity };
  const share = values.every((v) => v === null || v === undefined || (v >= 0 && v <= 1));
  return { min: 0, max: share ? 1 : Infinity };
}

export function clampToRange(x: number, range: ValueRange): number;
export function clampToRange(x: number | null, range: ValueRange): number | null;
export function clampToRange(x: number | null, range: ValueRange): number | null {
  return x === null ? null : Math.min(range.max, Math.max(range.min, x));
}
