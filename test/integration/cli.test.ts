/**
 * The `vigil` command line, run as child processes (`node --import tsx src/cli.ts ...`) against a
 * temporary data directory. Each start costs a few seconds, so independent commands run side by
 * side and the rest share one data directory in order.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { clickhouseSkip, tempDir, testClickHouseUrl } from '../helpers/app.js';
import { dropClickHouseDatabase } from '../../src/storage/events/clickhouse-schema.js';
import { assertOk as ok, runVigil as vigil } from '../helpers/vigil-cli.js';

const DAY = 86_400_000;
const CLICKHOUSE_SKIP = await clickhouseSkip();

const readNdjson = (file: string) =>
  fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, any>);

/** 500 valid Segment messages of several types; one has a time two days in the future. */
function goodMessages(now: number): Record<string, any>[] {
  const start = Math.floor((now - 3 * DAY) / 1000) * 1000;
  const events = ['Signed Up', 'Order Completed', 'Added To Cart'];
  return Array.from({ length: 500 }, (_, i) => {
    const who = i % 11 === 0 ? { anonymousId: `anon-${i % 7}` } : { userId: `user-${i % 37}` };
    const base = {
      messageId: `imp-${String(i).padStart(3, '0')}`,
      ...who,
      timestamp: new Date(i === 499 ? now + 2 * DAY : start + i * 60_000).toISOString(),
      context: { library: { name: 'analytics-node', version: '1' } },
    };
    if (i % 10 < 7)
      return {
        type: 'track',
        event: events[i % 3],
        properties: { i, plan: i % 2 ? 'pro' : 'free', items: [{ sku: `s${i}`, qty: 1 }] },
        ...base,
      };
    if (i % 10 < 9)
      return {
        type: 'page',
        name: 'Pricing',
        properties: { path: '/pricing', i, ...(i === 7 ? { groupId: 'acme', previousId: 'p' } : {}) },
        ...base,
      };
    return { type: 'identify', traits: { email: `u${i}@example.com`, plan: 'team' }, ...base };
  });
}

/** The fields a user compares between a message sent and a message exported. */
function essence(m: Record<string, any>) {
  return {
    type: m.type,
    event: m.event,
    name: m.name,
    userId: m.userId,
    anonymousId: m.anonymousId,
    properties: m.properties,
    traits: m.traits,
    context: m.context,
    timestamp: new Date(m.timestamp).toISOString(),
  };
}

