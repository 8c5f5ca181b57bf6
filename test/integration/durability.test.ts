import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import { createAppContext, openEvents, openMeta } from '../../src/app-context.js';
import { ProjectService } from '../../src/projects/service.js';
import { ApiKeyService } from '../../src/auth/api-keys.js';
import { SEGMENT_SUFFIX, newSegmentId } from '../../src/ingest/write-buffer.js';
import type { EventRow } from '../../src/storage/events/event-store.js';
import { basic, tempDir } from '../helpers/app.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SLUG = 'shop';

// ---------------------------------------------------------------- a Vigil server in a child process

interface DataDir {
  dir: string;
  walDir: string;
  eventsFile: string;
  writeKey: string;
  readKey: string;
}

/** A data directory with one project and its keys, made through the metadata store (then closed). */
async function newDataDir(): Promise<DataDir> {
  const dir = tempDir('vigil-durability-');
  const config = loadConfig({}, { dataDir: dir });
  const meta = await openMeta(config);
  try {
    const project = await new ProjectService(meta.db).create({ slug: SLUG });
    const keys = new ApiKeyService(meta.db);
    const writeKey = (await keys.create({ projectId: project.id, scopes: ['ingest'] })).secret;
    const readKey = (await keys.create({ projectId: project.id, scopes: ['read'] })).secret;
    return { dir, walDir: config.walDir, eventsFile: config.eventsFile, writeKey, readKey };
  } finally {
    await meta.close();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

interface Server {
  url: string;
  port: number;
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: () => string;
}

/** `node --import tsx src/cli.ts serve` on the data directory; resolves once /ready answers 200. */
async function startServer(data: DataDir): Promise<Server> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
    cwd: ROOT,
    env: {
      ...process.env,
      VIGIL_DATA_DIR: data.dir,
      VIGIL_PORT: String(port),
      VIGIL_HOST: '127.0.0.1',
      VIGIL_DEMO: 'false',
      VIGIL_LOG_LEVEL: 'warn',
      VIGIL_INGEST_FLUSH_MS: '200',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const server: Server = { url: `http://127.0.0.1:${port}`, port, child, exited, output: () => out };
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (gone) throw new Error(`the server exited during start-up:\n${out}`);
    const ok = await fetch(`${server.url}/ready`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return server;
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`the server did not become ready in 30 s:\n${out}`);
}

// ---------------------------------------------------------------- load

interface Batch {
  ids: string[];
  body: string;
}

function makeBatch(prefix: string, size: number): Batch {
  const ids: string[] = [];
  const batch = [];
  const now = new Date().toISOString();
  for (let k = 0; k < size; k++) {
    const messageId = `${prefix}-e${k}`;
    ids.push(messageId);
    batch.push({
      type: 'track',
      event: 'Load Tested',
      userId: `u-${prefix.split('-')[1]}`,
      messageId,
      timestamp: now,
      properties: { k, prefix, note: 'durability' },
    });
  }
  return { ids, body: JSON.stringify({ batch }) };
}

interface LoadOutcome {
  /** messageIds of batches answered 200 {"success":true} */
  acked: Set<string>;
  /** the last acknowledged batch of each sender */
  lastAcked: Batch[];
  /** batches that got no answer and had been sent before the server went away (answer lost) */
  inFlight: Batch[];
  /** batches that got no answer (any time) */
  unanswered: Batch[];
  /** answers other than 200 */
  statuses: number[];
  requests: number;
}

/**
 * `loops` concurrent senders, each POSTing batches of `size` events with unique messageIds until
 * `stop()` says so or the server stops answering.
 */
function runLoad(
  server: Server,
  data: DataDir,
  opts: { tag: string; loops: number; size: number; pauseMs?: number; stop: () => boolean; goneAt: () => number; outcome?: LoadOutcome },
): Promise<LoadOutcome> {
  const outcome: LoadOutcome = opts.outcome ?? { acked: new Set(), lastAcked: [], inFlight: [], unanswered: [], statuses: [], requests: 0 };
  const headers = { 'content-type': 'application/json', ...basic(data.writeKey) };
  const loop = async (l: number) => {
    for (let n = 0; !opts.stop(); n++) {
      const batch = makeBatch(`${opts.tag}-l${l}-b${n}`, opts.size);
      const startedAt = Date.now();
      outcome.requests++;
      try {
        const res = await fetch(`${server.url}/v1/batch`, { method: 'POST', headers, body: batch.body });
        const body = (await res.json()) as { success?: boolean };
        if (res.status === 200 && body.success === true) {
          for (const id of batch.ids) outcome.acked.add(id);
          outcome.lastAcked[l] = batch;
        } else outcome.statuses.push(res.status);
      } catch {
        outcome.unanswered.push(batch);
        if (startedAt <= opts.goneAt()) outcome.inFlight.push(batch);
        return;
      }
      if (opts.pauseMs) await sleep(opts.pauseMs);
    }
  };
  return Promise.all(Array.from({ length: opts.loops }, (_, l) => loop(l))).then(() => outcome);
}

// ---------------------------------------------------------------- reading back

/** messageId → number of stored rows, through the API (keyset pages of 1,000). */
async function storedCounts(server: Server, data: DataDir): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let cursor: string | null = null;
  do {
    const url: string = `${server.url}/api/projects/${SLUG}/events?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res = await fetch(url, { headers: { authorization: `Bearer ${data.readKey}` } });
    assert.equal(res.status, 200);
    const page = (await res.json()) as { events: { messageId: string }[]; nextCursor: string | null };
    for (const e of page.events) counts.set(e.messageId, (counts.get(e.messageId) ?? 0) + 1);
    cursor = page.nextCursor;
  } while (cursor);
  return counts;
}

/** count(*) of the project's events; with storedCounts it shows duplicates a keyset page could hide. */
async function storedTotal(server: Server, data: DataDir): Promise<number> {
  const to = new Date(Date.now() + 86_400_000).toISOString();
  const res = await fetch(`${server.url}/api/projects/${SLUG}/overview?from=2000-01-01T00:00:00Z&to=${to}`, {
    headers: { authorization: `Bearer ${data.readKey}` },
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { current: { events: number } }).current.events;
}

/** Every acknowledged id stored once, nothing stored twice, nothing stored that was not sent. */
async function verifyStored(server: Server, data: DataDir, acked: Set<string>, sentPrefixes: string[], label: string) {
  const counts = await storedCounts(server, data);
  const total = await storedTotal(server, data);
  const missing = [...acked].filter((id) => !counts.has(id));
  assert.deepEqual(missing.slice(0, 10), [], `${label}: ${missing.length} acknowledged events are missing`);
  const twice = [...counts].filter(([, n]) => n > 1);
  assert.deepEqual(twice.slice(0, 10), [], `${label}: ${twice.length} messageIds stored more than once`);
  assert.equal(total, counts.size, `${label}: count(*) ${total} differs from distinct messageIds ${counts.size} (duplicates)`);
  assert.ok(counts.size >= acked.size, `${label}: stored ${counts.size} < acknowledged ${acked.size}`);
  const foreign = [...counts.keys()].filter((id) => !sentPrefixes.some((p) => id.startsWith(p)));
  assert.deepEqual(foreign.slice(0, 10), [], `${label}: events that were never sent`);
  return counts;
}

async function postBatch(server: Server, data: DataDir, batch: Batch) {
  const res = await fetch(`${server.url}/v1/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...basic(data.writeKey) },
    body: batch.body,
  });
  return { status: res.status, body: (await res.json()) as unknown };
}

