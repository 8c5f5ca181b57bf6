/**
 * Deleting a project over HTTP leaves nothing of it: no event in the event store (DuckDB, or
 * ClickHouse in the ClickHouse pass), no row in any metadata table keyed by its id (SQLite, or
 * PostgreSQL in the PostgreSQL and ClickHouse passes), and another project's data untouched.
 * The tables are read from the database's own catalogue, so a table added later with a
 * project_id column fails this test until the seed below writes to it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { startTestApp, type TestApp } from '../helpers/app.js';
import type { Project } from '../../src/projects/service.js';
import type { ClickHouseEventStore } from '../../src/storage/events/clickhouse.js';
import type { DuckDbEventStore } from '../../src/storage/events/duckdb.js';
import { CSRF_HEADER, SESSION_COOKIE } from '../../src/auth/sessions.js';
import { VigilError } from '../../src/errors.js';

const HOUR = 3_600_000;
const PASSWORD = 'correct horse battery staple';
/** tables without project_id whose rows belong to a project through a parent */
const CHILD_TABLES: Record<string, { parent: string; column: string }> = {
  metric_values: { parent: 'metrics', column: 'metric_id' },
  incident_signals: { parent: 'incidents', column: 'incident_id' },
  incident_events: { parent: 'incidents', column: 'incident_id' },
};

