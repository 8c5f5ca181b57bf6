/**
 * The forecast: the next k buckets from a decomposition of the history (MSTL over the periods
 * that at least two whole cycles cover): the last trend value plus the trend's slope over the
 * last cycle times the step, plus each seasonal part at the same phase in the latest cycle. The
 * band is ± threshold × the robust spread (1.4826 × MAD) of the remainder.
 */
import { mstl } from './stl.js';

export interface ForecastPoint {
  /** 1 for the bucket right after the last one */
  step: number;
  value: number;
  lower: number;
  upper: number;
}

/** buckets of history below which no forecast is made */
export const MIN_FORECAST_HISTORY = 14;

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Gaps filled by straight lines between their neighbours; leading and trailing gaps dropped. */
export function interpolateGaps(values: (number | null)[]): number[] {
  const first = values.findIndex((v) => v !== null);
  if (first < 0) return [];
  let last = values.length - 1;
  while (values[last] === null) last--;
  const out: number[] = [];
  let prev = first;
  for (let i = first; i <= last; i++) {
    const v = values[i];
    if (v !== null) {
      for (let j = prev + 1; j < i; j++) out.push(values[prev]! + ((v - values[prev]!) * (j - prev)) / (i - prev));
      out.push(v);
      prev = i;
    }
  }
  return out;
}

export function forecast(values: (number | null)[], periods: number[], k: number, threshold = 4): ForecastPoint[] {
  const y = interpolateGaps(values.map((v) => (typeof v === 'number' && Number.isFinite(v) ? v : null)));
  const usable = periods.filter((p) => y.length >= 2 * p).sort((a, b) => a - b);
  if (y.length < MIN_FORECAST_HISTORY || (periods.length && !usable.length)) return [];
  const n = y.length;
  let trend: number[];
  let seasonals: number[][] = [];
  let remainder: number[];
  if (usable.length) {
    const d = mstl(y, usable);
    ({ trend, seasonals, remainder } = d);
  } else {
    // no seasonality: the trend is a rolling median, the rest is remainder
    const w = Math.min(MIN_FORECAST_HISTORY, n);
    trend = y.map((_, i) => median(y.slice(Math.max(0, i - w + 1), i + 1)));
    remainder = y.map((v, i) => v - trend[i]);
  }
  const span = Math.min(usable[0] ?? MIN_FORECAST_HISTORY, n - 1);
  const slope = (trend[n - 1] - trend[n - 1 - span]) / span;
  const center = median(remainder);
  const spread = 1.4826 * median(remainder.map((r) => Math.abs(r - center)));
  return Array.from({ length: k }, (_, h) => {
    const step = h + 1;
    let value = trend[n - 1] + slope * step;
    for (const [j, p] of usable.entries()) value += seasonals[j][n - p + ((step - 1) % p)];
    return { step, value, lower: value - threshold * spread, upper: value + threshold * spread };
  });
}
