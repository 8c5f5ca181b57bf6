/**
 * Detection settings: a metric's own, else its project's defaults, else the detector's. Stored as
 * JSON; anything that is not a valid value is ignored (the API validates what it stores).
 *
 * The settling time has a derived default instead of a fixed one: 0 for pushed measurements
 * (gauges: a measurement is stored as it arrives, it cannot come late) and, for what is counted
 * from events, how late the project's events actually arrive (see lateness.ts).
 */
import { thresholdOf, type Sensitivity } from '../detect/anomaly.js';
import { MAX_SENSITIVITY_Z, MAX_SETTLING_MINUTES, MIN_SENSITIVITY_Z, SENSITIVITIES, type DetectionSettings } from '../metrics/schemas.js';

export { MAX_SETTLING_MINUTES };

/**
 * A bucket with fewer samples behind it than this never fires (a count: the larger of actual and
 * expected; a ratio: its denominator; a sum: its rows). Stored as `minExpected`, its old name:
 * the noise models now judge small numbers, so the floor only keeps a handful of samples quiet.
 */
export const DEFAULT_MIN_EXPECTED = 10;
/**
 * the newest buckets are held while late events still arrive (detection.md: 2 hours); now the
 * most a derived default holds them, and what applies while lateness cannot be observed
 */
export const DEFAULT_SETTLING_MINUTES = 120;
export const DEFAULT_SENSITIVITY = 'medium';

/** Where a metric's settling time comes from, most specific first. */
export const SETTLING_SOURCES = ['metric', 'project', 'observed', 'pushed', 'default'] as const;
export type SettlingSource = (typeof SETTLING_SOURCES)[number];

/** What applies when neither the metric nor its project sets a settling time. */
export interface SettlingFallback {
  minutes: number;
  source: Extract<SettlingSource, 'observed' | 'pushed' | 'default'>;
}

/** The fixed default: what applies when nothing better is known. */
export const DEFAULT_SETTLING: SettlingFallback = { minutes: DEFAULT_SETTLING_MINUTES, source: 'default' };
/** Pushed measurements cannot arrive late. */
export const PUSHED_SETTLING: SettlingFallback = { minutes: 0, source: 'pushed' };

/** A project's defaults: the same fields as a metric's. */
export type ProjectDetection = DetectionSettings;

export interface ResolvedDetection {
  enabled: boolean;
  sensitivity: Sensitivity;
  /** the |z| at which a bucket is flagged */
  threshold: number;
  minExpected: number;
  settlingMinutes: number;
  settlingSource: SettlingSource;
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
  if (typeof o.settlingMinutes === 'number' && o.settlingMinutes >= 0 && o.settlingMinutes <= MAX_SETTLING_MINUTES)
    out.settlingMinutes = o.settlingMinutes;
  return out;
}

/** A metric's settings over its project's; `fallback`: the settling time when neither sets one. */
export function resolveDetection(
  metric: DetectionSettings,
  project: ProjectDetection,
  fallback: SettlingFallback = DEFAULT_SETTLING,
): ResolvedDetection {
  const m = parseDetection(metric);
  const settling: [number, SettlingSource] =
    m.settlingMinutes !== undefined
      ? [m.settlingMinutes, 'metric']
      : project.settlingMinutes !== undefined
        ? [project.settlingMinutes, 'project']
        : [fallback.minutes, fallback.source];
  const chosen = m.sensitivity ?? project.sensitivity ?? DEFAULT_SENSITIVITY;
  const sensitivity: Sensitivity = typeof chosen === 'number' ? { z: chosen } : chosen;
  return {
    enabled: m.enabled ?? project.enabled ?? true,
    sensitivity,
    threshold: thresholdOf(sensitivity),
    minExpected: m.minExpected ?? project.minExpected ?? DEFAULT_MIN_EXPECTED,
    settlingMinutes: settling[0],
    settlingSource: settling[1],
  };
}
