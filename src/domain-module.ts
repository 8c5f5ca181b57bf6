/**
 * What a domain module's factory hands the composition root (src/app-context.ts) for the HTTP
 * server: its routes, as one Fastify plugin that registers them with the services they name.
 */
import type { FastifyInstance } from 'fastify';

export type RoutesPlugin = (app: FastifyInstance) => Promise<void>;
