/**
 * The scaled mode's outbox loader with a line ClickHouse refuses (or that is not JSON) in a load:
 * the line goes to the table ingest_quarantine with its reason, every other line of that load and
 * of the loads behind it is loaded, and /ready's figures say so. A ClickHouse that fails by itself
 * is retried, quarantines nothing, and is reported as failing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import {
  clickhouseSkip,
  createTestDatabase,
  postgresReachable,
  testClickHouseUrl,
  TEST_POSTGRES_URL,
  type TestDatabase,
} from '../helpers/app.js';
import { OutboxLoader } from '../../src/ingest/outbox-loader.js';
import { ClickHouseEventStore } from '../../src/storage/events/clickhouse.js';
import { dropClickHouseDatabase } from '../../src/storage/events/clickhouse-schema.js';
import { openMetaStore, type MetaStore } from '../../src/meta-db.js';
import { sql } from 'kysely';
import type { EventRow } from '../../src/storage/events/event-store.js';

const skip =
  (await clickhouseSkip()) || (process.env.CI !== 'true' && !(await postgresReachable()) && `no PostgreSQL at ${TEST_POSTGRES_URL}`);

describe('scaled ingest: a line ClickHouse refuses never blocks the outbox', { skip }, () => {
  let db: TestDatabase;
  let url: string;
  let meta: MetaStore;
  let events: ClickHouseEventStore;
  before(async () => {
    db = await createTestDatabase('vigil_outbox_quarantine');
    url = testClickHouseUrl('vigil_outbox_quarantine');
    meta = await openMetaStore(db.url);
    events = await ClickHouseEventStore.open({ url });
  });
  after(async () => {
    await events?.close();
    await meta?.close();
    await dropClickHouseDatabase(url).catch(() => undefined);
    await db?.drop();
  });

  const row = (projectId: number, messageId: string): EventRow => ({
    project_id: projectId,
    message_id: messageId,
    type: 'track',
    event: 'Signed Up',
    anonymous_id: null,
    user_id: 'u1',
    distinct_id: 'u1',
    session_id: null,
    timestamp: Date.now(),
    received_at: Date.now(),
    properties: {},
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
  const append = (lines: string[]) =>
    meta.db
      .insertInto('ingest_batches')
      .values({ lines: lines.map((l) => l + '\n').join(''), line_count: lines.length, received_at: Date.now(), load_id: null })
      .execute();
  const stored = async () =>
    (await events.listEvents({ projectId: 1, limit: 100 }))
      .concat(await events.listEvents({ projectId: 2, limit: 100 }))
      .map((r) => r.message_id)
      .sort();
  const newLoader = () => new OutboxLoader({ url: db.url, db: meta.db, events, dedupWindowMs: 86_400_000, log: pino({ level: 'silent' }) });

  test('the refused lines are quarantined with their reasons; the rest of both projects loads', { timeout: 60_000 }, async () => {
    await append([
      JSON.stringify(row(1, 'a-1')),
      JSON.stringify({ ...row(1, 'x'), session_id: { not: 'a string' } }),
      JSON.stringify(row(2, 'a-2')),
      '{"project_id": 1, oops',
      JSON.stringify(row(1, 'a-3')),
    ]);
    await append([JSON.stringify(row(1, 'b-1')), JSON.stringify(row(2, 'b-2'))]);
    const loader = newLoader();
    loader.start();
    try {
      await loader.waitLoaded(30_000);
      assert.deepEqual(await stored(), ['a-1', 'a-2', 'a-3', 'b-1', 'b-2']);
      const { rows } = await sql<{
        lines: string;
        reasons: string;
        line_count: number;
      }>`SELECT lines, reasons, line_count FROM ingest_quarantine`.execute(meta.db);
      assert.equal(rows.length, 1);
      assert.equal(rows[0].line_count, 2);
      // a line that is not JSON is found while reading, before ClickHouse is asked
      assert.deepEqual(
        rows[0].lines
          .split('\n')
          .filter(Boolean)
          .map((l) => l.slice(0, 20)),
        ['{"project_id": 1, oo', '{"project_id":1,"mes'],
      );
      const reasons = rows[0].reasons
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
      assert.deepEqual(
        reasons.map((r) => r.line),
        [1, 2],
      );
      assert.match(reasons[0].reason, /not JSON/);
      assert.match(reasons[1].reason, /Code: \d+|parse/i);
      const backlog = await loader.backlog();
      assert.deepEqual([backlog.batches, backlog.quarantinedLoads, backlog.quarantinedLines], [0, 1, 2]);
      assert.equal(loader.status().failing, false);
    } finally {
      await loader.stop();
    }
  });

  test('a ClickHouse that fails by itself is retried, quarantines nothing, and is reported as failing', { timeout: 60_000 }, async () => {
    const load = events.loadSegment.bind(events);
    let sick = true;
    events.loadSegment = (segment) =>
      sick ? Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123'), { code: 'ECONNREFUSED' })) : load(segment);
    await append([JSON.stringify(row(1, 'c-1'))]);
    const loader = newLoader();
    loader.start();
    try {
      const deadline = Date.now() + 20_000;
      while (!loader.status().failing && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.equal(loader.status().failing, true);
      assert.match(loader.status().lastError ?? '', /ECONNREFUSED/);
      assert.deepEqual(
        [(await loader.backlog()).batches, (await loader.backlog()).quarantinedLines],
        [1, 2],
        'the batch waits; the quarantine holds only the earlier lines',
      );
      sick = false;
      await loader.waitLoaded(30_000);
      assert.ok((await stored()).includes('c-1'));
      assert.equal(loader.status().failing, false);
    } finally {
      events.loadSegment = load;
      await loader.stop();
    }
  });
});
