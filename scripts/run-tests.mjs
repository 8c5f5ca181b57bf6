// Runs every *.test.ts under test/ with node's test runner (TypeScript through tsx).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

function find(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? find(p) : e.name.endsWith('.test.ts') ? [p] : [];
  });
}

/** Newest modification time of the files under `dir` (0 when there is none). */
function newest(dir) {
  if (!fs.existsSync(dir)) return 0;
  return fs.readdirSync(dir, { withFileTypes: true }).reduce((t, e) => {
    const p = path.join(dir, e.name);
    return Math.max(t, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
  }, 0);
}

const only = process.argv.slice(2);
const files = only.length ? only : find('test').sort();

// the browser tests drive the built web app (dist/web): build it once here when it is missing or
// older than its sources, so `npm test` works on a fresh clone (the server answers 503 without it)
if (files.some((f) => f.split(path.sep).join('/').includes('test/e2e/'))) {
  const built = fs.existsSync('dist/web/index.html') ? fs.statSync('dist/web/index.html').mtimeMs : 0;
  // web/ also imports src/format/number.ts and src/detect/severity.ts
  if (built < Math.max(newest('web'), newest('src/format'), newest('src/detect'), fs.statSync('package-lock.json').mtimeMs)) {
    console.log('building the web app for the browser tests (npm run build:web)');
    const build = spawnSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', 'web', '--logLevel', 'warn'], {
      stdio: 'inherit',
    });
    if (build.status !== 0) process.exit(build.status ?? 1);
  }
}
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', ...files], {
  stdio: 'inherit',
});
let status = result.status ?? 1;

// --- PostgreSQL pass: the metadata-layer files again, on PostgreSQL (VIGIL_TEST_META=postgres) ---
// Every test app (test/helpers/app.ts) and every openTestMeta() then gets a fresh database on the
// server at VIGIL_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres), dropped
// when it closes. Without a server the pass is skipped with a message, and fails under CI=true.
// (test/integration/jobs-multiprocess and scaled-roles need PostgreSQL themselves: they run in the first pass.)
const POSTGRES_FILES = [
  'test/unit/jobs.test.ts', // queue, leases, worker, cluster ticks
  'test/integration/jobs-api.test.ts',
  'test/integration/accounts.test.ts', // users, sessions, memberships, invitations, audit log
  'test/integration/account-mail.test.ts', // password-reset links, e-mailed invitations
  'test/integration/sign-in-limits.test.ts',
  'test/integration/permissions.test.ts', // every route under every role
  'test/integration/metrics-api.test.ts', // the catalog, metric values
  'test/integration/metrics-collection.test.ts',
  'test/integration/metric-samples.test.ts',
  'test/integration/measurements.test.ts',
  'test/integration/signals.test.ts', // signals (upserts per episode)
  'test/integration/threshold-rules.test.ts',
  'test/integration/drift.test.ts', // event profiles and detector runs (onConflict)
  'test/integration/incidents.test.ts',
  'test/integration/alerts.test.ts', // rules, destinations, the delivery outbox
  'test/integration/alerting-e2e.test.ts',
  'test/integration/project-deletion.test.ts', // nothing of a deleted project remains
  'test/integration/user-admin.test.ts', // the instance's users: disable, unlock, reset links
  'test/integration/detection-defaults.test.ts',
  'test/integration/alert-latency.test.ts', // signals on buckets in progress, settled-detection jobs (run_at)
];
const posixPath = (f) => path.normalize(f).split(path.sep).join('/');
const postgresFiles = POSTGRES_FILES.filter((f) => !only.length || only.some((o) => posixPath(o) === f));
if (postgresFiles.length) {
  const url = process.env.VIGIL_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const shown = url.replace(/^([a-z][\w+.-]*:\/\/[^/@:]*):[^/@]*@/i, '$1:***@');
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  const reachable = await client.connect().then(
    () => client.end().then(() => true),
    () => false,
  );
  if (!reachable) {
    if (process.env.CI === 'true') {
      console.error(`the PostgreSQL pass cannot run: PostgreSQL does not answer at ${shown} (CI requires it)`);
      status = status || 1;
    } else {
      console.log(
        `skipping the PostgreSQL pass of the metadata tests: PostgreSQL does not answer at ${shown} (set VIGIL_TEST_POSTGRES_URL)`,
      );
    }
  } else {
    console.log(`\nPostgreSQL pass: ${postgresFiles.length} metadata-layer files, a fresh database per test app on ${shown}`);
    const env = { ...process.env, VIGIL_TEST_META: 'postgres' };
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', ...postgresFiles],
      { stdio: 'inherit', env },
    );
    status = (run.status ?? 1) || status;
  }
}
// --- end of the PostgreSQL pass ---

