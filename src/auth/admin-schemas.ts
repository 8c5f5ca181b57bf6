/** What the project admin routes share: their access rules, error answers, times and roles. */
import { Type } from '@sinclair/typebox';
import { ErrorBody, errorResponses } from '../http-schemas.js';

/** Every project admin route refuses API keys: a leaked key must not mint keys, add members or read who did what. */
export const OWNER = { access: { role: 'owner', keys: false } } as const;
export const VIEWER = { access: { role: 'viewer', keys: false } } as const;
export const errors = { ...errorResponses, 409: ErrorBody };
export const publicErrors = { ...errors, 410: ErrorBody };

export const iso = (ms: number) => new Date(ms).toISOString();
export const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));
export const Time = Type.String({ description: 'ISO 8601, UTC' });
export const TimeOrNull = Type.Union([Time, Type.Null()]);

export const RoleSchema = Type.Union([Type.Literal('viewer'), Type.Literal('editor'), Type.Literal('owner')]);
