/**
 * Access control for every route. Each route declares who may call it (`config.access`); one
 * onRequest hook finds the caller (an API key, or a session cookie) and enforces the rule, so
 * handlers only read `request.principal` and `request.project`. A route without a rule stops the
 * server from starting.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type {} from '@fastify/cookie';
import type { Project } from '../projects/service.js';
import { VigilError, notFound } from '../errors.js';
import type { ApiKey, Scope } from './api-keys.js';
import type { User } from './users.js';
import { roleRank, type Role } from './memberships.js';
import { keyFromHeaders } from './request-auth.js';
import { CSRF_HEADER, SESSION_COOKIE } from './sessions.js';
import type { Config } from '../config.js';
import type { ProjectService } from '../projects/service.js';
import type { ApiKeyService } from './api-keys.js';
import type { MembershipService } from './memberships.js';
import type { SessionService } from './sessions.js';
import type { UserService } from './users.js';

export type Access =
  /** anyone (a session, when present, is still resolved) */
  | { public: true }
  /** Segment ingest: the handler authenticates the write key (it may be in the body) */
  | { ingest: true }
  /** any signed-in user; API keys only when `keys` */
  | { signedIn: true; keys?: boolean }
  /** the instance's admin (the first owner) */
  | { admin: true }
  /**
   * a project route (`:slug`): members with at least `role`, and API keys of that project with the
   * matching scope when `keys` (the scope of `keyRole` when given: a viewer may comment, a read key may not)
   */
  | { role: Role; keys: boolean; keyRole?: Role };

export type Principal = { type: 'anonymous' } | { type: 'user'; user: User; sessionToken: string } | { type: 'key'; key: ApiKey };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    principal: Principal;
    project?: Project;
    role?: Role;
  }
}

/** The API-key scope that stands for each role. */
export const SCOPE_OF: Record<Role, Scope> = { viewer: 'read', editor: 'write', owner: 'admin' };
/** read < write < admin: a key may do what a lower scope allows; ingest is only for ingest */
const SCOPE_RANK: Record<Scope, number> = { ingest: 0, read: 1, write: 2, admin: 3 };
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const unauthorized = (message = 'sign in, or send an API key as a Bearer token or X-API-Key header') =>
  new VigilError('VIGIL_ERR_UNAUTHORIZED', message);
const forbidden = (message: string) => new VigilError('VIGIL_ERR_FORBIDDEN', message);

/** What access control reads: keys, sessions, users, memberships and projects. */
export interface AccessDeps {
  apiKeys: ApiKeyService;
  config: Config;
  memberships: MembershipService;
  projects: ProjectService;
  sessions: SessionService;
  users: UserService;
}

/** The project a project route resolved (set by the access hook). */
export function projectOf(request: FastifyRequest): Project {
  if (!request.project) throw new Error(`route ${request.routeOptions.url} has no project access rule`);
  return request.project;
}

export function userOf(request: FastifyRequest): User & { sessionToken: string } {
  const p = request.principal;
  if (p.type !== 'user') throw unauthorized('this needs a signed-in user');
  return { ...p.user, sessionToken: p.sessionToken };
}

type CookieDeps = Pick<AccessDeps, 'config'>;

function sessionCookieOptions(deps: CookieDeps, request: FastifyRequest, expiresAt: number) {
  return {
    path: '/',
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: deps.config.secureCookies || request.protocol === 'https',
    expires: new Date(expiresAt),
  };
}

export function setSessionCookie(deps: CookieDeps, request: FastifyRequest, reply: FastifyReply, token: string, expiresAt: number) {
  reply.setCookie(SESSION_COOKIE, token, sessionCookieOptions(deps, request, expiresAt));
}

export function clearSessionCookie(deps: CookieDeps, request: FastifyRequest, reply: FastifyReply) {
  reply.clearCookie(SESSION_COOKIE, { ...sessionCookieOptions(deps, request, 0), expires: undefined });
}

/** A user as the API shows them. */
export const userForApi = (u: User) => ({ id: u.id, email: u.email, name: u.name, isAdmin: u.isAdmin });

/** Opens a session for the user: the cookie, and the CSRF token for the client (sign-in, setup, registration, invitations). */
export async function startSession(
  deps: Pick<AccessDeps, 'config' | 'sessions'>,
  request: FastifyRequest,
  reply: FastifyReply,
  user: User,
) {
  const session = await deps.sessions.create(user.id, request.headers['user-agent'] ?? '');
  setSessionCookie(deps, request, reply, session.token, session.expiresAt);
  return { user: userForApi(user), csrfToken: deps.sessions.csrfToken(session.token) };
}

