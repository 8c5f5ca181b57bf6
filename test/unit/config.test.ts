import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, DEV_SECRET_KEY, ENV_NAMES, loadConfig } from '../../src/config.js';

/** The ConfigError loadConfig throws for `env`, or a failed assertion. */
function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail(`expected ${JSON.stringify(env)} to be refused`);
}

describe('config', () => {
  test('defaults', () => {
    const c = loadConfig({});
    const dataDir = path.resolve('.vigil');
    assert.deepEqual(c, {
      port: 3000,
      host: '0.0.0.0',
      dataDir,
      logLevel: 'info',
      demo: true,
      demoSeed: 42,
      trustProxy: false,
      ingestFlushMs: 1000,
      ingestSegmentBytes: 256 * 1024 * 1024,
      dedupWindowHours: 168,
      queryTimeoutMs: 30_000,
      worker: true,
      schedulerTickMs: 10_000,
      metricsLookbackBuckets: 2,
      metricsBackfillDays: 30,
      metricSqlTimeoutMs: 10_000,
      metricSqlMaxRows: 100_000,
      secretKey: DEV_SECRET_KEY,
      secureCookies: false,
      corsOrigins: [],
      openRegistration: false,
      sessionDays: 7,
      invitationDays: 7,
      signinRateLimit: 20,
      ingestRateLimit: 6000,
      keyFailureRateLimit: 30,
      passwordScryptLogN: 16,
      alertsAllowPrivateUrls: false,
      alertsAllowHttp: true,
      postgresUrl: undefined,
      clickhouseUrl: undefined,
      metaFile: path.join(dataDir, 'meta.sqlite'),
      eventsFile: path.join(dataDir, 'events.duckdb'),
      walDir: path.join(dataDir, 'wal'),
    });
  });

  test('the environment overrides every default', () => {
    const c = loadConfig({
      VIGIL_PORT: '8080',
      VIGIL_HOST: '127.0.0.1',
      VIGIL_DATA_DIR: '/var/lib/vigil',
      VIGIL_LOG_LEVEL: 'debug',
      VIGIL_DEMO: 'false',
      VIGIL_TRUST_PROXY: 'true',
      VIGIL_INGEST_FLUSH_MS: '250',
      VIGIL_INGEST_SEGMENT_BYTES: '1048576',
      VIGIL_DEDUP_WINDOW_HOURS: '24',
      VIGIL_DUCKDB_MEMORY_LIMIT: '2GB',
      VIGIL_DUCKDB_THREADS: '4',
      VIGIL_QUERY_TIMEOUT_MS: '5000',
      VIGIL_DATABASE_URL: 'sqlite:///srv/meta.db',
      VIGIL_EVENTS_URL: 'duckdb:/srv/events.duckdb',
    });
    assert.equal(c.port, 8080);
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.dataDir, '/var/lib/vigil');
    assert.equal(c.logLevel, 'debug');
    assert.equal(c.demo, false);
    assert.equal(c.trustProxy, true);
    assert.equal(c.ingestFlushMs, 250);
    assert.equal(c.ingestSegmentBytes, 1048576);
    assert.equal(c.dedupWindowHours, 24);
    assert.equal(c.duckdbMemoryLimit, '2GB');
    assert.equal(c.duckdbThreads, 4);
    assert.equal(c.queryTimeoutMs, 5000);
    assert.equal(c.metaFile, '/srv/meta.db');
    assert.equal(c.eventsFile, '/srv/events.duckdb');
    assert.equal(c.walDir, '/var/lib/vigil/wal');
  });

  test('every setting has its own VIGIL_* variable', () => {
    const names = Object.values(ENV_NAMES);
    assert.equal(new Set(names).size, names.length);
    assert.ok(names.every((n) => /^VIGIL_[A-Z_]+$/.test(n)));
  });

  test('flags (overrides) win over the environment; an unset or empty value falls through', () => {
    const env = { VIGIL_PORT: '8080', VIGIL_LOG_LEVEL: 'warn', VIGIL_HOST: '' };
    assert.equal(loadConfig(env, { port: '9090' }).port, 9090);
    assert.equal(loadConfig(env, { port: 0 }).port, 0);
    assert.equal(loadConfig(env, { port: undefined }).port, 8080);
    assert.equal(loadConfig(env, { logLevel: undefined }).logLevel, 'warn');
    assert.equal(loadConfig(env).host, '0.0.0.0', 'an empty variable counts as unset');
    assert.equal(loadConfig({ VIGIL_DATA_DIR: 'rel/dir' }).dataDir, path.resolve('rel/dir'));
  });

  for (const port of ['abc', '70000', '-1', '80.5', 'Infinity']) {
    test(`VIGIL_PORT=${port} is refused with a message naming the variable and what it accepts`, () => {
      const err = configError({ VIGIL_PORT: port });
      assert.match(err.message, /VIGIL_PORT/);
      assert.ok(err.message.includes(JSON.stringify(port)), err.message);
      assert.match(err.message, /integer from 0 to 65535/);
    });
  }

  test('a bad flag value is named by its variable too', () => {
    assert.throws(
      () => loadConfig({}, { port: 'http' }),
      (err: Error) => err instanceof ConfigError && /VIGIL_PORT="http"/.test(err.message),
    );
  });

  test('a bad log level lists the levels', () => {
    const err = configError({ VIGIL_LOG_LEVEL: 'loud' });
    assert.match(err.message, /VIGIL_LOG_LEVEL="loud"/);
    for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) assert.ok(err.message.includes(level), level);
  });

  test('other bad values name their variable and what is accepted', () => {
    const cases: [NodeJS.ProcessEnv, RegExp][] = [
      [{ VIGIL_DEMO: 'yes' }, /VIGIL_DEMO="yes".*'true' \| 'false'/],
      [{ VIGIL_TRUST_PROXY: '1' }, /VIGIL_TRUST_PROXY="1".*'true' \| 'false'/],
      [{ VIGIL_INGEST_FLUSH_MS: '5' }, /VIGIL_INGEST_FLUSH_MS="5".*integer from 10 to 60000/],
      [{ VIGIL_INGEST_SEGMENT_BYTES: '1000' }, /VIGIL_INGEST_SEGMENT_BYTES="1000".*integer of at least 65536/],
      [{ VIGIL_DEDUP_WINDOW_HOURS: '0' }, /VIGIL_DEDUP_WINDOW_HOURS="0".*integer from 1 to 2160/],
      [{ VIGIL_DUCKDB_MEMORY_LIMIT: 'lots' }, /VIGIL_DUCKDB_MEMORY_LIMIT="lots".*a size such as 2GB/],
      [{ VIGIL_DUCKDB_THREADS: '0' }, /VIGIL_DUCKDB_THREADS="0".*integer from 1 to 256/],
      [{ VIGIL_QUERY_TIMEOUT_MS: 'soon' }, /VIGIL_QUERY_TIMEOUT_MS="soon".*integer of at least 100/],
    ];
    for (const [env, pattern] of cases) assert.match(configError(env).message, pattern);
  });

  test('several bad values are all reported at once', () => {
    const err = configError({ VIGIL_PORT: 'abc', VIGIL_LOG_LEVEL: 'loud', VIGIL_DEMO: 'maybe' });
    assert.match(err.message, /VIGIL_PORT/);
    assert.match(err.message, /VIGIL_LOG_LEVEL/);
    assert.match(err.message, /VIGIL_DEMO/);
  });

  test('a PostgreSQL or ClickHouse URL selects the scaled stores', () => {
    const c = loadConfig({
      VIGIL_DATABASE_URL: 'postgres://vigil@db:5432/vigil',
      VIGIL_EVENTS_URL: 'clickhouse://ch:8123/vigil',
      VIGIL_EVENTS_CLUSTER: 'events',
    });
    assert.equal(c.postgresUrl, 'postgres://vigil@db:5432/vigil');
    assert.equal(c.clickhouseUrl, 'clickhouse://ch:8123/vigil');
    assert.equal(c.eventsCluster, 'events');
    const embedded = loadConfig({});
    assert.equal(embedded.postgresUrl, undefined);
    assert.equal(embedded.clickhouseUrl, undefined);
    assert.match(configError({ VIGIL_EVENTS_CLUSTER: 'a-b;' }).message, /VIGIL_EVENTS_CLUSTER/);
  });

  test('a password in a refused URL is not repeated in the message', () => {
    const err = configError({ VIGIL_DATABASE_URL: 'mysql://vigil:s3cret-pw@db:5432/vigil' });
    assert.ok(!err.message.includes('s3cret-pw'), err.message);
    assert.match(err.message, /VIGIL_DATABASE_URL/);
  });

  test('each store URL takes its own engine: metadata sqlite: or postgres://, events duckdb: or clickhouse://', () => {
    assert.match(configError({ VIGIL_DATABASE_URL: 'duckdb:/srv/meta.duckdb' }).message, /VIGIL_DATABASE_URL.*sqlite:/);
    assert.match(configError({ VIGIL_EVENTS_URL: 'sqlite:/srv/events.sqlite' }).message, /VIGIL_EVENTS_URL.*duckdb:/);
    assert.match(configError({ VIGIL_EVENTS_URL: 'duckdb:' }).message, /VIGIL_EVENTS_URL/);
    assert.match(configError({ VIGIL_DATABASE_URL: 'sqlite://' }).message, /VIGIL_DATABASE_URL/);
    assert.equal(loadConfig({ VIGIL_DATABASE_URL: 'sqlite:meta.db' }).metaFile, path.resolve('meta.db'));
  });
});

