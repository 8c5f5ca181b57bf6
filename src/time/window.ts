import { badRequest } from '../errors.js';
import { parseTimeInput } from './time.js';

/** More buckets than a chart can show means the interval is too small for the window. */
export const MAX_BUCKETS = 5000;
export const DEFAULT_WINDOW_MS = 7 * 86_400_000;

export interface Window {
  fromMs: number;
  toMs: number;
}

/** Reads `from`/`to` (ISO, epoch ms, or relative like -7d); defaults to the last 7 days. */
export function parseWindow(from: string | undefined, to: string | undefined, now: number): Window {
  const toMs = to === undefined ? now : parseTimeInput(to, now);
  if (toMs === null)
    throw badRequest(`"to" is not a time: "${to}" (use ISO 8601, epoch milliseconds, or a relative time such as -1d)`, { field: 'to' });
  const fromMs = from === undefined ? toMs - DEFAULT_WINDOW_MS : parseTimeInput(from, now);
  if (fromMs === null)
    throw badRequest(`"from" is not a time: "${from}" (use ISO 8601, epoch milliseconds, or a relative time such as -7d)`, {
      field: 'from',
    });
  if (fromMs >= toMs) throw badRequest('"from" must be before "to"', { field: 'from' });
  return { fromMs, toMs };
}