describe('vigil CLI', () => {
  const dir = tempDir('vigil-cli-');
  const sideDir = tempDir('vigil-cli-side-');
  const demoDir = tempDir('vigil-cli-demo-');
  const files = tempDir('vigil-cli-files-');
  const sideDirOwner = tempDir('vigil-cli-owner-');
  after(() => {
    for (const d of [dir, sideDir, demoDir, files, sideDirOwner]) fs.rmSync(d, { recursive: true, force: true });
  });

  // commands that do not share the main data directory start at once and are awaited in their tests
  const demo = vigil(demoDir, ['demo', '--days', '2', '--scale', '0.2']);
  const side = (async () => ({
    badPort: await vigil(sideDir, ['serve'], { VIGIL_PORT: 'abc' }),
    badDays: await vigil(sideDir, ['demo', '--days', 'many']),
    missingFile: await vigil(sideDir, ['import', path.join(files, 'no-such.ndjson'), '--project', 's']),
    unknownProject: await vigil(sideDir, ['export', '--project', 'nope', '--out', path.join(files, 'never.ndjson')]),
  }))();

  let prefix = '';

  test('migrate --events-ddl prints the ClickHouse DDL: replicated and distributed ON CLUSTER with VIGIL_EVENTS_CLUSTER, plain MergeTree without', async () => {
    const url = { VIGIL_EVENTS_URL: 'clickhouse://ch.internal:8123/analytics' };
    const cluster = await vigil(sideDir, ['migrate', '--events-ddl'], { ...url, VIGIL_EVENTS_CLUSTER: 'events' });
    ok(cluster, 'migrate --events-ddl');
    assert.match(
      cluster.stdout,
      /CREATE TABLE IF NOT EXISTS `analytics`\.events_local ON CLUSTER `events`[\s\S]*ENGINE = ReplicatedMergeTree\(/,
    );
    assert.match(
      cluster.stdout,
      /`analytics`\.events ON CLUSTER `events` AS `analytics`\.events_local ENGINE = Distributed\(`events`, `analytics`, events_local/,
    );
    assert.match(cluster.stdout, /ORDER BY \(project_id, event, timestamp\)/);
    const single = await vigil(sideDir, ['migrate', '--events-ddl'], url);
    ok(single, 'migrate --events-ddl without a cluster');
    assert.match(single.stdout, /ENGINE = MergeTree/);
    assert.doesNotMatch(single.stdout, /ON CLUSTER|Replicated|Distributed/);
    const none = await vigil(sideDir, ['migrate', '--events-ddl']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /VIGIL_EVENTS_URL=clickhouse:/);
  });

  test('migrate creates the ClickHouse event tables of VIGIL_EVENTS_URL', { skip: CLICKHOUSE_SKIP }, async () => {
    const url = testClickHouseUrl('vigil_cli');
    try {
      const r = await vigil(tempDir('vigil-cli-ch-'), ['migrate'], { VIGIL_EVENTS_URL: url });
      ok(r, 'migrate');
      assert.match(r.stdout, /event store \(ClickHouse\): \d+ statements applied/);
      const http = new URL(url.replace(/^clickhouse:/, 'http:'));
      const exists = await (
        await fetch(`${http.protocol}//${http.host}/?query=${encodeURIComponent(`EXISTS TABLE ${http.pathname.slice(1)}.events`)}`)
      ).text();
      assert.equal(exists.trim(), '1');
    } finally {
      await dropClickHouseDatabase(url);
    }
  });

  test('projects create --slug s --tz Europe/Berlin', async () => {
    const r = await vigil(dir, ['projects', 'create', '--slug', 's', '--tz', 'Europe/Berlin']);
    ok(r, 'projects create');
    assert.match(r.stdout, /created project s \(id \d+, time zone Europe\/Berlin\)/);
    const again = await vigil(dir, ['projects', 'create', '--slug', 's']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /project "s" already exists/);
  });

  test('keys create prints a secret starting vk_ once; keys list shows its prefix', async () => {
    const [r, other] = await Promise.all([
      vigil(dir, ['keys', 'create', '--project', 's', '--scopes', 'ingest,read']),
      vigil(dir, ['projects', 'create', '--slug', 's2', '--tz', 'UTC']),
    ]);
    ok(r, 'keys create');
    ok(other, 'projects create s2');
    const secret = /secret \(shown once\): (\S+)/.exec(r.stdout)?.[1] ?? '';
    assert.ok(secret.startsWith('vk_'), r.stdout);
    assert.ok(secret.length > 30);
    assert.match(r.stdout, /with scopes ingest,read/);
    prefix = /created key (\S+)…/.exec(r.stdout)?.[1] ?? '';
    assert.ok(secret.startsWith(prefix) && prefix.length >= 8, `${prefix} is the start of the secret`);

    const list = await vigil(dir, ['keys', 'list']);
    ok(list, 'keys list');
    const row = list.stdout.split('\n').find((l) => l.includes(prefix));
    assert.ok(row, list.stdout);
    assert.ok(!list.stdout.includes(secret), 'the list never shows the secret');
    assert.match(row, /ingest,read/);
    assert.doesNotMatch(row, /\d{4}-\d{2}-\d{2}T/, 'not revoked yet');
  });

  test('keys revoke <prefix>: the list shows it revoked; an unknown prefix or a bad scope exits 1', async () => {
    const r = await vigil(dir, ['keys', 'revoke', prefix]);
    ok(r, 'keys revoke');
    assert.match(r.stdout, new RegExp(`revoked key ${prefix}`));
    const [list, badScope, again] = await Promise.all([
      vigil(dir, ['keys', 'list', '--project', 's']),
      vigil(dir, ['keys', 'create', '--project', 's', '--scopes', 'ingest,fly']),
      vigil(dir, ['keys', 'revoke', prefix]),
    ]);
    ok(list, 'keys list');
    const row = list.stdout.split('\n').find((l) => l.includes(prefix));
    assert.ok(row, list.stdout);
    const revokedAt = /(\d{4}-\d{2}-\d{2}T[\d:.]+Z)/.exec(row)?.[1];
    assert.ok(
      revokedAt && Math.abs(Date.parse(revokedAt) - Date.now()) < 5 * 60_000,
      `the revoked column holds the time of the revoke: ${row}`,
    );

    assert.equal(badScope.code, 1);
    assert.match(badScope.stderr, /ingest, read, write, admin/);
    assert.match(badScope.stderr, /ingest,fly/);
    assert.doesNotMatch(badScope.stderr, /\n\s+at /, 'a message, not a stack trace');

    assert.equal(again.code, 1, 'a key is revoked once');
    assert.match(again.stderr, /not found/);
  });

  const now = Date.now();
  const good = goodMessages(now);
  const input = path.join(files, 'events.ndjson');
  const exported = path.join(files, 'export-s.ndjson');
  const exported2 = path.join(files, 'export-s2.ndjson');

  test('import: 500 good lines and 3 bad ones; the bad ones are reported by line number', async () => {
    const lines = good.map((m) => JSON.stringify(m));
    lines.splice(16, 0, '{"type":"track","event":'); // line 17: cut short
    lines.splice(249, 0, JSON.stringify({ type: 'track', userId: 'u1', messageId: 'no-event' })); // line 250: no event name
    lines.splice(399, 0, 'not json at all'); // line 400
    fs.writeFileSync(input, lines.join('\n') + '\n');

    const r = await vigil(dir, ['import', input, '--project', 's']);
    ok(r, 'import');
    assert.match(r.stdout, /503 lines: 500 accepted, 0 duplicates skipped, 3 rejected/);
    const reported = r.stdout.split('\n').filter((l) => /^\s+line \d+/.test(l));
    assert.equal(reported.length, 3, r.stdout);
    assert.match(reported[0], /line 17: not valid JSON/);
    assert.match(reported[1], /line 250 \(event\): .*event name/);
    assert.match(reported[2], /line 400: not valid JSON/);
  });

  test('export --out writes every event, equal to what was imported', async () => {
    const r = await vigil(dir, ['export', '--project', 's', '--out', exported]);
    ok(r, 'export');
    assert.match(r.stderr, /exported 500 events/);
    const out = readNdjson(exported);
    assert.equal(out.length, 500, 'all 500, including the one with a future time');
    const byId = new Map(out.map((m) => [m.messageId, m]));
    assert.equal(byId.size, 500);
    for (const m of good) {
      const e = byId.get(m.messageId);
      assert.ok(e, m.messageId);
      assert.deepEqual(essence(e), essence(m), m.messageId);
    }
    // oldest first
    const times = out.map((m) => Date.parse(m.timestamp));
    assert.deepEqual(
      times,
      [...times].sort((a, b) => a - b),
    );
  });

  test('the export re-imports into another project as 500 accepted, equal events', async () => {
    const imp = await vigil(dir, ['import', exported, '--project', 's2']);
    ok(imp, 'import into s2');
    assert.match(imp.stdout, /500 lines: 500 accepted, 0 duplicates skipped, 0 rejected/);
    const exp = await vigil(dir, ['export', '--project', 's2', '--out', exported2, '--from', new Date(now - 4 * DAY).toISOString()]);
    ok(exp, 'export s2');
    const first = new Map(readNdjson(exported).map((m) => [m.messageId, m]));
    const second = readNdjson(exported2);
    assert.equal(second.length, 500);
    for (const m of second) assert.deepEqual(essence(m), essence(first.get(m.messageId)!), m.messageId);
  });

  test('demo --days 2 --scale 0.2 creates a project with traffic and prints its keys', async () => {
    const r = await demo;
    ok(r, 'demo');
    assert.match(r.stdout, /project demo: \d+ events/);
    const events = Number(/project demo: (\d+) events/.exec(r.stdout)?.[1]);
    assert.ok(events > 100, `${events} events`);
    assert.match(r.stdout, /write key: vk_\S{20,}/);
    assert.match(r.stdout, /read key:\s+vk_\S{20,}/);
    assert.match(
      r.stdout,
      /metrics: signups, checkout_conversion, revenue, events_per_user, page_load_p90, docs_sessions, checkout_api_latency/,
    );
  });

  test('metrics list shows the demo catalog collected; metrics backfill recomputes a window with progress; users create-owner', async () => {
    ok(await demo, 'demo');
    const list = await vigil(demoDir, ['metrics', 'list', '--project', 'demo']);
    ok(list, 'metrics list');
    for (const name of ['signups', 'revenue', 'docs_sessions', 'checkout_api_latency']) assert.match(list.stdout, new RegExp(`'${name}'`));
    assert.doesNotMatch(list.stdout, /collectedUntil.*null/);

    const backfill = await vigil(demoDir, ['metrics', 'backfill', 'signups', '--project', 'demo', '--from', '-3d']);
    ok(backfill, 'metrics backfill');
    const buckets = Number(/signups: (\d+) buckets computed/.exec(backfill.stdout)?.[1]);
    assert.ok(buckets >= 71 && buckets <= 73, backfill.stdout);

    const owner = await vigil(demoDir, ['users', 'create-owner', '--email', 'Owner@Example.com'], {
      VIGIL_OWNER_PASSWORD: 'a long enough passphrase',
      VIGIL_PASSWORD_SCRYPT_LOG_N: '10',
    });
    ok(owner, 'users create-owner');
    assert.match(owner.stdout, /created owner owner@example\.com/);
    const second = await vigil(demoDir, ['users', 'create-owner', '--email', 'other@example.com'], {
      VIGIL_OWNER_PASSWORD: 'a long enough passphrase',
    });
    assert.equal(second.code, 1);
    assert.match(second.stderr, /already has users/);
    const weak = await vigil(sideDirOwner, ['users', 'create-owner', '--email', 'a@example.com'], { VIGIL_OWNER_PASSWORD: 'short' });
    assert.equal(weak.code, 1);
    assert.match(weak.stderr, /at least 12 characters/);

    const unknown = await vigil(demoDir, ['metrics', 'backfill', 'nope', '--project', 'demo']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /metric "nope" not found/);
  });

  test('detect scores a CSV file into another, and a bad file is a one-line error', async () => {
    const input = path.join(files, 'series.csv');
    const lines = ['timestamp,value'];
    for (let i = 0; i < 24 * 14; i++)
      lines.push(`${new Date(Date.UTC(2026, 0, 5) + i * 3_600_000).toISOString()},${i === 24 * 13 + 10 ? 900 : 100 + (i % 24)}`);
    fs.writeFileSync(input, lines.join('\n'));
    const output = path.join(files, 'scored.csv');
    const r = await vigil(sideDirOwner, ['detect', '--input', input, '--output', output, '--sensitivity', 'high']);
    ok(r, 'detect');
    assert.match(r.stderr, /336 rows scored, [1-9]\d* anomalies/);
    const out = fs.readFileSync(output, 'utf8').trim().split('\n');
    assert.equal(out[0], 'timestamp,value,expected,lower,upper,anomaly_score,is_anomaly');
    assert.equal(out.length, 337);
    assert.equal(out[1 + 24 * 13 + 10].split(',')[6], '1', 'the 900 is flagged');
    fs.writeFileSync(input, 'when,amount\n1,2\n');
    const bad = await vigil(sideDirOwner, ['detect', '--input', input]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /timestamp and value/);
    assert.doesNotMatch(bad.stderr, /\n\s+at /);
  });

  test('bad input exits 1 with a message, not a stack trace', async () => {
    const { badPort, badDays, missingFile, unknownProject } = await side;
    assert.equal(badPort.code, 1);
    assert.match(badPort.stderr, /VIGIL_PORT="abc"/);
    assert.match(badPort.stderr, /0 to 65535/);

    assert.equal(badDays.code, 1);
    assert.match(badDays.stderr, /--days "many"/);

    assert.equal(missingFile.code, 1);
    assert.match(missingFile.stderr, /cannot read ".*no-such\.ndjson": no such file/);

    assert.equal(unknownProject.code, 1);
    assert.match(unknownProject.stderr, /project "nope" not found/);
    assert.ok(!fs.existsSync(path.join(files, 'never.ndjson')), 'no empty output file is left behind');

    for (const r of [badPort, badDays, missingFile, unknownProject]) assert.doesNotMatch(r.stderr, /\n\s+at /);
  });
});
