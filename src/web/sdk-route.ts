/**
 * Serves the browser SDK at GET /sdk.js, to any site, and writes the install snippet.
 *
 * Where the script comes from: run from dist/ (`npm start`), the file `npm run build` wrote
 * (dist/sdk/vigil.js); run from the TypeScript source (tsx: tests, development), or when that
 * file is missing, sdk/src bundled with esbuild on the first request. So the tests always serve
 * the current source, and a fresh clone needs no build step before `npm test`.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { VigilError } from '../errors.js';

const here = fileURLToPath(import.meta.url);
const fromSource = here.endsWith('.ts');
/** the repository: src/web/ holds this file in the source, dist/src/web/ once compiled */
const ROOT = path.resolve(path.dirname(here), fromSource ? '../..' : '../../..');
const BUILT = path.join(ROOT, 'dist', 'sdk', 'vigil.js');

/** The URL carries no version, so browsers check for a new SDK every hour (and revalidate with the ETag). */
const CACHE_CONTROL = 'public, max-age=3600, stale-while-revalidate=86400';

interface SdkAsset {
  code: Buffer;
  gzipped: Buffer;
  etag: string;
}

/** The minified SDK, as built or bundled now from sdk/src. */
export async function loadSdkScript(): Promise<string> {
  if (!fromSource && fs.existsSync(BUILT)) return fs.readFileSync(BUILT, 'utf8');
  const build = pathToFileURL(path.join(ROOT, 'sdk', 'build.mjs')).href;
  const { bundleSdk } = (await import(build)) as typeof import('../../sdk/build.mjs');
  return bundleSdk();
}

async function loadAsset(): Promise<SdkAsset> {
  const code = Buffer.from(await loadSdkScript());
  return {
    code,
    gzipped: zlib.gzipSync(code, { level: 9 }),
    etag: `"${crypto.createHash('sha256').update(code).digest('base64url').slice(0, 22)}"`,
  };
}

/**
 * The HTML to paste into a site's pages (before </head>): a stub `window.vigil` that queues calls
 * until sdk.js has loaded (asynchronously), then init. Strings are JSON-escaped, and `<` too, so a
 * value cannot end the script element.
 */
export function sdkSnippet(host: string, writeKey: string): string {
  const origin = host.replace(/\/+$/, '');
  const literal = (s: string) => JSON.stringify(s).replace(/</g, '\\u003c');
  return `<script>
!function(w,d,h,k){var v=w.vigil=w.vigil||[];if(v.init)return;"init track page identify group reset flush".split(" ").forEach(function(m){v[m]=function(){v.push([m].concat([].slice.call(arguments)))}});var s=d.createElement("script");s.async=!0;s.src=h+"/sdk.js";d.head.appendChild(s);v.init(k,{host:h})}(window,document,${literal(origin)},${literal(writeKey)});
</script>`;
}

export async function sdkRoutes(app: FastifyInstance) {
  let asset: Promise<SdkAsset> | undefined;
  // built once, on first use; a failed build is tried again on the next request
  const load = () =>
    (asset ??= loadAsset().catch((err: unknown) => {
      asset = undefined;
      throw err;
    }));

  app.get('/sdk.js', { config: { access: { public: true } }, schema: { hide: true } }, async (request, reply) => {
    const sdk = await load().catch((err: unknown) => {
      request.log.error({ err }, 'the browser SDK could not be built');
      throw new VigilError('VIGIL_ERR_UNAVAILABLE', 'the browser SDK is not built: run npm run build');
    });
    reply
      .header('cache-control', CACHE_CONTROL)
      .header('etag', sdk.etag)
      .header('vary', 'Accept-Encoding')
      // any site may load it, from a <script> tag or fetch, also under cross-origin isolation
      .header('access-control-allow-origin', '*')
      .header('cross-origin-resource-policy', 'cross-origin');
    if (request.headers['if-none-match'] === sdk.etag) return reply.code(304).send();
    reply.type('text/javascript; charset=utf-8');
    if (/\bgzip\b/.test(request.headers['accept-encoding'] ?? '')) return reply.header('content-encoding', 'gzip').send(sdk.gzipped);
    return reply.send(sdk.code);
  });
}