describe('deleting a project', () => {
  let t: TestApp;
  let doomed: Project;
  let kept: Project;
  let ownerId: number;

  /** Tables with a project_id column, from the database's catalogue. */
  async function projectTables(): Promise<string[]> {
    const db = t.ctx.meta.db;
    if (t.ctx.meta.dialect === 'postgres') {
      const { rows } = await sql<{
        table_name: string;
      }>`SELECT table_name FROM information_schema.columns WHERE column_name = 'project_id' AND table_schema = current_schema()`.execute(
        db,
      );
      return rows.map((r) => r.table_name).sort();
    }
    const { rows: tables } = await sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table'`.execute(db);
    const out: string[] = [];
    for (const { name } of tables) {
      const { rows: columns } = await sql<{ name: string }>`SELECT name FROM pragma_table_info(${name})`.execute(db);
      if (columns.some((c) => c.name === 'project_id')) out.push(name);
    }
    return out.sort();
  }

  /** Rows per metadata table that belong to the project, and its events (and, in DuckDB, user traits). */
  async function footprint(projectId: number): Promise<Record<string, number>> {
    const db = t.ctx.meta.db;
    const out: Record<string, number> = {};
    for (const table of await projectTables()) {
      const { rows } = await sql<{ n: number }>`SELECT count(*) AS n FROM ${sql.table(table)} WHERE project_id = ${projectId}`.execute(db);
      out[table] = Number(rows[0].n);
    }
    for (const [table, { parent, column }] of Object.entries(CHILD_TABLES)) {
      const { rows } = await sql<{
        n: number;
      }>`SELECT count(*) AS n FROM ${sql.table(table)} WHERE ${sql.ref(column)} IN (SELECT id FROM ${sql.table(parent)} WHERE project_id = ${projectId})`.execute(
        db,
      );
      out[table] = Number(rows[0].n);
    }
    const events = t.ctx.events as DuckDbEventStore | ClickHouseEventStore;
    out['events (event store)'] = Number((await events.rawQuery(`SELECT count(*) AS n FROM events WHERE project_id = ${projectId}`))[0].n);
    if (events.kind === 'duckdb')
      out['users (event store)'] = Number((await events.rawQuery(`SELECT count(*) AS n FROM users WHERE project_id = ${projectId}`))[0].n);
    return out;
  }

  /** Something in every table a project owns: through the API and the services as far as they go. */
  async function seed(project: Project) {
    const ctx = t.ctx;
    const { secret } = await ctx.apiKeys.create({ projectId: project.id, scopes: ['ingest'] });
    const hour = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;
    const batch = [
      ...Array.from({ length: 30 }, (_, i) => ({
        type: 'track',
        userId: `u${i % 5}`,
        event: 'Signed Up',
        messageId: `${project.slug}-${i}`,
        timestamp: new Date(hour + i * 60_000).toISOString(),
        properties: { plan: 'pro' },
      })),
      {
        type: 'identify',
        userId: 'u1',
        traits: { plan: 'pro' },
        messageId: `${project.slug}-identify`,
        timestamp: new Date(hour).toISOString(),
      },
    ];
    const res = await fetch(`${t.url}/v1/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
      body: JSON.stringify({ batch }),
    });
    assert.equal(res.status, 200, await res.text());
    await ctx.flush();

    await ctx.memberships.grant(project.id, ownerId, 'owner');
    await ctx.invitations.create(project.id, { email: `guest-${project.slug}@example.com`, role: 'viewer' }, ownerId);
    await ctx.audit.record(null, {
      projectId: project.id,
      action: 'project.update',
      target: { type: 'project', id: project.id },
      after: { name: project.name },
    });
    const metric = await ctx.catalog.create(project, {
      name: 'signups',
      kind: 'event',
      status: 'active',
      interval: '1h',
      definition: { event: 'Signed Up' },
    });
    await ctx.catalog.collectNow(project, metric.id);
    await ctx.thresholdRules.create(project, metric.id, {
      name: 'too many',
      rule: { condition: { operator: '>', value: 1_000_000 }, severity: 'warning' },
    });
    await ctx.measurements.insert(project.id, [{ service: 'api', metric: 'latency_ms', value: 12, ts: Date.now(), tags: {} }], Date.now());
    const destination = await ctx.alerts.createDestination(project, {
      name: 'pager',
      kind: 'pagerduty',
      secrets: { routingKey: 'R'.repeat(32) },
    });
    await ctx.alerts.createRule(project, { name: 'everything', destinationIds: [destination.id] });
    // a signal opens an incident, which the alert rule turns into a delivery and its job
    await ctx.signals.upsert(project.id, [
      {
        scope: 'metric',
        scopeKey: `metric:${metric.id}`,
        metricId: metric.id,
        bucket: hour,
        endBucket: hour,
        kind: 'drop',
        direction: 'down',
        value: 5,
        expected: 100,
        lower: 80,
        upper: 120,
        z: -9,
        score: 0.9,
        severity: 'critical',
        details: { interval: '1h', threshold: 4 },
      },
    ]);
    const now = Date.now();
    await ctx.meta.db
      .insertInto('event_profiles')
      .values({ project_id: project.id, day: Math.floor(now / 86_400_000) * 86_400_000, profile: '{}', events: 30, created_at: now })
      .execute();
    await ctx.meta.db
      .insertInto('detector_runs')
      .values({ project_id: project.id, detector: 'drift', done_until: now, updated_at: now })
      .execute();
  }

  before(async () => {
    t = await startTestApp();
    ownerId = (await t.ctx.users.create({ email: 'owner@example.com', password: PASSWORD, isAdmin: true })).id;
    kept = t.project;
    doomed = await t.ctx.projects.create({ slug: 'doomed', name: 'Doomed' });
    await seed(kept);
    await seed(doomed);
  });
  after(() => t?.close());

  test('the seed wrote to every table a project owns, so the check below means something', async () => {
    const before = await footprint(doomed.id);
    const empty = Object.entries(before)
      .filter(([, n]) => n === 0)
      .map(([table]) => table);
    assert.deepEqual(empty, [], `seed() writes nothing to these tables: add rows to them (${JSON.stringify(before)})`);
  });

  test('DELETE /api/projects/:slug as its owner removes its events and every row of it; the other project keeps all of its own', async () => {
    const keptBefore = await footprint(kept.id);
    const { token } = await t.ctx.sessions.create(ownerId);
    const res = await fetch(`${t.url}/api/projects/doomed`, {
      method: 'DELETE',
      headers: { cookie: `${SESSION_COOKIE}=${token}`, [CSRF_HEADER]: t.ctx.sessions.csrfToken(token) },
    });
    assert.equal(res.status, 204, await res.text());

    const left = await footprint(doomed.id);
    assert.deepEqual(
      Object.entries(left).filter(([, n]) => n > 0),
      [],
      `rows of the deleted project remain: ${JSON.stringify(left)}`,
    );
    assert.deepEqual(await footprint(kept.id), keptBefore);
    assert.equal(await t.ctx.projects.findBySlug('doomed'), undefined);

    // audited at the instance level: the entry outlives the project
    const entry = await t.ctx.meta.db.selectFrom('audit_log').selectAll().where('action', '=', 'project.delete').executeTakeFirstOrThrow();
    assert.equal(entry.project_id, null);
    assert.equal(entry.target_id, String(doomed.id));
    assert.deepEqual(JSON.parse(entry.summary), { before: { slug: 'doomed', name: 'Doomed', timeZone: 'UTC' }, after: { events: 31 } });
    assert.equal(entry.actor_label, 'owner@example.com');
  });

  test('when the event store fails, the answer says so and the project stays (keys revoked); deleting again finishes', async () => {
    const project = await t.ctx.projects.create({ slug: 'flaky' });
    await seed(project);
    const { token } = await t.ctx.sessions.create(ownerId);
    const remove = () =>
      fetch(`${t.url}/api/projects/flaky`, {
        method: 'DELETE',
        headers: { cookie: `${SESSION_COOKIE}=${token}`, [CSRF_HEADER]: t.ctx.sessions.csrfToken(token) },
      });
    const events = t.ctx.events;
    const original = events.deleteProject;
    events.deleteProject = async () => {
      throw new VigilError(
        'VIGIL_ERR_UNAVAILABLE',
        'deleting the events of project 3 did not finish within 120 s; ClickHouse goes on with it: try again later',
      );
    };
    try {
      const failed = await remove();
      assert.equal(failed.status, 503);
      assert.match(((await failed.json()) as { error: { message: string } }).error.message, /try again later/);
    } finally {
      events.deleteProject = original;
    }
    assert.ok(await t.ctx.projects.findBySlug('flaky'), 'the project is still there');
    assert.deepEqual(
      (await t.ctx.apiKeys.list(project.id)).filter((k) => k.revokedAt === null),
      [],
      'its keys no longer work',
    );
    assert.equal((await remove()).status, 204);
    const left = await footprint(project.id);
    assert.deepEqual(
      Object.entries(left).filter(([, n]) => n > 0),
      [],
    );
  });

  test('the deleted project answers 404, and its slug can be used again for a new, empty project', async () => {
    const { token } = await t.ctx.sessions.create(ownerId);
    const headers = {
      cookie: `${SESSION_COOKIE}=${token}`,
      [CSRF_HEADER]: t.ctx.sessions.csrfToken(token),
      'content-type': 'application/json',
    };
    assert.equal((await fetch(`${t.url}/api/projects/doomed`, { headers })).status, 404);
    const created = await fetch(`${t.url}/api/projects`, { method: 'POST', headers, body: JSON.stringify({ slug: 'doomed' }) });
    assert.equal(created.status, 201);
    const overview = await fetch(`${t.url}/api/projects/doomed/overview?from=-7d&to=now`, { headers });
    assert.equal(overview.status, 200);
    assert.equal(((await overview.json()) as { current: { events: number } }).current.events, 0);
  });
});
