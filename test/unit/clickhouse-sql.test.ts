/**
 * The ClickHouse store's SQL without a server: the escape function's rules, the SQL of the main
 * reads and of the cluster DDL snapshotted (UPDATE_SNAPSHOTS=1 records them again), and the
 * user-SQL guard's token check. test/integration/clickhouse-*.test.ts run it all on a server.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { chIdent, chInt, chNum, chString } from '../../src/storage/events/clickhouse-escape.js';
import {
  eventCountsSql,
  eventsDdl,
  latenessSql,
  listEventsSql,
  schemaProfileSql,
  timeseriesSql,
  topEventsSql,
  totalsSql,
  valueSharesSql,
} from '../../src/storage/events/clickhouse-sql.js';
import { metricScanSql } from '../../src/storage/events/clickhouse-metric-sql.js';
import { checkClickHouseUserSql, clickHouseUserSqlStatement, tokenize } from '../../src/storage/events/clickhouse-user-sql.js';
import { clickhouseDdl, parseClickHouseUrl } from '../../src/storage/events/clickhouse-schema.js';
import { toStoredRow } from '../../src/storage/events/clickhouse-load.js';
import type { MetricScanQuery } from '../../src/storage/events/event-store.js';
import { VigilError } from '../../src/errors.js';
import { SnapshotFile } from '../helpers/snapshot.js';
import { BERLIN_SPANS, DAY, FROM, HOUR, TO, base } from '../helpers/sql-fixture.js';

const snapshots = new SnapshotFile(fileURLToPath(new URL('./__snapshots__/clickhouse-sql.snap.txt', import.meta.url)));

describe('chString, chInt, chNum, chIdent', () => {
  test('quotes, backslashes and control characters are escaped; everything else is kept', () => {
    assert.equal(chString(''), "''");
    assert.equal(chString("it's"), "'it\\'s'");
    assert.equal(chString('a\\b'), "'a\\\\b'");
    assert.equal(chString("\\'"), "'\\\\\\''");
    assert.equal(chString('\0\n\r\t\x1b\x7f'), "'\\x00\\x0a\\x0d\\x09\\x1b\\x7f'");
    assert.equal(chString('é中😀"`?$1{x}'), "'é中😀\"`?$1{x}'");
  });

  test('a lone surrogate becomes U+FFFD (what UTF-8 encoding would send anyway); a pair is kept', () => {
    assert.equal(chString('a\ud800b'), "'a\ufffdb'");
    assert.equal(chString('\udc00'), "'\ufffd'");
    assert.equal(chString('\ud83d\ude00'), "'😀'");
    assert.equal(chString('\ud83d'), "'\ufffd'");
  });

  test('no output has an unescaped quote, whatever the input', () => {
    for (let i = 0; i < 2000; i++) {
      const s = Array.from({ length: 12 }, () => String.fromCharCode(Math.floor(Math.random() * 0x80))).join('');
      const inner = chString(s).slice(1, -1);
      // every quote is preceded by an odd run of backslashes
      for (const m of inner.matchAll(/(\\*)'/g)) assert.equal(m[1].length % 2, 1, JSON.stringify(s));
      assert.ok(!/[\x00-\x1f\x7f]/.test(inner), JSON.stringify(s));
    }
  });

  test('numbers and names are checked, never escaped', () => {
    assert.equal(chInt(42), '42');
    assert.equal(chInt(-1), '-1');
    for (const bad of [1.5, NaN, Infinity, 2 ** 53]) assert.throws(() => chInt(bad), RangeError);
    assert.equal(chNum(1.5), 'toFloat64(1.5)');
    assert.equal(chNum(-1e-7), 'toFloat64(-1e-7)');
    for (const bad of [NaN, Infinity, -Infinity]) assert.throws(() => chNum(bad), RangeError);
    assert.throws(() => chNum('1; DROP' as unknown as number), RangeError);
    assert.equal(chIdent('vigil_2'), '`vigil_2`');
    for (const bad of ['', '1x', 'a-b', 'a`b', 'a b', 'db.t', 'x;']) assert.throws(() => chIdent(bad), RangeError);
  });

  test('a clickhouse:// URL gives the HTTP endpoint, credentials and a checked database name', () => {
    assert.deepEqual(parseClickHouseUrl('clickhouse://u:p%40ss@ch.internal:8123/analytics'), {
      httpUrl: 'http://ch.internal:8123',
      username: 'u',
      password: 'p@ss',
      database: 'analytics',
    });
    assert.equal(parseClickHouseUrl('clickhouses://ch:8443/x').httpUrl, 'https://ch:8443');
    assert.equal(parseClickHouseUrl('clickhouse://ch:8123').database, 'vigil');
    assert.throws(() => parseClickHouseUrl('clickhouse://ch:8123/a-b'), /not a valid ClickHouse name/);
  });
});

describe('a stored row', () => {
  test('keeps the top-level properties as keys, JSON types and values as text (as DuckDB json_extract_string gives them)', () => {
    const row = toStoredRow(
      {
        project_id: 1,
        message_id: 'm',
        type: 'track',
        event: null,
        anonymous_id: null,
        user_id: null,
        distinct_id: 'd',
        session_id: null,
        timestamp: 1,
        received_at: 2,
        properties: { s: 'x', n: 1.5, b: true, z: null, o: { a: [1] }, a: [1, 'x'] },
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
      },
      'seg',
    );
    assert.equal(row.event, '');
    assert.deepEqual(row.prop_keys, ['s', 'n', 'b', 'z', 'o', 'a']);
    assert.deepEqual(row.prop_types, ['string', 'number', 'boolean', 'null', 'object', 'array']);
    assert.deepEqual(row.prop_values, ['x', '1.5', 'true', null, '{"a":[1]}', '[1,"x"]']);
    assert.equal(row.segment_id, 'seg');
  });
});

describe('SQL snapshots of the main reads (ClickHouse)', () => {
  after(() => snapshots.save());
  const scan: MetricScanQuery = {
    projectId: 7,
    fromMs: FROM,
    toMs: TO,
    grainMs: DAY,
    localOffsets: BERLIN_SPANS,
    columns: [
      {
        event: 'Order Completed',
        filters: [{ dimension: { property: 'plan' }, op: 'in', value: ['pro', "o'brien"] }],
        aggregate: { fn: 'events' },
      },
      { event: 'Order Completed', filters: [], aggregate: { fn: 'p90', of: { property: 'amount' } } },
      { filters: [{ dimension: { column: 'country' }, op: 'neq', value: 'DE' }], aggregate: { fn: 'users' } },
    ],
    breakdowns: [{ column: 'country' }],
  };
  const cases: [string, string][] = [
    ['timeseries: all events, hourly UTC grain', timeseriesSql(base)],
    [
      'timeseries: distinct users by a property, local days across a DST change',
      timeseriesSql({
        ...base,
        grainMs: DAY,
        localOffsets: BERLIN_SPANS,
        measure: 'users',
        breakdown: { property: 'plan' },
        event: 'Signed Up',
        limit: 3,
      }),
    ],
    ['totals', totalsSql(base)],
    ['top events', topEventsSql({ ...base, limit: 5 })],
    [
      'list events after a cursor',
      listEventsSql({ projectId: 7, userId: "o'brien", before: { timestamp: FROM, messageId: 'm-1' }, limit: 50 }),
    ],
    ['event counts, local weeks', eventCountsSql({ ...base, grainMs: 7 * DAY, localOffsets: BERLIN_SPANS, limit: 20 })],
    ['lateness of the events received in a day', latenessSql({ projectId: 7, sinceMs: 1_700_000_000_000 })],
    ['value shares', Object.values(valueSharesSql({ ...base, event: 'Signed Up', property: 'plan', limit: 5 })).join('\n;\n')],
    ['schema profile: keys', schemaProfileSql.keys({ ...base, maxEvents: 10, maxProperties: 5, maxValues: 20 }, ['Signed Up'])],
    ['metric scan: filters, p90, users, a breakdown, local days', metricScanSql(scan)],
    [
      'metric scan: the "other" of a breakdown',
      metricScanSql({
        ...scan,
        breakdowns: [],
        columns: [
          { ...scan.columns[2], exclude: { dimension: { column: 'country' }, slots: [{ slotMs: FROM + HOUR, keys: ['DE', 'FR'] }] } },
        ],
      }),
    ],
    ['ddl: single server', eventsDdl('vigil').join(';\n')],
    ['ddl: cluster', clickhouseDdl({ clickhouseUrl: 'clickhouse://ch:8123/vigil', eventsCluster: 'analytics' }).join(';\n')],
  ];
  for (const [name, sql] of cases) test(name, () => snapshots.check(name, sql));

  test('no migration without a ClickHouse URL', () => assert.deepEqual(clickhouseDdl({}), []));
});

describe('the user-SQL guard (tokens only)', () => {
  const refused = (sql: string, code: string, reason: RegExp) =>
    assert.throws(
      () => checkClickHouseUserSql(sql),
      (err: unknown) => err instanceof VigilError && err.status === 400 && err.code === code && reason.test(err.message),
      sql,
    );

  test('strings, quoted names and comments are single tokens', () => {
    assert.deepEqual(
      tokenize("SELECT 'a''b\\'c' -- x FROM users\n, \"q\"\"n\", `b`/* FROM users */").map((t) => [t.kind, t.text]),
      [
        ['word', 'SELECT'],
        ['string', "a'b'c"],
        ['punct', ','],
        ['quoted', 'q"n'],
        ['punct', ','],
        ['quoted', 'b'],
      ],
    );
  });

  test('events in each FROM and JOIN becomes the project view, with or without an alias', () => {
    const q = { projectId: 3, sql: '', fromMs: 0, toMs: HOUR, grainMs: HOUR, timeoutMs: 1000, maxRows: 50 };
    const sql =
      "SELECT bucket, count() AS value FROM events WHERE event IN (SELECT event FROM events e WHERE e.type = 'track') GROUP BY bucket;;";
    const out = clickHouseUserSqlStatement('vigil', q, checkClickHouseUserSql(sql));
    assert.equal(out.match(/FROM `vigil`\.events WHERE project_id = 3 AND timestamp >= 0 AND timestamp < 3600000/g)?.length, 2);
    assert.match(out, /\) AS events WHERE event IN/);
    assert.match(out, /\)\) e WHERE e\.type = 'track'/);
    assert.match(out, /\) LIMIT 51$/);
    assert.ok(!out.includes(';'));
  });

  test('what is refused, and why', () => {
    refused('', 'VIGIL_ERR_METRIC_SQL_INVALID', /empty/);
    refused(' -- only\n ;', 'VIGIL_ERR_METRIC_SQL_INVALID', /no statement/);
    refused("SELECT 'x", 'VIGIL_ERR_METRIC_SQL_INVALID', /never closed/);
    refused('SELECT 1 AS bucket, 1 AS value; DROP TABLE events', 'VIGIL_ERR_METRIC_SQL_FORBIDDEN', /2 statements/);
    for (const kind of [
      'DROP TABLE events',
      'INSERT INTO events SELECT * FROM events',
      'ALTER TABLE events DELETE WHERE 1',
      'SET readonly = 0',
      'OPTIMIZE TABLE events',
      'SYSTEM SHUTDOWN',
      'KILL QUERY WHERE 1',
      'SHOW TABLES',
      'DESCRIBE events',
      'EXISTS TABLE events',
    ]) {
      refused(kind, 'VIGIL_ERR_METRIC_SQL_FORBIDDEN', new RegExp(`single SELECT statement may run, not ${kind.split(' ')[0]}`));
    }
    refused(
      'SELECT bucket, count() AS value FROM events GROUP BY bucket SETTINGS max_execution_time = 0',
      'VIGIL_ERR_METRIC_SQL_FORBIDDEN',
      /SETTINGS is not allowed/,
    );
    refused(
      'SELECT bucket, count() AS value FROM events GROUP BY bucket FORMAT TSV',
      'VIGIL_ERR_METRIC_SQL_FORBIDDEN',
      /FORMAT is not allowed/,
    );
    refused("SELECT * FROM events INTO OUTFILE '/tmp/x'", 'VIGIL_ERR_METRIC_SQL_FORBIDDEN', /INTO is not allowed/);
    refused('SELECT * FROM system.tables', 'VIGIL_ERR_METRIC_SQL_FORBIDDEN', /table "system.tables" is not allowed/);
    refused('SELECT * FROM vigil.events', 'VIGIL_ERR_METRIC_SQL_FORBIDDEN', /table "vigil.events" is not allowed/);
    refused('SELECT * FROM `vigil`.`events`', 'VIGIL_ERR_METRIC_SQL_FORBIDDEN', /table "vigil.events" is not allowed/);
    refused('SELECT * FROM loaded_segments', 'VIGIL_ERR_METRIC_SQL_FORBIDDEN', /table "loaded_segments" is not allowed/);
    refused('SELECT * FROM events, loaded_segments', 'VIGIL_ERR_METRIC_SQL_FORBIDDEN', /a list of tables/);
    refused('SELECT * FROM events e, loaded_segments', 'VIGIL_ERR_METRIC_SQL_FORBIDDEN', /a list of tables/);
    refused(
      'SELECT * FROM events JOIN loaded_segments USING (x)',
      'VIGIL_ERR_METRIC_SQL_FORBIDDEN',
      /table "loaded_segments" is not allowed/,
    );
    refused(
      'SELECT (SELECT count() FROM system.one) AS value FROM events',
      'VIGIL_ERR_METRIC_SQL_FORBIDDEN',
      /table "system.one" is not allowed/,
    );
    refused(
      'SELECT now() AS bucket, count() AS value FROM events WHERE 1 IN system.one',
      'VIGIL_ERR_METRIC_SQL_FORBIDDEN',
      /SYSTEM is not allowed|"system.one"/,
    );
    refused('SELECT x.y AS value FROM events', 'VIGIL_ERR_METRIC_SQL_FORBIDDEN', /"x.y" is not allowed/);
    for (const fn of [
      'numbers(10)',
      "file('/etc/passwd', 'TSV', 'x String')",
      "url('http://127.0.0.1/', CSV, 'x String')",
      "remote('127.0.0.1', system.one)",
      "merge(currentDatabase(), '.*')",
    ]) {
      refused(`SELECT * FROM ${fn}`, 'VIGIL_ERR_METRIC_SQL_FORBIDDEN', /table "\w+" is not allowed/);
    }
    for (const fn of [
      "dictGetString('d', 'a', toUInt64(1))",
      "joinGet('t', 'a', 1)",
      'currentDatabase()',
      'sleep(3)',
      'hostName()',
      "hasColumnInTable('system', 'one', 'dummy')",
      "getSetting('readonly')",
      'version()',
    ]) {
      refused(`SELECT now() AS bucket, ${fn} AS value FROM events`, 'VIGIL_ERR_METRIC_SQL_FORBIDDEN', /function \w+ is not allowed/);
    }
    refused(
      'SELECT count() AS value FROM events WHERE event GLOBAL IN (SELECT event FROM events)',
      'VIGIL_ERR_METRIC_SQL_FORBIDDEN',
      /GLOBAL is not allowed/,
    );
  });

  test('what is allowed: subqueries, self-joins, ARRAY JOIN, WITH expressions, comments and strings that name tables', () => {
    for (const sql of [
      'SELECT bucket, count() AS value FROM events GROUP BY bucket',
      '(SELECT bucket, count() AS value FROM events GROUP BY bucket)',
      'WITH 2 AS k SELECT bucket, count() * k AS value FROM events GROUP BY bucket',
      "SELECT bucket, count() AS value FROM (SELECT bucket FROM events WHERE event = 'FROM system.tables') GROUP BY bucket",
      'SELECT a.bucket AS bucket, count() AS value FROM events AS a ANY LEFT JOIN (SELECT distinct_id FROM events) b USING distinct_id GROUP BY a.bucket',
      'SELECT bucket, count() AS value FROM events ARRAY JOIN [1, 2] AS x GROUP BY bucket',
      'SELECT bucket, count() AS value /* FROM users */ FROM events -- ; DROP TABLE events\nGROUP BY bucket',
      "SELECT bucket, country AS breakdown, count() AS value FROM events WHERE visitParamExtractString(properties, 'plan') = 'pro' GROUP BY bucket, country",
    ])
      assert.doesNotThrow(() => checkClickHouseUserSql(sql), sql);
  });
});
