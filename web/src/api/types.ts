/**
 * Shapes of the server's answers, as the routes' TypeBox schemas declare them (the route each
 * mirrors is named; /api/docs has them all). Keep them in step when a schema changes.
 */
import type { Severity } from '../../../src/detect/severity';

/** src/auth/routes.ts UserSchema */
export interface User {
  id: number;
  email: string;
  name: string;
  isAdmin: boolean;
}

export type Role = 'viewer' | 'editor' | 'owner';

/** POST /api/setup, POST /api/auth/sign-in */
export interface SignedIn {
  user: User;
  csrfToken: string;
}

/** GET /api/auth/me */
export interface Me extends SignedIn {
  projects: { slug: string; name: string; role: Role }[];
}

/** GET /api/projects/:slug */
export interface Project {
  id: number;
  slug: string;
  name: string;
  timeZone: string;
  createdAt: string;
  role: Role | null;
}

/** src/analytics/routes.ts EventSchema (GET /events, and the live stream) */
export interface VigilEvent {
  messageId: string;
  type: string;
  event: string | null;
  userId: string | null;
  anonymousId: string | null;
  distinctId: string;
  sessionId: string | null;
  timestamp: string;
  receivedAt: string;
  properties: Record<string, unknown>;
  context: Record<string, unknown>;
  pagePath: string | null;
  referrerHost: string | null;
  appVersion: string | null;
  platform: string | null;
  os: string | null;
  browser: string | null;
  deviceType: string | null;
  country: string | null;
}

export interface EventPage {
  events: VigilEvent[];
  nextCursor: string | null;
}

export interface Totals {
  events: number;
  users: number;
  sessions: number;
}

/** GET /overview */
export interface Overview {
  from: string;
  to: string;
  current: Totals;
  previous: Totals;
  change: { events: number | null; users: number | null; sessions: number | null };
}

export type Interval = '5m' | '15m' | '1h' | '6h' | '1d' | '1w';

/** GET /timeseries */
export interface Timeseries {
  interval: Interval;
  timeZone: string;
  measure: string;
  from: string;
  to: string;
  buckets: string[];
  series: { key: string; label: string; values: number[]; total: number }[];
}

/** GET /top-events */
export interface TopEvents {
  from: string;
  to: string;
  events: { event: string; count: number; users: number }[];
}

/** src/incidents/schemas.ts IncidentSchema */
export interface Incident {
  id: number;
  title: string;
  status: 'open' | 'acknowledged' | 'resolved';
  resolution: string | null;
  severity: Severity;
  scopeKey: string;
  breakdown: string;
  direction: 'up' | 'down' | null;
  metricId: number | null;
  rootSignalId: number | null;
  assigneeId: number | null;
  mutedUntil: string | null;
  muted: boolean;
  startedBucket: string;
  lastBucket: string;
  openedAt: string;
  acknowledgedAt: string | null;
  resolvedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface IncidentPage {
  incidents: Incident[];
  nextCursor: string | null;
}

/** src/analytics/tracking-plan.ts */
export interface DriftMark {
  signalId: number;
  kind: string;
  severity: string;
  property: string | null;
  detail: string;
  day: string;
}

export interface PlanProperty {
  name: string;
  types: Record<string, number>;
  type: string;
  coverage: number;
  distinct: number;
  values: { value: string; count: number }[] | null;
  drift: DriftMark[];
}

export interface PlanEvent {
  event: string;
  count: number;
  daily: number[];
  firstSeen: string | null;
  lastSeen: string | null;
  properties: PlanProperty[];
  drift: DriftMark[];
}

export interface TrackingPlan {
  from: string;
  to: string;
  timeZone: string;
  days: string[];
  events: PlanEvent[];
  limits: { events: number; propertiesPerEvent: number };
}
