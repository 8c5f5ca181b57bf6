/**
 * The fuzzed instance: a data folder seeded through the app's own services (projects, members,
 * keys, sessions, and one object of every kind a route's path can name), then a real `vigil serve`
 * child process on it, so a crash is an exit the fuzzer sees. Afterwards: which acknowledged events
 * the event store holds.
 */
import fs from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadConfig } from '../../../src/config.js';
import { createAppContext } from '../../../src/app-context.js';
import { encryptSecrets } from '../../../src/alerts/secrets.js';
import { testMessage } from '../../../src/alerts/compose.js';
import { tempDir } from '../app.js';

const CLI = fileURLToPath(new URL('../../../src/cli.ts', import.meta.url));
export const PASSWORD = 'correct horse battery staple';
const HOUR = 3_600_000;

export type PrincipalName = 'anonymous' | 'ingest' | 'ingest:other' | 'read' | 'viewer' | 'editor' | 'owner';
export const PRINCIPALS: readonly PrincipalName[] = ['anonymous', 'ingest', 'ingest:other', 'read', 'viewer', 'editor', 'owner'];

export interface Session {
  email: string;
  password: string;
  cookie: string;
  csrf: string;
}

/** What the seeding made: the fuzzer picks path parameters from these so requests reach real objects. */
export interface Fixture {
  projects: { main: { id: number; slug: string }; other: { id: number; slug: string }; scratch: { id: number; slug: string } };
  keys: { ingest: string; ingestOther: string; read: string };
  sessions: { viewer: Session; editor: Session; owner: Session };
  /** path template up to its last parameter → sets of parameter values naming a real object ("DELETE <template>": the ones deletes take) */
  objects: Record<string, Record<string, string>[]>;
  /** emails of accounts the fuzzer may sign in to, fail to sign in to, or invite (never a principal's) */
  scratchEmails: string[];
  /** invitation tokens (of several projects) for one e-mail without an account */
  sameEmailTokens: string[];
  /** the principals' users and keys: no path parameter names them (not even as "+1" or "1.0"), so the run keeps its callers */
  protectedIds: { users: number[]; keys: number[] };
}

