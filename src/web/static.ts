/**
 * Serves the web app (web/, built by `npm run build` into dist/web) at `/`.
 *
 * - a file of the build is sent as it is: hashed files under /assets/ with a year's cache
 *   (their name changes with their content) and gzipped when the client takes it; anything
 *   else, index.html above all, with `no-cache` so a new build is picked up at once;
 * - any other GET that a browser navigates to (it accepts text/html) gets index.html, and the
 *   app's router shows the page (SPA fallback);
 * - /api/..., /v1/..., a missing file (a path with an extension or under /assets/) and requests
 *   that do not accept HTML get the usual JSON 404.
 * When the app is not built, pages say so (503) instead of failing obscurely.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { movedPagePath } from '../http/app-links.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};
const COMPRESSIBLE = new Set(['.js', '.mjs', '.css', '.json', '.map', '.svg', '.html', '.txt']);
const IMMUTABLE = 'public, max-age=31536000, immutable';

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Vigil: web app not built</title></head>
<body><h1>The web app is not built</h1><p>Run <code>npm run build</code> (it builds the server and the web app into dist/), then restart Vigil. The API works meanwhile: <a href="/api/docs">/api/docs</a>.</p></body></html>
`;

/** dist/web of the checkout this module belongs to (from src/web or from dist/src/web). */
export function defaultWebDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return path.join(dir, 'dist', 'web');
}

const isApiPath = (p: string) => p === '/api' || p.startsWith('/api/') || p === '/v1' || p.startsWith('/v1/');
const acceptsHtml = (request: FastifyRequest) => (request.headers.accept ?? '').includes('text/html');

export async function webRoutes(app: FastifyInstance, { dir = defaultWebDir() }: { dir?: string }) {
  const root = path.resolve(dir);
  /** gzipped hashed assets, by path: their content never changes under the same name */
  const gzipped = new Map<string, Buffer>();

  const sendIndex = async (reply: FastifyReply) => {
    const index = path.join(root, 'index.html');
    const html = await fs.promises.readFile(index).catch(() => null);
    if (!html) return reply.code(503).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(NOT_BUILT);
    return reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(html);
  };

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    let urlPath: string;
    try {
      urlPath = decodeURIComponent(request.url.split('?')[0]);
    } catch {
      return reply.callNotFound();
    }
    if (urlPath === '/' || urlPath === '/index.html') return sendIndex(reply);
    if (isApiPath(urlPath) || urlPath.includes('\0')) return reply.callNotFound();
    const file = path.join(root, urlPath);
    if (file.startsWith(root + path.sep)) {
      const stat = await fs.promises.stat(file).catch(() => null);
      if (stat?.isFile()) return sendFile(request, reply, file, urlPath, stat.size);
    }
    const moved = movedPagePath(urlPath);
    if (moved) return reply.redirect(moved, 301);
    // a missing file is a 404, not the app; so is anything a browser does not navigate to
    if (urlPath.startsWith('/assets/') || path.extname(urlPath) || !acceptsHtml(request)) return reply.callNotFound();
    return sendIndex(reply);
  };

  const sendFile = async (request: FastifyRequest, reply: FastifyReply, file: string, urlPath: string, size: number) => {
    const ext = path.extname(file).toLowerCase();
    const hashed = urlPath.startsWith('/assets/');
    reply.type(TYPES[ext] ?? 'application/octet-stream').header('cache-control', hashed ? IMMUTABLE : 'no-cache');
    if (hashed && COMPRESSIBLE.has(ext) && size > 1024) {
      reply.header('vary', 'Accept-Encoding');
      if (/\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''))) {
        let body = gzipped.get(urlPath);
        if (!body) gzipped.set(urlPath, (body = zlib.gzipSync(await fs.promises.readFile(file), { level: 9 })));
        return reply.header('content-encoding', 'gzip').send(body);
      }
    }
    return reply.send(await fs.promises.readFile(file));
  };

  const config = { access: { public: true } } as const;
  app.get('/', { config, schema: { hide: true } }, handler);
  app.get('/*', { config, schema: { hide: true } }, handler);
}
