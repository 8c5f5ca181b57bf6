/**
 * One bad event must never poison the write-ahead log: what ingest can tell is bad is refused or
 * cleaned over HTTP, and a line the event store still refuses (written into a segment directly,
 * as validation might miss one) is quarantined while the rest, from every project, is loaded, at
 * run time and at start-up. `vigil wal list` shows the quarantine and `vigil wal replay` loads it.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type Config } from '../../src/config.js';
import { createAppContext, type AppContext } from '../../src/app-context.js';
import { buildServer } from '../../src/server.js';
import { SEGMENT_SUFFIX, newSegmentId } from '../../src/ingest/write-buffer.js';
import { quarantineDir } from '../../src/ingest/wal-quarantine.js';
import type { EventRow } from '../../src/storage/events/event-store.js';
import { basic, getJson, postJson, tempDir } from '../helpers/app.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

interface Running {
  ctx: AppContext;
  app: FastifyInstance;
  url: string;
  stop(): Promise<void>;
}

/** The whole server in this process, on a loopback port: SQLite metadata, DuckDB events, the WAL. */
async function start(config: Config): Promise<Running> {
  const ctx = await createAppContext(config, pino({ level: 'silent' }));
  const app = await buildServer(ctx);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  return { ctx, app, url: `http://127.0.0.1:${port}`, stop: async () => (await app.close(), await ctx.close()) };
}

function newConfig(prefix: string): Config {
  const dataDir = tempDir(prefix);
  dirs.push(dataDir);
  return loadConfig({}, { dataDir, logLevel: 'silent', demo: 'false', ingestFlushMs: 200 });
}

function vigil(config: Config, args: string[]): Promise<{ code: number | null; out: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VIGIL_')));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', '--data-dir', config.dataDir, ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code, out }));
  });
}

function row(projectId: number, messageId: string): EventRow {
  const now = Date.now();
  return {
    project_id: projectId,
    message_id: messageId,
    type: 'track',
    event: 'Walled',
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
  };
}

/** Writes a closed segment into the WAL directory, as the write buffer would have; returns its id. */
function writeSegment(config: Config, lines: string[]): { id: string; path: string } {
  const id = newSegmentId(Date.now());
  const file = path.join(config.walDir, id + SEGMENT_SUFFIX);
  fs.mkdirSync(config.walDir, { recursive: true });
  fs.writeFileSync(file, lines.map((l) => l + '\n').join(''));
  return { id, path: file };
}

interface Project {
  id: number;
  slug: string;
  writeKey: string;
  readKey: string;
}

async function createProject(ctx: AppContext, slug: string): Promise<Project> {
  const project = await ctx.projects.create({ slug });
  const writeKey = (await ctx.apiKeys.create({ projectId: project.id, scopes: ['ingest'] })).secret;
  const readKey = (await ctx.apiKeys.create({ projectId: project.id, scopes: ['read'] })).secret;
  return { id: project.id, slug, writeKey, readKey };
}

/** The project's stored events through the API, by messageId. */
async function stored(s: Running, p: Project): Promise<Map<string, { event: string; properties: Record<string, unknown> }>> {
  const r = await getJson(`${s.url}/api/projects/${p.slug}/events?limit=1000`, p.readKey);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return new Map(r.body.events.map((e: any) => [e.messageId, e]));
}

const track = (messageId: string, extra: Record<string, unknown> = {}) => ({
  type: 'track',
  userId: 'u1',
  event: 'Sent',
  messageId,
  ...extra,
});