describe('config: production mode (NODE_ENV=production)', () => {
  const SECRET = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6-very-secret';
  const good = {
    NODE_ENV: 'production',
    VIGIL_SECRET_KEY: SECRET,
    VIGIL_SECURE_COOKIES: 'true',
    VIGIL_CORS_ORIGINS: 'https://app.example.com',
  };

  test('a good production config starts', () => {
    const c = loadConfig(good);
    assert.equal(c.secretKey, SECRET);
    assert.equal(c.secureCookies, true);
    assert.deepEqual(c.corsOrigins, ['https://app.example.com']);
    assert.deepEqual(loadConfig({ ...good, VIGIL_CORS_ORIGINS: undefined }).corsOrigins, [], 'no cross-origin callers at all is fine');
  });

  test('alerts go out over https only in production, unless VIGIL_ALERTS_ALLOW_HTTP says otherwise', () => {
    assert.equal(loadConfig(good).alertsAllowHttp, false);
    assert.equal(loadConfig({ ...good, VIGIL_ALERTS_ALLOW_HTTP: 'true' }).alertsAllowHttp, true);
    assert.equal(loadConfig({}).alertsAllowHttp, true);
    assert.equal(loadConfig({ VIGIL_ALERTS_ALLOW_HTTP: 'false' }).alertsAllowHttp, false);
  });

  test('outside production the development defaults are accepted', () => {
    for (const NODE_ENV of [undefined, 'development', 'test']) {
      const c = loadConfig({ NODE_ENV, VIGIL_CORS_ORIGINS: '*' });
      assert.equal(c.secretKey, DEV_SECRET_KEY);
      assert.deepEqual(c.corsOrigins, ['*']);
    }
  });

  const cases: [string, NodeJS.ProcessEnv, RegExp][] = [
    ['an unset secret key', { VIGIL_SECRET_KEY: undefined }, /VIGIL_SECRET_KEY is not set/],
    ['an empty secret key', { VIGIL_SECRET_KEY: '' }, /VIGIL_SECRET_KEY is not set/],
    ['a blank secret key', { VIGIL_SECRET_KEY: '     ' }, /VIGIL_SECRET_KEY is not set/],
    ['the development secret key', { VIGIL_SECRET_KEY: DEV_SECRET_KEY }, /VIGIL_SECRET_KEY is the development default/],
    [
      'a secret key of 31 characters',
      { VIGIL_SECRET_KEY: 'x'.repeat(31) },
      /VIGIL_SECRET_KEY is too short \(31 characters\): use at least 32/,
    ],
    ['insecure cookies (unset)', { VIGIL_SECURE_COOKIES: undefined }, /VIGIL_SECURE_COOKIES is not true/],
    ['insecure cookies (false)', { VIGIL_SECURE_COOKIES: 'false' }, /VIGIL_SECURE_COOKIES is not true/],
    ['a wildcard CORS origin', { VIGIL_CORS_ORIGINS: 'https://app.example.com, *' }, /VIGIL_CORS_ORIGINS contains "\*"/],
  ];
  for (const [what, change, pattern] of cases) {
    test(`${what} is refused, and the message names it and only it`, () => {
      const err = configError({ ...good, ...change });
      assert.match(err.message, /refusing to start in production \(NODE_ENV=production\)/);
      assert.match(err.message, pattern);
      assert.equal(err.message.split('\n').length, 2, err.message);
    });
  }

  test('a secret key of exactly 32 characters is enough', () => {
    assert.equal(loadConfig({ ...good, VIGIL_SECRET_KEY: 'y'.repeat(32) }).secretKey, 'y'.repeat(32));
  });

  test('every problem is listed at once', () => {
    const err = configError({ NODE_ENV: 'production', VIGIL_CORS_ORIGINS: '*' });
    const lines = err.message
      .split('\n')
      .slice(1)
      .map((l) => l.trim());
    assert.equal(lines.length, 3, err.message);
    assert.match(lines[0], /^VIGIL_SECRET_KEY /);
    assert.match(lines[1], /^VIGIL_SECURE_COOKIES /);
    assert.match(lines[2], /^VIGIL_CORS_ORIGINS /);
  });

  test('the secret key is never shown in a message', () => {
    for (const secret of ['short-but-secret-value', DEV_SECRET_KEY]) {
      const err = configError({ ...good, VIGIL_SECRET_KEY: secret, VIGIL_SECURE_COOKIES: 'false' });
      assert.ok(!err.message.includes(secret), err.message);
    }
    // nor next to another bad value, in or out of production
    const mixed = configError({ NODE_ENV: 'production', VIGIL_SECRET_KEY: 'tiny-secret-value', VIGIL_PORT: 'abc' });
    assert.ok(!mixed.message.includes('tiny-secret-value'), mixed.message);
  });
});

describe('config: README', () => {
  test('documents every variable', () => {
    const readme = fs.readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const missing = Object.values(ENV_NAMES).filter((name) => !readme.includes(`| \`${name}\` |`));
    assert.deepEqual(missing, [], 'rows missing from the configuration table');
  });
});
