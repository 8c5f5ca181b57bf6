/**
 * Threshold rules: the API (CRUD, validation naming the field, roles, audit), and live evaluation
 * after collection: breaches and recoveries stored once per (rule, bucket) at the right buckets,
 * with hysteresis against a hovering value, % change against 24 buckets earlier, the settling
 * time, and state carried across collections giving the same answer as one long run.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getJson, startTestApp, type TestApp } from '../helpers/app.js';
import { HOUR, awayFromHourEnd, ingestHourly, runJobs } from '../helpers/hourly-events.js';
import { ThresholdRuleService } from '../../src/signals/threshold/threshold-rules.js';

const MINUTE = 60_000;
const DAY = 24 * HOUR;
const DAYS = 7;

const iso = (ms: number) => new Date(ms).toISOString();
const ingest = ingestHourly;

const ABOVE_40 = { condition: { operator: '>', value: 40 }, forBuckets: 2, recovery: { operator: '<', value: 30 }, severity: 'critical' };

describe('threshold rules', () => {
  let t: TestApp;
  let editorKey: string;
  let until: number, start: number, a: number;
  let metricId: number;
  const ruleIds: Record<string, number> = {};

  const api = async (method: string, path: string, body?: unknown, key = editorKey) => {
    const res = await fetch(`${t.url}/api/projects/shop/${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as any };
  };
  const signalsOf = async (ruleId: number) => {
    const r = await getJson(`${t.url}/api/projects/shop/signals?from=-30d&scope=threshold&limit=500`, t.readKey);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return (r.body.signals as Record<string, any>[]).filter((s) => s.scopeKey === `rule:${ruleId}`).reverse();
  };
  const brief = (signals: Record<string, any>[]) => signals.map((s) => [s.kind, s.bucket]);

  before(async () => {
    await awayFromHourEnd();
    t = await startTestApp({ config: { metricsBackfillDays: DAYS } });
    editorKey = (await t.ctx.apiKeys.create({ projectId: t.project.id, scopes: ['write'] })).secret;
    until = Math.floor(Date.now() / HOUR) * HOUR;
    start = until - DAYS * DAY;
    a = until - 60 * HOUR;
    // 20 an hour, with two crossings of 40 (the first hovering between 30 and 40 before it
    // recovers), a stretch hovering at 40 without two buckets in a row above it, a high bucket
    // 24 hours before the second crossing, and 80 in the newest bucket
    const special: Record<number, number> = {
      [-4]: 55,
      0: 45,
      1: 50,
      2: 35,
      3: 38,
      4: 42,
      5: 33,
      6: 25,
      10: 41,
      12: 41,
      13: 39,
      14: 41,
      20: 55,
      21: 60,
      22: 10,
    };
    const counts: { event: string; hour: number; n: number }[] = [];
    for (let hour = start; hour < until; hour += HOUR) {
      const k = (hour - a) / HOUR;
      counts.push({ event: 'Ping', hour, n: hour === until - HOUR ? 80 : (special[k] ?? 20) });
    }
    await ingest(t, counts);
    // anomaly detection off: the rules are watched on their own
    const m = await api('POST', 'metrics', { name: 'pings', kind: 'event', definition: { event: 'Ping' }, detection: { enabled: false } });
    assert.equal(m.status, 201, JSON.stringify(m.body));
    metricId = m.body.id;
    // rules made before the backfill are evaluated over the whole history it collects
    for (const [name, rule] of Object.entries({
      above40: ABOVE_40,
      doubled: { condition: { operator: '>', value: 150, changeOverPeriod: 24 }, severity: 'info' },
      above70: { condition: { operator: '>', value: 70 }, severity: 'warning' },
    })) {
      const r = await api('POST', `metrics/${metricId}/rules`, { name, rule });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      ruleIds[name] = r.body.id;
    }
    await runJobs(t);
  });
  after(() => t.close());

  test('a rule > 40 for 2 buckets with recovery < 30 fires once per crossing, at the right buckets, and not while hovering', async () => {
    const signals = await signalsOf(ruleIds.above40);
    assert.deepEqual(brief(signals), [
      ['breach', iso(a + HOUR)],
      ['recovery', iso(a + 6 * HOUR)],
      ['breach', iso(a + 21 * HOUR)],
      ['recovery', iso(a + 22 * HOUR)],
    ]);
    const [breach, recovery] = signals;
    assert.deepEqual(
      [
        breach.scope,
        breach.metricId,
        breach.endBucket,
        breach.direction,
        breach.severity,
        breach.value,
        breach.details.compared,
        breach.details.ruleName,
      ],
      ['threshold', metricId, breach.bucket, 'up', 'critical', 50, 50, 'above40'],
    );
    assert.deepEqual(breach.details.condition, ABOVE_40.condition);
    assert.deepEqual([recovery.direction, recovery.value, recovery.details.condition], ['down', 25, ABOVE_40.recovery]);
    const rule = (await api('GET', `metrics/${metricId}/rules`)).body.rules.find((r: any) => r.id === ruleIds.above40);
    assert.deepEqual([rule.breached, rule.evaluatedUntil], [false, iso(until - 2 * HOUR)], 'evaluated up to the settling time (2 hours)');
  });

  test('a rule on the % change against 24 buckets ago compares with that bucket, not with the line', async () => {
    // a+20 (55) is no change against a-4 (55); a+21 (60 against 20) is +200 %; a+22 (10) ends it
    assert.deepEqual(brief(await signalsOf(ruleIds.doubled)), [
      ['breach', iso(a - 4 * HOUR)],
      ['recovery', iso(a - 3 * HOUR)],
      ['breach', iso(a + 21 * HOUR)],
      ['recovery', iso(a + 22 * HOUR)],
    ]);
    const [first] = await signalsOf(ruleIds.doubled);
    assert.deepEqual([first.value, first.details.compared, first.severity], [55, 175, 'info']);
  });

  test('re-running collection and evaluation adds no duplicates', async () => {
    const rows = () => t.ctx.meta.db.selectFrom('signals').selectAll().where('scope', '=', 'threshold').orderBy('id').execute();
    const before = await rows();
    assert.equal(before.length, 8);
    await t.ctx.catalog.runCycle(t.project, '1h', until);
    for (let i = 0; i < 2; i++) assert.equal((await api('POST', `metrics/${metricId}/collect`)).status, 200);
    // a rule that forgot where it stood evaluates the whole history again: the same signals, merged
    await t.ctx.meta.db.updateTable('threshold_rules').set({ state: null, evaluated_until: null }).execute();
    const metric = await t.ctx.catalog.get(t.project, metricId);
    const r = await t.ctx.thresholdRules.evaluateCollected(t.project, [metric], { fromMs: start, toMs: until });
    assert.deepEqual([r.rules, r.signals, r.failed], [3, 8, 0]);
    assert.deepEqual(await rows(), before);
  });

  test('state carries across collections: evaluating hour by hour gives what one long run gave', async () => {
    const created = await api('POST', `metrics/${metricId}/rules`, { name: 'above40-hourly', rule: ABOVE_40 });
    assert.equal(created.status, 201);
    const id = created.body.id as number;
    let clock = 0;
    const rules = new ThresholdRuleService({
      db: t.ctx.meta.db,
      catalog: t.ctx.catalog,
      signals: t.ctx.signals,
      log: { warn: () => undefined },
      now: () => clock,
    });
    const metric = await t.ctx.catalog.get(t.project, metricId);
    // a cycle every hour from 10 hours before the first crossing, each with a 2-bucket look-back
    for (let hour = a - 10 * HOUR; hour <= until; hour += HOUR) {
      clock = hour + MINUTE;
      await rules.evaluateCollected(t.project, [metric], { fromMs: hour - 3 * HOUR, toMs: hour });
    }
    assert.deepEqual(brief(await signalsOf(id)), brief(await signalsOf(ruleIds.above40)));
    const after = (await api('GET', `metrics/${metricId}/rules`)).body.rules.find((r: any) => r.id === id);
    assert.equal(after.evaluatedUntil, iso(until - 2 * HOUR));
  });

  test("the newest buckets wait for the project's settling time", async () => {
    assert.deepEqual(await signalsOf(ruleIds.above70), [], '80 in the newest bucket is still settling');
    await t.ctx.meta.db
      .updateTable('projects')
      .set({ detection: JSON.stringify({ settlingMinutes: 0 }) })
      .where('id', '=', t.project.id)
      .execute();
    try {
      assert.equal((await api('POST', `metrics/${metricId}/collect`)).status, 200);
      assert.deepEqual(brief(await signalsOf(ruleIds.above70)), [['breach', iso(until - HOUR)]]);
      assert.deepEqual(brief(await signalsOf(ruleIds.above40)).length, 4, '80 once is not 2 buckets above 40');
    } finally {
      await t.ctx.meta.db.updateTable('projects').set({ detection: '{}' }).where('id', '=', t.project.id).execute();
    }
  });

  test('a backtest of the rule gives the breaches and recoveries live evaluation stored', async () => {
    const r = await api('POST', `metrics/${metricId}/backtest`, { from: iso(start + DAY), to: iso(until - 2 * HOUR), rule: ABOVE_40 });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const fired = r.body.signals.filter((s: any) => s.scope === 'threshold');
    // a backtest writes buckets in the project's time zone (as series do); the signals API in UTC
    assert.deepEqual(
      fired.map((s: any) => [s.kind, iso(Date.parse(s.bucket))]),
      brief(await signalsOf(ruleIds.above40)),
    );
    assert.equal(r.body.count, r.body.signals.length);
  });

  test('CRUD: list, change (a new rule starts afresh), rename, pause, delete; each change is audited', async () => {
    const created = await api('POST', `metrics/${metricId}/rules`, {
      name: 'low',
      rule: { condition: { operator: '<', value: 5 }, severity: 'warning' },
      enabled: false,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual([created.body.enabled, created.body.breached, created.body.evaluatedUntil], [false, false, null]);
    const id = created.body.id as number;
    const list = await api('GET', `metrics/${metricId}/rules`, undefined, t.readKey);
    assert.equal(list.status, 200);
    assert.ok(list.body.rules.some((r: any) => r.id === id && r.name === 'low'));
    // every rule of the project, whichever metric it watches
    const other = await api('POST', 'metrics', {
      name: 'other-pings',
      kind: 'event',
      definition: { event: 'Ping' },
      detection: { enabled: false },
    });
    const otherRule = await api('POST', `metrics/${other.body.id}/rules`, { name: 'busy', rule: ABOVE_40 });
    const everyRule = await api('GET', 'rules', undefined, t.readKey);
    assert.equal(everyRule.status, 200, JSON.stringify(everyRule.body));
    assert.deepEqual(
      everyRule.body.rules.map((r: any) => [r.metricId, r.name]),
      [...list.body.rules.map((r: any) => [metricId, r.name]), [other.body.id, 'busy']],
    );
    assert.equal((await api('DELETE', `metrics/${other.body.id}/rules/${otherRule.body.id}`)).status, 204);
    assert.equal(
      (await api('POST', `metrics/${metricId}/rules`, { name: 'low', rule: ABOVE_40 })).status,
      409,
      'names are unique per metric',
    );

    const renamed = await api('PATCH', `metrics/${metricId}/rules/${id}`, { name: 'very-low', enabled: true });
    assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
    assert.deepEqual([renamed.body.name, renamed.body.enabled], ['very-low', true]);
    // an evaluated rule whose terms change forgets where it stood
    const above = ruleIds.above40;
    assert.notEqual((await api('GET', `metrics/${metricId}/rules`)).body.rules.find((r: any) => r.id === above).evaluatedUntil, null);
    const changed = await api('PATCH', `metrics/${metricId}/rules/${above}`, { rule: { ...ABOVE_40, forBuckets: 3 } });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    assert.deepEqual([changed.body.rule.forBuckets, changed.body.evaluatedUntil, changed.body.breached], [3, null, false]);
    assert.equal(
      (await api('PATCH', `metrics/${metricId}/rules/${above}`, { name: 'above40' })).body.rule.forBuckets,
      3,
      'a rename keeps the rule',
    );

    assert.equal((await api('DELETE', `metrics/${metricId}/rules/${id}`)).status, 204);
    assert.equal((await api('PATCH', `metrics/${metricId}/rules/${id}`, { enabled: false })).status, 404);
    assert.equal((await api('DELETE', `metrics/${metricId}/rules/${id}`)).status, 404);
    assert.ok((await signalsOf(above)).length > 0, 'signals stay when their rule changes');

    const audit = await t.ctx.audit.list(t.project.id, { targetType: 'threshold_rule', limit: 100 });
    const mine = audit
      .filter((e) => e.target.id === String(id))
      .map((e) => e.action)
      .reverse();
    assert.deepEqual(mine, ['threshold_rule.create', 'threshold_rule.update', 'threshold_rule.delete']);
    assert.ok(audit.every((e) => e.actor.type === 'api_key'));
  });

  test('a bad rule is a 400 that names the field', async () => {
    const cases: [unknown, string][] = [
      ['above', 'rule'],
      [{ severity: 'warning' }, 'rule.condition'],
      [{ condition: { operator: '=>', value: 1 }, severity: 'warning' }, 'rule.condition.operator'],
      [{ condition: { operator: '>', value: 'ten' }, severity: 'warning' }, 'rule.condition.value'],
      [{ condition: { operator: '>', value: 1, changeOverPeriod: 5000 }, severity: 'warning' }, 'rule.condition.changeOverPeriod'],
      [{ condition: { operator: '>', value: 1 }, severity: 'loud' }, 'rule.severity'],
      [{ condition: { operator: '>', value: 1 }, forBuckets: 0, severity: 'info' }, 'rule.forBuckets'],
      [{ condition: { operator: '>', value: 1 }, recovery: { operator: '<' }, severity: 'info' }, 'rule.recovery.value'],
      [{ condition: { operator: '>', value: 1 }, recoverFor: 1.5, severity: 'info' }, 'rule.recoverFor'],
    ];
    for (const [rule, field] of cases) {
      const r = await api('POST', `metrics/${metricId}/rules`, { name: `bad-${field}`, rule });
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.error.code, 'VIGIL_ERR_BAD_REQUEST');
      assert.equal(r.body.error.details.field, field, JSON.stringify(r.body));
    }
    const first = (await api('GET', `metrics/${metricId}/rules`)).body.rules[0].id;
    const patch = await api('PATCH', `metrics/${metricId}/rules/${first}`, { rule: { condition: { operator: '>', value: 1 } } });
    assert.deepEqual([patch.status, patch.body.error.details.field], [400, 'rule.severity']);
    assert.equal((await api('POST', `metrics/${metricId}/rules`, { rule: ABOVE_40 })).body.error.details.field, 'name');
    assert.equal((await api('POST', `metrics/${metricId}/rules`, { name: 'x', rule: ABOVE_40, extra: 1 })).status, 400);
    assert.equal(
      (await api('GET', `metrics/${metricId}/rules`)).body.rules.filter((r: any) => r.name.startsWith('bad-')).length,
      0,
      'nothing stored',
    );
  });

  test("access: viewers read, editors change; no key 401, another project's key or metric 404", async () => {
    assert.equal((await api('POST', `metrics/${metricId}/rules`, { name: 'by-reader', rule: ABOVE_40 }, t.readKey)).status, 403);
    assert.equal((await getJson(`${t.url}/api/projects/shop/metrics/${metricId}/rules`)).status, 401);
    const other = await t.ctx.projects.create({ slug: 'elsewhere' });
    const key = (await t.ctx.apiKeys.create({ projectId: other.id, scopes: ['write'] })).secret;
    assert.equal((await api('GET', `metrics/${metricId}/rules`, undefined, key)).status, 404);
    assert.equal((await api('POST', `metrics/${metricId}/rules`, { name: 'intruder', rule: ABOVE_40 }, key)).status, 404);
    const foreign = await t.ctx.catalog.create(other, { name: 'theirs', kind: 'event', status: 'draft', definition: { event: 'Ping' } });
    assert.equal((await api('GET', `metrics/${foreign.id}/rules`)).status, 404);
    assert.equal((await api('POST', `metrics/${foreign.id}/rules`, { name: 'cross', rule: ABOVE_40 })).status, 404);
    assert.equal((await api('PATCH', `metrics/${metricId}/rules/999999`, { enabled: false })).status, 404);
    // a rule is reached only through its own metric
    const sibling = await api('POST', 'metrics', { name: 'pings_again', kind: 'event', status: 'draft', definition: { event: 'Ping' } });
    assert.equal((await api('PATCH', `metrics/${sibling.body.id}/rules/${ruleIds.doubled}`, { enabled: false })).status, 404);
    assert.equal((await api('DELETE', `metrics/${sibling.body.id}/rules/${ruleIds.doubled}`)).status, 404);
    assert.equal((await api('GET', `metrics/${metricId}/rules`)).body.rules.find((r: any) => r.id === ruleIds.doubled).enabled, true);
  });
});