test('a poison event, over HTTP or in a segment, never blocks the WAL: the rest of every project loads, /ready and `vigil wal` show the quarantine, replay loads the fixed lines', {
  timeout: 180_000,
}, async () => {
  const config = newConfig('vigil-quarantine-');
  let s = await start(config);
  const shop = await createProject(s.ctx, 'shop');
  const blog = await createProject(s.ctx, 'blog');

  // over HTTP: times no store holds and too deep properties are refused on their field; lone surrogates are cleaned
  // written as text: JSON.stringify itself overflows the stack on 6,000 levels
  const deep = '{"k":'.repeat(6000) + '1' + '}'.repeat(6000);
  const poison = [
    track('lone-surrogate', {
      event: 'Lone\ud800',
      anonymousId: 'a\udc00',
      properties: { 'k\ud800': 'v\ud800' },
      context: { page: { path: '/\ud800' } },
    }),
    track('t-huge', { timestamp: 1e308 }),
    track('t-negative', { timestamp: -1e308 }),
    track('t-1e20', { timestamp: 1e20 }),
    track('t-past-date', { timestamp: 8640000000000001 }),
    track('sent-huge', { sentAt: 1e308 }),
    track('original-negative', { originalTimestamp: -1e308, sentAt: new Date().toISOString() }),
    track('deep', { properties: 'DEEP' }),
    track('shop-good-1'),
  ];
  const r = await postJson(`${s.url}/v1/batch`, JSON.stringify({ batch: poison }).replace('"DEEP"', deep), basic(shop.writeKey));
  assert.equal(r.status, 400, JSON.stringify(r.body).slice(0, 500));
  assert.equal(r.body.error.code, 'VIGIL_ERR_INVALID_EVENTS');
  assert.deepEqual(
    r.body.error.details.rejected.map((x: any) => [x.index, x.field]),
    [
      [1, 'timestamp'],
      [2, 'timestamp'],
      [3, 'timestamp'],
      [4, 'timestamp'],
      [5, 'sentAt'],
      [6, 'originalTimestamp'],
      [7, 'properties'],
    ],
  );
  assert.equal(r.body.error.details.accepted, 2);

  // what validation missed: bad lines written into a segment between good ones of both projects
  const badTime = JSON.stringify({ ...row(shop.id, 'wal-bad-time'), timestamp: 1e308 });
  const badText = JSON.stringify({ ...row(shop.id, 'wal-bad-surrogate'), properties: { v: '\ud800' } });
  const first = writeSegment(config, [
    JSON.stringify(row(shop.id, 'wal-shop-1')),
    badTime,
    JSON.stringify(row(blog.id, 'wal-blog-1')),
    badText,
    JSON.stringify(row(blog.id, 'wal-blog-2')),
  ]);
  s.ctx.loader.enqueue(first);
  for (const p of [shop, blog])
    assert.equal((await postJson(`${s.url}/v1/batch`, { batch: [track(`after-${p.slug}`)] }, basic(p.writeKey))).status, 200);
  await s.ctx.flush();

  const shopEvents = await stored(s, shop);
  assert.deepEqual([...shopEvents.keys()].sort(), ['after-shop', 'lone-surrogate', 'shop-good-1', 'wal-shop-1']);
  assert.equal(shopEvents.get('lone-surrogate')!.event, 'Lone\ufffd');
  assert.deepEqual(shopEvents.get('lone-surrogate')!.properties, { 'k\ufffd': 'v\ufffd' });
  assert.deepEqual([...(await stored(s, blog)).keys()].sort(), ['after-blog', 'wal-blog-1', 'wal-blog-2']);
  assert.equal(fs.existsSync(first.path), false, 'the segment is done with');

  let ready = await getJson(`${s.url}/ready`);
  assert.equal(ready.status, 200);
  assert.deepEqual(
    { ...ready.body.wal, lastLoadError: undefined },
    { quarantinedFiles: 1, quarantinedLines: 2, loadFailures: 0, lastLoadError: undefined, failing: false },
  );
  const quarantined = path.join(quarantineDir(config.walDir), first.id + '.ndjson');
  assert.deepEqual(fs.readFileSync(quarantined, 'utf8').split('\n').filter(Boolean), [badTime, badText], 'the lines are kept as they were');
  await s.stop();

  // a segment a crash left behind with a line that never loads: start-up quarantines it and goes on
  const second = writeSegment(config, ['{"project_id": 1, this is not JSON}', JSON.stringify(row(shop.id, 'restart-shop-1'))]);
  s = await start(config);
  assert.ok((await stored(s, shop)).has('restart-shop-1'));
  ready = await getJson(`${s.url}/ready`);
  assert.equal(ready.status, 200);
  assert.deepEqual([ready.body.wal.quarantinedFiles, ready.body.wal.quarantinedLines], [2, 3]);
  await s.stop();

  const list = await vigil(config, ['wal', 'list']);
  assert.equal(list.code, 0, list.out);
  assert.match(list.out, new RegExp(`${first.id}\\.ndjson: 2 line\\(s\\)`));
  assert.match(list.out, new RegExp(`${second.id}\\.ndjson: 1 line\\(s\\)`));
  assert.match(list.out, /line 1: .*(cast|numerical)/i, 'the reason of the bad time');
  assert.match(list.out, /line 2: .*surrogate/i, 'the reason of the bad text');

  // the operator fixes the time by hand and replays that file: the line still bad stays
  fs.writeFileSync(quarantined, fs.readFileSync(quarantined, 'utf8').replace('1e+308', String(Date.now())));
  let replay = await vigil(config, ['wal', 'replay', quarantined]);
  assert.equal(replay.code, 0, replay.out);
  assert.match(replay.out, /1 line\(s\) loaded, 1 still refused/);
  // --clean mends the lone surrogate; a line that is not JSON cannot be mended and stays
  replay = await vigil(config, ['wal', 'replay', '--clean']);
  assert.equal(replay.code, 0, replay.out);
  assert.match(replay.out, new RegExp(`${first.id}: 1 line\\(s\\) loaded, 0 still refused`));
  assert.match(replay.out, new RegExp(`${second.id}: 0 line\\(s\\) loaded, 1 still refused`));
  assert.equal(fs.existsSync(quarantined), false);

  s = await start(config);
  try {
    const events = await stored(s, shop);
    assert.ok(events.has('wal-bad-time') && events.has('wal-bad-surrogate'), 'the replayed lines are stored');
    assert.deepEqual(events.get('wal-bad-surrogate')!.properties, { v: '\ufffd' });
    ready = await getJson(`${s.url}/ready`);
    assert.deepEqual([ready.status, ready.body.wal.quarantinedFiles, ready.body.wal.quarantinedLines], [200, 1, 1]);
  } finally {
    await s.stop();
  }
});