const walFiles = (data: DataDir) =>
  fs.existsSync(data.walDir) ? fs.readdirSync(data.walDir).filter((n) => n.endsWith(SEGMENT_SUFFIX)) : [];

async function stopGracefully(server: Server) {
  server.child.kill('SIGTERM');
  const exit = await Promise.race([server.exited, sleep(20_000, null, { ref: false })]);
  if (!exit) {
    server.child.kill('SIGKILL');
    assert.fail(`the server did not exit within 20 s of SIGTERM:\n${server.output()}`);
  }
  return exit;
}

// ---------------------------------------------------------------- tests

test('kill -9 under load, twice: every acknowledged event survives exactly once, and re-sent lost batches are not duplicated', {
  timeout: 120_000,
}, async () => {
  const data = await newDataDir();
  const started = Date.now();
  let server = await startServer(data);
  const acked = new Set<string>();
  const prefixes: string[] = [];
  const log: string[] = [];
  try {
    for (const round of [1, 2]) {
      const tag = `r${round}`;
      prefixes.push(`${tag}-`);
      let stopped = false;
      let killedAt = Infinity;
      const live: LoadOutcome = { acked: new Set(), lastAcked: [], inFlight: [], unanswered: [], statuses: [], requests: 0 };
      const load = runLoad(server, data, { tag, loops: 16, size: 50, stop: () => stopped, goneAt: () => killedAt, outcome: live });
      // under a busy machine (CI runs two test files at once) a fresh server is slow at first:
      // keep the load going until a good number of events is acknowledged
      await sleep(1200);
      for (let i = 0; i < 60 && live.acked.size < 2000; i++) await sleep(250);
      // a request surely in flight at the kill: its headers and half its body are in
      const slowBatch = makeBatch(`${tag}-slow-b0`, 50);
      const slow = slowRequest(server, data, slowBatch);
      const slowAnswer = slow.answer.then(
        () => 'answered',
        () => 'lost',
      );
      await sleep(300);
      stopped = true;
      killedAt = Date.now();
      server.child.kill('SIGKILL');
      const outcome = await load;
      const exit = await server.exited;
      assert.equal(exit.signal, 'SIGKILL');
      assert.equal(await slowAnswer, 'lost');
      for (const id of outcome.acked) acked.add(id);
      assert.deepEqual(outcome.statuses, [], `round ${round}: no answer other than 200 before the kill`);
      assert.ok(outcome.acked.size >= 1000, `round ${round}: only ${outcome.acked.size} events were acknowledged before the kill`);
      const leftover = walFiles(data);
      const torn = leftover.filter((n) => {
        const text = fs.readFileSync(path.join(data.walDir, n));
        return text.length > 0 && text[text.length - 1] !== 0x0a;
      }).length;

      const restartAt = Date.now();
      server = await startServer(data);
      const restartMs = Date.now() - restartAt;
      assert.deepEqual(
        walFiles(data).filter((n) => leftover.includes(n)),
        [],
        `round ${round}: the segments left by the crash were replayed and deleted`,
      );
      const counts = await verifyStored(server, data, acked, prefixes, `round ${round} after restart`);

      // the client never heard back about the batches in flight at the kill, so it sends them again;
      // so does one whose answers were lost on the way back (acknowledged batches)
      const resend = [slowBatch, ...outcome.inFlight, ...outcome.lastAcked.filter(Boolean).slice(0, 4)];
      for (const batch of resend) {
        const r = await postBatch(server, data, batch);
        assert.deepEqual([r.status, r.body], [200, { success: true }]);
        for (const id of batch.ids) acked.add(id);
      }
      const resentIds = [...new Set(resend.flatMap((b) => b.ids))];
      const alreadyStored = resentIds.filter((id) => counts.has(id)).length;
      // the re-sent events become visible once their segment is loaded (flush age 200 ms)
      const expected = counts.size + resentIds.length - alreadyStored;
      const deadline = Date.now() + 15_000;
      while ((await storedTotal(server, data)) < expected && Date.now() < deadline) await sleep(100);
      const after = await verifyStored(server, data, acked, prefixes, `round ${round} after re-sending`);
      assert.equal(after.size, expected, `round ${round}: re-sent events stored once each`);
      log.push(
        `round ${round}: ${outcome.requests} requests, ${outcome.acked.size} events acknowledged, ${outcome.inFlight.length} batches + 1 slow batch in flight at the kill, ` +
          `${resend.length} batches re-sent (${alreadyStored} of ${resentIds.length} events were stored already), ` +
          `${leftover.length} segment(s) left in the WAL (${torn} with a torn tail), restart to ready ${restartMs} ms, ${after.size} stored`,
      );
    }

    // a graceful stop releases DuckDB and leaves nothing in the WAL; then read the store directly
    const exit = await stopGracefully(server);
    assert.deepEqual(exit, { code: 0, signal: null }, server.output());
    assert.deepEqual(walFiles(data), []);
    const store = await openEvents(loadConfig({}, { dataDir: data.dir }));
    try {
      const [row] = await store.rawQuery('SELECT count(*)::INTEGER AS n, count(DISTINCT message_id)::INTEGER AS d FROM events');
      assert.equal(row.n, row.d, 'no messageId stored twice (read directly from DuckDB)');
      assert.ok((row.n as number) >= acked.size);
      const ids = new Set((await store.rawQuery('SELECT message_id FROM events')).map((r) => r.message_id as string));
      assert.equal([...acked].filter((id) => !ids.has(id)).length, 0, 'every acknowledged event is in DuckDB');
      log.push(`final: ${row.n} events stored, ${acked.size} acknowledged, ${Date.now() - started} ms`);
    } finally {
      await store.close();
    }
    console.log(log.join('\n'));
  } finally {
    if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
    await server.exited;
    fs.rmSync(data.dir, { recursive: true, force: true });
  }
});

