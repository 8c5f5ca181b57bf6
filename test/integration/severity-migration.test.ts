/**
 * Migration 0017 rewrites the incidents' former severities (minor, significant, major) as info,
 * warning, critical wherever they are stored, on the metadata store TEST_META names (SQLite, or
 * PostgreSQL with VIGIL_TEST_META=postgres).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Migrator, type Kysely } from 'kysely';
import { migrations } from '../../src/storage/meta/migrations/index.js';
import { migrateMeta } from '../../src/storage/meta/db.js';
import { openPostgresMeta, openSqliteMeta, type MetaSchema, type MetaStore } from '../../src/meta-db.js';
import { TEST_META, createTestDatabase, type TestDatabase } from '../helpers/app.js';

const MIGRATION = '0017-one-severity-vocabulary';
const T = Date.parse('2026-05-01T10:00:00Z');

let meta: MetaStore;
let database: TestDatabase | undefined;

before(async () => {
  if (TEST_META === 'postgres') {
    database = await createTestDatabase();
    meta = await openPostgresMeta(database.url);
  } else {
    meta = openSqliteMeta(':memory:');
  }
  const names = Object.keys(migrations(meta.dialect));
  const migrator = new Migrator({ db: meta.db, provider: { getMigrations: async () => migrations(meta.dialect) } });
  const { error } = await migrator.migrateTo(names[names.indexOf(MIGRATION) - 1]);
  if (error) throw error;
  await seedOldWords(meta.db);
  await migrateMeta(meta);
});

after(async () => {
  await meta.close();
  await database?.drop();
});

/** What a database written before 0017 holds: an incident per former word, its timeline, a rule's filter, a delivery's message. */
async function seedOldWords(db: Kysely<MetaSchema>) {
  const { id: projectId } = await db
    .insertInto('projects')
    .values({ slug: 'shop', name: 'Shop', time_zone: 'UTC', created_at: T })
    .returning('id')
    .executeTakeFirstOrThrow();
  const incident = (severity: string, n: number) => ({
    project_id: projectId,
    scope_key: `metric:${n}`,
    breakdown: '',
    direction: 'down',
    metric_id: null,
    title: `incident ${n}`,
    status: 'open',
    resolution: null,
    severity,
    root_signal_id: null,
    assignee_id: null,
    muted_until: null,
    started_bucket: T,
    last_bucket: T,
    opened_at: T,
    acknowledged_at: null,
    resolved_at: null,
    created_at: T,
    updated_at: T,
  });
  const ids = [];
  for (const [n, word] of ['minor', 'significant', 'major'].entries())
    ids.push((await db.insertInto('incidents').values(incident(word, n)).returning('id').executeTakeFirstOrThrow()).id);
  await db
    .insertInto('incident_events')
    .values([
      {
        incident_id: ids[0],
        type: 'created',
        actor_id: null,
        data: JSON.stringify({ signalId: 1, title: 'incident 0', severity: 'minor' }),
        at: T,
      },
      { incident_id: ids[0], type: 'severity', actor_id: null, data: JSON.stringify({ from: 'minor', to: 'major', signalId: 2 }), at: T },
      {
        incident_id: ids[0],
        type: 'comment',
        actor_id: null,
        data: JSON.stringify({ body: 'a minor glitch, "severity":"major" says the vendor' }),
        at: T,
      },
    ])
    .execute();
  const spec = {
    filters: {
      scopes: [],
      metricTags: ['checkout'],
      metricNames: [],
      direction: 'any',
      minSeverity: 'significant',
      minPercentChange: null,
      minAbsoluteChange: null,
    },
    destinationIds: [1],
    cooldownMinutes: 60,
    repeatEveryMinutes: null,
    notifyOnResolve: true,
    digest: null,
  };
  await db
    .insertInto('alert_rules')
    .values({
      project_id: projectId,
      name: 'Checkout',
      enabled: 1,
      spec: JSON.stringify(spec),
      muted_until: null,
      digest_until: null,
      created_at: T,
      updated_at: T,
    })
    .execute();
  const message = {
    event: 'opened',
    incident: { id: ids[2], title: 'incident 2', status: 'open', severity: 'major' },
    items: [
      { kind: 'drop', severity: 'significant' },
      { kind: 'spike', severity: 'minor' },
    ],
    title: '[Shop] Incident opened: incident 2',
    text: 'Incident opened (major): incident 2',
  };
  await db
    .insertInto('alert_deliveries')
    .values({
      project_id: projectId,
      rule_id: null,
      destination_id: null,
      incident_id: ids[2],
      scope_key: 'metric:2',
      event: 'opened',
      status: 'pending',
      idempotency_key: 'k1',
      message: JSON.stringify(message),
      attempts: 1,
      next_attempt_at: T,
      last_error: null,
      response_status: null,
      response_body: null,
      external_id: null,
      created_at: T,
      updated_at: T,
      sent_at: null,
    })
    .execute();
}

test('incidents: minor, significant, major become info, warning, critical', async () => {
  const rows = await meta.db.selectFrom('incidents').select(['title', 'severity']).orderBy('id').execute();
  assert.deepEqual(
    rows.map((r) => r.severity),
    ['info', 'warning', 'critical'],
  );
});

test("the timeline: an opened incident's severity and a severity change read in the new words; comments are untouched", async () => {
  const rows = await meta.db.selectFrom('incident_events').select(['type', 'data']).orderBy('id').execute();
  assert.deepEqual(
    rows.map((r) => JSON.parse(r.data)),
    [
      { signalId: 1, title: 'incident 0', severity: 'info' },
      { from: 'info', to: 'critical', signalId: 2 },
      { body: 'a minor glitch, "severity":"major" says the vendor' },
    ],
  );
});

test("an alert rule's minSeverity filter is rewritten, its other settings kept", async () => {
  const { spec } = await meta.db.selectFrom('alert_rules').select('spec').executeTakeFirstOrThrow();
  const parsed = JSON.parse(spec);
  assert.equal(parsed.filters.minSeverity, 'warning');
  assert.deepEqual(parsed.filters.metricTags, ['checkout']);
  assert.equal(parsed.cooldownMinutes, 60);
});

test("a pending delivery's stored message carries the new words (its text as it was written)", async () => {
  const { message } = await meta.db.selectFrom('alert_deliveries').select('message').executeTakeFirstOrThrow();
  const parsed = JSON.parse(message);
  assert.equal(parsed.incident.severity, 'critical');
  assert.deepEqual(
    parsed.items.map((i: { severity: string }) => i.severity),
    ['warning', 'info'],
  );
  assert.equal(parsed.text, 'Incident opened (major): incident 2');
});
