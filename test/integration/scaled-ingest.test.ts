/**
 * The scaled mode's ingest (PostgreSQL metadata, ClickHouse events) with real processes: an ingest
 * process acknowledges events once they are rows of the PostgreSQL outbox and keeps no files, so a
 * kill -9 loses nothing; one process at a time loads the outbox into ClickHouse (an advisory lock
 * that moves on when its holder dies), dropping a messageId however many processes received it;
 * and a load cut short is replayed once.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import pg from 'pg';
import {
  basic,
  clickhouseSkip,
  createTestDatabase,
  getJson,
  postgresReachable,
  postJson,
  testClickHouseUrl,
  TEST_POSTGRES_URL,
  type TestDatabase,
} from '../helpers/app.js';
import { cleanUpProcesses, serveProcess, type Served } from '../helpers/serve-process.js';
import { OUTBOX_LOCK_KEY, OutboxLoader } from '../../src/ingest/outbox-loader.js';
import { IngestOutbox } from '../../src/ingest/outbox.js';
import { ClickHouseEventStore } from '../../src/storage/events/clickhouse.js';
import { dropClickHouseDatabase, parseClickHouseUrl } from '../../src/storage/events/clickhouse-schema.js';
import { openMetaStore, type MetaStore } from '../../src/meta-db.js';
import { ProjectService } from '../../src/projects/service.js';
import { ApiKeyService } from '../../src/auth/api-keys.js';
import type { EventRow } from '../../src/storage/events/event-store.js';

const skip =
  (await clickhouseSkip()) || (process.env.CI !== 'true' && !(await postgresReachable()) && `no PostgreSQL at ${TEST_POSTGRES_URL}`);

let database: TestDatabase;
let chUrl: string;
let env: Record<string, string>;
let writeKey: string;

/** A statement against a ClickHouse database, over HTTP; the rows as text lines. */
async function ch(url: string, query: string): Promise<string[]> {
  const t = parseClickHouseUrl(url);
  const res = await fetch(`${t.httpUrl}/?database=${t.database}`, { method: 'POST', body: query });
  const text = await res.text();
  if (!res.ok) throw new Error(`ClickHouse: ${text}`);
  return text.split('\n').filter(Boolean);
}

async function pgQuery<T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

const track = (messageId: string) => ({ type: 'track', event: 'Order Completed', userId: 'u1', messageId, properties: { amount: 5 } });
const batchOf = (prefix: string, n: number) => ({ batch: Array.from({ length: n }, (_, i) => track(`${prefix}-${i}`)) });

async function ingest(s: Served, body: unknown) {
  const r = await postJson(`${s.url}/v1/batch`, body, basic(writeKey));
  assert.deepEqual([r.status, r.body], [200, { success: true }]);
}

