/** A project's detection defaults: what its metrics leave out, and all of event-volume detection's settings. */
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppContext } from '../app-context.js';
import { projectOf } from '../auth/access.js';
import { SlugParams, errorResponses } from '../http-schemas.js';
import { DEFAULT_MIN_EXPECTED, DEFAULT_SENSITIVITY, DEFAULT_SETTLING_MINUTES, type ProjectDetection } from './settings.js';
import { DetectionAnswer, ProjectDetectionSchema } from './detection-schemas.js';

const tags = ['detection'];

const answer = (settings: ProjectDetection): DetectionAnswer => ({
  settings,
  defaults: { enabled: true, sensitivity: DEFAULT_SENSITIVITY, minExpected: DEFAULT_MIN_EXPECTED, settlingMinutes: DEFAULT_SETTLING_MINUTES },
});

export async function detectionRoutes(root: FastifyInstance, { ctx }: { ctx: AppContext }) {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.get('/api/projects/:slug/detection', {
    config: { access: { role: 'viewer', keys: true } },
    schema: { tags, summary: 'The project\'s detection defaults, and the detector\'s for what they leave out', params: SlugParams, response: { 200: DetectionAnswer, ...errorResponses } },
  }, async (request) => answer(await ctx.signals.projectDetection(projectOf(request).id)));

  app.put('/api/projects/:slug/detection', {
    config: { access: { role: 'owner', keys: true } },
    schema: {
      tags, summary: 'Replace the project\'s detection defaults (a field left out falls back to the detector\'s default); metrics with their own settings keep them',
      params: SlugParams, body: ProjectDetectionSchema, response: { 200: DetectionAnswer, ...errorResponses },
    },
  }, async (request) => {
    const project = projectOf(request);
    const before = await ctx.signals.projectDetection(project.id);
    await ctx.signals.setProjectDetection(project.id, request.body);
    const after = await ctx.signals.projectDetection(project.id);
    await ctx.audit.record(request, { action: 'project.detection', target: { type: 'project', id: project.id }, before, after });
    return answer(after);
  });
}
