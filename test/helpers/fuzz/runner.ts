/**
 * Runs hostile requests against a real `vigil serve` and applies the oracles: no 5xx, the process
 * never exits and /health keeps answering, and every event ingest acknowledged is in the event
 * store once the server has stopped. Failures carry what is needed to replay them.
 */
import http from 'node:http';
import fs from 'node:fs';
import { generate, makeGenerator, type FuzzRequest, type Generator } from './requests.js';
import {
  newDataDir,
  seedWorld,
  startServer,
  stopServer,
  loadedMessageIds,
  type Fixture,
  type PrincipalName,
  type Server,
  type Session,
} from './world.js';

export interface FuzzOptions {
  seed: number;
  requests: number;
  concurrency?: number;
  /** only these request indexes (a replay) */
  only?: number[];
  /** per-request limit; a request without an answer by then is a failure */
  timeoutMs?: number;
  /** called every `progressEvery` requests */
  onProgress?: (done: number, summary: FuzzSummary) => void;
  progressEvery?: number;
  keepData?: boolean;
}

export type FailureKind = '5xx' | 'exit' | 'no-answer' | 'health' | 'restart' | 'unloaded' | 'ack-without-key';

export interface Failure {
  kind: FailureKind;
  message: string;
  request?: ReplayInfo;
  /** the server's log entry for the request (a 500's stack) or its last stderr lines */
  serverLog?: string;
}

export interface ReplayInfo {
  seed: number;
  index: number;
  route: string;
  principal: PrincipalName;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  notes: string[];
  status?: number | string;
  response?: string;
}

export interface FuzzSummary {
  seed: number;
  /** requests generated; `sent` counts each copy of a burst */
  requests: number;
  sent: number;
  byClass: Record<string, number>;
  byStatus: Record<string, number>;
  /** route → status → count: which routes the fuzzer got past validation and access checks (2xx) */
  byRoute: Record<string, Record<string, number>>;
  byPrincipal: Record<string, Record<string, number>>;
  failures: Failure[];
  acknowledgedEvents: number;
  loadedEvents: number;
  durationMs: number;
  requestsPerSecond: number;
  restarts: number;
  ready?: string;
}

interface Answer {
  status: number | string;
  body: Buffer;
  headers: http.IncomingHttpHeaders;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

/** One request; `fresh`: on a connection of its own (a probe must not inherit a kept-alive socket the server just closed). */
function send(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: Buffer | undefined,
  timeoutMs: number,
  fresh = false,
): Promise<Answer> {
  return new Promise((resolve) => {
    const url = new URL(base);
    let done = false;
    const finish = (a: Answer) => {
      if (!done) (done = true), resolve(a);
    };
    let req: http.ClientRequest;
    try {
      req = http.request(
        {
          host: url.hostname,
          port: url.port,
          method,
          path,
          headers: body ? { ...headers, 'content-length': String(body.length) } : headers,
          agent: fresh ? false : agent,
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          // a stream (the live view) stays open: its status is the answer
          if (String(res.headers['content-type'] ?? '').startsWith('text/event-stream')) {
            finish({ status: res.statusCode ?? 0, body: Buffer.alloc(0), headers: res.headers });
            res.destroy();
            return;
          }
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size < 256 * 1024) chunks.push(c);
          });
          res.on('end', () => finish({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }));
          res.on('error', (err) =>
            finish({ status: `ERR ${(err as NodeJS.ErrnoException).code ?? err.message}`, body: Buffer.alloc(0), headers: {} }),
          );
        },
      );
    } catch (err) {
      // a header node itself refuses to send (the generator's bug, not the server's)
      finish({ status: `CLIENT ${(err as Error).message.slice(0, 60)}`, body: Buffer.alloc(0), headers: {} });
      return;
    }
    req.on('timeout', () => {
      finish({ status: 'TIMEOUT', body: Buffer.alloc(0), headers: {} });
      req.destroy();
    });
    req.on('error', (err) =>
      finish({ status: `ERR ${(err as NodeJS.ErrnoException).code ?? err.message}`, body: Buffer.alloc(0), headers: {} }),
    );
    req.end(body);
  });
}

