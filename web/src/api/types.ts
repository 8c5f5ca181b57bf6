/**
 * Shapes of the server's answers that several pages share, named after what they are. Each is the
 * generated type of a route's answer (schema.gen.ts, from the routes' TypeBox schemas); /api/docs
 * has them all.
 */
import type { ApiQuery, ApiResponse } from './schema.gen';

export type User = ApiResponse<'GET /api/auth/me'>['user'];

export type Role = NonNullable<Project['role']>;

/** POST /api/setup, POST /api/auth/sign-in */
export type SignedIn = ApiResponse<'POST /api/auth/sign-in'>;

/** GET /api/auth/me */
export type Me = ApiResponse<'GET /api/auth/me'>;

/** GET /api/projects/:slug */
export type Project = ApiResponse<'GET /api/projects/{slug}'>;

/** GET /events, and the live stream */
export type EventPage = ApiResponse<'GET /api/projects/{slug}/events'>;
export type VigilEvent = EventPage['events'][number];

/** GET /overview */
export type Overview = ApiResponse<'GET /api/projects/{slug}/overview'>;
export type Totals = Overview['current'];

/** GET /timeseries */
export type Timeseries = ApiResponse<'GET /api/projects/{slug}/timeseries'>;
/** A bucket width, as GET /timeseries and the metrics take it */
export type Interval = ApiQuery<'GET /api/projects/{slug}/timeseries'>['interval'];

/** GET /top-events */
export type TopEvents = ApiResponse<'GET /api/projects/{slug}/top-events'>;

/** GET /incidents */
export type IncidentPage = ApiResponse<'GET /api/projects/{slug}/incidents'>;
export type Incident = IncidentPage['incidents'][number];

/** GET /tracking-plan */
export type TrackingPlan = ApiResponse<'GET /api/projects/{slug}/tracking-plan'>;
export type PlanEvent = TrackingPlan['events'][number];
export type PlanProperty = PlanEvent['properties'][number];
export type DriftMark = PlanEvent['drift'][number];
