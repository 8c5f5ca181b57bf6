/**
 * The ClickHouse store on a real cluster (VIGIL_EVENTS_CLUSTER): `vigil migrate`'s DDL ON CLUSTER,
 * rows spread over the shards' ReplicatedMergeTree tables by the Distributed `events`, every read
 * through the Distributed tables, segments loaded once, user SQL, the replay of a segment whose
 * load was cut short and a project's deletion (mutations ON CLUSTER). Needs
 * VIGIL_TEST_CLICKHOUSE_CLUSTER_URL (a node of a cluster named VIGIL_TEST_CLICKHOUSE_CLUSTER, default
 * vigil_test_cluster, with at least two shards: scripts/clickhouse-cluster.sh start); skipped without it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { ClickHouseEventStore } from '../../src/storage/events/clickhouse.js';
import { dropClickHouseDatabase, migrateClickHouse, parseClickHouseUrl } from '../../src/storage/events/clickhouse-schema.js';
import { DuckDbEventStore } from '../../src/storage/events/duckdb.js';
import type { EventRow, EventStore, MetricScanQuery } from '../../src/storage/events/event-store.js';
import { tempDir } from '../helpers/app.js';

const CLUSTER_URL = process.env.VIGIL_TEST_CLICKHOUSE_CLUSTER_URL;
const CLUSTER = process.env.VIGIL_TEST_CLICKHOUSE_CLUSTER ?? 'vigil_test_cluster';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const FROM = Date.parse('2026-03-02T00:00:00Z');
const TO = FROM + 3 * DAY;

/** false (run) when the cluster URL is set and answers (or under CI=true), else why the tests are skipped. */
async function clusterSkip(): Promise<string | false> {
  if (!CLUSTER_URL) return 'no ClickHouse cluster: VIGIL_TEST_CLICKHOUSE_CLUSTER_URL is not set (scripts/clickhouse-cluster.sh start)';
  const { httpUrl } = parseClickHouseUrl(CLUSTER_URL);
  const answers = await fetch(`${httpUrl}/ping`, { signal: AbortSignal.timeout(3000) }).then(
    (r) => r.ok,
    () => false,
  );
  if (answers || process.env.CI === 'true') return false;
  return `no ClickHouse cluster: nothing answers at ${CLUSTER_URL} (scripts/clickhouse-cluster.sh start)`;
}

/** `n` track events of project `projectId` by 12 users, over three days, message ids `${prefix}0000`... */
function eventRows(projectId: number, prefix: string, n: number): EventRow[] {
  const events = ['Signed Up', 'Order Completed', 'Page Viewed', "O'Brien \\ event"];
  const countries = ['DE', 'FR', 'US', null];
  return Array.from({ length: n }, (_, i) => ({
    project_id: projectId,
    message_id: `${prefix}${String(i).padStart(4, '0')}`,
    type: 'track' as const,
    event: events[(i * 7) % 5 === 4 ? 2 : ((i * 7) % 5) % 4],
    anonymous_id: null,
    user_id: `u${i % 12}`,
    distinct_id: `u${i % 12}`,
    session_id: i % 10 === 0 ? null : `s${i % 30}`,
    timestamp: FROM + Math.floor((i * 3 * DAY) / n),
    received_at: TO + i,
    properties: { plan: i % 3 ? 'pro' : 'free', amount: i % 17 },
    context: {},
    page_path: null,
    referrer_host: null,
    app_version: null,
    platform: 'web',
    os: null,
    browser: null,
    device_type: null,
    country: countries[(i % 7) % 4],
    ip_hash: null,
  }));
}

const countBy = <T>(xs: T[], key: (x: T) => string) => {
  const out = new Map<string, number>();
  for (const x of xs) out.set(key(x), (out.get(key(x)) ?? 0) + 1);
  return out;
};