function preview(b: Buffer | undefined, max = 600): string {
  if (!b?.length) return '';
  const text = b.toString('utf8');
  const clean = !text.includes('\ufffd') && !/[\x00-\x08]/.test(text);
  const shown = clean ? text : `base64:${b.toString('base64')}`;
  return shown.length > max ? `${shown.slice(0, max)}… (${b.length} bytes)` : shown;
}

/** One world: a seeded data folder, its server, and what ingest acknowledged on it. */
interface World {
  dataDir: string;
  fixture: Fixture;
  server: Server;
  gen: Generator;
  /** project id → acknowledged messageId → the request that acknowledged it */
  acked: Map<number, Map<string, number>>;
}

async function newWorld(seed: number): Promise<World> {
  const dataDir = newDataDir();
  const fixture = await seedWorld(dataDir);
  const server = await startServer(dataDir);
  const doc = await (await fetch(`${server.url}/api/docs/json`)).json();
  return { dataDir, fixture, server, gen: makeGenerator(doc, fixture, seed), acked: new Map() };
}

function sessionOf(w: World, p: PrincipalName): Session | undefined {
  return p === 'viewer' || p === 'editor' || p === 'owner' ? w.fixture.sessions[p] : undefined;
}

function credentials(w: World, r: FuzzRequest): Record<string, string> {
  const headers = { ...r.headers };
  const session = sessionOf(w, r.principal);
  if (session) {
    if (!('cookie' in headers)) headers.cookie = session.cookie;
    if (!('x-csrf-token' in headers)) headers['x-csrf-token'] = session.csrf;
  } else if (!r.ownAuth && !r.route.startsWith('POST /v1')) {
    const key =
      r.principal === 'ingest'
        ? w.fixture.keys.ingest
        : r.principal === 'ingest:other'
          ? w.fixture.keys.ingestOther
          : r.principal === 'read'
            ? w.fixture.keys.read
            : undefined;
    if (key) headers.authorization = `Bearer ${key}`;
  }
  if (headers['x-csrf-token'] === '') delete headers['x-csrf-token'];
  headers['x-request-id'] = `fz-${w.gen.seed}-${r.index}`;
  return headers;
}

/** Sign-out or a password change ended the principal's session: take the new one (or sign in again). */
async function renewSession(w: World, r: FuzzRequest, answer: Answer): Promise<void> {
  const session = sessionOf(w, r.principal);
  if (!session) return;
  if (r.route === 'POST /api/auth/password') {
    try {
      const newPassword = JSON.parse(r.body?.toString('utf8') ?? '').newPassword;
      if (typeof newPassword === 'string') session.password = newPassword;
    } catch {
      // the body was not plain JSON: keep the old password
    }
  }
  let a = answer;
  if (r.route !== 'POST /api/auth/password') {
    a = await send(
      w.server.url,
      'POST',
      '/api/auth/sign-in',
      { 'content-type': 'application/json' },
      Buffer.from(JSON.stringify({ email: session.email, password: session.password })),
      10_000,
    );
  }
  const cookie = [a.headers['set-cookie'] ?? []].flat().find((c) => c.startsWith('vigil_session='));
  try {
    const csrf = JSON.parse(a.body.toString('utf8')).csrfToken;
    if (cookie && typeof csrf === 'string') (session.cookie = cookie.split(';')[0]), (session.csrf = csrf);
  } catch {
    // not signed in again: the principal's requests get 401 from now on (no oracle depends on it)
  }
}