/** Sends the headers and half of a batch, and the rest only when told: a request surely in flight. */
function slowRequest(server: Server, data: DataDir, batch: Batch) {
  const body = Buffer.from(batch.body);
  const req = http.request({
    host: '127.0.0.1',
    port: server.port,
    method: 'POST',
    path: '/v1/batch',
    headers: { 'content-type': 'application/json', 'content-length': body.length, ...basic(data.writeKey) },
    agent: false,
  });
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  req.write(body.subarray(0, body.length >> 1));
  return { answer, finish: () => req.end(body.subarray(body.length >> 1)) };
}

test('SIGTERM under light load: requests in flight are answered, the process exits 0, and every acknowledged event is stored', {
  timeout: 60_000,
}, async () => {
  const data = await newDataDir();
  let server = await startServer(data);
  try {
    let stopped = false;
    let termAt = Infinity;
    const load = runLoad(server, data, { tag: 'term', loops: 4, size: 10, pauseMs: 10, stop: () => stopped, goneAt: () => termAt });
    await sleep(500);
    const slow = Array.from({ length: 3 }, (_, i) => makeBatch(`slow-l${i}-b0`, 20)).map((b) => ({
      batch: b,
      ...slowRequest(server, data, b),
    }));
    await sleep(300); // the server has the headers of the slow requests: they are in flight
    termAt = Date.now();
    server.child.kill('SIGTERM');
    stopped = true;
    await sleep(300);
    for (const s of slow) s.finish();
    const slowAnswers = await Promise.all(slow.map((s) => s.answer));
    const outcome = await load;
    const exit = await Promise.race([server.exited, sleep(20_000, null, { ref: false })]);
    assert.ok(exit, `the server did not exit within 20 s of SIGTERM:\n${server.output()}`);
    assert.deepEqual(exit, { code: 0, signal: null }, server.output());

    for (const a of slowAnswers)
      assert.deepEqual([a.status, JSON.parse(a.body)], [200, { success: true }], 'a request in flight at SIGTERM is answered');
    const acked = new Set(outcome.acked);
    for (const s of slow) for (const id of s.batch.ids) acked.add(id);
    assert.ok(outcome.acked.size > 0);
    assert.deepEqual(
      outcome.statuses.filter((s) => s !== 503),
      [],
      'answers are 200, or 503 for requests that arrive while closing',
    );
    assert.deepEqual(
      outcome.inFlight.map((b) => b.ids[0]),
      [],
      'no request sent before SIGTERM went unanswered',
    );
    assert.deepEqual(walFiles(data), [], 'a graceful stop loads every segment');

    server = await startServer(data);
    await verifyStored(server, data, acked, ['term-', 'slow-'], 'after SIGTERM and restart');
    const exit2 = await stopGracefully(server);
    assert.deepEqual(exit2, { code: 0, signal: null });
  } finally {
    if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
    await server.exited;
    fs.rmSync(data.dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------- replay at start-up (in process)

function row(projectId: number, messageId: string, extra: Partial<EventRow> = {}): EventRow {
  const now = Date.now();
  return {
    project_id: projectId,
    message_id: messageId,
    type: 'track',
    event: 'Replayed',
    anonymous_id: null,
    user_id: 'u1',
    distinct_id: 'u1',
    session_id: 's1',
    timestamp: now,
    received_at: now,
    properties: { messageId },
    context: {},
    page_path: null,
    referrer_host: null,
    app_version: null,
    platform: null,
    os: null,
    browser: null,
    device_type: null,
    country: null,
    ip_hash: null,
    ...extra,
  };
}

const lines = (rows: EventRow[]) => rows.map((r) => JSON.stringify(r) + '\n').join('');

test('start-up replays segments left in the WAL: a torn last line is dropped, a loaded segment is not loaded twice, dedup knows the replayed ids', {
  timeout: 60_000,
}, async () => {
  const dataDir = tempDir('vigil-replay-');
  const config = loadConfig({}, { dataDir, demo: 'false' });
  const log = pino({ level: 'silent' });
  const req = { receivedAt: Date.now(), ip: '127.0.0.1' };
  try {
    let ctx = await createAppContext(config, log);
    const project = await ctx.projects.create({ slug: SLUG });
    await ctx.close();

    // as a crash leaves them: two segments, the newer one with a torn last line, one holding only a torn line
    const t0 = Date.now();
    const older = path.join(config.walDir, newSegmentId(t0) + SEGMENT_SUFFIX);
    const newer = path.join(config.walDir, newSegmentId(t0 + 1) + SEGMENT_SUFFIX);
    const tornOnly = path.join(config.walDir, newSegmentId(t0 + 2) + SEGMENT_SUFFIX);
    const identifyOld = row(project.id, 'id-old', {
      type: 'identify',
      event: '$identify',
      properties: { plan: 'free', email: 'a@example.com' },
      timestamp: t0 - 1000,
    });
    const identifyNew = row(project.id, 'id-new', { type: 'identify', event: '$identify', properties: { plan: 'pro' }, timestamp: t0 });
    fs.writeFileSync(older, lines([row(project.id, 'a1'), row(project.id, 'a2'), identifyOld]));
    const torn = JSON.stringify(row(project.id, 'torn'));
    fs.writeFileSync(newer, lines([row(project.id, 'b1'), identifyNew]) + torn.slice(0, torn.length >> 1));
    fs.writeFileSync(tornOnly, torn.slice(0, 40));
    const olderCopy = fs.readFileSync(older);

    ctx = await createAppContext(config, log);
    try {
      const stored = await ctx.events.listEvents({ projectId: project.id, limit: 100 });
      assert.deepEqual(stored.map((e) => e.message_id).sort(), ['a1', 'a2', 'b1', 'id-new', 'id-old']);
      assert.deepEqual(stored.find((e) => e.message_id === 'a1')?.properties, { messageId: 'a1' });
      assert.deepEqual(fs.readdirSync(config.walDir), [], 'replayed segments are deleted');
      // replayed in order: the newer identify's traits win
      assert.deepEqual(await ctx.events.userTraits(project.id, 'u1'), { plan: 'pro', email: 'a@example.com' });
      // the dedup index was rebuilt from the store: a retry of a replayed event is a duplicate ...
      const again = await ctx.ingest.ingest(
        project.id,
        [{ type: 'track', userId: 'u1', event: 'Replayed', messageId: 'a1' }],
        undefined,
        {},
        req,
      );
      assert.deepEqual(again, { accepted: 0, duplicates: 1, rejected: [] });
      // ... while the torn event was never acknowledged, so its retry is stored
      const retry = await ctx.ingest.ingest(
        project.id,
        [{ type: 'track', userId: 'u1', event: 'Replayed', messageId: 'torn' }],
        undefined,
        {},
        req,
      );
      assert.deepEqual(retry, { accepted: 1, duplicates: 0, rejected: [] });
      await ctx.flush();
      assert.equal((await ctx.events.listEvents({ projectId: project.id, limit: 100 })).length, 6);
    } finally {
      await ctx.close();
    }

    // a crash between the store's commit and the file's deletion leaves a loaded segment behind
    fs.writeFileSync(older, olderCopy);
    ctx = await createAppContext(config, log);
    try {
      const stored = await ctx.events.listEvents({ projectId: project.id, limit: 100 });
      assert.equal(stored.length, 6, 'the already loaded segment was not loaded twice');
      assert.deepEqual(fs.readdirSync(config.walDir), []);
    } finally {
      await ctx.close();
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a duplicate is acknowledged only once its first copy is durable, and not at all if that write fails', {
  timeout: 30_000,
}, async () => {
  const dataDir = tempDir('vigil-dedup-race-');
  const config = loadConfig({}, { dataDir, demo: 'false' });
  const ctx = await createAppContext(config, pino({ level: 'silent' }));
  const req = { receivedAt: Date.now(), ip: '127.0.0.1' };
  const track = (messageId: string) => [{ type: 'track', userId: 'u1', event: 'Retried', messageId }];
  const nextTurn = () => new Promise((r) => setImmediate(r));
  try {
    const project = await ctx.projects.create({ slug: SLUG });
    const ingest = (messageId: string) => ctx.ingest.ingest(project.id, track(messageId), undefined, {}, req);
    await ingest('warm-up');

    // the retry of a message still being written is answered after the original
    const order: string[] = [];
    await Promise.all([ingest('race-1').then(() => order.push('original')), ingest('race-1').then(() => order.push('retry'))]);
    assert.deepEqual(order, ['original', 'retry']);

    // the original's write fails: a retry that arrived meanwhile is not acknowledged either
    await ctx.flush(); // no segment is open (or waiting for the loader), so the next write opens one ...
    fs.rmSync(config.walDir, { recursive: true });
    fs.writeFileSync(config.walDir, ''); // ... and that fails
    const outcome = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (err: Error) => err.message,
      );
    const sameBatch = await Promise.all([outcome(ingest('race-2')), outcome(ingest('race-2'))]);
    assert.match(sameBatch[0], /could not be written/);
    assert.match(sameBatch[1], /could not be written/);
    const original = outcome(ingest('race-3'));
    await nextTurn();
    await nextTurn(); // the original's write is in flight
    const retry = outcome(ingest('race-3'));
    assert.match(await original, /could not be written.*ENOTDIR/);
    // usually the retry waited for the original's write ("an earlier write ... failed"); if that
    // failure came first, the retry was no duplicate any more and failed on its own: never 200
    assert.match(await retry, /could not be written/);
    fs.rmSync(config.walDir, { force: true });
    fs.mkdirSync(config.walDir);

    // nothing was stored, so the client's next retries are accepted, once
    assert.deepEqual(await ingest('race-2'), { accepted: 1, duplicates: 0, rejected: [] });
    assert.deepEqual(await ingest('race-3'), { accepted: 1, duplicates: 0, rejected: [] });
    assert.deepEqual(await ingest('race-3'), { accepted: 0, duplicates: 1, rejected: [] });
    await ctx.flush();
    const stored = await ctx.events.listEvents({ projectId: project.id, limit: 100 });
    assert.deepEqual(stored.map((e) => e.message_id).sort(), ['race-1', 'race-2', 'race-3', 'warm-up']);
  } finally {
    await ctx.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a queued segment whose file was deleted does not block the loader (flush and shutdown finish)', { timeout: 30_000 }, async () => {
  const dataDir = tempDir('vigil-vanished-');
  const config = loadConfig({}, { dataDir, demo: 'false' });
  const ctx = await createAppContext(config, pino({ level: 'silent' }));
  try {
    const project = await ctx.projects.create({ slug: SLUG });
    ctx.loader.enqueue({ id: newSegmentId(Date.now()), path: path.join(config.walDir, 'vanished' + SEGMENT_SUFFIX) });
    await ctx.ingest.ingest(
      project.id,
      [{ type: 'track', userId: 'u1', event: 'After', messageId: 'after-1' }],
      undefined,
      {},
      { receivedAt: Date.now(), ip: '127.0.0.1' },
    );
    const flushed = await Promise.race([ctx.flush().then(() => true), sleep(10_000, false, { ref: false })]);
    assert.ok(flushed, 'flush() finished');
    assert.deepEqual(
      (await ctx.events.listEvents({ projectId: project.id, limit: 10 })).map((e) => e.message_id),
      ['after-1'],
      'the segment queued after it was loaded',
    );
  } finally {
    await ctx.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
