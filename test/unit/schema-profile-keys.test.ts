/**
 * The schema profile reads every property name as it is: an empty name, `*`, `[*]`, `/` and `~` once
 * failed the whole query (a JSONPath built per row), so the tracking plan of the project answered
 * 500 and its drift job failed (found by the fuzzer, issue 15).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DuckDBInstance } from '@duckdb/node-api';
import { EVENTS_DDL, schemaProfileSql } from '../../src/storage/events/duckdb-sql.js';

test('schemaProfileSql profiles properties named "", *, [*], a/b and a~b', async () => {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    await c.run(EVENTS_DDL);
    const properties = JSON.stringify({ '': 1, '*': 'x', '[*]': true, 'a/b': 2, 'a~b': null, plan: 'pro' });
    await c.run(`INSERT INTO events (project_id, message_id, type, event, distinct_id, timestamp, received_at, properties, context)
      VALUES (1, 'm1', 'track', 'Signed Up', 'u1', TIMESTAMP '2026-01-01 10:00:00', TIMESTAMP '2026-01-01 10:00:00', '${properties}', '{}')`);
    const q = schemaProfileSql({
      projectId: 1,
      fromMs: Date.UTC(2026, 0, 1),
      toMs: Date.UTC(2026, 0, 2),
      maxEvents: 10,
      maxProperties: 10,
      maxValues: 5,
    });
    const rows = (await c.runAndReadAll(q.sql)).getRowObjects();
    const byKey = Object.fromEntries(rows.map((r) => [String(r.key), [r.type, r.value]]));
    assert.deepEqual(byKey, {
      '': ['number', '1'],
      '*': ['string', 'x'],
      '[*]': ['boolean', 'true'],
      'a/b': ['number', '2'],
      'a~b': ['null', null],
      plan: ['string', 'pro'],
    });
  } finally {
    c.closeSync();
    db.closeSync();
  }
});