test('a store that fails by itself (a full disk) is retried, not quarantined, and /ready answers 503 meanwhile', {
  timeout: 60_000,
}, async () => {
  const config = newConfig('vigil-sick-store-');
  const s = await start(config);
  try {
    const shop = await createProject(s.ctx, 'shop');
    const store = s.ctx.events;
    const load = store.loadSegment.bind(store);
    let sick = true;
    store.loadSegment = (segment) =>
      sick ? Promise.reject(new Error('IO Error: Could not write file "events.duckdb.wal": No space left on device')) : load(segment);

    assert.equal((await postJson(`${s.url}/v1/track`, track('during-full-disk'), basic(shop.writeKey))).status, 200);
    let ready = await getJson(`${s.url}/ready`);
    for (let i = 0; i < 100 && ready.status === 200; i++) {
      await sleep(100);
      ready = await getJson(`${s.url}/ready`);
    }
    assert.equal(ready.status, 503, 'not ready while acknowledged events cannot be loaded');
    assert.equal(ready.body.wal.failing, true);
    assert.match(ready.body.wal.lastLoadError, /No space left/);
    assert.equal(ready.body.wal.quarantinedLines, 0, 'nothing is quarantined for a sick store');

    sick = false;
    await s.ctx.flush();
    assert.ok((await stored(s, shop)).has('during-full-disk'));
    ready = await getJson(`${s.url}/ready`);
    assert.equal(ready.status, 200);
    assert.deepEqual([ready.body.wal.failing, ready.body.wal.quarantinedLines], [false, 0]);
  } finally {
    await s.stop();
  }
});
