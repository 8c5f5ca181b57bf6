/** Schemas every domain's routes share. */
import { Type } from '@sinclair/typebox';

export const ErrorBody = Type.Object({ error: Type.Object({ code: Type.String(), message: Type.String(), details: Type.Any() }) });
export const errorResponses = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };
export const SlugParams = Type.Object({ slug: Type.String({ description: 'project slug' }) });
/** The largest row id: ids are PostgreSQL `integer` columns, and a larger one would make it fail the query. */
export const MAX_ROW_ID = 2_147_483_647;
/** A row id in a path or query (every numeric parameter is bounded: see test/integration/bounded-numbers.test.ts). */
export const RowId = (options: { description?: string } = {}) => Type.Integer({ minimum: 1, maximum: MAX_ROW_ID, ...options });
export const WindowQuery = {
  from: Type.Optional(
    Type.String({ description: 'start (inclusive): ISO 8601, epoch ms, or relative such as -7d; default 7 days before `to`' }),
  ),
  to: Type.Optional(Type.String({ description: 'end (exclusive); default now' })),
};