/** Seeds a fresh data folder through the app's services (the server is not running yet). */
export async function seedWorld(dataDir: string): Promise<Fixture> {
  const config = loadConfig({}, { dataDir, logLevel: 'silent', demo: 'false', passwordScryptLogN: 10, worker: 'false' });
  const ctx = await createAppContext(config, pino({ level: 'silent' }));
  try {
    const main = await ctx.projects.create({ slug: 'fuzz', name: 'Fuzz', timeZone: 'UTC' });
    const other = await ctx.projects.create({ slug: 'other', name: 'Other', timeZone: 'Europe/Berlin' });
    const scratch = await ctx.projects.create({ slug: 'scratch', name: 'Scratch' });
    const user = (name: string, isAdmin = false) => ctx.users.create({ email: `${name}@fuzz.test`, password: PASSWORD, isAdmin });
    const owner = await user('owner', true);
    const editor = await user('editor');
    const viewer = await user('viewer');
    const spare = await user('scratch');
    for (const p of [main, other, scratch]) await ctx.memberships.grant(p.id, owner.id, 'owner');
    await ctx.memberships.grant(main.id, editor.id, 'editor');
    await ctx.memberships.grant(main.id, viewer.id, 'viewer');
    await ctx.memberships.grant(main.id, spare.id, 'viewer');
    await ctx.memberships.grant(scratch.id, viewer.id, 'viewer');

    const key = async (projectId: number, scopes: ('ingest' | 'read' | 'write' | 'admin')[]) => ctx.apiKeys.create({ projectId, scopes });
    const principalKeys = [await key(main.id, ['ingest']), await key(other.id, ['ingest']), await key(main.id, ['read'])];
    const keys = { ingest: principalKeys[0].secret, ingestOther: principalKeys[1].secret, read: principalKeys[2].secret };
    const spareKeys = [await key(main.id, ['read']), await key(main.id, ['ingest'])];

    const session = async (u: { id: number; email: string }): Promise<Session> => {
      const { token } = await ctx.sessions.create(u.id);
      return { email: u.email, password: PASSWORD, cookie: `vigil_session=${token}`, csrf: ctx.sessions.csrfToken(token) };
    };

    const objects: Record<string, Record<string, string>[]> = {};
    const add = (template: string, params: Record<string, string | number>) =>
      (objects[template] ??= []).push(Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])));

    const metrics = [];
    for (const [i, definition] of [
      { event: 'Signed Up' },
      { event: 'Order Completed', measure: 'count', breakdowns: ['plan'] },
      { event: 'Page Viewed' },
    ].entries()) {
      metrics.push(await ctx.catalog.create(main, { name: `m${i}`, kind: 'event', status: i === 2 ? 'draft' : 'active', definition }));
    }
    for (const m of metrics) add('/api/projects/{slug}/metrics/{id}', { id: m.id });
    // objects only deletes (and archiving) reach, so the others stay for every other route
    for (let i = 0; i < 3; i++) {
      const doomed = await ctx.catalog.create(main, {
        name: `doomed${i}`,
        kind: 'event',
        status: 'active',
        definition: { event: 'Signed Up' },
      });
      add('DELETE /api/projects/{slug}/metrics/{id}', { id: doomed.id });
      const doomedRule = await ctx.thresholdRules.create(main, doomed.id, {
        name: 'doomed',
        rule: { condition: { operator: '<', value: 1 }, severity: 'info' },
      });
      add('DELETE /api/projects/{slug}/metrics/{id}/rules/{ruleId}', { id: doomed.id, ruleId: doomedRule.id });
    }
    const rule = await ctx.thresholdRules.create(main, metrics[0].id, {
      name: 'high',
      rule: { condition: { operator: '>', value: 100 }, severity: 'warning' },
    });
    add('/api/projects/{slug}/metrics/{id}/rules/{ruleId}', { id: metrics[0].id, ruleId: rule.id });

    const bucket = Math.floor(Date.now() / HOUR) * HOUR - 10 * HOUR;
    for (const [i, m] of metrics.entries()) {
      await ctx.signals.upsert(main.id, [
        {
          scope: 'metric',
          scopeKey: `metric:${m.id}`,
          metricId: m.id,
          bucket: bucket + i * HOUR,
          endBucket: bucket + i * HOUR,
          kind: 'drop',
          direction: 'down',
          value: 50,
          expected: 100,
          lower: 80,
          upper: 120,
          z: -6,
          score: 0.6,
          severity: 'warning',
          details: { interval: '1h', threshold: 4 },
        },
      ]);
    }
    for (const incident of (await ctx.incidents.list(main, { limit: 10 })).incidents)
      add('/api/projects/{slug}/incidents/{id}', { id: incident.id });

    const destination = await ctx.alerts.createDestination(main, {
      name: 'pager',
      kind: 'pagerduty',
      secrets: { routingKey: 'R'.repeat(32) },
    });
    add('/api/projects/{slug}/alert-destinations/{id}', { id: destination.id });
    const t = Date.now();
    const loop = await ctx.meta.db
      .insertInto('alert_destinations')
      .values({
        project_id: main.id,
        name: 'loop',
        kind: 'webhook',
        config: JSON.stringify({ url: 'http://127.0.0.1:9/hook' }),
        secrets: encryptSecrets({ secret: 'x'.repeat(20) }, ctx.config.secretKey),
        created_at: t,
        updated_at: t,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    add('/api/projects/{slug}/alert-destinations/{id}', { id: Number(loop.id) });
    const alertRule = await ctx.alerts.createRule(main, { name: 'alert', destinationIds: [destination.id] });
    add('/api/projects/{slug}/alert-rules/{id}', { id: alertRule.id });
    for (let i = 0; i < 3; i++) {
      const doomed = await ctx.alerts.createDestination(main, {
        name: `doomed${i}`,
        kind: 'pagerduty',
        secrets: { routingKey: 'R'.repeat(32) },
      });
      add('DELETE /api/projects/{slug}/alert-destinations/{id}', { id: doomed.id });
      add('DELETE /api/projects/{slug}/alert-rules/{id}', {
        id: (await ctx.alerts.createRule(main, { name: `doomed${i}`, destinationIds: [doomed.id] })).id,
      });
    }
    const delivery = await ctx.meta.db
      .insertInto('alert_deliveries')
      .values({
        project_id: main.id,
        rule_id: null,
        destination_id: destination.id,
        incident_id: null,
        scope_key: null,
        event: 'test',
        status: 'failed',
        idempotency_key: 'fuzz:1',
        message: JSON.stringify(testMessage(main, t)),
        attempts: 1,
        last_error: 'HTTP 500',
        created_at: t,
        updated_at: t,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    add('/api/projects/{slug}/alert-deliveries/{id}', { id: Number(delivery.id) });

    add('/api/projects/{slug}/members/{userId}', { userId: spare.id });
    add('/api/admin/users/{id}', { id: spare.id });
    for (const k of spareKeys) add('/api/projects/{slug}/keys/{id}', { id: k.key.id });
    for (let i = 0; i < 6; i++) {
      const { invitation, token } = await ctx.invitations.create(
        main.id,
        { email: `invitee${i}@fuzz.test`, role: i % 2 ? 'editor' : 'viewer' },
        owner.id,
      );
      add('/api/projects/{slug}/invitations/{id}', { id: invitation.id });
      add('/api/invitations/{token}', { token });
    }
    // several invitations for one new e-mail: a burst of accepts races to create that account
    const sameEmail: string[] = [];
    for (const p of [main, other, scratch, main])
      sameEmail.push((await ctx.invitations.create(p.id, { email: 'same@fuzz.test', role: 'viewer' }, owner.id)).token);

    // some events, so reads have rows to read
    const now = Date.now();
    await ctx.ingest.ingest(
      main.id,
      Array.from({ length: 50 }, (_, i) => ({
        type: 'track',
        userId: `u${i % 7}`,
        event: ['Signed Up', 'Order Completed', 'Page Viewed'][i % 3],
        messageId: `seed-${i}`,
        properties: { plan: i % 2 ? 'pro' : 'free', amount: i },
        timestamp: new Date(now - i * 600_000).toISOString(),
      })),
      undefined,
      {},
      { receivedAt: now, ip: '' },
    );
    await ctx.flush();
    return {
      projects: {
        main: { id: main.id, slug: main.slug },
        other: { id: other.id, slug: other.slug },
        scratch: { id: scratch.id, slug: scratch.slug },
      },
      keys,
      sessions: { viewer: await session(viewer), editor: await session(editor), owner: await session(owner) },
      objects,
      scratchEmails: ['scratch@fuzz.test', 'nobody@fuzz.test', 'invitee0@fuzz.test'],
      sameEmailTokens: sameEmail,
      protectedIds: { users: [owner.id, editor.id, viewer.id], keys: principalKeys.map((k) => k.key.id) },
    };
  } finally {
    await ctx.close();
  }
}

export interface Server {
  url: string;
  proc: ChildProcess;
  dataDir: string;
  /** the exit code or signal once the process has ended */
  exit: { code: number | null; signal: string | null } | null;
  exited: Promise<void>;
  /** error-level log lines by request id (a 500's stack), and the last lines of stderr */
  errorsByRequest: Map<string, string>;
  stderrTail: string[];
}

/** `vigil serve` on `dataDir` on a free loopback port; resolves once it listens. */
export async function startServer(dataDir: string, env: Record<string, string> = {}): Promise<Server> {
  const proc = spawn(process.execPath, ['--import', 'tsx', CLI, '--data-dir', dataDir, 'serve', '--port', '0', '--host', '127.0.0.1'], {
    env: {
      ...process.env,
      VIGIL_LOG_LEVEL: 'info',
      VIGIL_DEMO: 'false',
      VIGIL_PASSWORD_SCRYPT_LOG_N: '10',
      // the fuzzer sends bad keys and passwords from one address all the time: limits by address would
      // answer 429 to most of the run and hide what the handlers do (their own tests cover them)
      VIGIL_SIGNIN_RATE_LIMIT: '1000000',
      VIGIL_KEY_FAILURE_RATE_LIMIT: '1000000',
      VIGIL_INGEST_FLUSH_MS: '200',
      VIGIL_SCHEDULER_TICK_MS: '2000',
      // e-mail configured (to a loopback port nothing listens on) so the routes that send it are reachable; sends fail quietly
      VIGIL_SMTP_URL: 'smtp://127.0.0.1:9',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const server: Server = { url: '', proc, dataDir, exit: null, exited: Promise.resolve(), errorsByRequest: new Map(), stderrTail: [] };
  // a fuzzer that dies must not leave its server running
  const killOnExit = () => proc.kill('SIGKILL');
  process.once('exit', killOnExit);
  void proc.once('exit', () => process.removeListener('exit', killOnExit));
  server.exited = new Promise<void>((resolve) =>
    proc.once('exit', (code, signal) => {
      server.exit = { code, signal };
      resolve();
    }),
  );
  const keep = (line: string) => {
    server.stderrTail.push(line.slice(0, 4000));
    if (server.stderrTail.length > 40) server.stderrTail.shift();
  };
  createInterface({ input: proc.stderr! }).on('line', keep);
  server.url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
      if (m) resolve(m[1]);
      if (!line.startsWith('{')) return keep(line);
      try {
        const entry = JSON.parse(line) as { level?: number; reqId?: string; err?: { stack?: string; message?: string }; msg?: string };
        if ((entry.level ?? 0) >= 50) {
          keep(line);
          if (entry.reqId)
            server.errorsByRequest.set(entry.reqId, `${entry.msg ?? ''}: ${entry.err?.stack ?? entry.err?.message ?? ''}`.slice(0, 3000));
        }
      } catch {
        keep(line);
      }
    });
    void server.exited.then(() =>
      reject(new Error(`vigil serve exited (${JSON.stringify(server.exit)}) before listening:\n${server.stderrTail.join('\n')}`)),
    );
  });
  return server;
}

/** SIGTERM (a graceful stop: the write buffer flushes, the loader finishes), then waits for the exit. */
export async function stopServer(server: Server, graceMs = 30_000): Promise<void> {
  if (server.exit) return;
  server.proc.kill('SIGTERM');
  const timer = setTimeout(() => server.proc.kill('SIGKILL'), graceMs);
  await server.exited;
  clearTimeout(timer);
}

/** The fuzzer's messageIds (prefix `fz`) each project's events hold, read from the event store after the server stopped. */
export async function loadedMessageIds(dataDir: string): Promise<{ byProject: Map<number, Set<string>>; walLeft: string[] }> {
  const config = loadConfig({}, { dataDir });
  const instance = await DuckDBInstance.create(config.eventsFile, { access_mode: 'READ_ONLY' });
  const c = await instance.connect();
  const byProject = new Map<number, Set<string>>();
  try {
    const reader = await c.runAndReadAll(`SELECT project_id, message_id FROM events WHERE starts_with(message_id, 'fz')`);
    for (const [projectId, messageId] of reader.getRows()) {
      const id = Number(projectId);
      if (!byProject.has(id)) byProject.set(id, new Set());
      byProject.get(id)!.add(String(messageId));
    }
  } finally {
    c.closeSync();
    instance.closeSync();
  }
  const walLeft = fs.existsSync(config.walDir) ? fs.readdirSync(config.walDir) : [];
  return { byProject, walLeft };
}

export function newDataDir(): string {
  return tempDir('vigil-fuzz-');
}
