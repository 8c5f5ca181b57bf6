/** The analytics domain: event queries for the dashboards, and the live view of events as they arrive. */
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.js';
import type { EventStore } from '../storage/events/event-store.js';
import type { RoutesPlugin } from '../domain-module.js';
import { LiveFeed, liveRoutes } from './live.js';
import { PostgresLiveRelay } from './live-relay.js';
import { analyticsRoutes } from './routes.js';

export async function createAnalyticsModule({ config, log, events }: { config: Config; log: FastifyBaseLogger; events: EventStore }) {
  /** events as ingest accepts them, for the live view */
  const live = new LiveFeed();
  // scaled mode: the live view shows what every process's ingest accepted (NOTIFY/LISTEN)
  const liveRelay = config.postgresUrl ? await PostgresLiveRelay.start(config.postgresUrl, live, log) : undefined;
  const routes: RoutesPlugin = async (app) => {
    await app.register(analyticsRoutes, { events });
    await app.register(liveRoutes, { live });
  };
  return {
    live,
    /** where ingest publishes what it accepted */
    liveSink: liveRelay ?? live,
    routes,
    close: async () => {
      await liveRelay?.stop();
    },
  };
}
