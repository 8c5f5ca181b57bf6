/** A project's detection defaults: what its metrics leave out, and all of event-volume detection's settings; and a metric's settings in force. */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { projectOf } from '../auth/access.js';
import { RowId, SlugParams, errorResponses } from '../http-schemas.js';
import { DEFAULT_MIN_EXPECTED, DEFAULT_SENSITIVITY, type ProjectDetection } from './settings.js';
import { DetectionAnswer, MetricDetectionAnswer, ProjectDetectionSchema } from './detection-schemas.js';
import type { AuditLog } from '../auth/audit.js';
import type { MetricService } from '../metrics/service.js';
import type { SignalService } from './service.js';

const tags = ['detection'];
const MetricParams = Type.Object({ slug: Type.String(), id: RowId() });

async function answer(signals: SignalService, projectId: number, settings: ProjectDetection): Promise<DetectionAnswer> {
  const [events, pushed] = await Promise.all([
    signals.resolve(projectId, null, settings),
    signals.resolve(projectId, { kind: 'gauge', detection: {} }, settings),
  ]);
  const fallback = await signals.settlingFallback(projectId, null);
  return {
    settings,
    defaults: { enabled: true, sensitivity: DEFAULT_SENSITIVITY, minExpected: DEFAULT_MIN_EXPECTED, settlingMinutes: fallback.minutes },
    effective: {
      events: { minutes: events.settlingMinutes, source: events.settlingSource },
      pushed: { minutes: pushed.settlingMinutes, source: pushed.settlingSource },
    },
  };
}

/** What these routes use: their own services and the few they name. */
export interface DetectionRouteDeps {
  audit: AuditLog;
  catalog: MetricService;
  signals: SignalService;
}

export async function detectionRoutes(root: FastifyInstance, deps: DetectionRouteDeps) {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/api/projects/:slug/detection',
    {
      config: { access: { role: 'viewer', keys: true } },
      schema: {
        tags,
        summary: "The project's detection defaults, the detector's for what they leave out, and the settling time in force",
        params: SlugParams,
        response: { 200: DetectionAnswer, ...errorResponses },
      },
    },
    async (request) => {
      const project = projectOf(request);
      return answer(deps.signals, project.id, await deps.signals.projectDetection(project.id));
    },
  );

  app.put(
    '/api/projects/:slug/detection',
    {
      config: { access: { role: 'owner', keys: true } },
      schema: {
        tags,
        summary:
          "Replace the project's detection defaults (a field left out falls back to the detector's default); metrics with their own settings keep them",
        params: SlugParams,
        body: ProjectDetectionSchema,
        response: { 200: DetectionAnswer, ...errorResponses },
      },
    },
    async (request) => {
      const project = projectOf(request);
      const before = await deps.signals.projectDetection(project.id);
      await deps.signals.setProjectDetection(project.id, request.body);
      const after = await deps.signals.projectDetection(project.id);
      await deps.audit.record(request, { action: 'project.detection', target: { type: 'project', id: project.id }, before, after });
      return answer(deps.signals, project.id, after);
    },
  );

  app.get(
    '/api/projects/:slug/metrics/:id/detection',
    {
      config: { access: { role: 'viewer', keys: true } },
      schema: {
        tags,
        summary: "A metric's own detection settings and the settling time in force for it, with where it comes from",
        params: MetricParams,
        response: { 200: MetricDetectionAnswer, ...errorResponses },
      },
    },
    async (request) => {
      const project = projectOf(request);
      const m = await deps.catalog.get(project, request.params.id);
      const r = await deps.signals.resolve(project.id, m);
      return { settings: m.detection, effective: { settling: { minutes: r.settlingMinutes, source: r.settlingSource } } };
    },
  );
}