/** Polls until `check` holds (or fails with what it last saw). */
async function eventually<T>(what: string, read: () => Promise<T>, check: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (check(v)) return v;
    if (Date.now() > deadline) assert.fail(`${what}: still ${JSON.stringify(v)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const storedCount = async () => Number((await ch(chUrl, 'SELECT count() FROM events'))[0]);
const distinctIds = async () => Number((await ch(chUrl, 'SELECT uniqExact(message_id) FROM events'))[0]);
const waiting = async () => Number((await pgQuery<{ n: string }>('SELECT count(*) AS n FROM ingest_batches'))[0].n);
const loading = async (s: Served) => (await getJson(`${s.url}/ready`)).body.outbox?.loading as boolean;

describe('scaled ingest: the PostgreSQL outbox and its loader', { skip }, () => {
  before(async () => {
    database = await createTestDatabase('vigil_scaled');
    chUrl = testClickHouseUrl('vigil_scaled');
    env = { VIGIL_DATABASE_URL: database.url, VIGIL_EVENTS_URL: chUrl };
    const meta = await openMetaStore(database.url);
    try {
      const project = await new ProjectService(meta.db).create({ slug: 'shop' });
      writeKey = (await new ApiKeyService(meta.db).create({ projectId: project.id, scopes: ['ingest'] })).secret;
    } finally {
      await meta.close();
    }
  });
  after(async () => {
    await cleanUpProcesses();
    await dropClickHouseDatabase(chUrl).catch(() => undefined);
    await database?.drop();
  });

  let loaderA: Served;
  let ingestB: Served;

  test('an ingest process acknowledges events once PostgreSQL holds them, keeps no files, and kill -9 loses none', async () => {
    // hold the loader's lock, so the events stay in the outbox while the ingest process dies
    const holder = new pg.Client({ connectionString: database.url });
    await holder.connect();
    await holder.query('SELECT pg_advisory_lock($1)', [OUTBOX_LOCK_KEY]);
    try {
      const first = await serveProcess(['--role', 'ingest'], env);
      for (let i = 0; i < 3; i++) await ingest(first, batchOf(`kill-${i}`, 100));
      const [row] = await pgQuery<{ lines: string }>('SELECT sum(line_count) AS lines FROM ingest_batches');
      assert.equal(Number(row.lines), 300, 'every acknowledged event is a line of the outbox');
      const ready = await getJson(`${first.url}/ready`);
      assert.equal(ready.body.outbox.events, 300);
      assert.equal(ready.body.outbox.loading, false);
      assert.ok(ready.body.outbox.oldestAgeMs >= 0);
      assert.ok(!fs.existsSync(path.join(first.dataDir, 'wal')), 'no write-ahead directory on the ingest process');
      assert.deepEqual(fs.readdirSync(first.dataDir), [], 'nothing on the ingest process disk');
      first.proc.kill('SIGKILL');
      await first.exited;
    } finally {
      await holder.end();
    }
    loaderA = await serveProcess(['--role', 'ingest,worker'], env);
    await eventually('events in ClickHouse', storedCount, (n) => n === 300);
    assert.equal(await distinctIds(), 300);
    await eventually('rows left in the outbox', waiting, (n) => n === 0);
    assert.equal(await loading(loaderA), true);
  });

  test('a messageId sent to two ingest processes, and retried, is stored once', async () => {
    ingestB = await serveProcess(['--role', 'ingest'], env);
    assert.equal(await loading(ingestB), false, 'one process loads at a time');
    await ingest(loaderA, batchOf('both', 100));
    await ingest(ingestB, batchOf('both', 100));
    await ingest(ingestB, batchOf('both', 100));
    await eventually('rows left in the outbox', waiting, (n) => n === 0);
    assert.equal(await storedCount(), 400);
    assert.equal(await distinctIds(), 400);
  });

  test('when the loading process dies, another takes the lock and loads, without duplicates', async () => {
    loaderA.proc.kill('SIGKILL');
    await loaderA.exited;
    await eventually(
      'process B loading',
      () => loading(ingestB),
      (v) => v === true,
      15_000,
    );
    // B rebuilt its index from ClickHouse: copies of what A loaded are still dropped
    await ingest(ingestB, batchOf('kill-0', 100));
    await ingest(ingestB, batchOf('after', 50));
    await eventually('events in ClickHouse', storedCount, (n) => n >= 450);
    await eventually('rows left in the outbox', waiting, (n) => n === 0);
    assert.equal(await storedCount(), 450);
    assert.equal(await distinctIds(), 450);
  });
});

describe('scaled ingest: a load cut short is replayed once', { skip }, () => {
  let db: TestDatabase;
  let url: string;
  let meta: MetaStore;
  let events: ClickHouseEventStore;
  before(async () => {
    db = await createTestDatabase('vigil_replay');
    url = testClickHouseUrl('vigil_replay');
    meta = await openMetaStore(db.url);
    events = await ClickHouseEventStore.open({ url });
  });
  after(async () => {
    await events?.close();
    await meta?.close();
    await dropClickHouseDatabase(url).catch(() => undefined);
    await db?.drop();
  });

  const row = (i: number): EventRow => ({
    project_id: 1,
    message_id: `m-${i}`,
    type: 'track',
    event: 'Signed Up',
    anonymous_id: null,
    user_id: `u${i}`,
    distinct_id: `u${i}`,
    session_id: null,
    timestamp: Date.UTC(2026, 10, 1, 12) + i * 1000,
    received_at: Date.now(),
    properties: { i },
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
  });

  /** Outbox rows as a loader that died mid-load leaves them: named with a load_id, not deleted. */
  async function leftByACrashedLoader(first: number, count: number): Promise<number> {
    const lines = Array.from({ length: count }, (_, i) => JSON.stringify(row(first + i)) + '\n').join('');
    const inserted = await meta.db
      .insertInto('ingest_batches')
      .values({ lines, line_count: count, received_at: Date.now(), load_id: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    await meta.db.updateTable('ingest_batches').set({ load_id: inserted.id }).where('id', '=', inserted.id).execute();
    return Number(inserted.id);
  }

  async function runLoaderUntilEmpty() {
    const loader = new OutboxLoader({ url: db.url, db: meta.db, events, dedupWindowMs: 86_400_000, log: pino({ level: 'silent' }) });
    loader.start();
    try {
      await loader.waitLoaded(20_000);
    } finally {
      await loader.stop();
    }
  }

  const count = async (where = '1') => Number((await ch(url, `SELECT count() FROM events WHERE ${where}`))[0]);

  test('when PostgreSQL refuses the insert, the append and a barrier behind it fail, and nothing of theirs is stored', async () => {
    const other = await openMetaStore(db.url);
    const outbox = new IngestOutbox(other.db);
    await outbox.append(JSON.stringify(row(900)) + '\n', 1);
    await other.close();
    const failed = outbox.append(JSON.stringify(row(901)) + '\n', 1);
    const barrier = outbox.append('', 0);
    await assert.rejects(failed, /destroyed/);
    await assert.rejects(barrier, /destroyed/);
    const rows = await meta.db.deleteFrom('ingest_batches').returning(['lines', 'line_count']).execute();
    assert.deepEqual(
      rows.map((r) => [JSON.parse(r.lines).message_id, r.line_count]),
      [['m-900', 1]],
    );
  });

  test('a load that reached ClickHouse before its loader died is not stored again', async () => {
    const loadId = await leftByACrashedLoader(0, 50);
    await events.loadSegment({ id: `outbox-${loadId}`, rows: Array.from({ length: 50 }, (_, i) => row(i)) });
    await runLoaderUntilEmpty();
    assert.equal(await count(), 50);
    assert.equal(
      Number(
        (
          await meta.db
            .selectFrom('ingest_batches')
            .select((e) => e.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      ),
      0,
    );
  });

  test('a load cut short inside ClickHouse (some rows, not recorded as loaded) is completed, each row once', async () => {
    const loadId = await leftByACrashedLoader(100, 40);
    // the rows a cut-short cluster insert left: 15 of the 40 (spread over its time range), under the
    // load's segment id, not recorded as loaded
    await events.loadSegment({ id: `outbox-${loadId}`, rows: Array.from({ length: 15 }, (_, i) => row(101 + 2 * i)) });
    await ch(url, `ALTER TABLE loaded_segments DELETE WHERE id = 'outbox-${loadId}'`);
    await eventually(
      'the mutation',
      async () => (await ch(url, `SELECT count() FROM loaded_segments WHERE id = 'outbox-${loadId}'`))[0],
      (n) => n === '0',
    );
    await runLoaderUntilEmpty();
    assert.equal(await count("message_id LIKE 'm-1__'"), 40);
    assert.equal(await count(), 90);
  });
});
