/**
 * Writes web/src/api/schema.gen.ts: the web app's types of the server's answers and request bodies,
 * generated from the OpenAPI document the routes' schemas make (the route table is built, nothing
 * listens). `npm run api-types` after changing a route's schema; the contract test says when to.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { createAppContext } from '../src/app-context.js';
import { loadConfig } from '../src/config.js';
import { buildServer } from '../src/server.js';
import { type OpenApiDocument, renderApiTypes } from './openapi-to-ts.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const API_TYPES_FILE = path.join(ROOT, 'web/src/api/schema.gen.ts');

/** The document GET /api/docs/json serves, from a server on empty stores in a temporary folder. */
export async function openApiDocument(): Promise<OpenApiDocument> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-api-types-'));
  const config = loadConfig({}, { dataDir, logLevel: 'silent', demo: 'false' });
  const ctx = await createAppContext(config, pino({ level: 'silent' }));
  try {
    const app = await buildServer(ctx);
    await app.ready();
    const doc = app.swagger() as unknown as OpenApiDocument;
    await app.close();
    return doc;
  } finally {
    await ctx.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The file's text as the tree keeps it: rendered, then formatted by Biome like every other file. */
export async function generateApiTypes(): Promise<string> {
  const source = renderApiTypes(await openApiDocument());
  return execFileSync(path.join(ROOT, 'node_modules/.bin/biome'), ['format', `--stdin-file-path=${API_TYPES_FILE}`], {
    cwd: ROOT,
    input: source,
    encoding: 'utf8',
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  fs.writeFileSync(API_TYPES_FILE, await generateApiTypes());
  console.log(`wrote ${path.relative(ROOT, API_TYPES_FILE)}`);
}
