/**
 * Issue 16, item 4: `vigil export` and `vigil metrics list` while a server runs. The server (a
 * test app in this process) holds the DuckDB file; the CLI runs as child processes on the same
 * data directory. Without --url they say in one line that the server holds the store (no stack
 * trace); with --url/--key (or VIGIL_URL/VIGIL_API_KEY) they go through the API, and the export
 * is byte for byte what the local export writes once the server has stopped.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { TEST_EVENTS, basic, send, startTestApp, type TestApp } from '../helpers/app.js';
import { assertOk as ok, runVigil, type Run } from '../helpers/vigil-cli.js';

const MINUTE = 60_000;
const START = Date.parse('2026-04-01T00:00:00Z');
const MESSAGES = Array.from({ length: 120 }, (_, i) => ({
  type: 'track',
  event: i % 2 ? 'Signed Up' : 'Order Completed',
  messageId: `cli-${i}`,
  userId: `user-${i % 7}`,
  timestamp: new Date(START + i * MINUTE).toISOString(),
  properties: { i, plan: i % 3 ? 'pro' : 'free' },
}));

describe('the CLI while a server runs', () => {
  let t: TestApp;
  const out = (name: string) => path.join(t.dataDir, name);

  /** `vigil <args>` on the server's data directory (and its PostgreSQL database, when it has one) */
  const vigil = (args: string[], env: Record<string, string> = {}) =>
    runVigil(t.dataDir, args, { ...(t.ctx.config.databaseUrl ? { VIGIL_DATABASE_URL: t.ctx.config.databaseUrl } : {}), ...env });
  /** exit 1 and one line on stderr matching `message`, no stack trace */
  const oneLine = (r: Run, message: RegExp, what: string) => {
    assert.equal(r.code, 1, `${what}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, `${what} says one line:\n${r.stderr}`);
    assert.match(r.stderr, message, what);
    assert.doesNotMatch(r.stderr, /\bat .+:\d+:\d+/, `${what}: no stack trace`);
  };
  const ids = (ndjson: string) =>
    ndjson
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { messageId: string }).messageId);

  before(async () => {
    t = await startTestApp();
    const r = await send(`${t.url}/v1/batch`, JSON.stringify({ batch: MESSAGES }), {
      'content-type': 'application/json',
      ...basic(t.writeKey),
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await t.ctx.flush();
    await t.ctx.catalog.create(t.project, { name: 'signups', kind: 'event', status: 'draft', definition: { event: 'Signed Up' } });
  });
  after(async () => {
    await t?.close().catch(() => fs.rmSync(t.dataDir, { recursive: true, force: true }));
  });

  test('without --url: one line saying a server holds the event store', {
    skip: TEST_EVENTS === 'clickhouse' && 'ClickHouse takes many processes',
  }, async () => {
    fs.writeFileSync(out('in.ndjson'), `${JSON.stringify(MESSAGES[0])}\n`);
    const [exported, listed, imported] = await Promise.all([
      vigil(['export', '--project', 'shop']),
      vigil(['metrics', 'list', '--project', 'shop']),
      vigil(['import', out('in.ndjson'), '--project', 'shop']),
    ]);
    const held = /^the event store .*events\.duckdb is open in another process \(PID \d+\), most likely a running Vigil server: /;
    oneLine(
      exported,
      new RegExp(`${held.source}stop it first, or pass --url <server> --key <read key> to go through its API$`, 'm'),
      'export',
    );
    oneLine(listed, /stop it first, or pass --url <server> --key <read key>/, 'metrics list');
    oneLine(imported, new RegExp(`${held.source}stop the server first$`, 'm'), 'import');
  });

  test('with --url and --key (or VIGIL_URL and VIGIL_API_KEY): export and metrics list through the API', async () => {
    const [toFile, windowed, listed, wrongKey, noKey] = await Promise.all([
      vigil(['export', '--project', 'shop', '--url', t.url, '--key', t.readKey, '--out', out('remote.ndjson')]),
      vigil(['export', '--project', 'shop', '--from', '2026-04-01T00:30:00Z', '--to', '2026-04-01T01:00:00Z'], {
        VIGIL_URL: `${t.url}/`,
        VIGIL_API_KEY: t.readKey,
      }),
      vigil(['metrics', 'list', '--project', 'shop', '--url', t.url, '--key', t.readKey]),
      vigil(['export', '--project', 'shop', '--url', t.url, '--key', 'vk_not_a_key']),
      vigil(['metrics', 'list', '--project', 'shop', '--url', t.url]),
    ]);
    ok(toFile, 'export --url --out');
    assert.deepEqual(
      ids(fs.readFileSync(out('remote.ndjson'), 'utf8')),
      MESSAGES.map((m) => m.messageId),
    );
    assert.equal(toFile.stderr.trim(), `exported ${MESSAGES.length} events`);
    ok(windowed, 'export with VIGIL_URL');
    assert.deepEqual(
      ids(windowed.stdout),
      MESSAGES.slice(30, 60).map((m) => m.messageId),
    );
    assert.equal(windowed.stderr.trim(), 'exported 30 events');
    ok(listed, 'metrics list --url');
    assert.match(listed.stdout, /signups/);
    oneLine(wrongKey, new RegExp(`^the server at ${t.url} answered 401: `), 'a key the server does not know');
    oneLine(noKey, /^--url needs an API key with the read scope: --key <key> or VIGIL_API_KEY$/m, 'no key');
  });

  test('the export through the API is byte for byte the export of the stopped server', async () => {
    const [viaApi, listViaApi] = await Promise.all([
      vigil(['export', '--project', 'shop', '--url', t.url, '--key', t.readKey]),
      vigil(['metrics', 'list', '--project', 'shop', '--url', t.url, '--key', t.readKey]),
    ]);
    ok(viaApi, 'export --url');
    ok(listViaApi, 'metrics list --url');
    await t.app.close();
    await t.ctx.close();
    // one after the other: only one process at a time may open the DuckDB file
    const local = await vigil(['export', '--project', 'shop']);
    const listLocal = await vigil(['metrics', 'list', '--project', 'shop']);
    ok(local, 'export of the stopped server');
    ok(listLocal, 'metrics list of the stopped server');
    assert.equal(viaApi.stdout, local.stdout);
    assert.equal(viaApi.stderr, local.stderr);
    assert.equal(listViaApi.stdout, listLocal.stdout);
  });
});
