/**
 * `vigil detect` on a CSV file: reads `timestamp,value` rows, places them on a time grid (a
 * missing step is a gap, never a shifted phase), scores them with the live detector's code and
 * writes `timestamp,value,expected,lower,upper,anomaly_score,is_anomaly`, one row per input row.
 * expected, lower, upper and is_anomaly are the detector's; anomaly_score is the anomaly likelihood
 * of its z (./surprise.ts), causal like the scoring itself.
 */
import { PERIODS, scoreSeries, type ScoredPoint, type Sensitivity, type ValueKind } from './anomaly.js';
import { anomalyLikelihood } from './surprise.js';

export const CSV_HEADER = 'timestamp,value,expected,lower,upper,anomaly_score,is_anomaly';

const MINUTE = 60_000;
const STEPS: Record<string, number> = {
  '5m': 5 * MINUTE,
  '15m': 15 * MINUTE,
  '1h': 60 * MINUTE,
  '6h': 360 * MINUTE,
  '1d': 1440 * MINUTE,
  '1w': 10080 * MINUTE,
};

export class CsvInputError extends Error {}

export interface CsvRow {
  text: string;
  ms: number;
  value: number | null;
}

/** Timestamps as ISO 8601 or `YYYY-MM-DD HH:MM:SS` (read as UTC), or epoch milliseconds. */
function parseTimestamp(text: string): number {
  const t = text.trim();
  if (/^\d{10,16}$/.test(t)) return Number(t);
  const iso = /[zZ]|[+-]\d\d:?\d\d$/.test(t) ? t.replace(' ', 'T') : `${t.replace(' ', 'T')}Z`;
  return Date.parse(iso);
}

export function parseCsv(text: string): CsvRow[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (!lines.length) throw new CsvInputError('the file is empty');
  const header = lines[0].split(',').map((h) => h.trim().toLowerCase());
  const ti = header.indexOf('timestamp');
  const vi = header.indexOf('value');
  if (ti < 0 || vi < 0)
    throw new CsvInputError(`the first line must name the columns timestamp and value; it is "${lines[0].slice(0, 100)}"`);
  return lines.slice(1).map((line, i) => {
    const cells = line.split(',');
    const ms = parseTimestamp(cells[ti] ?? '');
    if (!Number.isFinite(ms)) throw new CsvInputError(`line ${i + 2}: "${cells[ti]}" is not a timestamp`);
    const raw = (cells[vi] ?? '').trim();
    const value = raw === '' ? null : Number(raw);
    if (value !== null && Number.isNaN(value)) throw new CsvInputError(`line ${i + 2}: "${raw}" is not a number`);
    return { text: cells[ti].trim(), ms, value };
  });
}

/** The grid step: the given interval, else the most common gap between timestamps. */
export function stepOf(rows: CsvRow[], interval?: string): number {
  if (interval) {
    if (!(interval in STEPS)) throw new CsvInputError(`--interval must be one of ${Object.keys(STEPS).join(', ')}`);
    return STEPS[interval];
  }
  const gaps = new Map<number, number>();
  for (let i = 1; i < rows.length; i++) {
    const d = rows[i].ms - rows[i - 1].ms;
    if (d > 0) gaps.set(d, (gaps.get(d) ?? 0) + 1);
  }
  const common = [...gaps].sort((a, b) => b[1] - a[1])[0];
  if (!common) throw new CsvInputError('cannot tell the interval from fewer than two distinct timestamps; pass --interval');
  return common[0];
}

/** Daily and weekly periods for a step: the interval's own, or derived when the step is another size. */
export function periodsFor(stepMs: number): number[] {
  const named = Object.entries(STEPS).find(([, ms]) => ms === stepMs);
  if (named) return PERIODS[named[0]];
  return [1440 * MINUTE, 10080 * MINUTE].map((p) => p / stepMs).filter((p) => Number.isInteger(p) && p >= 2);
}

export interface DetectCsvOptions {
  interval?: string;
  sensitivity?: Sensitivity;
  valueKind?: ValueKind;
  minSamples?: number;
}

/** Whole non-negative numbers are counts (Poisson noise: a mostly-zero series of tweets is a count, not a fraction); anything else a fraction. */
export function kindOf(values: (number | null)[]): ValueKind {
  return values.every((v) => v === null || (Number.isInteger(v) && v >= 0)) ? 'count' : 'fraction';
}

/** Scores the rows; each input row gets the score of its grid bucket (repeated timestamps share one). */
export function detectRows(rows: CsvRow[], o: DetectCsvOptions = {}): { row: CsvRow; point: ScoredPoint | undefined }[] {
  if (!rows.length) return [];
  const step = stepOf(rows, o.interval);
  const start = Math.min(...rows.map((r) => r.ms));
  const slots = Math.floor((Math.max(...rows.map((r) => r.ms)) - start) / step) + 1;
  if (slots > 5_000_000)
    throw new CsvInputError(`the timestamps span ${slots} steps of ${step / MINUTE} minutes; pass a coarser --interval`);
  const values: (number | null)[] = new Array(slots).fill(null);
  const slotOf = (r: CsvRow) => Math.floor((r.ms - start) / step);
  // a repeated timestamp keeps its last value
  for (const r of rows) if (r.value !== null) values[slotOf(r)] = r.value;
  const valueKind = o.valueKind ?? kindOf(values);
  const periods = periodsFor(step);
  const points = scoreSeries(values, { periods, valueKind, sensitivity: o.sensitivity, minSamples: o.minSamples });
  // the file's anomaly_score replaces the detector's |z|-based score
  anomalyLikelihood(points).forEach((score, i) => {
    points[i].score = score;
  });
  const byIndex = new Map(points.map((p) => [p.index, p]));
  return rows.map((row) => ({ row, point: byIndex.get(slotOf(row)) }));
}

const num = (v: number | null | undefined) => (v === null || v === undefined ? '' : String(Math.round(v * 1e6) / 1e6));

export function detectCsv(text: string, o: DetectCsvOptions = {}): { csv: string; rows: number; anomalies: number } {
  const scored = detectRows(parseCsv(text), o);
  const lines = scored.map(({ row, point: p }) =>
    [row.text, num(row.value), num(p?.expected), num(p?.lower), num(p?.upper), num(p?.score ?? 0), p?.isAnomaly ? 1 : 0].join(','),
  );
  return { csv: [CSV_HEADER, ...lines].join('\n') + '\n', rows: scored.length, anomalies: scored.filter((s) => s.point?.isAnomaly).length };
}
