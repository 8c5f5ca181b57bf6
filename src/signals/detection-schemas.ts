/** A project's detection defaults as the API shows them (src/signals/detection-routes.ts); the web app imports their types. */
import { Type, type Static } from '@sinclair/typebox';
import { DetectionSettings } from '../metrics/schemas.js';
import { DEFAULT_SETTLING_MINUTES, MAX_SETTLING_MINUTES } from './settings.js';

export const ProjectDetectionSchema = Type.Object({
  ...DetectionSettings.properties,
  settlingMinutes: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_SETTLING_MINUTES, description: `minutes the newest buckets are held while late events still arrive, 0 to ${MAX_SETTLING_MINUTES} (a week; default ${DEFAULT_SETTLING_MINUTES})` })),
}, { additionalProperties: false });

export const DetectionAnswer = Type.Object({
  settings: ProjectDetectionSchema,
  defaults: Type.Object({ enabled: Type.Boolean(), sensitivity: Type.String(), minExpected: Type.Number(), settlingMinutes: Type.Integer() }, { description: 'what applies to a field the settings leave out' }),
});
export type DetectionAnswer = Static<typeof DetectionAnswer>;

export type ProjectDetectionApi = Static<typeof ProjectDetectionSchema>;
