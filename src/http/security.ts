import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import { VigilError } from '../errors.js';

/**
 * The web app loads only its own scripts, styles (inline style attributes allowed: React and the
 * charts set them), images and fonts (data: URIs for icons), talks only to its own origin, and
 * can be framed by nobody. The Swagger UI at /api/docs fits it as is: @fastify/swagger-ui loads
 * its bundle, preset and initializer as files from /api/docs/static, with no inline script
 * (test/integration/security.test.ts fetches the page and each script it references).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const STATIC_HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'strict-origin-when-cross-origin',
  // frame-ancestors for browsers that predate it
  'x-frame-options': 'DENY',
};

const HSTS = 'max-age=31536000; includeSubDomains';
const ALLOW_METHODS = 'GET, POST, PATCH, PUT, DELETE, OPTIONS';
const ALLOW_HEADERS = 'Content-Type, Authorization, X-API-Key, X-CSRF-Token';
/** how long a browser may reuse a preflight answer, in seconds */
const PREFLIGHT_MAX_AGE = '600';

/** The ingest API (`/v1/...`) answers any origin itself: browsers on customers' sites send events. */
const isIngest = (request: FastifyRequest) => request.url.startsWith('/v1/');

/** Adds `value` to the response's Vary header unless it is there already. */
function vary(reply: FastifyReply, value: string) {
  const current = reply.getHeader('vary');
  const list = (Array.isArray(current) ? current.join(',') : String(current ?? ''))
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
  if (!list.some((v) => v === '*' || v.toLowerCase() === value.toLowerCase())) reply.header('vary', [...list, value].join(', '));
}

/**
 * Security headers on every response, HSTS on requests that came over TLS (`request.protocol`
 * reads X-Forwarded-Proto only when VIGIL_TRUST_PROXY is on), and CORS for everything outside the
 * ingest API: an origin in VIGIL_CORS_ORIGINS (exactly, or any when it holds `*`, which
 * production refuses) may call with credentials; a preflight from any other origin is a 403, and
 * a plain request from one gets no CORS headers, so the browser keeps the answer from its page.
 *
 * Added on the root instance itself (not as an encapsulated plugin) so the hooks reach every
 * route, the 404 handler and the error handler's answers.
 */
export function addSecurityHooks(app: FastifyInstance, config: Pick<Config, 'corsOrigins'>) {
  const anyOrigin = config.corsOrigins.includes('*');
  const origins = new Set(config.corsOrigins);
  const allowed = (origin: string) => anyOrigin || origins.has(origin);

  app.addHook('onRequest', async (request, reply) => {
    const origin = request.headers.origin;
    if (request.method !== 'OPTIONS' || !origin || !request.headers['access-control-request-method'] || isIngest(request)) return;
    if (!allowed(origin)) {
      throw new VigilError(
        'VIGIL_ERR_FORBIDDEN',
        `the origin ${origin} is not in VIGIL_CORS_ORIGINS, so this API does not answer its pages`,
        { origin },
      );
    }
    return reply
      .code(204)
      .header('access-control-allow-methods', ALLOW_METHODS)
      .header('access-control-allow-headers', ALLOW_HEADERS)
      .header('access-control-max-age', PREFLIGHT_MAX_AGE)
      .send();
  });

  // onSend runs for every answer, errors and 404s included, so each carries the same headers
  app.addHook('onSend', async (request, reply, payload) => {
    for (const [name, value] of Object.entries(STATIC_HEADERS)) reply.header(name, value);
    if (request.protocol === 'https') reply.header('strict-transport-security', HSTS);
    if (!isIngest(request)) {
      const origin = request.headers.origin;
      if (origin && allowed(origin)) {
        reply.header('access-control-allow-origin', origin);
        reply.header('access-control-allow-credentials', 'true');
      }
      vary(reply, 'Origin');
    }
    return payload;
  });
}
