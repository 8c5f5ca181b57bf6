import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../app-context.js';

/** Alert rules, destinations and deliveries. SKELETON. */
export async function alertRoutes(_root: FastifyInstance, _opts: { ctx: AppContext }) {}
