import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../app-context.js';

/** Incidents: list, detail with timeline, actions. SKELETON. */
export async function incidentRoutes(_root: FastifyInstance, _opts: { ctx: AppContext }) {}
