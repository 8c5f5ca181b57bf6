/** The projects domain: the tenants everything else belongs to, and their deletion. */
import type { MetaStore } from '../meta-db.js';
import type { RoutesPlugin } from '../domain-module.js';
import { ProjectService } from './service.js';
import { projectRoutes, type ProjectRouteDeps } from './routes.js';

export function createProjectsModule({ meta }: { meta: MetaStore }) {
  const projects = new ProjectService(meta.db);
  return {
    projects,
    /** the routes need the accounts and the event store (a deletion reaches both), known later */
    routes:
      (deps: Omit<ProjectRouteDeps, 'projects'>): RoutesPlugin =>
      async (app) => {
        await app.register(projectRoutes, { ...deps, projects });
      },
  };
}
