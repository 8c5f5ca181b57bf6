/** The size limits of a metric's SQL result, the same on both stores, enforced inside the engine. */
import { VigilError } from '../../errors.js';

/** One value of the result (as text): a breakdown key or a number needs far less. */
export const MAX_RESULT_CELL_BYTES = 4_096;
/** The whole result (as text): 100,000 rows of a bucket, a value and a short key fit well within it. */
export const MAX_RESULT_BYTES = 8 * 1024 * 1024;

export const cellTooLarge = () =>
  new VigilError(
    'VIGIL_ERR_METRIC_SQL_TOO_LARGE',
    `a value in the metric's SQL result is longer than ${MAX_RESULT_CELL_BYTES} bytes; return numbers and short breakdown keys`,
    { maxCellBytes: MAX_RESULT_CELL_BYTES },
  );

export const resultTooLarge = () =>
  new VigilError(
    'VIGIL_ERR_METRIC_SQL_TOO_LARGE',
    `the metric's SQL result is larger than ${MAX_RESULT_BYTES / 1024 / 1024} MB; aggregate to one row per bucket (and breakdown)`,
    { maxResultBytes: MAX_RESULT_BYTES },
  );

export const timedOut = (ms: number) =>
  new VigilError('VIGIL_ERR_METRIC_SQL_TIMEOUT', `the metric's SQL ran longer than its limit of ${ms} ms and was stopped`);

/** Throws cellTooLarge when a value of the rows, as text, is longer than MAX_RESULT_CELL_BYTES (for an engine that cannot check each value itself). */
export function checkCellSizes(rows: Record<string, unknown>[]): void {
  for (const row of rows) {
    for (const v of Object.values(row)) {
      const text = typeof v === 'string' ? v : v !== null && typeof v === 'object' ? JSON.stringify(v) : '';
      // a UTF-16 unit takes at most 3 bytes in UTF-8, so only a long string is measured
      if (text.length * 3 > MAX_RESULT_CELL_BYTES && Buffer.byteLength(text) > MAX_RESULT_CELL_BYTES) throw cellTooLarge();
    }
  }
}
