/**
 * Alert rules as data: validation that names the field, matching, cooldown, repeat numbering,
 * digest periods (in the project's time zone), the simulator's counts, and the retry backoff.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_COOLDOWN_MINUTES,
  DEFAULT_FILTERS,
  digestDue,
  inCooldown,
  matchRule,
  parseRuleSpec,
  repeatDue,
  scopeKindOf,
  type MatchTarget,
  type RuleFilters,
} from '../../src/alerts/rules.js';
import { simulateRule } from '../../src/alerts/simulate.js';
import { digestEntries, duePeriod } from '../../src/alerts/digest.js';
import { RETRY_BASE_MS, retryDelayMs } from '../../src/alerts/delivery-worker.js';
import { cooldownScope } from '../../src/alerts/incident-policy.js';
import { MAX_DELIVERY_ATTEMPTS } from '../../src/alerts/outbox.js';
import type { Incident } from '../../src/incidents/types.js';
import { VigilError } from '../../src/errors.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2025, 2, 3); // a Monday

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof VigilError, String(err));
    assert.equal(err.status, 400);
    return (err.details as { field?: string }).field;
  }
  assert.fail('expected a 400');
}

const target = (t: Partial<MatchTarget> = {}): MatchTarget => ({
  scopeKind: 'anomaly',
  direction: 'down',
  severity: 'warning',
  metric: { name: 'signups', tags: ['growth'] },
  absoluteChange: -40,
  percentChange: -40,
  ...t,
});
const filters = (f: Partial<RuleFilters>): RuleFilters => ({ ...DEFAULT_FILTERS, ...f });

let nextId = 1;
function incident(i: Partial<Incident> = {}): Incident {
  const id = nextId++;
  const openedAt = i.openedAt ?? T0;
  return {
    id,
    projectId: 1,
    scopeKey: 'metric:1',
    breakdown: '',
    direction: 'down',
    metricId: 1,
    title: `incident ${id}`,
    status: 'open',
    resolution: null,
    severity: 'warning',
    rootSignalId: null,
    assigneeId: null,
    mutedUntil: null,
    startedBucket: openedAt - HOUR,
    lastBucket: openedAt - HOUR,
    openedAt,
    acknowledgedAt: null,
    resolvedAt: null,
    createdAt: openedAt,
    updatedAt: openedAt,
    ...i,
  };
}

test('a spec gets its defaults: all kinds, any direction, info and up, 24 h cooldown, no repeats, resolves told', () => {
  const spec = parseRuleSpec({ destinationIds: [3, 3, 4] }, 'UTC');
  assert.deepEqual(spec, {
    filters: DEFAULT_FILTERS,
    destinationIds: [3, 4],
    cooldownMinutes: DEFAULT_COOLDOWN_MINUTES,
    repeatEveryMinutes: null,
    notifyOnResolve: true,
    digest: null,
  });
  assert.equal(DEFAULT_COOLDOWN_MINUTES, 24 * 60);
});

test('validation errors are 400s naming the field', () => {
  const base = { destinationIds: [1] };
  const cases: [Record<string, unknown>, string][] = [
    [{}, 'destinationIds'],
    [{ destinationIds: [] }, 'destinationIds'],
    [{ destinationIds: ['x'] }, 'destinationIds'],
    [{ ...base, filters: { scopes: ['anomaly', 'weather'] } }, 'filters.scopes'],
    [{ ...base, filters: { minSeverity: 'huge' } }, 'filters.minSeverity'],
    [{ ...base, filters: { direction: 'sideways' } }, 'filters.direction'],
    [{ ...base, filters: { minPercentChange: -5 } }, 'filters.minPercentChange'],
    [{ ...base, filters: { minAbsoluteChange: 'ten' } }, 'filters.minAbsoluteChange'],
    [{ ...base, filters: { metricTags: [''] } }, 'filters.metricTags'],
    [{ ...base, colour: 'red' }, 'colour'],
    [{ ...base, filters: 'all' }, 'filters'],
    [{ ...base, filters: { colour: 'red' } }, 'filters.colour'],
    [{ ...base, colour: 'red' }, 'colour'],
    [{ ...base, cooldownMinutes: -1 }, 'cooldownMinutes'],
    [{ ...base, cooldownMinutes: 1.5 }, 'cooldownMinutes'],
    [{ ...base, repeatEveryMinutes: 1 }, 'repeatEveryMinutes'],
    [{ ...base, notifyOnResolve: 'yes' }, 'notifyOnResolve'],
    [{ ...base, digest: '0 9 * * *' }, 'digest'],
    [{ ...base, digest: { cron: 'every morning' } }, 'digest.cron'],
    [{ ...base, digest: { cron: '0 9 * * *', when: 1 } }, 'digest.when'],
    [{ ...base, digest: { cron: '0 9 * * *' }, repeatEveryMinutes: 60 }, 'repeatEveryMinutes'],
  ];
  for (const [input, field] of cases)
    assert.equal(
      fieldOf(() => parseRuleSpec(input, 'Europe/Berlin')),
      field,
      JSON.stringify(input),
    );
});

test('minSeverity takes info, warning, critical, and for one release the former minor, significant, major', () => {
  const min = (word: string) => parseRuleSpec({ destinationIds: [1], filters: { minSeverity: word } }, 'UTC').filters.minSeverity;
  assert.deepEqual(['info', 'warning', 'critical'].map(min), ['info', 'warning', 'critical']);
  assert.deepEqual(['minor', 'significant', 'major'].map(min), ['info', 'warning', 'critical']);
});

test('an update changes only the fields sent', () => {
  const base = parseRuleSpec(
    { destinationIds: [1], filters: { minSeverity: 'critical', scopes: ['threshold'] }, repeatEveryMinutes: 30 },
    'UTC',
  );
  const next = parseRuleSpec({ filters: { direction: 'up' }, repeatEveryMinutes: null }, 'UTC', base);
  assert.deepEqual(next.filters, { ...base.filters, direction: 'up' });
  assert.deepEqual([next.destinationIds, next.repeatEveryMinutes], [[1], null]);
  assert.equal(base.repeatEveryMinutes, 30, 'the base is not changed');
});

test('matching: kind, metric tags or names, direction, minimum severity, minimum % and absolute change', () => {
  const yes = (f: Partial<RuleFilters>, t: Partial<MatchTarget> = {}) => matchRule(filters(f), target(t)).matches;
  assert.ok(yes({}));
  assert.ok(yes({ scopes: ['anomaly', 'threshold'] }));
  assert.ok(!yes({ scopes: ['threshold'] }));
  assert.ok(yes({ metricTags: ['growth'] }));
  assert.ok(yes({ metricTags: ['infra'], metricNames: ['signups'] }), 'a tag or a name');
  assert.ok(!yes({ metricTags: ['infra'] }));
  assert.ok(!yes({ metricNames: ['signups'] }, { metric: null }), 'a rule limited to metrics skips event and schema incidents');
  assert.ok(yes({ direction: 'down' }));
  assert.ok(!yes({ direction: 'up' }));
  assert.ok(!yes({ direction: 'up' }, { direction: null }));
  assert.ok(yes({ minSeverity: 'warning' }));
  assert.ok(!yes({ minSeverity: 'critical' }));
  assert.ok(yes({ minSeverity: 'critical' }, { severity: 'critical' }));
  assert.ok(yes({ minPercentChange: 40 }), '|−40 %| reaches 40');
  assert.ok(!yes({ minPercentChange: 50 }));
  assert.ok(yes({ minPercentChange: 50 }, { percentChange: null }), 'no expected value: the filter does not apply');
  assert.ok(!yes({ minAbsoluteChange: 41 }));
  assert.ok(yes({ minAbsoluteChange: 40 }));
  const no = matchRule(filters({ minSeverity: 'critical' }), target());
  assert.ok(!no.matches && /severity warning is below critical/.test(no.reason));
  const small = matchRule(filters({ minAbsoluteChange: 0.01 }), target({ absoluteChange: 0.0097000000000001 }));
  assert.deepEqual(small, { matches: false, reason: '|change| 0.0097 is below 0.01' }, 'numbers as people read them');
});

test('scope kinds: metric and event anomalies are "anomaly"; rule:, schema:, distribution: keys map without a signal', () => {
  assert.equal(scopeKindOf('metric', 'metric:1'), 'anomaly');
  assert.equal(scopeKindOf('event', 'event:signup'), 'anomaly');
  assert.equal(scopeKindOf('volume', 'volume:total'), 'anomaly', "the project's total volume is an anomaly scope");
  assert.equal(scopeKindOf(undefined, 'volume:total'), 'anomaly');
  assert.equal(scopeKindOf('threshold', 'rule:3'), 'threshold');
  assert.equal(scopeKindOf(undefined, 'rule:3'), 'threshold');
  assert.equal(scopeKindOf(undefined, 'schema:Signed Up:plan:type'), 'schema');
  assert.equal(scopeKindOf(undefined, 'distribution:Order:amount'), 'distribution');
});

test('cooldown: measured from the last successful send, per rule and incident scope', () => {
  const spec = { cooldownMinutes: 60 };
  assert.equal(inCooldown(spec, null, T0), false, 'never sent');
  assert.equal(inCooldown(spec, T0 - 59 * MINUTE, T0), true);
  assert.equal(inCooldown(spec, T0 - 60 * MINUTE, T0), false);
  assert.equal(inCooldown({ cooldownMinutes: 0 }, T0, T0), false, 'no cooldown');
  assert.equal(cooldownScope({ scopeKey: 'metric:1', breakdown: '', direction: 'down' }), 'metric:1||down');
  assert.notEqual(
    cooldownScope({ scopeKey: 'metric:1', breakdown: 'DE', direction: 'down' }),
    cooldownScope({ scopeKey: 'metric:1', breakdown: 'FR', direction: 'down' }),
  );
});

test('repeats are numbered from the first send, so every scheduler makes the same key', () => {
  assert.equal(repeatDue(30, T0, T0, T0 + 29 * MINUTE), 0);
  assert.equal(repeatDue(30, T0, T0, T0 + 30 * MINUTE), 1);
  assert.equal(repeatDue(30, T0, T0 + 31 * MINUTE, T0 + 45 * MINUTE), 0, 'the last repeat went out late: wait a full period');
  assert.equal(repeatDue(30, T0, T0 + 31 * MINUTE, T0 + 61 * MINUTE), 2);
  assert.equal(repeatDue(30, T0, T0, T0 + 100 * MINUTE), 3, 'missed periods are not sent one by one');
});

test("digests: the period ends at the latest cron run, in the project's time zone; missed periods fold into one", () => {
  // 09:00 in Berlin is 08:00 UTC in March (before the switch to summer time)
  assert.equal(digestDue('0 9 * * *', 'Europe/Berlin', T0, T0 + 7 * HOUR), null);
  assert.equal(digestDue('0 9 * * *', 'Europe/Berlin', T0, T0 + 8 * HOUR), T0 + 8 * HOUR);
  assert.equal(digestDue('0 9 * * *', 'Europe/Berlin', T0, T0 + 3 * DAY), T0 + 2 * DAY + 8 * HOUR);
  assert.equal(digestDue('0 9 * * *', 'UTC', T0 + 9 * HOUR, T0 + 10 * HOUR), null, 'a run at the period start is not due again');
  const rule = { spec: parseRuleSpec({ destinationIds: [1], digest: { cron: '0 9 * * *' } }, 'UTC'), digestUntil: null, createdAt: T0 };
  assert.deepEqual(duePeriod(rule, 'UTC', T0 + 10 * HOUR), { from: T0, to: T0 + 9 * HOUR });
  assert.deepEqual(duePeriod({ ...rule, digestUntil: T0 + 9 * HOUR }, 'UTC', T0 + 10 * HOUR), null);
});

test('a digest lists matching incidents opened in its period, not muted, not history opened already over', () => {
  const period = { from: T0, to: T0 + DAY };
  const t = target();
  const list = [
    { incident: incident({ openedAt: T0 + 2 * HOUR }), signals: [], target: t },
    { incident: incident({ openedAt: T0 + HOUR }), signals: [], target: t },
    { incident: incident({ openedAt: T0 - HOUR }), signals: [], target: t },
    { incident: incident({ openedAt: T0 + 3 * HOUR }), signals: [], target: target({ severity: 'info' }) },
    { incident: incident({ openedAt: T0 + 4 * HOUR, mutedUntil: T0 + 2 * DAY }), signals: [], target: t },
    { incident: incident({ openedAt: T0 + 5 * HOUR, resolvedAt: T0 + 5 * HOUR, status: 'resolved' }), signals: [], target: t },
  ];
  const spec = parseRuleSpec({ destinationIds: [1], filters: { minSeverity: 'warning' } }, 'UTC');
  const entries = digestEntries(spec, list, period, T0 + DAY);
  assert.deepEqual(
    entries.map((e) => e.incident.id),
    [list[1].incident.id, list[0].incident.id],
  );
});

test('the simulator applies filters and cooldown, adds repeats until acknowledged and resolves, and counts per day', () => {
  const spec = parseRuleSpec(
    { destinationIds: [1], cooldownMinutes: 120, repeatEveryMinutes: 30, filters: { minSeverity: 'warning' } },
    'UTC',
  );
  const a = incident({ openedAt: T0 + HOUR, acknowledgedAt: T0 + HOUR + 70 * MINUTE, resolvedAt: T0 + 3 * HOUR, status: 'resolved' });
  const b = incident({ openedAt: T0 + 4 * HOUR }); // same scope, 3 h after a's last repeat: alerted
  const c = incident({ openedAt: T0 + 5 * HOUR }); // same scope within 2 h of b's last send: cooldown
  const d = incident({
    openedAt: T0 + DAY + HOUR,
    scopeKey: 'metric:2',
    resolvedAt: T0 + DAY + 2 * HOUR,
    acknowledgedAt: T0 + DAY + HOUR,
    status: 'resolved',
  });
  const e = incident({ openedAt: T0 + DAY + 3 * HOUR, severity: 'info' });
  const old = incident({ openedAt: T0 - HOUR });
  const candidates = [a, b, c, d, e, old].map((i) => ({ incident: i, target: target({ severity: i.severity }) }));
  const window = { from: T0, to: T0 + 2 * DAY, timeZone: 'UTC' };
  const r = simulateRule({ ...spec, repeatEveryMinutes: null }, candidates, window);
  assert.equal(r.incidents, 5);
  assert.equal(r.matched, 4);
  assert.deepEqual(r.filteredOut, { severity: 1 });
  assert.equal(r.suppressedByCooldown, 1, 'c: its scope was alerted 1 h before');
  assert.deepEqual(
    r.alerts.map((x) => [x.event, x.incidentId]),
    [
      ['opened', a.id],
      ['resolved', a.id],
      ['opened', b.id],
      ['opened', d.id],
      ['resolved', d.id],
    ],
  );
  assert.deepEqual(r.perDay, [
    { day: '2025-03-03', alerts: 3 },
    { day: '2025-03-04', alerts: 2 },
  ]);
  assert.deepEqual(r.byEvent, { opened: 3, resolved: 2 });

  const withRepeats = simulateRule(spec, candidates.slice(0, 1), window);
  assert.deepEqual(
    withRepeats.alerts.map((x) => [x.event, x.at]),
    [
      ['opened', new Date(T0 + HOUR).toISOString()],
      ['repeat', new Date(T0 + HOUR + 30 * MINUTE).toISOString()],
      ['repeat', new Date(T0 + 2 * HOUR).toISOString()],
      ['resolved', new Date(T0 + 3 * HOUR).toISOString()],
    ],
    'repeats stop at the acknowledgement',
  );
  const quiet = simulateRule({ ...spec, notifyOnResolve: false, repeatEveryMinutes: null }, candidates, window);
  assert.equal(quiet.byEvent.resolved, undefined);
});

test('the simulator places history a backfill opened already over where it happened', () => {
  const spec = parseRuleSpec({ destinationIds: [1] }, 'UTC');
  const backfillAt = T0 + 10 * DAY;
  const h = incident({
    startedBucket: T0 + 2 * HOUR,
    lastBucket: T0 + 4 * HOUR,
    openedAt: backfillAt,
    resolvedAt: backfillAt,
    status: 'resolved',
  });
  const r = simulateRule(spec, [{ incident: h, target: target() }], { from: T0, to: T0 + 11 * DAY, timeZone: 'UTC' });
  assert.deepEqual(
    r.alerts.map((x) => [x.event, x.at]),
    [
      ['opened', new Date(T0 + 2 * HOUR).toISOString()],
      ['resolved', new Date(T0 + 4 * HOUR).toISOString()],
    ],
  );
});

test('a digest rule simulates one message per period that saw an incident', () => {
  const spec = parseRuleSpec({ destinationIds: [1], digest: { cron: '0 9 * * *' } }, 'UTC');
  const list = [T0 + HOUR, T0 + 2 * HOUR, T0 + 10 * HOUR, T0 + 3 * DAY].map((openedAt) => ({
    incident: incident({ openedAt, scopeKey: `metric:${openedAt}` }),
    target: target(),
  }));
  const r = simulateRule(spec, list, { from: T0, to: T0 + 5 * DAY, timeZone: 'UTC' });
  assert.deepEqual(
    r.alerts.map((x) => [x.event, x.at, x.incidents]),
    [
      ['digest', new Date(T0 + 9 * HOUR).toISOString(), 2],
      ['digest', new Date(T0 + DAY + 9 * HOUR).toISOString(), 1],
      ['digest', new Date(T0 + 3 * DAY + 9 * HOUR).toISOString(), 1],
    ],
  );
});

test('retries back off exponentially with jitter, within ×0.5 to ×1.5', () => {
  assert.equal(MAX_DELIVERY_ATTEMPTS, 5);
  assert.equal(
    retryDelayMs(1, () => 0.5),
    RETRY_BASE_MS,
  );
  assert.equal(
    retryDelayMs(2, () => 0.5),
    2 * RETRY_BASE_MS,
  );
  assert.equal(
    retryDelayMs(3, () => 0),
    2 * RETRY_BASE_MS,
  );
  assert.ok(retryDelayMs(4, () => 0.999) < 1.5 * 8 * RETRY_BASE_MS);
  assert.equal(
    retryDelayMs(30, () => 0.5),
    10 * MINUTE,
    'capped',
  );
});
