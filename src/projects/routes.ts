import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ErrorBody, SlugParams, errorResponses } from '../http-schemas.js';
import { projectOf, userOf } from '../auth/access.js';
import type { ApiKey } from '../auth/api-keys.js';
import type { Role } from '../auth/memberships.js';
import type { Project } from './service.js';
import { deleteProject, type ProjectDeletionDeps } from './deletion.js';
import type { AuditLog } from '../auth/audit.js';
import type { MembershipService } from '../auth/memberships.js';
import type { ProjectService } from './service.js';

const tags = ['projects'];
const errors = { ...errorResponses, 409: ErrorBody };
const RoleOrNull = Type.Union([Type.Literal('viewer'), Type.Literal('editor'), Type.Literal('owner'), Type.Null()], {
  description: "the caller's role; for an API key, the role its scopes stand for (null for an ingest-only key)",
});
const ProjectSchema = Type.Object({
  id: Type.Integer(),
  slug: Type.String(),
  name: Type.String(),
  timeZone: Type.String(),
  createdAt: Type.String(),
  role: RoleOrNull,
});
const TimeZone = Type.String({ maxLength: 64, description: 'IANA time zone the buckets align to, e.g. Europe/Berlin' });

const projectForApi = (p: Project, role: Role | null): Static<typeof ProjectSchema> => ({
  id: p.id,
  slug: p.slug,
  name: p.name,
  timeZone: p.timeZone,
  createdAt: new Date(p.createdAt).toISOString(),
  role,
});

/** The role an API key's scopes stand for (admin → owner, write → editor, read → viewer). */
function roleOfKey(key: ApiKey): Role | null {
  if (key.scopes.includes('admin')) return 'owner';
  if (key.scopes.includes('write')) return 'editor';
  return key.scopes.includes('read') ? 'viewer' : null;
}

const callerRole = (request: FastifyRequest): Role | null =>
  request.principal.type === 'key' ? roleOfKey(request.principal.key) : (request.role ?? null);

/** What these routes use: their own services and the few they name. */
export interface ProjectRouteDeps extends ProjectDeletionDeps {
  audit: AuditLog;
  memberships: MembershipService;
  projects: ProjectService;
}

/** Projects: the caller's list, creation by the instance admin, settings and deletion by an owner. */
// long because each of its routes declares its schema and access rule inline
export async function projectRoutes(root: FastifyInstance, deps: ProjectRouteDeps) {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/api/projects',
    {
      config: { access: { signedIn: true, keys: true } },
      schema: {
        tags,
        summary: "The projects the caller can see: a user's memberships with their role; an API key's own project",
        response: { 200: Type.Object({ projects: Type.Array(ProjectSchema) }), ...errors },
      },
    },
    async (request) => {
      const principal = request.principal;
      if (principal.type === 'key')
        return { projects: [projectForApi(await deps.projects.getById(principal.key.projectId), roleOfKey(principal.key))] };
      const projects = [];
      for (const m of await deps.memberships.projectsOf(userOf(request).id))
        projects.push(projectForApi(await deps.projects.getById(m.projectId), m.role));
      return { projects: projects.sort((a, b) => a.slug.localeCompare(b.slug)) };
    },
  );

  app.post(
    '/api/projects',
    {
      config: { access: { admin: true } },
      schema: {
        tags,
        summary: 'Create a project (instance admin only); the admin becomes its owner',
        body: Type.Object(
          {
            slug: Type.String({ maxLength: 63 }),
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            timeZone: Type.Optional(TimeZone),
          },
          { additionalProperties: false },
        ),
        response: { 201: ProjectSchema, ...errors },
      },
    },
    async (request, reply) => {
      const project = await deps.projects.create(request.body);
      await deps.memberships.grant(project.id, userOf(request).id, 'owner');
      await deps.audit.record(request, {
        projectId: project.id,
        action: 'project.create',
        target: { type: 'project', id: project.id },
        after: { slug: project.slug, name: project.name, timeZone: project.timeZone },
      });
      reply.code(201);
      return projectForApi(project, 'owner');
    },
  );

  app.get(
    '/api/projects/:slug',
    {
      config: { access: { role: 'viewer', keys: true } },
      schema: { tags, summary: 'One project', params: SlugParams, response: { 200: ProjectSchema, ...errors } },
    },
    async (request) => projectForApi(projectOf(request), callerRole(request)),
  );

  app.patch(
    '/api/projects/:slug',
    {
      config: { access: { role: 'owner', keys: false } },
      schema: {
        tags,
        summary: 'Rename a project or change its time zone (buckets already collected keep the alignment they were computed with)',
        params: SlugParams,
        body: Type.Object(
          { name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })), timeZone: Type.Optional(TimeZone) },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: ProjectSchema, ...errors },
      },
    },
    async (request) => {
      const before = projectOf(request);
      const after = await deps.projects.update(before.id, request.body);
      await deps.audit.record(request, {
        action: 'project.update',
        target: { type: 'project', id: after.id },
        before: { name: before.name, timeZone: before.timeZone },
        after: { name: after.name, timeZone: after.timeZone },
      });
      return projectForApi(after, callerRole(request));
    },
  );

  app.delete(
    '/api/projects/:slug',
    {
      config: { access: { role: 'owner', keys: false } },
      schema: {
        tags,
        summary:
          'Delete a project: its events in the event store and all its metadata (keys, members, invitations, metrics and values, signals, incidents, alerts, jobs, audit entries); the deletion is audited at the instance level',
        params: SlugParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await deleteProject(deps, projectOf(request), request);
      return reply.code(204).send(null);
    },
  );
}
