/**
 * Rows already in the event store that ingest now refuses (a time no JS Date holds, JSON nested
 * thousands deep) must not break a page of the events list or an export: they are written into
 * DuckDB directly, as an older version or a hand-made import could have left them.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { exportNdjson } from '../../src/ingest/import-export.js';
import type { DuckDbEventStore } from '../../src/storage/events/duckdb.js';
import { getJson, startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
const DEEP = 6000;
const deepJson = '{"k":'.repeat(DEEP) + '1' + '}'.repeat(DEEP);
const now = Date.now();

/** One stored row, written with SQL: `timestampSql` is a DuckDB TIMESTAMP expression. */
async function insertRow(messageId: string, timestampSql: string, properties = '{}', context = '{}') {
  const store = t.ctx.events as DuckDbEventStore;
  await store.rawQuery(
    `INSERT INTO events (project_id, message_id, type, event, distinct_id, timestamp, received_at, properties, context) VALUES (${t.project.id}, $1, 'track', 'Odd', 'u-odd', ${timestampSql}, epoch_ms(${now}), $2, $3)`,
    [messageId, properties, context],
  );
}

before(async () => {
  t = await startTestApp();
  if (t.ctx.events.kind !== 'duckdb') return;
  await insertRow('normal-1', `epoch_ms(${now - 2000})`);
  await insertRow('deep-properties', `epoch_ms(${now - 1000})`, deepJson);
  await insertRow('deep-context', `epoch_ms(${now - 500})`, '{}', deepJson);
  await insertRow('past-js-date', 'epoch_ms(8640000000000001)');
  await insertRow('year-200000', 'epoch_ms(6249999999999000)');
  await insertRow('before-1970', `epoch_ms(-86400000)`);
  await insertRow('normal-2', `epoch_ms(${now})`);
});
after(() => t.close());

test('the events list pages through odd rows: every row is listed, nothing answers 500', {
  skip: process.env.VIGIL_TEST_EVENTS === 'clickhouse' && 'rows are inserted with DuckDB SQL',
}, async () => {
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const r = await getJson(`${t.url}/api/projects/shop/events?limit=2${cursor ? `&cursor=${cursor}` : ''}`, t.readKey);
    assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 300));
    for (const e of r.body.events) seen.push(e.messageId);
    cursor = r.body.nextCursor;
  } while (cursor);
  assert.deepEqual(seen.sort(), ['before-1970', 'deep-context', 'deep-properties', 'normal-1', 'normal-2', 'past-js-date', 'year-200000']);
  const page = await getJson(`${t.url}/api/projects/shop/events?limit=1000`, t.readKey);
  const byId = new Map<string, any>(page.body.events.map((e: any) => [e.messageId, e]));
  assert.equal(byId.get('year-200000').timestamp, new Date(6249999999999000).toISOString());
  assert.match(
    byId.get('past-js-date').timestamp,
    /^\+275760-09-13T00:00:00\.000Z$/,
    'a time past the last JS Date is shown as that last instant',
  );
  assert.equal(JSON.stringify(byId.get('deep-properties').properties).length < 2000, true, 'the deep part is cut');
  assert.match(JSON.stringify(byId.get('deep-properties').properties), /nested deeper than/);
});

test('an export writes every row of its window, odd ones included', {
  skip: process.env.VIGIL_TEST_EVENTS === 'clickhouse' && 'rows are inserted with DuckDB SQL',
}, async () => {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d) => (text += d));
  const count = await exportNdjson(t.ctx, { projectId: t.project.id, fromMs: -8.64e15, toMs: 8.64e15 }, out);
  const ids = text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).messageId);
  assert.equal(count, ids.length);
  assert.deepEqual(ids.sort(), ['before-1970', 'deep-context', 'deep-properties', 'normal-1', 'normal-2', 'year-200000']);
});
