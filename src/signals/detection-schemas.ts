/** Detection settings as the API shows them (src/signals/detection-routes.ts); the web app imports their types. */
import { Type, type Static } from '@sinclair/typebox';
import { DetectionSettings } from '../metrics/schemas.js';
import { MAX_SETTLING_MINUTES, SETTLING_SOURCES } from './settings.js';

export const ProjectDetectionSchema = Type.Object({ ...DetectionSettings.properties }, { additionalProperties: false });

/** The settling time in force and where it comes from. */
export const EffectiveSettling = Type.Object({
  minutes: Type.Integer({ minimum: 0, maximum: MAX_SETTLING_MINUTES }),
  source: Type.Union(
    SETTLING_SOURCES.map((s) => Type.Literal(s)),
    {
      description:
        "metric: set on the metric; project: the project default; observed: the p99 lateness of the project's events over the last day; pushed: pushed measurements (0); default: the fixed 2 hours (too few events to observe)",
    },
  ),
});
export type EffectiveSettling = Static<typeof EffectiveSettling>;

export const DetectionAnswer = Type.Object({
  settings: ProjectDetectionSchema,
  defaults: Type.Object(
    { enabled: Type.Boolean(), sensitivity: Type.String(), minExpected: Type.Number(), settlingMinutes: Type.Integer() },
    { description: 'what applies to a field the settings leave out (settlingMinutes: for event-based metrics)' },
  ),
  effective: Type.Object(
    {
      events: EffectiveSettling,
      pushed: EffectiveSettling,
    },
    {
      description:
        'the settling time in force for metrics without their own: those counted from events (and event-volume detection), and pushed measurements',
    },
  ),
});
export type DetectionAnswer = Static<typeof DetectionAnswer>;

export const MetricDetectionAnswer = Type.Object({
  settings: DetectionSettings,
  effective: Type.Object(
    { settling: EffectiveSettling },
    { description: "what applies to this metric, its own settings over the project's and the derived defaults" },
  ),
});
export type MetricDetectionAnswer = Static<typeof MetricDetectionAnswer>;

export type ProjectDetectionApi = Static<typeof ProjectDetectionSchema>;