function recordAck(w: World, r: FuzzRequest, answer: Answer): Failure | null {
  const ing = r.ingest;
  if (!ing || r.route === 'POST /v1/measurements') return null;
  let accepted: boolean[] = [];
  if (answer.status === 200) accepted = ing.messageIds.map(() => true);
  else if (answer.status === 400 && !ing.single) {
    try {
      const err = JSON.parse(answer.body.toString('utf8')).error;
      if (err?.code === 'VIGIL_ERR_INVALID_EVENTS') {
        const rejected = new Set<number>((err.details?.rejected ?? []).map((x: { index: number }) => x.index));
        accepted = ing.messageIds.map((_, i) => !rejected.has(i));
      }
    } catch {
      // not the partial-acceptance answer: nothing was stored
    }
  }
  if (!accepted.some(Boolean)) return null;
  if (ing.project === null) {
    return r.principal === 'ingest' || r.principal === 'ingest:other'
      ? null
      : { kind: 'ack-without-key', message: `${r.route} as ${r.principal} acknowledged events without an ingest key` };
  }
  const projectId = ing.project === 'main' ? w.fixture.projects.main.id : w.fixture.projects.other.id;
  if (!w.acked.has(projectId)) w.acked.set(projectId, new Map());
  const ids = w.acked.get(projectId)!;
  ing.messageIds.forEach((id, i) => {
    if (id !== null && accepted[i] && !ids.has(id)) ids.set(id, r.index);
  });
  return null;
}

/** null when /health answers 200 (asked twice, a second apart, on fresh connections), else what it answered. */
async function health(url: string): Promise<string | null> {
  let a = await send(url, 'GET', '/health', {}, undefined, 5_000, true);
  if (a.status === 200) return null;
  await new Promise((res) => setTimeout(res, 1_000));
  a = await send(url, 'GET', '/health', {}, undefined, 5_000, true);
  return a.status === 200 ? null : `GET /health answered ${a.status}`;
}

/** Stops the world's server and compares what was acknowledged with what the store holds. */
async function settle(w: World, summary: FuzzSummary, keepData: boolean): Promise<void> {
  const wasRunning = !w.server.exit;
  if (wasRunning) {
    const ready = await send(w.server.url, 'GET', '/ready', {}, undefined, 10_000);
    summary.ready = `${ready.status} ${preview(ready.body, 300)}`;
    await stopServer(w.server);
    if (w.server.exit?.code !== 0)
      summary.failures.push({
        kind: 'exit',
        message: `the server did not stop cleanly on SIGTERM: ${JSON.stringify(w.server.exit)}`,
        serverLog: w.server.stderrTail.join('\n'),
      });
  }
  const { byProject, walLeft } = await loadedMessageIds(w.dataDir);
  for (const [projectId, ids] of w.acked) {
    const loaded = byProject.get(projectId) ?? new Set<string>();
    const missing = [...ids].filter(([id]) => !loaded.has(id));
    summary.acknowledgedEvents += ids.size;
    summary.loadedEvents += ids.size - missing.length;
    if (missing.length) {
      summary.failures.push({
        kind: 'unloaded',
        message:
          `${missing.length} of ${ids.size} events acknowledged for project ${projectId} are not in the event store after a graceful stop` +
          ` (write-ahead files left: ${walLeft.join(', ') || 'none'}); first: ${missing
            .slice(0, 5)
            .map(([id, idx]) => `${id} (request ${idx})`)
            .join(', ')}`,
        serverLog: w.server.stderrTail.slice(-10).join('\n'),
      });
    }
  }
  if (!keepData) fs.rmSync(w.dataDir, { recursive: true, force: true });
}

