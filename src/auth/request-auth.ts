import type { FastifyRequest } from 'fastify';
import { VigilError } from '../errors.js';
import type { ApiKey, ApiKeyService, Scope } from './api-keys.js';

/**
 * The key in a request's headers: `Authorization: Basic` (Segment's write key as the user name,
 * empty password), `Authorization: Bearer`, or `X-API-Key`. (Ingest also takes `writeKey` in the
 * body; the pipeline thread finds it there.)
 */
export function keyFromHeaders(request: FastifyRequest): string | undefined {
  const auth = request.headers.authorization;
  if (auth) {
    const [scheme, value = ''] = auth.split(' ', 2);
    if (/^basic$/i.test(scheme)) {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const user = decoded.includes(':') ? decoded.slice(0, decoded.indexOf(':')) : decoded;
      if (user) return user;
    } else if (/^bearer$/i.test(scheme) && value) {
      return value.trim();
    }
  }
  const header = request.headers['x-api-key'];
  if (typeof header === 'string' && header) return header;
  return undefined;
}

export const missingKey = () =>
  new VigilError(
    'VIGIL_ERR_UNAUTHORIZED',
    'an API key is required: send it as a Bearer token, X-API-Key header, or (for ingest) as the Basic auth user name / writeKey',
  );

/** The active key a secret sent from `address` belongs to, if it carries `scope` (or admin); else a 401, 403 or (too many failures from the address) 429. */
export async function checkKey(keys: ApiKeyService, secret: string | undefined, scope: Scope, address: string): Promise<ApiKey> {
  if (!secret) throw missingKey();
  const key = await keys.verifyFrom(secret, address);
  if (!key) throw new VigilError('VIGIL_ERR_UNAUTHORIZED', 'the API key is not valid (unknown, revoked or expired)');
  if (!key.scopes.includes(scope) && !key.scopes.includes('admin')) {
    throw new VigilError('VIGIL_ERR_FORBIDDEN', `this API key lacks the "${scope}" scope (it has: ${key.scopes.join(', ')})`);
  }
  return key;
}
