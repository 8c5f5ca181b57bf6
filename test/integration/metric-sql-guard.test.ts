/**
 * The guard and runner for user-written metric SQL, against a real DuckDB event store holding
 * two projects: good queries see one project's rows only; every attack is refused with a 400
 * naming the reason (or, for comment tricks, runs harmlessly), and nothing stored changes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { DuckDbEventStore } from '../../src/storage/events/duckdb.js';
import { DuckDBInstance } from '@duckdb/node-api';
import { checkUserSql, runCheckedUserSql, toUserSqlRows, userSqlStatements } from '../../src/storage/events/duckdb-user-sql.js';
import { ALLOWED_FUNCTIONS } from '../../src/storage/events/duckdb-user-sql-functions.js';
import { EVENTS_DDL, segmentLoadSql } from '../../src/storage/events/duckdb-sql.js';
import type { UserSqlQuery } from '../../src/storage/events/event-store.js';
import { VigilError, type ErrorCode } from '../../src/errors.js';
import { GOOD, HOUR, T0, byBucket, expectRefusals, iso, userSqlQuery, userSqlRows } from '../helpers/user-sql-fixture.js';
import { tempDir } from '../helpers/app.js';

const ROWS = userSqlRows(null);

describe('user-written metric SQL on a real DuckDB store', () => {
  let dir: string;
  let store: DuckDbEventStore;
  const run = (sql: string, over: Partial<UserSqlQuery> = {}) => store.runUserSql(userSqlQuery(sql, over));

  async function storedState() {
    const all = { fromMs: 0, toMs: T0 + 100 * HOUR };
    return {
      project1: await store.totals({ projectId: 1, ...all }),
      project2: await store.totals({ projectId: 2, ...all }),
      segmentLoaded: await store.isSegmentLoaded('seg-1'),
      traits: await store.userTraits(2, 'u-secret'),
    };
  }
  let initial: Awaited<ReturnType<typeof storedState>>;

  /** Expects a 400 VigilError with `code` whose message matches `reason`, and the stored data unchanged. */
  async function refused(sql: string, code: ErrorCode, reason: RegExp) {
    await expectRefusals(sql, [() => store.validateUserSql(sql), () => run(sql)], code, reason);
    assert.deepEqual(await storedState(), initial, `stored data changed after: ${sql}`);
  }

  before(async () => {
    dir = tempDir('vigil-metric-sql-');
    const file = path.join(dir, 'seg-1.ndjson');
    fs.writeFileSync(file, ROWS.map((r) => JSON.stringify(r)).join('\n') + '\n');
    store = await DuckDbEventStore.open({ file: path.join(dir, 'events.duckdb') });
    assert.equal(await store.loadSegment({ id: 'seg-1', path: file }), ROWS.length);
    initial = await storedState();
    assert.equal(initial.project1.events, 307);
    assert.equal(initial.project2.events, 13);
    assert.deepEqual(initial.traits, { password: 'hunter2' });
  });
  after(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('good queries', () => {
    test('per-hour counts of one event, for project 1 only and inside the window', async () => {
      assert.deepEqual(byBucket(await run(GOOD)), { [iso(0)]: 3, [iso(1)]: 2, [iso(2)]: 1 });
      assert.deepEqual(byBucket(await run(GOOD, { projectId: 2 })), { [iso(0)]: 5 });
    });

    test('a breakdown column, a query starting with WITH, a trailing semicolon, epoch-ms buckets', async () => {
      const breakdown = await run(
        "SELECT bucket, country AS breakdown, count(*) AS value FROM events WHERE event = 'Signed Up' GROUP BY ALL",
      );
      assert.deepEqual(byBucket(breakdown), { [`${iso(0)} DE`]: 2, [`${iso(0)} FR`]: 1, [`${iso(1)} DE`]: 2, [`${iso(2)} FR`]: 1 });
      const withCte =
        "WITH s AS (SELECT bucket FROM events WHERE event = 'Signed Up'), t AS (SELECT * FROM s) SELECT bucket, count(*) AS value FROM t GROUP BY bucket";
      assert.deepEqual(byBucket(await run(withCte)), { [iso(0)]: 3, [iso(1)]: 2, [iso(2)]: 1 });
      assert.deepEqual(byBucket(await run(`${GOOD};  \n`)), { [iso(0)]: 3, [iso(1)]: 2, [iso(2)]: 1 });
      const epochMs = await run(
        "SELECT epoch_ms(bucket) AS bucket, avg(length(event))::DECIMAL(8,2) AS value FROM events WHERE event = 'Signed Up' GROUP BY 1",
      );
      assert.deepEqual(byBucket(epochMs), { [iso(0)]: 9, [iso(1)]: 9, [iso(2)]: 9 });
    });

    test('literals and syntax the parser writes as main.f (lists, structs, EXTRACT, TRIM, LIKE ESCAPE) and PIVOT ... IN', async () => {
      const literals =
        "SELECT bucket, count(*) * [1, 2][1] * {'k': 1}.k AS value, trim(both ' ' FROM country) AS breakdown FROM events WHERE event LIKE 'Signed%' ESCAPE '!' AND extract(year FROM bucket) = 2026 GROUP BY ALL";
      assert.deepEqual(byBucket(await run(literals)), {
        [`${iso(0)} DE`]: 2,
        [`${iso(0)} FR`]: 1,
        [`${iso(1)} DE`]: 2,
        [`${iso(2)} FR`]: 1,
      });
      const pivot =
        "SELECT bucket, \"DE\" AS value FROM (PIVOT (SELECT * FROM events WHERE event = 'Signed Up') ON country IN ('DE', 'FR') USING count(*) GROUP BY bucket)";
      assert.deepEqual(byBucket(await run(pivot)), { [iso(0)]: 2, [iso(1)]: 2, [iso(2)]: 0 });
      await refused(
        'PIVOT events ON country USING count(*) GROUP BY bucket',
        'VIGIL_ERR_METRIC_SQL_INVALID',
        /PIVOT in a metric's SQL must list its values/,
      );
      await refused(
        'SELECT bucket, count(*) AS value, country.lower() AS breakdown FROM events GROUP BY ALL',
        'VIGIL_ERR_METRIC_SQL_FORBIDDEN',
        /function country.lower is not allowed: .* write lower\(x, ...\)/,
      );
    });

    test('a CTE named events reads the project view, not the table', async () => {
      const shadow =
        "WITH events AS (SELECT * FROM events WHERE event = 'Signed Up') SELECT bucket, count(*) AS value FROM events GROUP BY bucket";
      assert.deepEqual(byBucket(await run(shadow)), { [iso(0)]: 3, [iso(1)]: 2, [iso(2)]: 1 });
    });

    test('another project’s rows are invisible: project_id and ip_hash are not columns of the view', async () => {
      assert.deepEqual(await run("SELECT bucket, count(*) AS value FROM events WHERE event = 'Secret Event' GROUP BY bucket"), []);
      assert.deepEqual(byBucket(await run('SELECT bucket, count(DISTINCT event) AS value FROM events GROUP BY bucket')), {
        [iso(0)]: 2,
        [iso(1)]: 2,
        [iso(2)]: 2,
      });
      for (const column of ['project_id', 'ip_hash']) {
        await assert.rejects(
          run(`SELECT bucket, count(*) AS value FROM events WHERE ${column} IS NOT NULL GROUP BY bucket`),
          (err: VigilError) =>
            err.code === 'VIGIL_ERR_METRIC_SQL_INVALID' && err.status === 400 && new RegExp(`"${column}" not found`).test(err.message),
        );
      }
      assert.deepEqual(await storedState(), initial);
    });
  });

  describe('statements other than one SELECT are refused', () => {
    const cases: [string, RegExp][] = [
      ['SELECT 1 AS bucket, 1 AS value; DROP TABLE events', /single SELECT statement may run, not DROP/],
      ['SELECT 1 AS bucket, 1 AS value; SELECT 2 AS bucket, 2 AS value', /2 statements; exactly one SELECT/],
      ['DROP TABLE events', /not DROP/],
      ['DELETE FROM events', /not DELETE/],
      ['INSERT INTO events SELECT * FROM events', /not INSERT/],
      ['CREATE TABLE stolen AS SELECT * FROM events', /not CREATE/],
      ["UPDATE events SET event = 'x'", /not UPDATE/],
      ['PRAGMA database_list', /not PRAGMA/],
      ["ATTACH '/tmp/vigil-attack.db' AS x", /not ATTACH/],
      ["COPY events TO '/tmp/vigil-attack.csv'", /not COPY/],
      ["EXPORT DATABASE '/tmp/vigil-attack'", /not EXPORT/],
      ['INSTALL httpfs', /not INSTALL/],
      ['LOAD httpfs', /not LOAD/],
      ['SET threads=1', /not SET/],
      ['CALL duckdb_tables()', /not CALL/],
      ['SELECT 1 AS bucket, 1 AS value; /* */ DROP TABLE events', /not DROP/],
    ];
    for (const [sql, reason] of cases) test(sql, () => refused(sql, 'VIGIL_ERR_METRIC_SQL_FORBIDDEN', reason));

    test('empty, comment-only, too long, or not parseable: invalid', async () => {
      await refused('  ', 'VIGIL_ERR_METRIC_SQL_INVALID', /empty/);
      await refused('-- nothing', 'VIGIL_ERR_METRIC_SQL_INVALID', /no statement/);
      await refused(`${GOOD} ${'-'.repeat(20_000)}`, 'VIGIL_ERR_METRIC_SQL_INVALID', /at most 20000/);
      await refused('SELEC bucket FROM events', 'VIGIL_ERR_METRIC_SQL_INVALID', /does not parse: syntax error at or near "SELEC"/);
      await refused('SELECT 1 AS bucket, 1 AS value /*', 'VIGIL_ERR_METRIC_SQL_INVALID', /unterminated \/\* comment/);
      // closing the wrapper's parenthesis early does not parse on its own
      await refused(
        'SELECT 1 AS bucket, 1 AS value) AS x; DROP TABLE events; SELECT * FROM (SELECT 1',
        'VIGIL_ERR_METRIC_SQL_INVALID',
        /syntax error/,
      );
    });
  });

  describe('reading anything but the events view is refused', () => {
    const cases: [string, RegExp][] = [
      ["SELECT * FROM read_csv('/etc/passwd')", /table function read_csv is not allowed/],
      ["SELECT now() AS bucket, length(content) AS value FROM read_text('/etc/passwd')", /table function read_text is not allowed/],
      ["SELECT * FROM glob('*')", /table function glob is not allowed/],
      ['SELECT * FROM range(10)', /table function range is not allowed/],
      ["SELECT * FROM query('SELECT * FROM main.events')", /table function query is not allowed/],
      ['SELECT bucket, count(*) AS value FROM events, duckdb_tables() GROUP BY bucket', /table function duckdb_tables is not allowed/],
      ["SELECT bucket, current_setting('threads') AS value FROM events", /function current_setting is not allowed/],
      [
        "SELECT bucket, count(*) AS value FROM events WHERE event = getvariable('x') GROUP BY bucket",
        /function getvariable is not allowed/,
      ],
      [
        "SELECT bucket, sum(length(x)) OVER (PARTITION BY read_blob('/etc/passwd')) AS value FROM events",
        /function read_blob is not allowed/,
      ],
      ['SELECT bucket, main.abs(1) AS value FROM events', /function main.abs is not allowed/],
      [
        'SELECT bucket, count(*) AS value FROM main.events GROUP BY bucket',
        /table "main.events" is not allowed: a metric's SQL may read only the "events" view/,
      ],
      ['SELECT bucket, count(*) AS value FROM memory.main.events GROUP BY bucket', /table "memory.main.events" is not allowed/],
      ['SELECT now() AS bucket, count(*) AS value FROM loaded_segments', /table "loaded_segments" is not allowed/],
      ['SELECT now() AS bucket, count(*) AS value FROM users', /table "users" is not allowed/],
      ['SELECT now() AS bucket, count(*) AS value FROM information_schema.tables', /table "information_schema.tables" is not allowed/],
      ["SELECT * FROM '/etc/passwd'", /table "\/etc\/passwd" is not allowed/],
      ['SHOW TABLES', /SHOW, DESCRIBE and SUMMARIZE are not allowed/],
      ['DESCRIBE users', /SHOW, DESCRIBE and SUMMARIZE are not allowed/],
      // nested: subqueries, set operations, joins, lateral, expressions
      ['SELECT bucket, (SELECT count(*) FROM users) AS value FROM events', /table "users" is not allowed/],
      [
        'SELECT bucket, 1 AS value FROM events WHERE EXISTS (SELECT 1 FROM (SELECT * FROM loaded_segments) s)',
        /table "loaded_segments" is not allowed/,
      ],
      ['SELECT bucket, 1 AS value FROM events UNION ALL SELECT first_seen, 1 FROM users', /table "users" is not allowed/],
      ['SELECT e.bucket, count(*) AS value FROM events e JOIN users u ON true GROUP BY 1', /table "users" is not allowed/],
      // CTE names bind only where DuckDB binds them: elsewhere the same name is the real table
      [
        "WITH a AS (SELECT * FROM users), users AS (SELECT 'x' AS traits) SELECT now() AS bucket, count(*) AS value FROM a",
        /table "users" is not allowed/,
      ],
      [
        'SELECT now() AS bucket, count(*) AS value FROM (WITH users AS (SELECT 1 AS n) SELECT * FROM users) t, users',
        /table "users" is not allowed/,
      ],
      ['WITH users AS (SELECT * FROM users) SELECT now() AS bucket, count(*) AS value FROM users', /table "users" is not allowed/],
      [
        'WITH RECURSIVE users AS (SELECT * FROM users UNION ALL SELECT * FROM users WHERE false) SELECT now() AS bucket, count(*) AS value FROM users',
        /table "users" is not allowed/,
      ],
    ];
    for (const [sql, reason] of cases) test(sql, () => refused(sql, 'VIGIL_ERR_METRIC_SQL_FORBIDDEN', reason));

    test('a recursive CTE may read itself on its recursive side', async () => {
      const sql =
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3) SELECT bucket, count(*) AS value FROM events, n WHERE event = 'Signed Up' GROUP BY bucket";
      assert.deepEqual(byBucket(await run(sql)), { [iso(0)]: 9, [iso(1)]: 6, [iso(2)]: 3 });
    });
  });

  describe('functions not on the allowlist are refused, naming the function', () => {
    const cases: [string, string][] = [
      // statistics of the base table's column: another project's user ids and event names
      ['SELECT bucket, count(*) AS value, stats(user_id) AS breakdown FROM events GROUP BY ALL', 'stats'],
      // built-in macros that run table functions, and the wrapped statement with the project id
      ["SELECT now() AS bucket, 1 AS value, get_block_size('memory')::VARCHAR AS breakdown", 'get_block_size'],
      ['SELECT now() AS bucket, 1 AS value, format_type(16, 1) AS breakdown', 'format_type'],
      ['SELECT now() AS bucket, 1 AS value, pg_get_viewdef(1) AS breakdown', 'pg_get_viewdef'],
      ['SELECT now() AS bucket, 1 AS value, pg_get_constraintdef(1) AS breakdown', 'pg_get_constraintdef'],
      ['SELECT now() AS bucket, 1 AS value, current_query() AS breakdown', 'current_query'],
      ["SELECT now() AS bucket, 1 AS value, current_setting('memory_limit') AS breakdown", 'current_setting'],
      ['SELECT now() AS bucket, 1 AS value, version() AS breakdown', 'version'],
      // DuckDB's names are case-insensitive, and its parser writes them in lower case
      ['SELECT now() AS bucket, 1 AS value, CURRENT_QUERY() AS breakdown', 'current_query'],
    ];
    for (const [sql, name] of cases)
      test(sql, () =>
        refused(
          sql,
          'VIGIL_ERR_METRIC_SQL_FORBIDDEN',
          new RegExp(`function ${name} is not allowed: it is not on the list of functions a metric's SQL may call`),
        ),
      );

    test('every name on the allowlist is a function this DuckDB knows', async () => {
      // unnest: the parser writes `x = ANY (list)` with it; DuckDB lists it as a table function
      const known = new Set([
        'unnest',
        ...(
          await store.rawQuery(
            "SELECT DISTINCT function_name AS name FROM duckdb_functions() WHERE function_type IN ('scalar', 'aggregate', 'macro')",
          )
        ).map((r) => String(r.name).toLowerCase()),
      ]);
      assert.deepEqual(
        [...ALLOWED_FUNCTIONS].filter((f) => !known.has(f)),
        [],
      );
    });

    test('metric SQL a reasonable author writes still runs: math, strings, regexps, dates, JSON, lists, quantiles, windows', async () => {
      const sql = `SELECT bucket, breakdown, value FROM (
        SELECT bucket, upper(coalesce(country, '?')) || '-' || regexp_replace(lower(event), '[^a-z]', '', 'g') AS breakdown,
          round(ln(exp(count(*)))) + quantile_cont(epoch(timestamp), 0.5) * 0 + approx_count_distinct(user_id) * 0 + list_sum([1, 2]) * 0
            + coalesce(max(json_extract_string(properties, '$.missing')::INT), 0) + date_diff('hour', date_trunc('hour', min(timestamp)), max(bucket)) AS value,
          row_number() OVER (PARTITION BY bucket ORDER BY count(*) DESC) AS rank_in_bucket
        FROM events WHERE event = 'Signed Up' AND strftime(bucket, '%Y') = '2026' GROUP BY 1, 2) WHERE rank_in_bucket <= 1`;
      assert.deepEqual(byBucket(await run(sql)), {
        [`${iso(0)} DE-signedup`]: 2,
        [`${iso(1)} DE-signedup`]: 2,
        [`${iso(2)} FR-signedup`]: 1,
      });
    });
  });

  describe('the copy of the window is the boundary: what the SQL runs over holds one project’s rows only', () => {
    test('stats() past the guard sees only this project’s user ids and event names', async () => {
      const instance = await DuckDBInstance.create(':memory:');
      const c = await instance.connect();
      try {
        await c.run(EVENTS_DDL);
        await c.run(segmentLoadSql(path.join(dir, 'seg-1.ndjson')).insertEvents);
        const q = userSqlQuery(
          "SELECT bucket, 1 AS value, stats(user_id) || stats(event) AS breakdown FROM events WHERE event = 'Signed Up' GROUP BY ALL",
        );
        const [row] = await runCheckedUserSql(c, q, { columns: ['user_id', 'event'] });
        assert.match(row.breakdown ?? '', /\[Min: u1, Max: u1/);
        assert.doesNotMatch(row.breakdown ?? '', /u-secret|Secret/);
      } finally {
        c.closeSync();
        instance.closeSync();
      }
    });

    test('the guard lists the view columns the text names: all of them for a star', async () => {
      const columns = async (sql: string) =>
        (
          await checkUserSql(
            async (text) => (await store.rawQuery('SELECT json_serialize_sql($1::VARCHAR) AS ast', [text]))[0].ast as string,
            sql,
          )
        ).columns;
      assert.deepEqual(await columns(GOOD), ['event']);
      assert.deepEqual(
        await columns('SELECT e.bucket, count(DISTINCT e.session_id) AS value FROM events e JOIN events f USING (user_id) GROUP BY 1'),
        ['user_id', 'session_id'],
      );
      assert.equal((await columns('SELECT bucket, count(*) AS value FROM (SELECT * FROM events) GROUP BY 1')).length, 18);
      assert.equal((await columns("PIVOT events ON country IN ('DE') USING count(*) GROUP BY bucket")).length, 18);
      assert.equal((await columns('SELECT e.bucket, count(DISTINCT to_json(e)) AS value FROM events e GROUP BY 1')).length, 18);
    });
  });

  describe('comment tricks run harmlessly', () => {
    test('a trailing line comment does not swallow the closing parenthesis', async () => {
      assert.deepEqual(byBucket(await run(`${GOOD} -- )`)), { [iso(0)]: 3, [iso(1)]: 2, [iso(2)]: 1 });
      assert.deepEqual(byBucket(await run(`${GOOD} --`)), { [iso(0)]: 3, [iso(1)]: 2, [iso(2)]: 1 });
    });
    test('a statement inside a block comment stays a comment', async () => {
      assert.deepEqual(
        byBucket(
          await run("SELECT bucket, count(*) AS value FROM events /* ; DROP TABLE events; */ WHERE event = 'Signed Up' GROUP BY bucket"),
        ),
        { [iso(0)]: 3, [iso(1)]: 2, [iso(2)]: 1 },
      );
      assert.deepEqual(await storedState(), initial);
    });
  });

  describe('limits', () => {
    test('a runaway query is stopped at its time limit and the store answers afterwards', async () => {
      const started = Date.now();
      await assert.rejects(
        run('SELECT a.bucket AS bucket, count(*) AS value FROM events a, events b, events c, events d GROUP BY 1', { timeoutMs: 300 }),
        (err: unknown) => {
          assert.ok(err instanceof VigilError);
          assert.equal(err.code, 'VIGIL_ERR_METRIC_SQL_TIMEOUT');
          assert.equal(err.status, 400);
          assert.match(err.message, /limit of 300 ms/);
          return true;
        },
      );
      assert.ok(Date.now() - started < 2500, `stopped after ${Date.now() - started} ms`);
      assert.deepEqual(byBucket(await run(GOOD)), { [iso(0)]: 3, [iso(1)]: 2, [iso(2)]: 1 });
    });

    test('more rows than maxRows: too many rows; exactly maxRows is fine', async () => {
      const tenRows = 'SELECT timestamp AS bucket, 1 AS value FROM events ORDER BY timestamp LIMIT 10';
      await assert.rejects(run(tenRows, { maxRows: 5 }), (err: unknown) => {
        assert.ok(err instanceof VigilError);
        assert.equal(err.code, 'VIGIL_ERR_METRIC_SQL_TOO_MANY_ROWS');
        assert.match(err.message, /more than 5 rows; aggregate to one row per bucket \(and breakdown\)/);
        return true;
      });
      assert.equal((await run(tenRows, { maxRows: 10 })).length, 10);
    });

    test('a value over 4096 bytes, or a result over 8 MB, is refused inside the engine with a 400', async () => {
      const started = Date.now();
      const tooLarge = (sql: string, reason: RegExp) =>
        expectRefusals(sql, [() => run(sql, { maxRows: 100_000 })], 'VIGIL_ERR_METRIC_SQL_TOO_LARGE', reason);
      await tooLarge(
        "SELECT bucket, count(*) AS value, repeat('x', 33554432) AS breakdown FROM events GROUP BY ALL",
        /a value in the metric's SQL result is longer than 4096 bytes; return numbers and short breakdown keys/,
      );
      assert.ok(Date.now() - started < 5000, `refused after ${Date.now() - started} ms`);
      // 306 rows x 10 of 4,000 bytes each: 12 MB
      await tooLarge(
        "SELECT bucket, 1 AS value, repeat('y', 4000) || x AS breakdown FROM events, (SELECT unnest(range(10)) AS x)",
        /the metric's SQL result is larger than 8 MB/,
      );
      assert.equal(
        (
          await run(
            "SELECT bucket, 1 AS value, repeat('y', 4000) || x AS breakdown FROM events, (SELECT unnest(range(2)) AS x) WHERE event = 'Signed Up'",
          )
        ).length,
        12,
      );
    });

    test('a missing value column is named, with the columns returned', async () => {
      await assert.rejects(run('SELECT bucket, count(*) AS n FROM events GROUP BY bucket'), (err: unknown) => {
        assert.ok(err instanceof VigilError);
        assert.equal(err.code, 'VIGIL_ERR_METRIC_SQL_INVALID');
        assert.match(
          err.message,
          /returned the columns bucket, n; it must return bucket and value \(and optionally breakdown and samples\): value missing/,
        );
        return true;
      });
    });
  });
});