export async function runFuzz(opts: FuzzOptions): Promise<FuzzSummary> {
  const started = performance.now();
  const indexes = opts.only ?? Array.from({ length: opts.requests }, (_, i) => i);
  const concurrency = opts.concurrency ?? 6;
  const timeoutMs = opts.timeoutMs ?? 40_000;
  const summary: FuzzSummary = {
    seed: opts.seed,
    requests: indexes.length,
    sent: 0,
    byClass: {},
    byStatus: {},
    byRoute: {},
    byPrincipal: {},
    failures: [],
    acknowledgedEvents: 0,
    loadedEvents: 0,
    durationMs: 0,
    requestsPerSecond: 0,
    restarts: 0,
  };
  let w = await newWorld(opts.seed);
  const pendingStacks: { failure: Failure; server: Server; reqId: string }[] = [];
  const inFlight = new Map<number, FuzzRequest>();
  let restarting: Promise<void> | null = null;
  let next = 0;
  let completed = 0;

  const replay = (r: FuzzRequest, headers: Record<string, string>, a?: Answer): ReplayInfo => ({
    seed: opts.seed,
    index: r.index,
    route: r.route,
    principal: r.principal,
    method: r.method,
    path: r.path.length > 300 ? `${r.path.slice(0, 300)}…` : r.path,
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v.length > 200 ? `${v.slice(0, 200)}…` : v])),
    body: preview(r.body),
    notes: r.notes,
    status: a?.status,
    response: a ? preview(a.body, 400) : undefined,
  });

  /** The server died: note what was in flight, then start it again on its data (or on a fresh world). */
  async function recover(): Promise<void> {
    const dead = w;
    const exit = JSON.stringify(dead.server.exit);
    summary.failures.push({
      kind: 'exit',
      message: `the server process exited (${exit}) with ${inFlight.size} request(s) in flight: ${[...inFlight.values()].map((r) => `#${r.index} ${r.route}`).join(', ')}`,
      request: [...inFlight.values()].map((r) => replay(r, r.headers))[0],
      serverLog: dead.server.stderrTail.slice(-15).join('\n'),
    });
    summary.restarts++;
    try {
      dead.server = await startServer(dead.dataDir);
      return;
    } catch (err) {
      summary.failures.push({
        kind: 'restart',
        message: `the server did not start again on its data after the exit: ${(err as Error).message.slice(0, 3000)}`,
      });
    }
    await settle(dead, summary, !!opts.keepData);
    w = await newWorld(opts.seed);
  }

  async function worker(): Promise<void> {
    while (next < indexes.length) {
      if (restarting) await restarting;
      const index = indexes[next++];
      const world = w;
      const r = generate(world.gen, index);
      const headers = credentials(world, r);
      inFlight.set(index, r);
      const paths = r.burstPaths ?? [r.path];
      const answers = await Promise.all(paths.map((path) => send(world.server.url, r.method, path, headers, r.body, timeoutMs)));
      for (const x of answers) {
        summary.sent++;
        summary.byClass[r.routeClass] = (summary.byClass[r.routeClass] ?? 0) + 1;
        const statusKey = typeof x.status === 'number' ? String(x.status) : x.status.split(' ').slice(0, 2).join(' ');
        summary.byStatus[statusKey] = (summary.byStatus[statusKey] ?? 0) + 1;
        const route = (summary.byRoute[r.route] ??= {});
        route[statusKey] = (route[statusKey] ?? 0) + 1;
        const who = (summary.byPrincipal[r.principal] ??= {});
        who[statusKey] = (who[statusKey] ?? 0) + 1;
      }
      // the worst answer of a burst speaks for it
      const a = answers.find((x) => typeof x.status !== 'number' || x.status >= 500) ?? answers[0];
      if (world.server.exit || (typeof a.status === 'string' && a.status.startsWith('ERR') && (await health(world.server.url)) !== null)) {
        // give the exit event a moment to arrive, then restart once for all the workers
        await Promise.race([world.server.exited, new Promise((res) => setTimeout(res, 2_000))]);
        if (world.server.exit && w === world) {
          restarting ??= recover().finally(() => (restarting = null));
        }
        if (restarting) await restarting;
        inFlight.delete(index);
        continue;
      }
      inFlight.delete(index);
      if (typeof a.status === 'number' && a.status >= 500) {
        const failure: Failure = {
          kind: '5xx',
          message: `${r.route} as ${r.principal} answered ${a.status}`,
          request: replay(r, headers, a),
        };
        summary.failures.push(failure);
        pendingStacks.push({ failure, server: world.server, reqId: headers['x-request-id'] });
      } else if (a.status === 'TIMEOUT') {
        summary.failures.push({
          kind: 'no-answer',
          message: `${r.route} as ${r.principal} had no answer within ${timeoutMs} ms`,
          request: replay(r, headers, a),
        });
      }
      if (typeof a.status === 'number' && a.status >= 200 && a.status < 300 && r.endsSession) await renewSession(world, r, a);
      // a session the run ended some other way (a race of two renewals, say): sign in again
      else if (
        a.status === 401 &&
        !r.route.startsWith('POST /v1') &&
        !('cookie' in r.headers) &&
        sessionOf(world, r.principal)?.cookie === headers.cookie
      )
        await renewSession(world, { ...r, route: 'POST /api/auth/sign-in' }, a);
      const bad = recordAck(world, r, a);
      if (bad) summary.failures.push({ ...bad, request: replay(r, headers, a) });
      const n = ++completed;
      if (n % 250 === 0) {
        const problem = await health(world.server.url);
        if (problem && !world.server.exit)
          summary.failures.push({ kind: 'health', message: `${problem} after ${summary.sent} requests (the process is alive)` });
      }
      if (opts.onProgress && n % (opts.progressEvery ?? 1000) === 0) opts.onProgress(n, summary);
    }
  }

  try {
    await Promise.all(Array.from({ length: concurrency }, () => worker()));
    const problem = w.server.exit ? null : await health(w.server.url);
    if (problem) summary.failures.push({ kind: 'health', message: `${problem} at the end of the run` });
    // the 500s' stacks, from the server's log (written after the answer)
    await new Promise((res) => setTimeout(res, 300));
    for (const p of pendingStacks) p.failure.serverLog = p.server.errorsByRequest.get(p.reqId);
    await settle(w, summary, !!opts.keepData);
  } finally {
    if (!w.server.exit) await stopServer(w.server);
    agent.destroy();
    // settle() removed it, unless the run broke off
    if (!opts.keepData) fs.rmSync(w.dataDir, { recursive: true, force: true });
  }
  summary.durationMs = Math.round(performance.now() - started);
  summary.requestsPerSecond = Math.round((summary.sent / summary.durationMs) * 1000);
  return summary;
}

