/**
 * Process roles (`vigil serve --role api,ingest,worker,scheduler`): which HTTP routes a process
 * answers and which background loops it runs. Every process answers the operations endpoints
 * (/health, /ready, /metrics), so a load balancer or an orchestrator can watch any of them.
 */
import type { FastifyInstance } from 'fastify';
import type { SchedulerStatus } from '../jobs/index.js';
import { VigilError } from '../errors.js';

export const ROLES = ['api', 'ingest', 'worker', 'scheduler'] as const;
export type Role = (typeof ROLES)[number];

/** `api,ingest` → ['api', 'ingest']; unset or empty → the fallback (all roles). */
export function parseRoles(text: string | undefined, fallback: readonly Role[] = ROLES): Role[] {
  if (text === undefined || text.trim() === '') return [...fallback];
  const given = text
    .split(',')
    .map((r) => r.trim().toLowerCase())
    .filter(Boolean);
  const unknown = given.filter((r) => !(ROLES as readonly string[]).includes(r));
  if (unknown.length)
    throw new VigilError(
      'VIGIL_ERR_BAD_REQUEST',
      `unknown role${unknown.length > 1 ? 's' : ''} ${unknown.map((r) => `"${r}"`).join(', ')}: --role takes a comma-separated list of ${ROLES.join(', ')}`,
    );
  return ROLES.filter((r) => given.includes(r));
}

const OPS_PATHS = new Set(['/health', '/ready', '/metrics']);

/** Which role answers a request path: the operations endpoints belong to every process. */
export function httpRoleOf(path: string): 'ops' | 'ingest' | 'api' {
  const p = path.split('?')[0];
  if (OPS_PATHS.has(p)) return 'ops';
  return p === '/v1' || p.startsWith('/v1/') ? 'ingest' : 'api';
}

/** Answers 404 for the routes of roles this process does not have (call before the server listens). */
export function restrictToRoles(app: FastifyInstance, roles: readonly Role[]): void {
  const serves = (role: 'ops' | 'ingest' | 'api') => role === 'ops' || roles.includes(role);
  if (serves('api') && serves('ingest')) return;
  app.addHook('onRequest', async (request, reply) => {
    const role = httpRoleOf(request.url);
    if (serves(role)) return;
    const served = roles.filter((r) => r === 'api' || r === 'ingest');
    return reply.code(404).send({
      error: {
        code: 'VIGIL_ERR_NOT_FOUND',
        message: `this process does not serve the ${role} role (it serves ${served.length ? served.join(', ') : 'only /health, /ready and /metrics'})`,
        details: { role, roles },
      },
    });
  });
}

/** What /ready reports about this process beyond its stores. */
export interface ProcessState {
  roles: readonly Role[];
  scheduler?: () => SchedulerStatus;
  /** set when shutting down: /ready answers 503 so load balancers stop sending requests */
  draining?: boolean;
}

/** What a process reports before serve.ts says which roles it runs (tests): every role. */
export const everyRole = (): ProcessState => ({ roles: ROLES });
