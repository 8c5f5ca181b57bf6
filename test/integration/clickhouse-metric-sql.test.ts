/**
 * User-written metric SQL on a real ClickHouse holding two projects: good queries see one
 * project's rows only; the attacks of metric-sql-guard.test.ts (in ClickHouse's dialect) are
 * refused with a 400 naming the reason, by the token check or by the server's read-only mode and
 * the empty current database behind it; nothing stored changes; time and row limits hold.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ClickHouseEventStore } from '../../src/storage/events/clickhouse.js';
import { dropClickHouseDatabase } from '../../src/storage/events/clickhouse-schema.js';
import type { UserSqlQuery } from '../../src/storage/events/event-store.js';
import { VigilError, type ErrorCode } from '../../src/errors.js';
import { GOOD, HOUR, T0, byBucket, expectRefusals, iso, userSqlQuery, userSqlRows } from '../helpers/user-sql-fixture.js';
import { clickhouseSkip, tempDir, testClickHouseUrl } from '../helpers/app.js';

const ROWS = userSqlRows('$identify');

describe('user-written metric SQL on a real ClickHouse store', async () => {
  const skip = await clickhouseSkip();
  let dir: string;
  let url: string;
  let store: ClickHouseEventStore;
  const run = (sql: string, over: Partial<UserSqlQuery> = {}) => store.runUserSql(userSqlQuery(sql, over));

  const storedState = async () => {
    const all = { fromMs: 0, toMs: T0 + 100 * HOUR };
    return {
      project1: await store.totals({ projectId: 1, ...all }),
      project2: await store.totals({ projectId: 2, ...all }),
      segmentLoaded: await store.isSegmentLoaded('seg-1'),
      traits: await store.userTraits(2, 'u-secret'),
    };
  };
  let initial: Awaited<ReturnType<typeof storedState>>;

  /** Expects a 400 with `code` whose message matches `reason` (from the guard or the server), and the data unchanged. */
  async function refused(sql: string, code: ErrorCode, reason: RegExp, validate = true) {
    await expectRefusals(sql, validate ? [() => store.validateUserSql(sql), () => run(sql)] : [() => run(sql)], code, reason);
    assert.deepEqual(await storedState(), initial, `stored data changed after: ${sql}`);
  }

  before(async () => {
    if (skip) return;
    dir = tempDir('vigil-ch-metric-sql-');
    url = testClickHouseUrl('vigil_metric_sql');
    const file = path.join(dir, 'seg-1.ndjson');
    fs.writeFileSync(file, ROWS.map((r) => JSON.stringify(r)).join('\n') + '\n');
    store = await ClickHouseEventStore.open({ url });
    assert.equal(await store.loadSegment({ id: 'seg-1', path: file }), ROWS.length);
    initial = await storedState();
  });
  after(async () => {
    if (skip) return;
    await store?.close();
    await dropClickHouseDatabase(url);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('good queries see only this project and this window', { skip }, async () => {
    assert.deepEqual(byBucket(await run(GOOD)), { [iso(0)]: 3, [iso(1)]: 2, [iso(2)]: 1 });
    const breakdown = await run(
      "SELECT bucket, country AS breakdown, count() AS value FROM events WHERE event = 'Signed Up' GROUP BY bucket, country",
    );
    assert.deepEqual(byBucket(breakdown), { [`${iso(0)} DE`]: 2, [`${iso(0)} FR`]: 1, [`${iso(1)} DE`]: 2, [`${iso(2)} FR`]: 1 });
    // a total and a breakdown in one result (what GROUPING SETS does on DuckDB), and epoch ms as the bucket
    const both =
      await run(`SELECT bucket, CAST(NULL AS Nullable(String)) AS breakdown, count() AS value FROM events WHERE country IS NOT NULL GROUP BY bucket
      UNION ALL SELECT bucket, country, count() FROM events WHERE country IS NOT NULL GROUP BY bucket, country`);
    assert.equal(
      both.filter((r) => r.breakdown === null).reduce((s, r) => s + (r.value ?? 0), 0),
      6,
    );
    const epochMs = await run(
      "SELECT toUInt64(toUnixTimestamp(bucket)) * 1000 AS bucket, avg(length(event)) AS value FROM events AS e WHERE e.event = 'Signed Up' GROUP BY bucket",
    );
    assert.deepEqual(Object.keys(byBucket(epochMs)).sort(), [iso(0), iso(1), iso(2)]);
    const selfJoin = await run(
      "SELECT a.bucket AS bucket, count() AS value FROM events AS a ANY INNER JOIN (SELECT distinct_id FROM events WHERE event = 'Signed Up') b USING distinct_id GROUP BY a.bucket",
    );
    assert.equal(selfJoin.length, 3);
    assert.deepEqual(await run("SELECT bucket, count() AS value FROM events WHERE event = 'Secret Event' GROUP BY bucket"), []);
    for (const column of ['project_id', 'ip_hash', 'prop_keys', 'segment_id']) {
      await assert.rejects(
        run(`SELECT bucket, count() AS value FROM events WHERE ${column} IS NOT NULL GROUP BY bucket`),
        (err: VigilError) => err.code === 'VIGIL_ERR_METRIC_SQL_INVALID' && err.status === 400 && /Unknown identifier/i.test(err.message),
      );
    }
  });

  test('statements that are not one SELECT', { skip }, async () => {
    for (const [sql, reason] of [
      ['SELECT 1 AS bucket, 1 AS value; DROP TABLE events', /2 statements; exactly one SELECT/],
      ['DROP TABLE events', /not DROP/],
      ['INSERT INTO events SELECT * FROM events', /not INSERT/],
      ['CREATE TABLE stolen ENGINE = Memory AS SELECT * FROM events', /not CREATE/],
      ["ALTER TABLE events UPDATE event = 'x' WHERE 1", /not ALTER/],
      ['TRUNCATE TABLE events', /not TRUNCATE/],
      ['SET readonly = 0', /not SET/],
      ['SYSTEM SHUTDOWN', /not SYSTEM/],
      ['SELECT 1 AS bucket, 1 AS value; /* */ DROP TABLE events', /2 statements/],
    ] as const)
      await refused(sql, 'VIGIL_ERR_METRIC_SQL_FORBIDDEN', reason);
    await refused('SELEC bucket FROM events', 'VIGIL_ERR_METRIC_SQL_FORBIDDEN', /not SELEC/);
    await refused(`${GOOD} SETTINGS max_execution_time = 0, readonly = 0`, 'VIGIL_ERR_METRIC_SQL_FORBIDDEN', /SETTINGS is not allowed/);
  });

  test('other tables, table functions, dictionaries, files, the network and server state', { skip }, async () => {
    for (const [sql, reason] of [
      ['SELECT * FROM system.tables', /table "system.tables" is not allowed/],
      ["SELECT * FROM file('/etc/passwd', 'TSV', 'line String')", /table "file" is not allowed/],
      ["SELECT * FROM url('http://127.0.0.1:8123/?query=SELECT+1', CSV, 'x String')", /table "url" is not allowed/],
      ['SELECT * FROM numbers(10)', /table "numbers" is not allowed/],
      ['SELECT * FROM loaded_segments', /table "loaded_segments" is not allowed/],
      ['SELECT bucket, count() AS value FROM events, loaded_segments GROUP BY bucket', /a list of tables/],
      [
        'SELECT e.bucket, count() AS value FROM events e ANY INNER JOIN loaded_segments s USING id GROUP BY e.bucket',
        /table "loaded_segments" is not allowed/,
      ],
      ['SELECT bucket, (SELECT count() FROM system.one) AS value FROM events', /table "system.one" is not allowed/],
      [
        'SELECT bucket, count() AS value FROM events WHERE event IN (SELECT event FROM (SELECT * FROM loaded_segments)) GROUP BY bucket',
        /table "loaded_segments" is not allowed/,
      ],
      [
        'SELECT bucket, 1 AS value FROM events UNION ALL SELECT loaded_at, 1 FROM loaded_segments',
        /table "loaded_segments" is not allowed/,
      ],
      ["SELECT bucket, dictGetString('d', 'a', toUInt64(1)) AS value FROM events", /function dictGetString is not allowed/],
      ['SELECT bucket, currentDatabase() AS value FROM events', /function currentDatabase is not allowed/],
      ['SELECT bucket, sleep(3) AS value FROM events', /function sleep is not allowed/],
      ["SELECT bucket, getSetting('readonly') AS value FROM events", /function getSetting is not allowed/],
      [
        'SELECT bucket, count() AS value FROM events WHERE event GLOBAL IN (SELECT event FROM events) GROUP BY bucket',
        /GLOBAL is not allowed/,
      ],
      ['SELECT bucket, count() AS value FROM events WHERE project_id IN system.one GROUP BY bucket', /SYSTEM is not allowed|"system.one"/],
    ] as const)
      await refused(sql, 'VIGIL_ERR_METRIC_SQL_FORBIDDEN', reason);
    // an unqualified table the token check lets through as an IN operand names the empty current database
    await refused(
      'SELECT bucket, count() AS value FROM events WHERE distinct_id IN loaded_segments GROUP BY bucket',
      'VIGIL_ERR_METRIC_SQL_FORBIDDEN',
      /may read only the "events" view: .*loaded_segments/,
      false,
    );
  });

  test('functions not on the allowlist are refused, naming the function', { skip }, async () => {
    for (const name of [
      'timezone',
      'hostName',
      'uptime',
      'version',
      'joinGet',
      'hasColumnInTable',
      'regionToName',
      'findClusterIndex',
      'modelEvaluate',
      'dictHas',
      'toColumnTypeName',
      'finalizeAggregation',
      '`dictGetString`',
    ]) {
      const shown = name.replace(/`/g, '');
      await refused(
        `SELECT bucket, count() AS value, toString(${name}('a', 'b')) AS breakdown FROM events GROUP BY bucket`,
        'VIGIL_ERR_METRIC_SQL_FORBIDDEN',
        new RegExp(`function ${shown} is not allowed: it is not on the list of functions a metric's SQL may call`),
      );
    }
    // case-insensitive names, combinators, parametric aggregates, types with parameters, lambdas
    const sql = `SELECT bucket, COUNT() + sumIf(1, event = 'Signed Up') * 0 + length(arrayFilter(x -> x > 0, groupArrayIf(1, 1))) * 0 + quantile(0.5)(toFloat64(1)) * 0 AS value,
      CAST(country AS Nullable(String)) AS breakdown FROM events WHERE event = 'Signed Up' GROUP BY bucket, country`;
    assert.deepEqual(byBucket(await run(sql)), { [`${iso(0)} DE`]: 2, [`${iso(0)} FR`]: 1, [`${iso(1)} DE`]: 2, [`${iso(2)} FR`]: 1 });
  });

  test('a value over 4096 bytes, or a result over 8 MB, is refused with a 400', { skip }, async () => {
    const tooLarge = (sql: string, reason: RegExp) =>
      expectRefusals(sql, [() => run(sql, { maxRows: 100_000 })], 'VIGIL_ERR_METRIC_SQL_TOO_LARGE', reason);
    // a 16 MB value (FixedString's largest) is over the whole result's limit already
    await tooLarge(
      "SELECT bucket, count() AS value, toFixedString('x', 16000000) AS breakdown FROM events GROUP BY bucket",
      /the metric's SQL result is larger than 8 MB/,
    );
    await tooLarge(
      "SELECT bucket, count() AS value, arrayStringConcat(arrayResize([''], 5000), 'x') AS breakdown FROM events GROUP BY bucket",
      /a value in the metric's SQL result is longer than 4096 bytes/,
    );
    // 306 rows x 10 of 4,000 bytes each: 12 MB
    await tooLarge(
      "SELECT bucket, 1 AS value, concat(arrayStringConcat(arrayResize([''], 4000), 'y'), toString(x)) AS breakdown FROM events ARRAY JOIN range(10) AS x",
      /the metric's SQL result is larger than 8 MB/,
    );
    assert.deepEqual(await storedState(), initial);
  });

  test('a query running past its time limit is stopped there, and the store answers afterwards', { skip }, async () => {
    /** Runs `sql` with a 1 s limit and expects it stopped within 3 s. */
    async function stopped(sql: string) {
      const started = Date.now();
      await assert.rejects(run(sql, { timeoutMs: 1000 }), (err: unknown) => {
        assert.ok(err instanceof VigilError, `expected a VigilError, got ${String(err)}`);
        assert.equal(err.code, 'VIGIL_ERR_METRIC_SQL_TIMEOUT', err.message);
        assert.equal(err.status, 400);
        assert.match(err.message, /ran longer than its limit of 1000 ms and was stopped/);
        return true;
      });
      const took = Date.now() - started;
      assert.ok(took < 3000, `stopped after ${took} ms`);
    }
    // one block the server computes for seconds (3-6 s here without a limit): ClickHouse checks
    // max_execution_time only between blocks, so the request's own deadline answers
    await stopped(
      "SELECT bucket, arraySum(arrayMap(y -> length(replaceRegexpAll(concat(toString(y), toString(y * 3), toString(y * 7)), '[0-9]', 'ab')), range(500000))) AS value FROM (SELECT bucket FROM events GROUP BY bucket)",
    );
    // 6 million rows in blocks of 65,536 (an ORDER BY over two streams cuts them), each hashed 30
    // times: ~12 s without a limit, stopped between blocks (max(x): 18.16 drops a column that only
    // a lambda uses from a subquery)
    await stopped(`SELECT bucket, count() AS value, sum(h) AS hashes, max(x) AS last FROM (
        SELECT bucket, x, arraySum(arrayMap(y -> intHash64(x + y) % 7, range(30))) AS h FROM (
          SELECT bucket, x FROM (SELECT bucket, x FROM events ARRAY JOIN range(10000) AS x UNION ALL SELECT bucket, x FROM events ARRAY JOIN range(10000) AS x) ORDER BY x))
      GROUP BY bucket`);
    assert.deepEqual(byBucket(await run(GOOD)), { [iso(0)]: 3, [iso(1)]: 2, [iso(2)]: 1 });
    assert.deepEqual(await storedState(), initial);
  });

  test('more rows than allowed is an error; a query that would use too much memory is stopped', { skip }, async () => {
    // one row per event: project 1 has 306 in the window
    const everyRow = 'SELECT bucket, toFloat64(timestamp_ms) AS value FROM events';
    for (const maxRows of [10, 305]) {
      await assert.rejects(run(everyRow, { maxRows }), (err: unknown) => {
        assert.ok(err instanceof VigilError);
        assert.equal(err.code, 'VIGIL_ERR_METRIC_SQL_TOO_MANY_ROWS');
        assert.equal(err.status, 400);
        assert.match(err.message, new RegExp(`more than ${maxRows} rows; aggregate to one row per bucket \\(and breakdown\\)`));
        return true;
      });
    }
    assert.equal((await run(everyRow, { maxRows: 306 })).length, 306);
    await assert.rejects(
      run('SELECT bucket, count() AS value FROM events ARRAY JOIN range(20000000) AS x GROUP BY bucket'),
      (err: VigilError) => err.code === 'VIGIL_ERR_METRIC_SQL_INVALID' && /Memory limit/i.test(err.message),
    );
    assert.deepEqual(await storedState(), initial);
  });
});
