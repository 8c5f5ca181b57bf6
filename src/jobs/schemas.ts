/** A job as the API shows it (src/jobs/routes.ts); the web app imports its type. */
import { Type, type Static } from '@sinclair/typebox';

export const JOB_STATUSES = ['queued', 'running', 'done', 'dead'] as const;
const NullableString = Type.Union([Type.String(), Type.Null()]);

export const JobSchema = Type.Object({
  id: Type.Integer(),
  kind: Type.String(),
  status: Type.Union(JOB_STATUSES.map((s) => Type.Literal(s))),
  payload: Type.Unknown(),
  attempts: Type.Integer({ description: 'attempts so far' }),
  maxAttempts: Type.Integer({ description: 'attempts before a failing job is dead' }),
  progress: Type.Union([Type.Number(), Type.Null()], { description: '0 to 1, reported by long jobs such as backfills' }),
  progressNote: NullableString,
  lastError: NullableString,
  result: Type.Unknown(),
  createdAt: Type.String(),
  runAt: Type.String(),
  finishedAt: NullableString,
});
export type JobApi = Static<typeof JobSchema>;