describe('the ClickHouse store on a cluster', async () => {
  const skip = await clusterSkip();
  let url: string;
  let database: string;
  let admin: ClickHouseClient;
  let store: ClickHouseEventStore;
  let shards: { num: number; address: string }[];
  const rows = eventRows(1, 'a', 300);

  const query = async <T>(sql: string): Promise<T[]> => (await (await admin.query({ query: sql, format: 'JSONEachRow' })).json()) as T[];
  /** The same statement on every shard's node (a `{table}` in it names the node's own table through remote()). */
  const perShard = <T>(sql: (table: (db: string, name: string) => string) => string) =>
    Promise.all(shards.map(async (s) => await query<T>(sql((db, name) => `remote('${s.address}', ${db}, ${name})`))));
  const waitForMutations = async () => {
    for (const deadline = Date.now() + 60_000; ; ) {
      const pending = await perShard<{ n: number }>(
        (t) => `SELECT toUInt64(count()) AS n FROM ${t('system', 'mutations')} WHERE database = '${database}' AND is_done = 0`,
      );
      if (pending.every(([r]) => Number(r.n) === 0)) return;
      assert.ok(Date.now() < deadline, 'mutations still running after 60 s');
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  before(async () => {
    if (skip) return;
    const u = new URL(CLUSTER_URL!);
    database = `vigil_cluster_${randomBytes(6).toString('hex')}`;
    u.pathname = `/${database}`;
    url = u.toString();
    const t = parseClickHouseUrl(url);
    admin = createClient({
      url: t.httpUrl,
      username: t.username,
      password: t.password,
      log: { level: ClickHouseLogLevel.OFF },
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
    });
    const nodes = await query<{ shard_num: number; host_address: string; port: number }>(
      `SELECT shard_num, host_address, port FROM system.clusters WHERE cluster = '${CLUSTER}' AND replica_num = 1 ORDER BY shard_num`,
    );
    shards = nodes.map((n) => ({ num: n.shard_num, address: `${n.host_address}:${n.port}` }));
    assert.ok(shards.length >= 2, `cluster ${CLUSTER} needs two shards, has ${shards.length}`);
  });
  after(async () => {
    if (skip) return;
    await store?.close();
    await dropClickHouseDatabase(url, CLUSTER);
    const left = await perShard<{ name: string }>(
      (t) => `SELECT name FROM ${t('system', 'databases')} WHERE startsWith(name, '${database}')`,
    );
    await admin.close();
    assert.deepEqual(left.flat(), [], 'the databases are dropped on every node');
  });

  test('the store refuses to start before `vigil migrate`; migrate creates the tables on every node', { skip }, async () => {
    await assert.rejects(ClickHouseEventStore.open({ url, cluster: CLUSTER }), /run `vigil migrate` first/);
    assert.equal(await migrateClickHouse({ clickhouseUrl: url, eventsCluster: CLUSTER }), 6);
    // again: every statement is IF NOT EXISTS
    assert.equal(await migrateClickHouse({ clickhouseUrl: url, eventsCluster: CLUSTER }), 6);
    const tables = await perShard<{ name: string; engine: string }>(
      (t) => `SELECT name, engine FROM ${t('system', 'tables')} WHERE database = '${database}' ORDER BY name`,
    );
    for (const onNode of tables) {
      assert.deepEqual(onNode, [
        { name: 'events', engine: 'Distributed' },
        { name: 'events_local', engine: 'ReplicatedMergeTree' },
        { name: 'loaded_segments', engine: 'Distributed' },
        { name: 'loaded_segments_local', engine: 'ReplicatedReplacingMergeTree' },
      ]);
    }
    const sandboxes = await perShard<{ name: string }>(
      (t) => `SELECT name FROM ${t('system', 'databases')} WHERE name = '${database}_user_sql'`,
    );
    assert.ok(
      sandboxes.every((s) => s.length === 1),
      'the user-SQL sandbox database is on every node',
    );
    store = await ClickHouseEventStore.open({ url, cluster: CLUSTER });
  });

  test('a segment is spread over the shards, a user on one, and loaded once', { skip }, async () => {
    assert.equal(await store.loadSegment({ id: 'seg-a', rows }), rows.length);
    const perNode = await perShard<{ n: number; users: string[] }>(
      (t) => `SELECT toUInt64(count()) AS n, groupUniqArray(distinct_id) AS users FROM ${t(database, 'events_local')}`,
    );
    const counts = perNode.map(([r]) => Number(r.n));
    assert.ok(
      counts.every((n) => n > 0),
      `every shard holds rows: ${counts}`,
    );
    assert.equal(
      counts.reduce((a, b) => a + b, 0),
      rows.length,
    );
    const users = perNode.flatMap(([r]) => r.users);
    assert.equal(new Set(users).size, users.length, 'no user on two shards');
    assert.equal(await store.loadSegment({ id: 'seg-a', rows }), 0);
    assert.equal(await store.isSegmentLoaded('seg-a'), true);
    assert.equal(await store.isSegmentLoaded('seg-never'), false);
    assert.equal((await store.totals({ projectId: 1, fromMs: FROM, toMs: TO })).events, rows.length);
  });

  test('reads through the Distributed tables give the answers of the rows', { skip }, async () => {
    const w = { projectId: 1, fromMs: FROM, toMs: TO };
    assert.deepEqual(await store.totals(w), {
      events: rows.length,
      users: new Set(rows.map((r) => r.distinct_id)).size,
      sessions: new Set(rows.filter((r) => r.session_id).map((r) => r.session_id)).size,
    });
    const byDay = countBy(rows, (r) => String(Math.floor(r.timestamp / DAY) * DAY));
    assert.deepEqual(
      await store.timeseries({ ...w, grainMs: DAY, measure: 'events', limit: 10 }),
      [...byDay].map(([slot, n]) => ({ slotMs: Number(slot), key: null, value: n })),
    );
    const byEvent = [...countBy(rows, (r) => r.event!)].sort((a, b) => b[1] - a[1] || Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0])));
    assert.deepEqual(
      await store.topEvents({ ...w, limit: 2 }),
      byEvent
        .slice(0, 2)
        .map(([event, count]) => ({ event, count, users: new Set(rows.filter((r) => r.event === event).map((r) => r.distinct_id)).size })),
    );
    const latest = [...rows].sort((a, b) => b.timestamp - a.timestamp || (a.message_id < b.message_id ? 1 : -1)).slice(0, 25);
    assert.deepEqual(
      (await store.listEvents({ projectId: 1, limit: 25 })).map((r) => r.message_id),
      latest.map((r) => r.message_id),
    );
    assert.deepEqual(
      (await store.listEvents({ projectId: 1, userId: 'u3', limit: 1000 })).length,
      rows.filter((r) => r.distinct_id === 'u3').length,
    );
    const seen: string[] = [];
    for await (const batch of store.recentMessageIds(0)) for (const [p, m] of batch) seen.push(`${p}/${m}`);
    assert.deepEqual(seen.sort(), rows.map((r) => `1/${r.message_id}`).sort());
  });

  test('reads with a subquery over the Distributed table (breakdowns, top-event counts)', { skip }, async () => {
    const w = { projectId: 1, fromMs: FROM, toMs: TO };
    const byCountry = [...countBy(rows, (r) => r.country ?? '$none')].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    const kept = new Set(byCountry.slice(0, 2).map(([k]) => k));
    const series = await store.timeseries({ ...w, grainMs: 3 * DAY, measure: 'events', limit: 2, breakdown: { column: 'country' } });
    const expected = [...countBy(rows, (r) => (kept.has(r.country ?? '$none') ? (r.country ?? '$none') : '$other'))].sort((a, b) =>
      a[0] < b[0] ? -1 : 1,
    );
    assert.deepEqual(
      series,
      expected.map(([key, value]) => ({ slotMs: FROM, key, value })),
    );
    const counts = await store.eventCounts({ ...w, grainMs: 3 * DAY, limit: 10 });
    assert.deepEqual(counts.map((c) => [c.event, c.count]).sort(), [...countBy(rows, (r) => r.event!)].sort());
  });

  test('the other reads give the answers DuckDB gives on the same rows', { skip }, async () => {
    const dir = tempDir('vigil-ch-cluster-');
    const duck = await DuckDbEventStore.open({ file: path.join(dir, 'events.duckdb') });
    try {
      const file = path.join(dir, 'seg-a.ndjson');
      fs.writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
      await duck.loadSegment({ id: 'seg-a', path: file });
      const both = async <T>(read: (s: EventStore) => Promise<T>, where: string) => {
        const [a, b] = await Promise.all([read(duck), read(store)]);
        assert.deepEqual(b, a, where);
      };
      const w = { projectId: 1, fromMs: FROM, toMs: TO };
      const amount = { property: 'amount' };
      const scan: MetricScanQuery = {
        ...w,
        grainMs: DAY,
        breakdowns: [{ column: 'country' }, { property: 'plan' }],
        columns: [
          { filters: [], aggregate: { fn: 'events' } },
          { event: 'Order Completed', filters: [], aggregate: { fn: 'users' } },
          { filters: [], aggregate: { fn: 'sessions' } },
          ...(['sum', 'min', 'max', 'count_distinct', 'p50', 'p90'] as const).map((fn) => ({ filters: [], aggregate: { fn, of: amount } })),
          { filters: [{ dimension: { property: 'plan' }, op: 'eq', value: 'pro' }], aggregate: { fn: 'users' } },
        ],
      };
      await both((s) => s.metricScan(scan), 'metric scan');
      await both((s) => s.schemaProfile({ ...w, maxEvents: 3, maxProperties: 2, maxValues: 5 }), 'schema profile');
      await both((s) => s.valueShares({ ...w, event: 'Page Viewed', property: 'plan', limit: 1 }), 'value shares');
      await both((s) => s.timeseries({ ...w, grainMs: DAY, measure: 'users', limit: 2, breakdown: { property: 'plan' } }), 'users by plan');
      await both((s) => s.eventCounts({ ...w, grainMs: DAY, limit: 2 }), 'event counts');
      await both(async (s) => {
        const out: EventRow[] = [];
        for await (const page of s.exportEvents(w)) out.push(...page);
        return out;
      }, 'export');
      await both((s) => s.userTraits(1, 'u1'), 'traits');
    } finally {
      await duck.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a user SQL metric runs on the cluster', { skip }, async () => {
    const q = { projectId: 1, fromMs: FROM, toMs: TO, grainMs: DAY, timeoutMs: 10_000, maxRows: 100 };
    const byDay = [...countBy(rows, (r) => String(Math.floor(r.timestamp / DAY) * DAY))].map(([slot, n]) => ({
      bucketMs: Number(slot),
      value: n,
      breakdown: null,
      samples: null,
    }));
    assert.deepEqual(
      await store.runUserSql({ ...q, sql: 'SELECT bucket, count() AS value FROM events GROUP BY bucket ORDER BY bucket' }),
      byDay,
    );
    // a subquery over `events` inside IN
    const buyers = new Set(rows.filter((r) => r.event === 'Order Completed').map((r) => r.distinct_id));
    const [row] = await store.runUserSql({
      ...q,
      grainMs: 3 * DAY,
      sql: "SELECT bucket, uniqExact(distinct_id) AS value FROM events WHERE distinct_id IN (SELECT distinct_id FROM events WHERE event = 'Order Completed') GROUP BY bucket",
    });
    assert.equal(row.value, buyers.size);
  });

  test('a segment cut short on a cluster is deleted (a mutation ON CLUSTER) and loaded again, each row once', { skip }, async () => {
    const replay = eventRows(3, 'r', 60);
    const forget = async (id: string) => {
      await admin.command({ query: `ALTER TABLE ${database}.loaded_segments_local ON CLUSTER ${CLUSTER} DELETE WHERE id = '${id}'` });
      await waitForMutations();
      assert.equal(await store.isSegmentLoaded(id), false);
    };
    // the first 20 rows stored, then the crash before the segment was recorded
    assert.equal(await store.loadSegment({ id: 'seg-r', rows: replay.slice(0, 20) }), 20);
    await forget('seg-r');
    assert.equal(await store.loadSegment({ id: 'seg-r', rows: replay }), replay.length);
    const all = { projectId: 3, fromMs: 0, toMs: TO + DAY };
    assert.equal((await store.totals(all)).events, replay.length);
    const [stored] = await query<{ n: number; ids: number }>(
      `SELECT toUInt64(count()) AS n, toUInt64(uniqExact(message_id)) AS ids FROM ${database}.events WHERE project_id = 3`,
    );
    assert.deepEqual(stored, { n: replay.length, ids: replay.length });
    // a crash after every row was stored: only recorded
    await forget('seg-r');
    assert.equal(await store.loadSegment({ id: 'seg-r', rows: replay }), 0);
    assert.equal(await store.isSegmentLoaded('seg-r'), true);
    assert.equal((await store.totals(all)).events, replay.length);
    // the other project is untouched
    assert.equal((await store.totals({ projectId: 1, fromMs: FROM, toMs: TO })).events, rows.length);
  });

  test('deleting a project removes its rows from every shard (a mutation ON CLUSTER, waited for); the others stay', { skip }, async () => {
    const doomed = eventRows(4, 'd', 80);
    assert.equal(await store.loadSegment({ id: 'seg-d', rows: doomed }), doomed.length);
    const onShards = async (projectId: number) =>
      (
        await perShard<{ n: number }>(
          (t) => `SELECT toUInt64(count()) AS n FROM ${t(database, 'events_local')} WHERE project_id = ${projectId}`,
        )
      ).map(([r]) => Number(r.n));
    assert.ok(
      (await onShards(4)).every((n) => n > 0),
      'the project has rows on every shard',
    );
    assert.equal(await store.deleteProject(4), doomed.length);
    assert.deepEqual(
      await onShards(4),
      shards.map(() => 0),
      'no row left on any shard once deleteProject resolves',
    );
    assert.equal(await store.deleteProject(4), 0, 'again: nothing to delete');
    assert.equal((await store.totals({ projectId: 1, fromMs: FROM, toMs: TO })).events, rows.length);
  });
});
