/** The tracking plan: the events and properties a project sends, as discovered, with their drift. */
import type { RoutesPlugin } from '../domain-module.js';
import { trackingPlanRoutes, type TrackingPlanDeps } from './tracking-plan.js';

export function createTrackingPlanModule(deps: TrackingPlanDeps) {
  const routes: RoutesPlugin = async (app) => {
    await app.register(trackingPlanRoutes, deps);
  };
  return { routes };
}
