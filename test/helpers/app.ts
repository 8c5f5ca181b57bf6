import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type ConfigInput } from '../../src/config.js';
import { createAppContext, type AppContext } from '../../src/app-context.js';
import { buildServer } from '../../src/server.js';
import type { Project } from '../../src/projects/service.js';

export interface TestApp {
  url: string;
  ctx: AppContext;
  app: FastifyInstance;
  project: Project;
  writeKey: string;
  readKey: string;
  dataDir: string;
  close(): Promise<void>;
}

export function tempDir(prefix = 'vigil-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A real Vigil (SQLite + DuckDB in a temp folder) on a loopback port, with one project and keys. */
export async function startTestApp(opts: { timeZone?: string; config?: ConfigInput; now?: () => number } = {}): Promise<TestApp> {
  const dataDir = tempDir();
  const config = loadConfig({}, { dataDir, port: 0, host: '127.0.0.1', logLevel: 'silent', demo: 'false', ingestFlushMs: 200,
    // cheap password hashing: tests sign in many times
    passwordScryptLogN: 10, ...opts.config });
  const ctx = await createAppContext(config, pino({ level: 'silent' }), { now: opts.now });
  const app = await buildServer(ctx);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address() as { port: number };
  const project = await ctx.projects.create({ slug: 'shop', name: 'Shop', timeZone: opts.timeZone ?? 'UTC' });
  const writeKey = (await ctx.apiKeys.create({ projectId: project.id, scopes: ['ingest'] })).secret;
  const readKey = (await ctx.apiKeys.create({ projectId: project.id, scopes: ['read'] })).secret;
  return {
    url: `http://127.0.0.1:${address.port}`,
    ctx,
    app,
    project,
    writeKey,
    readKey,
    dataDir,
    async close() {
      await app.close();
      await ctx.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, body: json, headers: res.headers };
}

export async function getJson(url: string, key?: string) {
  const res = await fetch(url, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  return { status: res.status, body: (await res.json()) as any };
}

export const basic = (writeKey: string) => ({ authorization: 'Basic ' + Buffer.from(writeKey + ':').toString('base64') });

/** POST with full control over the body bytes and headers (no content-type unless given). */
export async function send(url: string, body: string | Buffer, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers, body: typeof body === 'string' ? body : new Uint8Array(body) });
  const text = await res.text();
  let json: any = text;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON: keep the text for the assertion message
  }
  return { status: res.status, body: json, headers: res.headers };
}
