/** Background jobs over HTTP: a backfill's progress and outcome, a failing job's reason, and who may see them. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getJson, postJson, startTestApp, type TestApp } from '../helpers/app.js';

const HOUR = 3_600_000;

describe('GET /api/projects/:slug/jobs', () => {
  let t: TestApp;
  let key: string;
  const headers = () => ({ authorization: `Bearer ${key}` });
  before(async () => {
    t = await startTestApp();
    key = (await t.ctx.apiKeys.create({ projectId: t.project.id, scopes: ['read', 'write'] })).secret;
    const start = Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR;
    const batch = Array.from({ length: 30 }, (_, i) => ({
      type: 'track',
      event: 'Signed Up',
      userId: `u${i}`,
      messageId: `j${i}`,
      timestamp: new Date(start + i * 6 * 60_000).toISOString(),
    }));
    assert.equal((await postJson(`${t.url}/v1/batch`, { batch }, { authorization: `Bearer ${t.writeKey}` })).status, 200);
    await t.ctx.flush();
  });
  after(() => t.close());

  test('a new metric shows a queued backfill, then a finished one with its progress and result', async () => {
    const created = await postJson(
      `${t.url}/api/projects/shop/metrics`,
      { name: 'signups', kind: 'event', definition: { event: 'Signed Up' } },
      headers(),
    );
    assert.equal(created.status, 201);
    const queued = await getJson(`${t.url}/api/projects/shop/jobs?kind=metrics.backfill`, key);
    assert.equal(queued.status, 200);
    assert.deepEqual(
      queued.body.jobs.map((j: any) => [j.status, j.payload.metricId]),
      [['queued', created.body.id]],
    );

    while (await t.ctx.worker.runOnce());
    const done = await getJson(`${t.url}/api/projects/shop/jobs?status=done`, key);
    const [job] = done.body.jobs;
    assert.equal(job.status, 'done');
    assert.equal(job.progress, 1);
    assert.equal(job.result.buckets, 30 * 24, 'the default 30 days of hourly buckets');
    assert.match(job.progressNote, /720\/720 buckets/);
    assert.ok(job.finishedAt);
  });

  test('a metric whose SQL fails at run time leaves a dead job with the reason, not a retry loop', async () => {
    const created = await postJson(
      `${t.url}/api/projects/shop/metrics`,
      {
        name: 'broken',
        kind: 'sql',
        definition: { sql: 'SELECT bucket, CAST(event AS INTEGER) AS value FROM events GROUP BY bucket, event' },
      },
      headers(),
    );
    assert.equal(created.status, 201, JSON.stringify(created.body));
    while (await t.ctx.worker.runOnce());
    const dead = await getJson(`${t.url}/api/projects/shop/jobs?status=dead`, key);
    assert.equal(dead.body.jobs.length, 1);
    assert.equal(dead.body.jobs[0].attempts, 1);
    assert.match(dead.body.jobs[0].lastError, /the metric's SQL failed: Conversion Error/);
    const metric = await getJson(`${t.url}/api/projects/shop/metrics/${created.body.id}`, key);
    assert.match(metric.body.lastError.message, /Conversion Error/, 'the metric itself says why it has no values');
    assert.equal(metric.body.collectedUntil, null);
  });

  test('no key is 401; a key of another project sees 404; a bad status is 400', async () => {
    assert.equal((await getJson(`${t.url}/api/projects/shop/jobs`)).status, 401);
    const other = await t.ctx.projects.create({ slug: 'other' });
    const otherKey = (await t.ctx.apiKeys.create({ projectId: other.id, scopes: ['read'] })).secret;
    assert.equal((await getJson(`${t.url}/api/projects/shop/jobs`, otherKey)).status, 404);
    assert.deepEqual((await getJson(`${t.url}/api/projects/other/jobs`, otherKey)).body.jobs, []);
    const bad = await getJson(`${t.url}/api/projects/shop/jobs?status=finished`, key);
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /queued, running, done, dead|allowed values/);
  });

  test('retry runs a dead job again with all its attempts; only a dead job of this project can be retried', async () => {
    const [dead] = (await getJson(`${t.url}/api/projects/shop/jobs?status=dead`, key)).body.jobs;
    const retried = await postJson(`${t.url}/api/projects/shop/jobs/${dead.id}/retry`, {}, headers());
    assert.equal(retried.status, 200, JSON.stringify(retried.body));
    assert.deepEqual([retried.body.status, retried.body.attempts, retried.body.finishedAt], ['queued', 0, null]);
    assert.match(retried.body.lastError, /Conversion Error/, 'the last reason stays until the next attempt');

    const again = await postJson(`${t.url}/api/projects/shop/jobs/${dead.id}/retry`, {}, headers());
    assert.equal(again.status, 409);
    assert.equal(again.body.error.message, `job ${dead.id} is queued: only a dead job can be retried`);

    while (await t.ctx.worker.runOnce());
    const after = (await getJson(`${t.url}/api/projects/shop/jobs?status=dead`, key)).body.jobs.find((j: any) => j.id === dead.id);
    assert.deepEqual([after.status, after.attempts], ['dead', 1], 'the same SQL fails the same way: dead again after one attempt');

    const read = (await t.ctx.apiKeys.create({ projectId: t.project.id, scopes: ['read'] })).secret;
    assert.equal((await postJson(`${t.url}/api/projects/shop/jobs/${dead.id}/retry`, {}, { authorization: `Bearer ${read}` })).status, 403);
    const otherKey = (await t.ctx.apiKeys.create({ projectId: (await t.ctx.projects.getBySlug('other')).id, scopes: ['write'] })).secret;
    assert.equal(
      (await postJson(`${t.url}/api/projects/other/jobs/${dead.id}/retry`, {}, { authorization: `Bearer ${otherKey}` })).status,
      404,
    );
  });
});