/** The summary as text: counts, statuses, and each failure (grouped by kind and route, with one replay each). */
export function formatSummary(s: FuzzSummary, maxFailures = 40): string {
  const lines = [
    `fuzz: seed ${s.seed}, ${s.requests} generated requests (${s.sent} sent, bursts counted per copy) in ${(s.durationMs / 1000).toFixed(1)} s (${s.requestsPerSecond} requests/s), ${s.restarts} restart(s)`,
    `requests per route class: ${Object.entries(s.byClass)
      .sort()
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    `statuses: ${Object.entries(s.byStatus)
      .sort()
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ')}`,
    `routes never answered 2xx (the fuzzer did not reach their handler's success path): ${
      Object.entries(s.byRoute)
        .filter(([, st]) => !Object.keys(st).some((k) => k.startsWith('2')))
        .map(([r]) => r)
        .sort()
        .join(', ') || 'none'
    }`,
    `events acknowledged (tracked by messageId): ${s.acknowledgedEvents}, in the store after the stop: ${s.loadedEvents}`,
    `/ready at the end: ${s.ready ?? '(not asked: the server had exited)'}`,
    `failures: ${s.failures.length}`,
  ];
  const groups = new Map<string, Failure[]>();
  for (const f of s.failures) {
    const key = `${f.kind} ${f.request?.route ?? ''}`;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  for (const [key, fs] of [...groups].slice(0, maxFailures)) {
    const f = fs[0];
    lines.push(`\n[${key}] ×${fs.length}: ${f.message}`);
    if (f.request)
      lines.push(
        `  replay: npm run fuzz -- --seed ${f.request.seed} --only ${fs
          .map((x) => x.request?.index)
          .filter((x) => x !== undefined)
          .slice(0, 10)
          .join(',')}`,
        `  request: ${JSON.stringify(f.request).slice(0, 1500)}`,
      );
    if (f.serverLog) lines.push(`  server: ${f.serverLog.slice(0, 1500).split('\n').join('\n          ')}`);
  }
  return lines.join('\n');
}
