/**
 * Deleting a project: its events and everything of it in the metadata store, in the order that
 * leaves nothing behind.
 *
 * 1. Its API keys are revoked, so no new event is accepted for it (at once on this process; other
 *    processes drop a revoked key from their cache within 10 s).
 * 2. Every acknowledged event is loaded (the write-ahead buffer, or the scaled mode's outbox), so
 *    none lands in the event store after step 3.
 * 3. Its events go (EventStore.deleteProject: one DuckDB transaction, or a ClickHouse mutation
 *    waited for). When this fails the project stays as it was, keys revoked: deleting again finishes.
 * 4. Its metadata goes: the project row, and with it (foreign keys that cascade, in SQLite and
 *    PostgreSQL) keys, members, invitations, metrics and their values, measurements, threshold
 *    rules, signals, event profiles, detector runs, incidents with their signals and timeline, alert
 *    rules, destinations and deliveries, and jobs; and its audit entries (no foreign key).
 * 5. The deletion itself is audited at the instance level (project id null), so it outlives the project.
 *
 * It runs within the request: DuckDB deletes millions of rows a second, and a ClickHouse mutation
 * is kept by the server, which finishes it even if Vigil stops; the wait for it is bounded
 * (a 503 past it, and deleting again waits anew).
 */
import type { FastifyRequest } from 'fastify';
import type { ApiKeyService } from '../auth/api-keys.js';
import type { AuditLog } from '../auth/audit.js';
import type { EventStore } from '../storage/events/event-store.js';
import type { Project, ProjectService } from './service.js';

export interface ProjectDeletionDeps {
  projects: ProjectService;
  apiKeys: ApiKeyService;
  audit: AuditLog;
  events: EventStore;
  /** makes every acknowledged event visible in the event store (the ingest log and loader) */
  flush(): Promise<void>;
}

/** Deletes the project everywhere; returns how many events it had. */
export async function deleteProject(
  deps: ProjectDeletionDeps,
  project: Project,
  request: FastifyRequest | null,
): Promise<{ events: number }> {
  for (const key of await deps.apiKeys.list(project.id)) if (key.revokedAt === null) await deps.apiKeys.revoke(key.id);
  await deps.flush();
  const events = await deps.events.deleteProject(project.id);
  await deps.projects.delete(project.id);
  await deps.audit.forgetProject(project.id);
  await deps.audit.record(request, {
    projectId: null,
    action: 'project.delete',
    target: { type: 'project', id: project.id },
    before: { slug: project.slug, name: project.name, timeZone: project.timeZone },
    after: { events },
  });
  return { events };
}