// --- ClickHouse pass: the event-store behaviour files again, in the scaled mode's set-up ---
// ClickHouse events (VIGIL_TEST_EVENTS) and PostgreSQL metadata (VIGIL_TEST_META), so ingest goes
// through the PostgreSQL outbox and its loader. Each test app gets a fresh database on
// VIGIL_TEST_CLICKHOUSE_URL (scripts/clickhouse.sh starts a server and prints it) and one on the
// PostgreSQL server. Without ClickHouse the pass is skipped with a message, and fails under CI=true.
const CLICKHOUSE_FILES = [
  'test/integration/queries.test.ts', // reads: time series, breakdowns, totals, top events, time zones
  'test/integration/metrics-collection.test.ts', // every metric kind, one scan per cycle
  'test/integration/metric-samples.test.ts', // the samples behind each kind's values
  'test/integration/metrics-api.test.ts', // every metric kind over HTTP against a TypeScript reference
  'test/integration/ingest-api.test.ts', // ingest, dedup, listing, identify traits
  'test/integration/analytics-node.test.ts', // a real Segment client end to end
  'test/integration/drift.test.ts', // schema profiles and value shares (drift detection input)
  'test/integration/signals.test.ts', // anomaly detection on collected series
  'test/integration/threshold-rules.test.ts',
  'test/integration/backtest.test.ts',
  'test/integration/alert-latency.test.ts', // lateness and minute counts of the hour in progress
  'test/integration/detection-defaults.test.ts', // the observed lateness of events
  'test/integration/jobs-api.test.ts',
  'test/integration/ops.test.ts',
  'test/integration/project-deletion.test.ts', // a deleted project's events leave ClickHouse
  'test/integration/tracking-plan.test.ts', // daily profiles (ClickHouse's schema profile, PostgreSQL's event_profiles)
];
/** Tests written in DuckDB's SQL dialect (GROUPING SETS is not in ClickHouse 18.16): left out of this pass only. */
const DUCKDB_DIALECT_TESTS = {
  'test/integration/metrics-api.test.ts': [
    'each metric kind, created over HTTP and backfilled, matches the reference',
    'every backfill job finished',
    'sql with a breakdown column',
  ],
};
const asPosix = (f) => f.split(path.sep).join('/');
const clickhouseFiles = CLICKHOUSE_FILES.filter((f) => !only.length || only.some((o) => asPosix(path.normalize(o)) === f));
if (clickhouseFiles.length) {
  const url = process.env.VIGIL_TEST_CLICKHOUSE_URL;
  let reachable = false;
  if (url) {
    const ping = new URL(url.replace(/^clickhouse(s?):/, 'http$1:'));
    reachable = await fetch(`${ping.protocol}//${ping.host}/ping`, { signal: AbortSignal.timeout(3000) }).then(
      (r) => r.ok,
      () => false,
    );
  }
  if (!reachable) {
    const why = url ? `ClickHouse does not answer at ${url}` : 'VIGIL_TEST_CLICKHOUSE_URL is not set';
    if (process.env.CI === 'true') {
      console.error(`the ClickHouse pass cannot run: ${why} (scripts/clickhouse.sh start; CI requires it)`);
      status = status || 1;
    } else {
      console.log(
        `skipping the ClickHouse pass of the event-store behaviour tests: ${why} (run scripts/clickhouse.sh start and export VIGIL_TEST_CLICKHOUSE_URL=$(scripts/clickhouse.sh url))`,
      );
    }
  } else {
    console.log(`\nClickHouse pass: ${clickhouseFiles.length} event-store behaviour files on ${url}, metadata on PostgreSQL`);
    const env = { ...process.env, VIGIL_TEST_EVENTS: 'clickhouse', VIGIL_TEST_META: 'postgres' };
    const run = (args) =>
      spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', ...args], {
        stdio: 'inherit',
        env,
      }).status ?? 1;
    const plain = clickhouseFiles.filter((f) => !(f in DUCKDB_DIALECT_TESTS));
    if (plain.length) status = run(plain) || status;
    for (const f of clickhouseFiles.filter((f) => f in DUCKDB_DIALECT_TESTS)) {
      // a test runs when its name or a suite's matches: leave out the root, the suites and the tests named
      const names = ['<root>', ...DUCKDB_DIALECT_TESTS[f]].map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
      status = run([`--test-name-pattern=^(?!${names.join('|')})`, f]) || status;
    }
  }
}
// --- end of the ClickHouse pass ---

process.exit(status);
