/**
 * Detection settings: a metric's own, else its project's defaults, else the detector's. Stored as
 * JSON; anything that is not a valid value is ignored (the API validates what it stores).
 */
import { thresholdOf, type Sensitivity } from '../detect/anomaly.js';
import { MAX_SENSITIVITY_Z, MIN_SENSITIVITY_Z, SENSITIVITIES, type DetectionSettings } from '../metrics/schemas.js';

/**
 * A bucket with fewer samples behind it than this never fires (a count: the larger of actual and
 * expected; a ratio: its denominator; a sum: its rows). Stored as `minExpected`, its old name:
 * the noise models now judge small numbers, so the floor only keeps a handful of samples quiet.
 */
export const DEFAULT_MIN_EXPECTED = 10;
/** the newest buckets are held while late events still arrive (detection.md: 2 hours) */
export const DEFAULT_SETTLING_MINUTES = 120;
export const MAX_SETTLING_MINUTES = 7 * 24 * 60;
export const DEFAULT_SENSITIVITY = 'medium';

/** A project's defaults: a metric's settings plus the settling time. */
export type ProjectDetection = DetectionSettings & { settlingMinutes?: number };

export interface ResolvedDetection {
  enabled: boolean;
  sensitivity: Sensitivity;
  /** the |z| at which a bucket is flagged */
  threshold: number;
  minExpected: number;
  settlingMinutes: number;
}

/** The valid fields of a stored settings object (unknown or invalid ones dropped). */
export function parseDetection(raw: unknown): ProjectDetection {
  const o = raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const out: ProjectDetection = {};
  if (typeof o.enabled === 'boolean') out.enabled = o.enabled;
  const s = o.sensitivity;
  if (typeof s === 'number' && s >= MIN_SENSITIVITY_Z && s <= MAX_SENSITIVITY_Z) out.sensitivity = s;
  else if (typeof s === 'string' && (SENSITIVITIES as readonly string[]).includes(s)) out.sensitivity = s as (typeof SENSITIVITIES)[number];
  if (typeof o.minExpected === 'number' && Number.isFinite(o.minExpected) && o.minExpected >= 0) out.minExpected = o.minExpected;
  if (typeof o.settlingMinutes === 'number' && o.settlingMinutes >= 0 && o.settlingMinutes <= MAX_SETTLING_MINUTES) out.settlingMinutes = o.settlingMinutes;
  return out;
}

export function resolveDetection(metric: DetectionSettings, project: ProjectDetection): ResolvedDetection {
  const m = parseDetection(metric);
  const chosen = m.sensitivity ?? project.sensitivity ?? DEFAULT_SENSITIVITY;
  const sensitivity: Sensitivity = typeof chosen === 'number' ? { z: chosen } : chosen;
  return {
    enabled: m.enabled ?? project.enabled ?? true,
    sensitivity,
    threshold: thresholdOf(sensitivity),
    minExpected: m.minExpected ?? project.minExpected ?? DEFAULT_MIN_EXPECTED,
    settlingMinutes: project.settlingMinutes ?? DEFAULT_SETTLING_MINUTES,
  };
}
