/**
 * Process roles: `vigil serve --role ...` as real processes. An ingest process answers /v1 and not
 * the API; an api process the reverse; /ready reports the roles and each dependency; two
 * scheduler processes on one PostgreSQL database run each tick once between them, and stop
 * gracefully on SIGTERM.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { serveProcess as serve, stopProcess as stop, cleanUpProcesses } from '../helpers/serve-process.js';
import { createTestDatabase, getJson, postJson, postgresReachable, TEST_POSTGRES_URL, type TestDatabase } from '../helpers/app.js';

const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

after(cleanUpProcesses);

describe('vigil serve --role', () => {
  test('an ingest process answers /v1 and /ready, and not the API or the web app', async () => {
    const s = await serve(['--role', 'ingest']);
    const ready = await getJson(`${s.url}/ready`);
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body.roles, ['ingest']);
    assert.deepEqual([ready.body.metadata, ready.body.events], ['ok', 'ok']);
    assert.deepEqual(ready.body.engines, { metadata: 'sqlite', events: 'duckdb' });
    assert.equal(ready.body.worker, null);
    assert.equal(ready.body.scheduler, null);
    // the ingest route is there (it wants a write key) ...
    assert.equal((await postJson(`${s.url}/v1/batch`, { batch: [] })).status, 401);
    // ... the API and the web app are not
    const api = await getJson(`${s.url}/api/projects`);
    assert.equal(api.status, 404);
    assert.equal(api.body.error.code, 'VIGIL_ERR_NOT_FOUND');
    assert.match(api.body.error.message, /does not serve the api role/);
    assert.equal((await fetch(`${s.url}/`)).status, 404);
    assert.equal((await fetch(`${s.url}/health`)).status, 200);
    assert.equal(await stop(s), 0);
  });

  test('an api process answers the API and not /v1; an unknown role is refused', async () => {
    const s = await serve(['--role', 'api']);
    assert.equal((await getJson(`${s.url}/api/projects`)).status, 401);
    assert.equal((await postJson(`${s.url}/v1/batch`, { batch: [] })).status, 404);
    const ready = await getJson(`${s.url}/ready`);
    assert.deepEqual([ready.status, ready.body.roles, ready.body.worker], [200, ['api'], null]);
    assert.equal(await stop(s), 0);

    const bad = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', '--role', 'api,cook'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    bad.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise((resolve) => bad.once('exit', resolve));
    assert.equal(code, 1);
    assert.match(stderr, /unknown role "cook"/);
  });
});

describe('scaled: worker and scheduler processes on one PostgreSQL database', () => {
  let reachable = false;
  let database: TestDatabase | undefined;
  before(async () => {
    reachable = await postgresReachable();
    if (!reachable && process.env.CI === 'true')
      throw new Error(`PostgreSQL is not reachable at ${TEST_POSTGRES_URL}; CI needs it for the scaled-mode tests`);
  });
  after(async () => database?.drop());

  test('two schedulers run each tick once between them; /ready reports worker and scheduler; SIGTERM stops them cleanly', async (t) => {
    if (!reachable) return t.skip(`PostgreSQL not reachable at ${TEST_POSTGRES_URL}`);
    database = await createTestDatabase();
    const TICK_MS = 250;
    const env = { VIGIL_DATABASE_URL: database.url, VIGIL_SCHEDULER_TICK_MS: String(TICK_MS) };
    const [a, b] = await Promise.all([serve(['--role', 'worker,scheduler'], env), serve(['--role', 'scheduler'], env)]);
    // ticks are counted between two readings: the processes start at different moments, and
    // ticks run before the first reading would otherwise count against too short a window
    const readBoth = () => Promise.all([getJson(`${a.url}/ready`), getJson(`${b.url}/ready`)]);
    const before = await readBoth();
    const started = Date.now();
    await new Promise((r) => setTimeout(r, 3_000));
    const [ra, rb] = await readBoth();
    const elapsedTicks = (Date.now() - started) / TICK_MS;
    assert.equal(ra.status, 200);
    assert.deepEqual(ra.body.roles, ['worker', 'scheduler']);
    assert.equal(ra.body.engines.metadata, 'postgres');
    assert.equal(ra.body.worker.state, 'running');
    assert.deepEqual([rb.body.roles, rb.body.worker], [['scheduler'], null]);
    const [runA, runB] = [
      ra.body.scheduler.ticksRun - before[0].body.scheduler.ticksRun,
      rb.body.scheduler.ticksRun - before[1].body.scheduler.ticksRun,
    ];
    const ticks = runA + runB;
    t.diagnostic(`ticks run: ${runA} + ${runB} in ${elapsedTicks.toFixed(1)} tick lengths`);
    // each process alone would run about elapsedTicks; together they must not run more than once per slot
    assert.ok(ticks >= elapsedTicks * 0.5, `ticks kept running (${ticks})`);
    assert.ok(ticks <= elapsedTicks + 3, `each slot ran once (${ticks} ticks in ${elapsedTicks.toFixed(1)} slots)`);
    assert.deepEqual(await Promise.all([stop(a), stop(b)]), [0, 0]);
  });
});