async function resolvePrincipal(deps: AccessDeps, request: FastifyRequest, reply: FastifyReply): Promise<Principal> {
  const secret = keyFromHeaders(request);
  if (secret) {
    const key = await deps.apiKeys.verifyFrom(secret, request.ip);
    if (!key) throw unauthorized('the API key is not valid (unknown, revoked or expired)');
    return { type: 'key', key };
  }
  const token = request.cookies[SESSION_COOKIE];
  if (!token) return { type: 'anonymous' };
  const session = await deps.sessions.resolve(token);
  if (!session) {
    clearSessionCookie(deps, request, reply);
    return { type: 'anonymous' };
  }
  const user = await deps.users.get(session.userId);
  // disabling ends the sessions; this covers one opened in the same moment
  if (user.disabled) {
    clearSessionCookie(deps, request, reply);
    return { type: 'anonymous' };
  }
  if (session.renewed) setSessionCookie(deps, request, reply, token, session.expiresAt);
  return { type: 'user', user, sessionToken: token };
}

/** A key whose best scope is ingest: it is public (it ships in web pages), so it only sends events. */
const isIngestOnly = (p: Principal) => p.type === 'key' && p.key.scopes.every((s) => s === 'ingest');
const ingestOnly = () => forbidden('an ingest key only sends events (/v1/*); use a read, write or admin key for the API');

async function enforce(deps: AccessDeps, request: FastifyRequest, reply: FastifyReply, access: Access) {
  if ('ingest' in access) return;
  if ('public' in access) {
    // a public route serves anyone: a bad key or an expired session just makes the caller anonymous
    request.principal = await resolvePrincipal(deps, request, reply).catch(() => ({ type: 'anonymous' }) as const);
    if (isIngestOnly(request.principal) && request.url.startsWith('/api/')) throw ingestOnly();
    return;
  }
  const principal = (request.principal = await resolvePrincipal(deps, request, reply));
  if (principal.type === 'anonymous') throw unauthorized();
  if (isIngestOnly(principal)) throw ingestOnly();
  if (
    principal.type === 'user' &&
    !SAFE_METHODS.has(request.method) &&
    !deps.sessions.checkCsrf(principal.sessionToken, request.headers[CSRF_HEADER] as string | undefined)
  ) {
    throw forbidden(
      `a change made with a session cookie needs the ${CSRF_HEADER} header (its value comes with sign-in and GET /api/auth/me)`,
    );
  }
  if ('signedIn' in access) {
    if (principal.type === 'key' && !access.keys) throw forbidden('API keys cannot use this route; sign in');
    return;
  }
  if ('admin' in access) {
    if (principal.type !== 'user' || !principal.user.isAdmin) throw forbidden('this needs the instance admin');
    return;
  }
  const slug = (request.params as { slug?: string }).slug ?? '';
  const project = await deps.projects.findBySlug(slug);
  // neither a key nor a user learns whether a project they cannot see exists
  if (!project) throw notFound(`project "${slug}"`);
  if (principal.type === 'key') {
    if (principal.key.projectId !== project.id) throw notFound(`project "${slug}"`);
    if (!access.keys) throw forbidden('API keys cannot use this route (members, keys and the audit log need a signed-in owner)');
    const scope = SCOPE_OF[access.keyRole ?? access.role];
    if (Math.max(...principal.key.scopes.map((s) => SCOPE_RANK[s])) < SCOPE_RANK[scope]) {
      throw forbidden(`this API key lacks the "${scope}" scope (it has: ${principal.key.scopes.join(', ')})`);
    }
  } else {
    const role = await deps.memberships.roleOf(project.id, principal.user.id);
    if (!role) throw notFound(`project "${slug}"`);
    if (roleRank(role) < roleRank(access.role))
      throw forbidden(`this needs the ${access.role} role in project "${slug}"; you are ${role === 'editor' ? 'an' : 'a'} ${role}`);
    request.role = role;
  }
  request.project = project;
}

export interface RouteAccess {
  method: string;
  url: string;
  access: Access;
}

/** Adds the access hook; returns the table of every route's rule, filled as routes are added. */
export function addAccessControl(app: FastifyInstance, deps: AccessDeps): RouteAccess[] {
  const table: RouteAccess[] = [];
  app.decorateRequest('principal', null as never);
  app.decorateRequest('project', undefined);
  app.decorateRequest('role', undefined);
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/api/docs')) route.config = { ...route.config, access: { public: true } };
    const access = route.config?.access;
    if (!access) throw new Error(`route ${route.method} ${route.url} declares no access rule (config.access)`);
    for (const method of [route.method].flat()) table.push({ method, url: route.url, access });
  });
  app.addHook('onRequest', async (request, reply) => {
    request.principal = { type: 'anonymous' };
    const access = request.routeOptions.config.access;
    if (access) await enforce(deps, request, reply, access);
  });
  return table;
}
