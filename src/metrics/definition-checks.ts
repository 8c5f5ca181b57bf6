import { badRequest } from '../errors.js';
import { compileMetric, parseBody, type CompiledMetric } from './compile.js';
import type { CollectorDeps } from './collector.js';
import { MAX_SENSITIVITY_Z, MAX_SETTLING_MINUTES, MIN_SENSITIVITY_Z, SENSITIVITIES, type DetectionSettings } from './schemas.js';

/** The route schema checks this too; the service checks it for every other caller (CLI, demo). */
export function checkDetection(d: DetectionSettings | undefined) {
  const s = d?.settlingMinutes;
  if (s !== undefined && !(Number.isInteger(s) && s >= 0 && s <= MAX_SETTLING_MINUTES)) {
    throw badRequest(`detection.settlingMinutes must be a whole number of minutes from 0 to ${MAX_SETTLING_MINUTES} (a week)`, {
      field: 'detection.settlingMinutes',
    });
  }
  if (d?.sensitivity === undefined) return;
  const ok =
    typeof d.sensitivity === 'number'
      ? d.sensitivity >= MIN_SENSITIVITY_Z && d.sensitivity <= MAX_SENSITIVITY_Z
      : (SENSITIVITIES as readonly string[]).includes(d.sensitivity);
  if (!ok)
    throw badRequest(
      `detection.sensitivity must be ${SENSITIVITIES.join(', ')} or a |z| from ${MIN_SENSITIVITY_Z} to ${MAX_SENSITIVITY_Z}`,
      { field: 'detection.sensitivity' },
    );
}

/** Checks a definition: its schema, its filters and breakdowns, and for sql the statement itself. */
export async function checkBody(events: CollectorDeps['events'], kind: string, definition: unknown): Promise<CompiledMetric> {
  const body = parseBody(kind, definition);
  if (body.kind === 'sql') await events.validateUserSql(body.definition.sql);
  return compileMetric(body);
}