describe('checkUserSql walks every node of the AST', () => {
  const check = (ast: unknown) => checkUserSql(async () => JSON.stringify(ast), 'SELECT 1');
  const select = (extra: Record<string, unknown>) => ({
    error: false,
    statements: [{ node: { type: 'SELECT_NODE', cte_map: { map: [] }, ...extra } }],
  });

  test('a table or function under a key it does not know is still found', async () => {
    await assert.rejects(
      check(select({ some_future_key: [{ deeper: { type: 'BASE_TABLE', schema_name: '', catalog_name: '', table_name: 'users' } }] })),
      /table "users" is not allowed/,
    );
    await assert.rejects(
      check(select({ some_future_key: { type: 'TABLE_FUNCTION', function: { class: 'FUNCTION', function_name: 'anything' } } })),
      /table function anything is not allowed/,
    );
    await assert.rejects(
      check(select({ x: { class: 'FUNCTION', function_name: 'sniff_csv', schema: '', catalog: '' } })),
      /function sniff_csv is not allowed/,
    );
    await assert.rejects(
      check(select({ x: { class: 'FUNCTION', function_name: 'abs', schema: '', catalog: 'other' } })),
      /function other.abs is not allowed/,
    );
    await check(
      select({
        x: { class: 'FUNCTION', function_name: 'abs', schema: '', catalog: '' },
        from_table: { type: 'BASE_TABLE', table_name: 'EVENTS' },
      }),
    );
  });

  test('a parser error other than a non-SELECT statement is invalid, with DuckDB’s words', async () => {
    await assert.rejects(
      check({ error: true, error_type: 'parser', error_message: 'syntax error at or near "x"', position: '3' }),
      (err: unknown) => {
        assert.ok(err instanceof VigilError);
        assert.equal(err.code, 'VIGIL_ERR_METRIC_SQL_INVALID');
        assert.deepEqual(err.details, { duckdb: 'syntax error at or near "x"', position: '3' });
        return true;
      },
    );
  });
});

