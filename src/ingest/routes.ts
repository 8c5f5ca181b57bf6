import zlib from 'node:zlib';
import { PassThrough, Transform, pipeline } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { EventType } from '../storage/events/event-store.js';
import { VigilError } from '../errors.js';
import { checkKey, keyFromHeaders } from '../auth/request-auth.js';
import { parseMeasurementsText } from './measurements.js';
import type { BodyKind } from './pipeline.js';
import type { IngestResult } from './service.js';
import type { ApiKeyService } from '../auth/api-keys.js';
import type { Config } from '../config.js';
import type { MeasurementStore } from './measurement-store.js';
import type { IngestService } from './service.js';

export const MAX_BATCH_BYTES = 500 * 1024;
/** ingest authenticates its write key itself: it may come in the body */
const INGEST_ACCESS = { access: { ingest: true } } as const;
const MAX_SINGLE_BYTES = 32 * 1024;

const SINGLE_ROUTES: [string, string, EventType][] = [
  ['track', 't', 'track'],
  ['page', 'p', 'page'],
  ['screen', 's', 'screen'],
  ['identify', 'i', 'identify'],
  ['group', 'g', 'group'],
  ['alias', 'a', 'alias'],
];

const successSchema = { 200: { type: 'object', properties: { success: { type: 'boolean' } } } };
const measurementsSchema = {
  200: Type.Object({ success: Type.Boolean(), accepted: Type.Integer({ description: 'measurements stored' }) }),
};

/**
 * Counts the compressed bytes so Fastify can check them against Content-Length. Fastify reads the
 * returned stream, which fails with a catalog error when zlib does (zlib's own text says little).
 * Fastify stops listening once it has answered (a 413 on Content-Length, say) while the rest of
 * the body may still arrive and fail to inflate: every stream here keeps an error listener, so a
 * late error ends this request only and never reaches the process as an unhandled 'error'.
 */
function gunzipStream(payload: NodeJS.ReadableStream) {
  const gunzip = zlib.createGunzip();
  const out = Object.assign(new PassThrough(), { receivedEncodedLength: 0 });
  const counter = new Transform({
    transform(chunk, _enc, cb) {
      out.receivedEncodedLength += chunk.length;
      cb(null, chunk);
    },
  });
  gunzip.on('error', (err) =>
    out.destroy(new VigilError('VIGIL_ERR_BAD_REQUEST', `the gzip body could not be decompressed: ${err.message}`)),
  );
  // the request itself is not part of the pipeline: destroying it would leave no socket to answer on
  payload.on('error', (err) => counter.destroy(err));
  payload.pipe(counter);
  pipeline(counter, gunzip, out, () => payload.unpipe(counter));
  return out;
}

/** What these routes use: their own services and the few they name. */
export interface IngestRouteDeps {
  apiKeys: ApiKeyService;
  config: Config;
  ingest: IngestService;
  measurements: MeasurementStore;
}

/** The Segment-compatible Tracking API: /v1/<call>, the short paths analytics.js uses, /v1/batch and /v1/import. */
// long because each of its routes declares its schema and access rule inline
export async function ingestRoutes(app: FastifyInstance, deps: IngestRouteDeps) {
  // analytics.js sends JSON as text/plain (no CORS preflight); sendBeacon may send no type at all
  app.removeAllContentTypeParsers();
  // the body stays text here: the pipeline thread parses it
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.addHook('onRequest', async (request, reply) => {
    reply.header('access-control-allow-origin', request.headers.origin ?? '*');
    reply.header('vary', 'Origin');
  });
  app.options('/v1/*', { config: INGEST_ACCESS }, async (_request, reply) => {
    reply
      .header('access-control-allow-methods', 'POST, OPTIONS')
      .header('access-control-allow-headers', 'Content-Type, Content-Encoding, Authorization, X-API-Key')
      .header('access-control-max-age', '86400')
      .code(204)
      .send();
  });

  app.addHook('preParsing', async (request, _reply, payload) => {
    // content codings are case-insensitive, and x-gzip is gzip (RFC 9110, 8.4.1)
    const encoding = request.headers['content-encoding']?.trim().toLowerCase();
    if (!encoding || encoding === 'identity') return payload;
    if (encoding !== 'gzip' && encoding !== 'x-gzip')
      throw new VigilError('VIGIL_ERR_UNSUPPORTED_MEDIA_TYPE', `Content-Encoding "${encoding}" is not supported; send gzip or no encoding`);
    return gunzipStream(payload) as unknown as typeof payload;
  });

  const handle = (kind: BodyKind) => async (request: FastifyRequest, reply: FastifyReply) => {
    const text = typeof request.body === 'string' ? request.body : '';
    const result = await deps.ingest.ingestBody(text, kind, keyFromHeaders(request), {
      receivedAt: Date.now(),
      ip: request.ip,
      browserUserAgent: request.headers.origin ? request.headers['user-agent'] : undefined,
      country: deps.config.trustProxy ? (request.headers['cf-ipcountry'] as string | undefined) : undefined,
    });
    return reply.send(answer(result));
  };

  for (const [long, short, type] of SINGLE_ROUTES) {
    for (const path of [`/v1/${long}`, `/v1/${short}`]) {
      app.post(
        path,
        {
          config: INGEST_ACCESS,
          bodyLimit: MAX_SINGLE_BYTES,
          logLevel: 'warn',
          schema: { tags: ['ingest'], summary: `Segment ${type} call`, response: successSchema, hide: path.length === 4 + 1 },
        },
        handle({ single: type }),
      );
    }
  }

  for (const path of ['/v1/batch', '/v1/b', '/v1/import']) {
    app.post(
      path,
      {
        config: INGEST_ACCESS,
        bodyLimit: MAX_BATCH_BYTES,
        logLevel: 'warn',
        schema: {
          tags: ['ingest'],
          summary: 'Segment batch (up to 2,500 events, 500 KB)',
          response: successSchema,
          hide: path === '/v1/b',
        },
      },
      handle({ batch: true }),
    );
  }

  // gauge points pushed by services; all or nothing (see ./measurements.ts)
  app.post(
    '/v1/measurements',
    {
      config: INGEST_ACCESS,
      bodyLimit: MAX_BATCH_BYTES,
      logLevel: 'warn',
      schema: { tags: ['ingest'], summary: 'Service measurements (1 to 1,000 gauge points, 500 KB)', response: measurementsSchema },
    },
    async (request) => {
      const key = await checkKey(deps.apiKeys, keyFromHeaders(request), 'ingest', request.ip);
      deps.ingest.chargeKey(key);
      const receivedAt = Date.now();
      const points = parseMeasurementsText(typeof request.body === 'string' ? request.body : '', receivedAt);
      return { success: true, accepted: await deps.measurements.insert(key.projectId, points, receivedAt) };
    },
  );
}

/**
 * Policy for a batch with invalid events: the valid ones are stored (and acknowledged as durable),
 * the invalid ones are listed by index with the field at fault, and the answer is 400 so the
 * client notices. A retry of the whole batch stores nothing twice, since messageIds are deduplicated.
 */
function answer(result: IngestResult) {
  if (!result.rejected.length) return { success: true };
  const stored = result.accepted + result.duplicates;
  throw new VigilError('VIGIL_ERR_INVALID_EVENTS', `${result.rejected.length} event(s) rejected; the other ${stored} were stored`, {
    accepted: result.accepted,
    duplicates: result.duplicates,
    rejected: result.rejected,
  });
}
