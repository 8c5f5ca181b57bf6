/**
 * The live view across processes (scaled mode): what one process's ingest accepted reaches the
 * live subscribers of another through PostgreSQL's NOTIFY, once; the sender's own subscribers get
 * it once too (no echo); rows too large for a notification are left out, not the batch.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, postgresReachable, TEST_POSTGRES_URL, type TestDatabase } from '../helpers/app.js';
import { LiveFeed, type LiveEvent } from '../../src/analytics/live.js';
import { MAX_RELAYED_ROWS_PER_S, PostgresLiveRelay, notePayloads } from '../../src/analytics/live-relay.js';

const log = { warn() {} };

function row(i: number, extra = ''): string {
  const ts = Date.UTC(2026, 10, 27, 12, 0, i);
  return JSON.stringify({
    project_id: 1,
    message_id: `m-${i}`,
    type: 'track',
    event: 'Clicked Buy',
    anonymous_id: 'a-1',
    user_id: `u-${i}`,
    distinct_id: `u-${i}`,
    session_id: null,
    timestamp: ts,
    received_at: ts,
    properties: JSON.stringify({ i, extra }),
    context: '{}',
  });
}

const until = async (check: () => boolean, ms = 5_000) => {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
};

describe('live relay over PostgreSQL', () => {
  let reachable = false;
  let db: TestDatabase;
  before(async () => {
    reachable = await postgresReachable();
    if (!reachable && process.env.CI === 'true') throw new Error(`PostgreSQL is not reachable at ${TEST_POSTGRES_URL}`);
    if (reachable) db = await createTestDatabase('vigil_live');
  });
  after(async () => {
    await db?.drop();
  });

  /** Two processes' relays on one database, each with its own feed. */
  async function withTwoRelays(fn: (a: PostgresLiveRelay, feedA: LiveFeed, feedB: LiveFeed) => Promise<void>) {
    const feedA = new LiveFeed(),
      feedB = new LiveFeed();
    const a = await PostgresLiveRelay.start(db.url, feedA, log);
    const b = await PostgresLiveRelay.start(db.url, feedB, log);
    try {
      await fn(a, feedA, feedB);
    } finally {
      await a.stop();
      await b.stop();
    }
  }

  test('events accepted by one process reach the live subscribers of another, once each', async (t) => {
    if (!reachable) return t.skip(`PostgreSQL not reachable at ${TEST_POSTGRES_URL}`);
    await withTwoRelays(async (a, feedA, feedB) => {
      const gotA: LiveEvent[] = [],
        gotB: LiveEvent[] = [],
        otherProject: LiveEvent[] = [];
      feedA.subscribe(1, {}, (e) => gotA.push(...e));
      feedB.subscribe(1, {}, (e) => gotB.push(...e));
      feedB.subscribe(2, {}, (e) => otherProject.push(...e));
      a.publish(1, [row(1), row(2), row(3)]);
      await until(() => gotB.length >= 3);
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(
        gotB.map((e) => e.userId),
        ['u-1', 'u-2', 'u-3'],
      );
      assert.deepEqual(
        gotA.map((e) => e.userId),
        ['u-1', 'u-2', 'u-3'],
        'the sender shows them once (no echo)',
      );
      assert.equal(otherProject.length, 0);
    });
  });

  test('a busy process relays at most MAX_RELAYED_ROWS_PER_S rows a second; its own viewers see every row', async (t) => {
    if (!reachable) return t.skip(`PostgreSQL not reachable at ${TEST_POSTGRES_URL}`);
    await withTwoRelays(async (a, feedA, feedB) => {
      const gotA: LiveEvent[] = [],
        gotB: LiveEvent[] = [];
      feedA.subscribe(1, {}, (e) => gotA.push(...e));
      feedB.subscribe(1, {}, (e) => gotB.push(...e));
      const sent = 3 * MAX_RELAYED_ROWS_PER_S;
      for (let i = 0; i < sent; i += 50)
        a.publish(
          1,
          Array.from({ length: 50 }, (_, j) => row(i + j)),
        );
      await until(() => gotB.length >= MAX_RELAYED_ROWS_PER_S);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(gotA.length, sent);
      assert.equal(gotB.length, MAX_RELAYED_ROWS_PER_S, 'the first rows of the second are relayed, the rest are not');
      assert.deepEqual(
        gotB.map((e) => e.userId),
        gotA.slice(0, MAX_RELAYED_ROWS_PER_S).map((e) => e.userId),
        'in order',
      );
    });
  });

  test('a batch larger than one notification is split; a row that cannot fit is left out', () => {
    const rows = Array.from({ length: 60 }, (_, i) => row(i, 'x'.repeat(300)));
    const payloads = notePayloads('p', 1, [...rows, row(99, 'y'.repeat(9_000))]);
    assert.ok(payloads.length > 1);
    for (const p of payloads) assert.ok(p.length < 8_000, `payload of ${p.length} bytes`);
    assert.deepEqual(
      payloads.flatMap((p) => JSON.parse(p).rows),
      rows,
    );
  });
});