describe('userSqlStatements and toUserSqlRows', () => {
  const q: UserSqlQuery = {
    projectId: 3,
    sql: 'SELECT bucket, 1 AS value FROM events -- note;\n;; \n',
    fromMs: 0,
    toMs: HOUR,
    grainMs: HOUR,
    timeoutMs: 1000,
    maxRows: 50,
  };

  test('the copy holds one project’s window and the columns named; the user text sits on its own lines over it', () => {
    const { copy, query, drop } = userSqlStatements(q, { columns: ['event', 'country'] });
    assert.match(
      copy,
      /^CREATE OR REPLACE TEMP TABLE vigil_user_sql_events AS\nSELECT event, country, make_timestamp\(\(epoch_ms\(timestamp\) \/\/ 3600000 \* 3600000\) \* 1000\) AS bucket\nFROM main\.events WHERE project_id = 3 AND /,
    );
    assert.match(query, /^WITH events AS \(SELECT \* FROM temp\.main\.vigil_user_sql_events\)\n/);
    assert.ok(
      query.includes('FROM (SELECT * FROM (\nSELECT bucket, 1 AS value FROM events -- note\n) AS user_query LIMIT 51) AS user_query\n'),
      query,
    );
    assert.doesNotMatch(query, /project_id|main\.events/);
    assert.equal(drop, 'DROP TABLE IF EXISTS temp.main.vigil_user_sql_events');
  });

  test('buckets: timestamps as UTC (or with their offset), dates, epoch ms as numbers or strings', () => {
    const rows = toUserSqlRows(
      [
        { bucket: '2026-01-01 10:00:00', value: 1 },
        { bucket: '2026-01-01 10:00:00.5', value: '2' },
        { bucket: '2026-01-01 12:00:00+02', value: '12345678901234' },
        { bucket: '2026-01-02', value: '1.25' },
        { bucket: 1767261600000, value: 'NaN' },
        { bucket: '1767261600000', value: null },
      ],
      10,
    );
    assert.deepEqual(
      rows.map((r) => r.bucketMs),
      [
        Date.parse('2026-01-01T10:00:00Z'),
        Date.parse('2026-01-01T10:00:00.500Z'),
        Date.parse('2026-01-01T10:00:00Z'),
        Date.parse('2026-01-02T00:00:00Z'),
        1767261600000,
        1767261600000,
      ],
    );
    assert.deepEqual(
      rows.map((r) => r.value),
      [1, 2, 12345678901234, 1.25, null, null],
    );
    assert.ok(rows.every((r) => r.breakdown === null));
  });

  test('breakdowns become text; a bad bucket or value names its row', () => {
    assert.deepEqual(
      toUserSqlRows(
        [
          { Bucket: 0, VALUE: 1, breakdown: 7 },
          { Bucket: 0, VALUE: 1, breakdown: null },
        ],
        2,
      ).map((r) => r.breakdown),
      ['7', null],
    );
    assert.throws(
      () =>
        toUserSqlRows(
          [
            { bucket: 0, value: 1 },
            { bucket: null, value: 1 },
          ],
          5,
        ),
      /row 2 of the metric's SQL has bucket null/,
    );
    assert.throws(() => toUserSqlRows([{ bucket: 'infinity', value: 1 }], 5), /row 1 .* bucket "infinity"/);
    assert.throws(() => toUserSqlRows([{ bucket: 0, value: 'abc' }], 5), /row 1 .* value "abc"; a value must be a number or null/);
    assert.throws(() => toUserSqlRows([{ bucket: '1e400', value: 1 }], 5), /row 1 .* bucket "1e400"/);
    assert.throws(
      () => toUserSqlRows([{ bucket: 0, value: 'x'.repeat(100_000) }], 5),
      (err: Error) => err.message.length < 300 && /value "x+\.\.\./.test(err.message),
    );
    assert.throws(() => toUserSqlRows([{ value: 1 }], 5), /returned the columns value; .*: bucket missing/);
    assert.deepEqual(toUserSqlRows([], 5), []);
  });
});
