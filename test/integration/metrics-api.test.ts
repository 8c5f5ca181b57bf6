/**
 * The metrics catalog end to end over HTTP: every kind is created through the API, backfilled by
 * the job worker and read back as a series, checked bucket by bucket against a plain TypeScript
 * reference over the generated events. Then the gap rules, the lifecycle, validation, auth, the
 * list with its sparkline, previews and collect-now.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { postJson, startTestApp, type TestApp } from '../helpers/app.js';
import type { MetricApi } from '../../src/metrics/schemas.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Complete hours of generated events, ending at the current (incomplete) hour. */
const HOURS = 6;
/** An hour without any event; another with events but no "Signed Up" (a zero denominator). */
const GAP = 3;
const NO_SIGNUP = 1;
const OTHER = '$other';
const NONE = '$none';

type Values = (number | null)[];
interface Ev {
  event: string;
  userId: string;
  sessionId: string;
  ts: number;
  country: string | null;
  properties: Record<string, string | number | boolean>;
}
interface Filter {
  property: string;
  op: string;
  value?: string | number | boolean | (string | number)[];
}

/** A small seeded generator, so a failure can be reproduced. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0) / 2 ** 32;
}

function generateEvents(base: number): Ev[] {
  const r = random(42);
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
  const out: Ev[] = [];
  for (let h = 0; h < HOURS; h++) {
    if (h === GAP) continue;
    for (let i = 0; i < 18 + 5 * h; i++) {
      let event = pick(['Page Viewed', 'Page Viewed', 'Signed Up', 'Order Completed', 'Order Completed']);
      if (h === NO_SIGNUP && event === 'Signed Up') event = 'Page Viewed';
      const userId = `u${Math.floor(r() * 7)}`;
      const properties: Ev['properties'] = {
        tier: pick([1, 2, 3]),
        ref: pick(['google.com', 'news.google.com', 'bing.com', "o'reilly.com"]),
      };
      const plan = pick(['free', 'pro', 'team', undefined]);
      if (plan) properties.plan = plan;
      // quarters, so sums are exact in binary floating point
      if (r() < 0.8) properties.amount = Math.round(r() * 800) / 4;
      if (r() < 0.5) properties.trial = r() < 0.5;
      out.push({
        event,
        userId,
        sessionId: `${userId}-${h}-${Math.floor(r() * 2)}`,
        ts: base + h * HOUR + Math.floor(r() * (HOUR - 1000)),
        country: pick(['DE', 'FR', 'US', null]),
        properties,
      });
    }
  }
  return out;
}

let messages = 0;
async function ingest(t: TestApp, evs: Ev[]) {
  const batch = evs.map((e) => ({
    type: 'track',
    event: e.event,
    userId: e.userId,
    messageId: `m-${++messages}`,
    timestamp: new Date(e.ts).toISOString(),
    properties: e.properties,
    context: { sessionId: e.sessionId, ...(e.country ? { location: { country: e.country } } : {}) },
  }));
  const r = await postJson(`${t.url}/v1/batch`, { batch }, { authorization: `Bearer ${t.writeKey}` });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await t.ctx.flush();
}

// ---- the reference -------------------------------------------------------------------------

/** A value as the store compares it: text (JSON numbers and booleans as written), or null when missing. */
function textOf(e: Ev, name: string): string | null {
  if (name === 'event') return e.event;
  if (name === 'country') return e.country;
  const v = e.properties[name.replace(/^properties\./, '')];
  return v === undefined ? null : String(v);
}
function numberOf(e: Ev, name: string): number | null {
  const x = textOf(e, name);
  return x !== null && x.trim() !== '' && Number.isFinite(Number(x)) ? Number(x) : null;
}
function passes(e: Ev, f: Filter): boolean {
  const x = textOf(e, f.property);
  const n = numberOf(e, f.property);
  const v = f.value;
  const list = (Array.isArray(v) ? v : []).map(String);
  switch (f.op) {
    case 'eq':
      return typeof v === 'number' ? n === v : x === String(v);
    case 'neq':
      return typeof v === 'number' ? n !== v : x !== String(v);
    case 'in':
      return x !== null && list.includes(x);
    case 'not_in':
      return x === null || !list.includes(x);
    case 'contains':
      return x?.includes(String(v)) ?? false;
    case 'gt':
      return n !== null && n > (v as number);
    case 'gte':
      return n !== null && n >= (v as number);
    case 'lt':
      return n !== null && n < (v as number);
    case 'lte':
      return n !== null && n <= (v as number);
    case 'is_set':
      return x !== null;
    case 'is_not_set':
      return x === null;
  }
  throw new Error(`no reference for ${f.op}`);
}
const where = (evs: Ev[], event?: string, filters: Filter[] = []) =>
  evs.filter((e) => (event === undefined || e.event === event) && filters.every((f) => passes(e, f)));
const perHour = (evs: Ev[], starts: number[], fn: (bucket: Ev[]) => number | null): Values =>
  starts.map((s) => fn(evs.filter((e) => e.ts >= s && e.ts < s + HOUR)));
const distinct = (xs: unknown[]) => new Set(xs).size;
const numbers = (evs: Ev[], p: string) => evs.map((e) => numberOf(e, p)).filter((n): n is number => n !== null);
const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const divide = (n: number, d: number) => (d === 0 ? null : n / d);
/** DuckDB's quantile_cont: linear interpolation between the closest ranks. */
function quantileCont(xs: number[], q: number): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  return s[lo] + (s[Math.ceil(pos)] - s[lo]) * (pos - lo);
}
const AGGREGATES: Record<string, (xs: number[]) => number | null> = {
  sum: total,
  avg: (xs) => (xs.length ? total(xs) / xs.length : null),
  min: (xs) => (xs.length ? Math.min(...xs) : null),
  max: (xs) => (xs.length ? Math.max(...xs) : null),
  p90: (xs) => quantileCont(xs, 0.9),
};

/**
 * Per bucket: the `limit` keys with the largest values (ties by key), and "other": total - top
 * (counts, sums), the max of the other keys' values, or the value of the rows outside the top keys.
 */
type OtherRule = 'subtract' | 'max' | 'rows' | 'none';
function breakdownReference(
  evs: Ev[],
  starts: number[],
  dim: string,
  limit: number,
  value: (b: Ev[]) => number | null,
  other: OtherRule,
): Record<string, Values> {
  const out: Record<string, Values> = {};
  const keyOf = (e: Ev) => textOf(e, dim) ?? NONE;
  starts.forEach((s, i) => {
    const bucket = evs.filter((e) => e.ts >= s && e.ts < s + HOUR);
    const ranked = [...new Set(bucket.map(keyOf))]
      .map((key) => ({ key, v: value(bucket.filter((e) => keyOf(e) === key)) }))
      .filter((x): x is { key: string; v: number } => x.v !== null)
      .sort((a, b) => b.v - a.v || (a.key < b.key ? -1 : 1));
    const set = (key: string, v: number | null) => v !== null && ((out[key] ??= new Array(starts.length).fill(null))[i] = v);
    const top = ranked.slice(0, limit);
    for (const x of top) set(x.key, x.v);
    const rest = ranked.slice(limit);
    if (!rest.length) return;
    if (other === 'subtract') set(OTHER, value(bucket)! - total(top.map((x) => x.v)));
    if (other === 'max') set(OTHER, Math.max(...rest.map((x) => x.v)));
    if (other === 'rows') set(OTHER, value(bucket.filter((e) => !top.some((x) => x.key === keyOf(e)))));
  });
  return out;
}

function assertValues(actual: Values, expected: Values, what: string) {
  const shown = `${what}\n  actual:   ${JSON.stringify(actual)}\n  expected: ${JSON.stringify(expected)}`;
  assert.equal(actual.length, expected.length, shown);
  actual.forEach((a, i) => {
    const e = expected[i];
    if (a === null || e === null) assert.equal(a, e, shown);
    else assert.ok(Math.abs(a - e) <= 1e-9 * Math.max(1, Math.abs(e)), shown);
  });
}

// ---- HTTP ------------------------------------------------------------------------------------

async function api(t: TestApp, key: string | undefined, method: string, path: string, body?: unknown) {
  const headers: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${t.url}/api/projects/${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}
const keyOf = async (t: TestApp, projectId: number, scopes: ('read' | 'write' | 'ingest')[]) =>
  (await t.ctx.apiKeys.create({ projectId, scopes })).secret;
const runJobs = async (t: TestApp) => {
  while (await t.ctx.worker.runOnce()) {
    /* until the queue is empty */
  }
};
const hours = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i * HOUR);

async function create(t: TestApp, key: string, body: object): Promise<MetricApi> {
  const r = await api(t, key, 'POST', 'shop/metrics', body);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body;
}

/** The series of a metric over [fromMs, toMs): its buckets (as instants) and values by key. */
async function seriesOf(t: TestApp, key: string, id: number, fromMs: number, toMs: number, breakdown?: string) {
  const q = new URLSearchParams({
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
    ...(breakdown ? { breakdown } : {}),
  });
  const r = await api(t, key, 'GET', `shop/metrics/${id}/series?${q}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const byKey = Object.fromEntries((r.body.series as { key: string; values: Values }[]).map((s) => [s.key, s.values]));
  return { body: r.body, starts: (r.body.buckets as string[]).map((b) => Date.parse(b)), byKey };
}

/** Shared app: events of the last HOURS hours, one measurement series, and the key to use. */
async function seededApp() {
  const t = await startTestApp();
  const now = Date.now();
  const base = Math.floor(now / HOUR) * HOUR - HOURS * HOUR;
  const evs = generateEvents(base);
  await ingest(t, evs);
  const key = await keyOf(t, t.project.id, ['read', 'write']);
  return { t, base, evs, key, starts: hours(base, HOURS) };
}

// ---- every kind, end to end --------------------------------------------------------------------

interface Case {
  name: string;
  kind: string;
  definition: object;
  expected: (evs: Ev[], starts: number[]) => Values;
}
const count =
  (event?: string, filters: Filter[] = []): Case['expected'] =>
  (evs, starts) =>
    perHour(where(evs, event, filters), starts, (b) => b.length);
const eventCase = (name: string, filters: Filter[], event?: string): Case => ({
  name,
  kind: 'event',
  definition: { ...(event ? { event } : {}), filters },
  expected: count(event, filters),
});
const aggregation = (fn: string, expected: (xs: Ev[]) => number | null): Case => ({
  name: `amount_${fn}`,
  kind: 'aggregation',
  definition: { event: 'Order Completed', property: 'amount', fn },
  expected: (evs, starts) => perHour(where(evs, 'Order Completed'), starts, expected),
});

const CASES: Case[] = [
  eventCase('orders_pro', [{ property: 'plan', op: 'eq', value: 'pro' }], 'Order Completed'),
  eventCase('not_pro', [{ property: 'plan', op: 'neq', value: 'pro' }]),
  eventCase('de_or_fr', [{ property: 'country', op: 'in', value: ['DE', 'FR'] }]),
  eventCase('not_free_team', [{ property: 'plan', op: 'not_in', value: ['free', 'team'] }]),
  eventCase('from_google', [{ property: 'ref', op: 'contains', value: 'google' }]),
  eventCase('from_oreilly', [{ property: 'properties.ref', op: 'contains', value: "o'reilly" }]),
  eventCase('big_amount', [{ property: 'amount', op: 'gt', value: 100 }]),
  eventCase('small_amount', [{ property: 'amount', op: 'lte', value: 50 }]),
  eventCase('with_amount', [{ property: 'amount', op: 'is_set' }]),
  eventCase('without_plan', [{ property: 'plan', op: 'is_not_set' }]),
  eventCase('tier_two', [{ property: 'tier', op: 'eq', value: 2 }]),
  eventCase('on_trial', [{ property: 'trial', op: 'eq', value: true }]),
  eventCase(
    'views_de_tier',
    [
      { property: 'country', op: 'eq', value: 'DE' },
      { property: 'tier', op: 'gte', value: 2 },
    ],
    'Page Viewed',
  ),
  {
    name: 'users',
    kind: 'event',
    definition: { measure: 'users' },
    expected: (evs, starts) => perHour(evs, starts, (b) => distinct(b.map((e) => e.userId))),
  },
  {
    name: 'view_sessions',
    kind: 'event',
    definition: { event: 'Page Viewed', measure: 'sessions' },
    expected: (evs, starts) => perHour(where(evs, 'Page Viewed'), starts, (b) => distinct(b.map((e) => e.sessionId))),
  },
  {
    name: 'conversion',
    kind: 'ratio',
    definition: { numerator: { event: 'Order Completed' }, denominator: { event: 'Signed Up' } },
    expected: (evs, starts) => perHour(evs, starts, (b) => divide(where(b, 'Order Completed').length, where(b, 'Signed Up').length)),
  },
  {
    name: 'views_per_user',
    kind: 'per_user',
    definition: { event: 'Page Viewed' },
    expected: (evs, starts) => perHour(where(evs, 'Page Viewed'), starts, (b) => divide(b.length, distinct(b.map((e) => e.userId)))),
  },
  aggregation('sum', (b) => total(numbers(b, 'amount'))),
  aggregation('avg', (b) => AGGREGATES.avg(numbers(b, 'amount'))),
  aggregation('min', (b) => AGGREGATES.min(numbers(b, 'amount'))),
  aggregation('max', (b) => AGGREGATES.max(numbers(b, 'amount'))),
  aggregation('count', (b) => b.filter((e) => textOf(e, 'amount') !== null).length),
  aggregation('count_distinct', (b) => distinct(b.map((e) => textOf(e, 'amount')).filter((x) => x !== null))),
  aggregation('p90', (b) => AGGREGATES.p90(numbers(b, 'amount'))),
  {
    name: 'sql_signups',
    kind: 'sql',
    definition: { sql: "SELECT bucket, count(*) AS value FROM events WHERE event = 'Signed Up' GROUP BY bucket" },
    expected: (evs, starts) => perHour(where(evs, 'Signed Up'), starts, (b) => b.length || null),
  },
];

describe('each metric kind, created over HTTP and backfilled, matches the reference', () => {
  let s: Awaited<ReturnType<typeof seededApp>>;
  const ids = new Map<string, number>();
  const byCountry = {
    sql: 'SELECT bucket, country AS breakdown, count(*) AS value FROM events WHERE country IS NOT NULL GROUP BY GROUPING SETS ((bucket), (bucket, country))',
  };
  const points = (svc: string) =>
    Array.from({ length: HOURS }, (_, h) => h)
      .filter((h) => h !== GAP)
      .flatMap((h) =>
        [35, 5, 50].map((m, k) => ({
          service: svc,
          metric: 'latency_ms',
          value: 100 + ((h * 37 + k * 53) % 90),
          timestamp: s.base + h * HOUR + m * 60_000,
          tags: { region: k === 1 ? 'us' : 'eu' },
        })),
      );
  const gauge = (aggregate: string, values: number[]) => (aggregate === 'last' ? values[values.length - 1] : AGGREGATES[aggregate](values));
  const gaugeReference = (aggregate: string, region?: string): Values =>
    hours(s.base, HOURS).map((st) => {
      const inHour = points('api')
        .filter((p) => p.timestamp >= st && p.timestamp < st + HOUR && (!region || p.tags.region === region))
        .sort((a, b) => a.timestamp - b.timestamp);
      return inHour.length
        ? gauge(
            aggregate,
            inHour.map((p) => p.value),
          )
        : null;
    });

  before(async () => {
    s = await seededApp();
    const m = await postJson(`${s.t.url}/v1/measurements`, points('api'), { authorization: `Bearer ${s.t.writeKey}` });
    assert.equal(m.status, 200, JSON.stringify(m.body));
    const extra = [
      { name: 'by_plan_country', kind: 'event', definition: { breakdowns: ['plan', 'country'], breakdownLimit: 2 } },
      {
        name: 'amount_by_country',
        kind: 'aggregation',
        definition: { property: 'amount', fn: 'sum', breakdowns: ['country'], breakdownLimit: 1 },
      },
      { name: 'max_by_plan', kind: 'aggregation', definition: { property: 'amount', fn: 'max', breakdowns: ['plan'], breakdownLimit: 1 } },
      {
        name: 'pro_orders_by_country',
        kind: 'event',
        definition: {
          event: 'Order Completed',
          filters: [{ property: 'plan', op: 'eq', value: 'pro' }],
          breakdowns: ['country'],
          breakdownLimit: 2,
        },
      },
      { name: 'users_by_country', kind: 'event', definition: { measure: 'users', breakdowns: ['country'], breakdownLimit: 2 } },
      { name: 'p90_by_plan', kind: 'aggregation', definition: { property: 'amount', fn: 'p90', breakdowns: ['plan'], breakdownLimit: 1 } },
      { name: 'sql_by_country', kind: 'sql', definition: byCountry },
      ...['last', 'avg', 'max'].map((aggregate) => ({
        name: `latency_${aggregate}`,
        kind: 'gauge',
        definition: { service: 'api', metric: 'latency_ms', aggregate },
      })),
      { name: 'latency_eu', kind: 'gauge', definition: { service: 'api', metric: 'latency_ms', aggregate: 'max', tags: { region: 'eu' } } },
    ];
    for (const c of [...CASES, ...extra])
      ids.set(c.name, (await create(s.t, s.key, { name: c.name, kind: c.kind, definition: c.definition })).id);
    await runJobs(s.t);
  });
  after(() => s.t.close());

  test('every backfill job finished', async () => {
    const jobs = await s.t.ctx.jobs.list({ kind: 'metrics.backfill', limit: 1000 });
    assert.equal(jobs.length, ids.size);
    assert.deepEqual(
      jobs.filter((j) => j.status !== 'done').map((j) => [j.payload, j.status, j.lastError]),
      [],
    );
  });

  for (const c of CASES) {
    test(`${c.kind} ${c.name}: ${JSON.stringify(c.definition)}`, async () => {
      const { starts, byKey, body } = await seriesOf(s.t, s.key, ids.get(c.name)!, s.base, s.base + HOURS * HOUR);
      assert.deepEqual(starts, s.starts);
      assert.deepEqual(Object.keys(byKey), ['total']);
      assertValues(byKey.total, c.expected(s.evs, s.starts), c.name);
      assert.equal(
        body.metric.valueKind,
        c.kind === 'event' || ['amount_sum', 'amount_count', 'amount_count_distinct'].includes(c.name) ? 'count' : 'fraction',
      );
    });
  }

  test('event count broken down by two dimensions: top 2 per bucket, "other" = total - top, keys add up to the total', async () => {
    const id = ids.get('by_plan_country')!;
    const totals = (await seriesOf(s.t, s.key, id, s.base, s.base + HOURS * HOUR)).byKey.total;
    assertValues(totals, count()(s.evs, s.starts), 'total');
    for (const dim of ['plan', 'country']) {
      const { byKey, body } = await seriesOf(s.t, s.key, id, s.base, s.base + HOURS * HOUR, dim);
      const expected = breakdownReference(s.evs, s.starts, dim, 2, (b) => b.length, 'subtract');
      assert.deepEqual(Object.keys(byKey).sort(), Object.keys(expected).sort(), dim);
      for (const key of Object.keys(expected)) assertValues(byKey[key], expected[key], `${dim}=${key}`);
      s.starts.forEach((_, i) =>
        assert.equal(total(Object.values(byKey).map((v) => v[i] ?? 0)), totals[i], `${dim}: keys of bucket ${i} add up to the total`),
      );
      assert.equal(body.series[body.series.length - 1].key, OTHER, '"other" comes last');
      assert.equal(body.series[body.series.length - 1].label, 'other');
      if (byKey[NONE]) assert.equal(body.series.find((x: { key: string }) => x.key === NONE).label, '(none)');
    }
  });

  test('a filtered count broken down: only keys with matching events, "other" only from matching events', async () => {
    const { byKey } = await seriesOf(s.t, s.key, ids.get('pro_orders_by_country')!, s.base, s.base + HOURS * HOUR, 'country');
    const filters = [{ property: 'plan', op: 'eq', value: 'pro' }];
    assert.deepEqual(
      byKey,
      breakdownReference(where(s.evs, 'Order Completed', filters), s.starts, 'country', 2, (b) => b.length, 'subtract'),
    );
  });

  test('aggregations broken down: sum keeps "other" = total - top, max keeps "other" = max of the rest', async () => {
    const sumBy = await seriesOf(s.t, s.key, ids.get('amount_by_country')!, s.base, s.base + HOURS * HOUR, 'country');
    const sumExpected = breakdownReference(s.evs, s.starts, 'country', 1, (b) => total(numbers(b, 'amount')), 'subtract');
    assert.deepEqual(Object.keys(sumBy.byKey).sort(), Object.keys(sumExpected).sort());
    for (const key of Object.keys(sumExpected)) assertValues(sumBy.byKey[key], sumExpected[key], `sum, country=${key}`);
    const maxBy = await seriesOf(s.t, s.key, ids.get('max_by_plan')!, s.base, s.base + HOURS * HOUR, 'plan');
    const maxExpected = breakdownReference(s.evs, s.starts, 'plan', 1, (b) => AGGREGATES.max(numbers(b, 'amount')), 'max');
    assert.deepEqual(Object.keys(maxBy.byKey).sort(), Object.keys(maxExpected).sort());
    for (const key of Object.keys(maxExpected)) assertValues(maxBy.byKey[key], maxExpected[key], `max, plan=${key}`);
  });

  test('distinct users and p90 broken down: "other" is computed over the rows outside each bucket\'s top keys', async () => {
    const cases = [
      ['users_by_country', 'country', 2, (b: Ev[]) => distinct(b.map((e) => e.userId))],
      ['p90_by_plan', 'plan', 1, (b: Ev[]) => AGGREGATES.p90(numbers(b, 'amount'))],
    ] as const;
    for (const [name, dim, limit, value] of cases) {
      const { byKey } = await seriesOf(s.t, s.key, ids.get(name)!, s.base, s.base + HOURS * HOUR, dim);
      const expected = breakdownReference(s.evs, s.starts, dim, limit, value, 'rows');
      assert.ok(OTHER in expected, `${name}: the data has more keys than the limit`);
      assert.deepEqual(Object.keys(byKey).sort(), Object.keys(expected).sort(), name);
      for (const key of Object.keys(expected)) assertValues(byKey[key], expected[key], `${name}, ${dim}=${key}`);
    }
  });

  test('sql with a breakdown column: NULL-breakdown rows are the total, the others one series per key', async () => {
    const id = ids.get('sql_by_country')!;
    const withCountry = s.evs.filter((e) => e.country !== null);
    const totals = await seriesOf(s.t, s.key, id, s.base, s.base + HOURS * HOUR);
    assertValues(
      totals.byKey.total,
      perHour(withCountry, s.starts, (b) => b.length || null),
      'total',
    );
    const { byKey } = await seriesOf(s.t, s.key, id, s.base, s.base + HOURS * HOUR, 'breakdown');
    const expected = breakdownReference(withCountry, s.starts, 'country', 20, (b) => b.length, 'none');
    assert.deepEqual(Object.keys(byKey).sort(), Object.keys(expected).sort());
    for (const key of Object.keys(expected)) assertValues(byKey[key], expected[key], `country=${key}`);
  });

  test('gauges from POST /v1/measurements: last, avg, max per bucket, and a tag filter', async () => {
    for (const aggregate of ['last', 'avg', 'max']) {
      const { byKey, body } = await seriesOf(s.t, s.key, ids.get(`latency_${aggregate}`)!, s.base, s.base + HOURS * HOUR);
      assertValues(byKey.total, gaugeReference(aggregate), aggregate);
      assert.equal(body.metric.valueKind, 'fraction');
    }
    assertValues(
      (await seriesOf(s.t, s.key, ids.get('latency_eu')!, s.base, s.base + HOURS * HOUR)).byKey.total,
      gaugeReference('max', 'eu'),
      'eu only',
    );
  });

  test('gap rules: an hour without events is 0 for counts and null for ratio, avg, percentile, sql and gauge', async () => {
    const at = (name: string) => seriesOf(s.t, s.key, ids.get(name)!, s.base + GAP * HOUR, s.base + (GAP + 1) * HOUR);
    for (const name of ['orders_pro', 'users', 'view_sessions', 'amount_sum', 'amount_count', 'by_plan_country']) {
      const { byKey, body } = await at(name);
      assert.deepEqual(byKey.total, [0], name);
      assert.equal(body.metric.valueKind, 'count', name);
    }
    for (const name of ['conversion', 'views_per_user', 'amount_avg', 'amount_p90', 'amount_max', 'sql_signups', 'latency_last']) {
      const { byKey, body } = await at(name);
      assert.deepEqual(byKey.total, [null], name);
      assert.equal(body.metric.valueKind, 'fraction', name);
    }
    // a zero denominator in an hour with events is a gap too, never 0 or Infinity
    assert.deepEqual(
      (await seriesOf(s.t, s.key, ids.get('conversion')!, s.base + NO_SIGNUP * HOUR, s.base + (NO_SIGNUP + 1) * HOUR)).byKey.total,
      [null],
    );
  });

  test('gap rules: buckets before historyFrom are null for counts and fractions alike', async () => {
    const metric = (await api(s.t, s.key, 'GET', `shop/metrics/${ids.get('orders_pro')}`)).body;
    const historyFrom = Date.parse(metric.historyFrom);
    assert.equal(historyFrom, Date.parse(metric.collectedUntil) - 30 * DAY, 'the default history is 30 days');
    for (const name of ['orders_pro', 'conversion']) {
      const { byKey } = await seriesOf(s.t, s.key, ids.get(name)!, historyFrom - 3 * HOUR, historyFrom + HOUR);
      assert.deepEqual(byKey.total, [null, null, null, name === 'orders_pro' ? 0 : null], name);
    }
  });

  test('the list: latest value, change against the bucket before, and a 24-point sparkline', async () => {
    const r = await api(s.t, s.key, 'GET', 'shop/metrics');
    assert.equal(r.status, 200);
    assert.equal(r.body.metrics.length, ids.size);
    for (const c of CASES.filter((x) => ['orders_pro', 'users', 'conversion', 'amount_p90'].includes(x.name))) {
      const m = r.body.metrics.find((x: { name: string }) => x.name === c.name);
      const until = Date.parse(m.collectedUntil);
      const expected = c.expected(s.evs, hours(until - 24 * HOUR, 24)).map((v) => (v === null && c.kind === 'event' ? 0 : v));
      assertValues(m.sparkline, expected, `${c.name} sparkline`);
      assert.equal(Date.parse(m.latest.bucket), until - HOUR);
      assertValues([m.latest.value], [expected[23]], `${c.name} latest`);
      const [prev, cur] = [expected[22], expected[23]];
      assertValues([m.change], [prev === null || prev === 0 || cur === null ? null : (cur - prev) / Math.abs(prev)], `${c.name} change`);
    }
  });

  test('preview computes an unsaved definition (with a breakdown) over the last complete buckets, storing nothing', async () => {
    const before = (await api(s.t, s.key, 'GET', 'shop/metrics')).body.metrics.length;
    const r = await api(s.t, s.key, 'POST', 'shop/metrics/preview', {
      kind: 'event',
      definition: { event: 'Order Completed', breakdowns: ['plan'], breakdownLimit: 2 },
      buckets: 8,
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const starts = (r.body.buckets as string[]).map((b) => Date.parse(b));
    assert.equal(starts.length, 8);
    assert.ok(starts[7] + HOUR <= Date.now() && starts[7] + 2 * HOUR > Date.now(), 'ends with the last complete hour');
    assertValues(r.body.total, count('Order Completed')(s.evs, starts), 'total');
    assert.equal(r.body.breakdown, 'plan');
    const expected = breakdownReference(where(s.evs, 'Order Completed'), starts, 'plan', 2, (b) => b.length, 'subtract');
    assert.deepEqual(Object.fromEntries(r.body.series.map((x: { key: string; values: Values }) => [x.key, x.values])), expected);

    const avg = await api(s.t, s.key, 'POST', 'shop/metrics/preview', {
      kind: 'aggregation',
      definition: { property: 'amount', fn: 'avg', breakdowns: ['plan'], breakdownLimit: 2 },
      buckets: 8,
    });
    assert.equal(avg.status, 200, JSON.stringify(avg.body));
    assert.equal(avg.body.valueKind, 'fraction');
    assertValues(
      avg.body.total,
      perHour(s.evs, starts, (b) => AGGREGATES.avg(numbers(b, 'amount'))),
      'avg total',
    );
    // an average's "other" cannot be added up from the keys: it is the average over the rows outside the top keys
    const avgExpected = breakdownReference(s.evs, starts, 'plan', 2, (b) => AGGREGATES.avg(numbers(b, 'amount')), 'rows');
    assert.deepEqual(avg.body.series.map((x: { key: string }) => x.key).sort(), Object.keys(avgExpected).sort());
    assert.ok(OTHER in avgExpected, 'the data has more plans than the limit');
    for (const x of avg.body.series) assertValues(x.values, avgExpected[x.key], `avg plan=${x.key}`);
    assert.equal((await api(s.t, s.key, 'GET', 'shop/metrics')).body.metrics.length, before);
  });

  test('POST .../collect recomputes the latest buckets plus the look-back and leaves the values as they were', async () => {
    const id = ids.get('orders_pro')!;
    const r = await api(s.t, s.key, 'POST', `shop/metrics/${id}/collect`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const to = Date.parse(r.body.to);
    assert.equal(to, Math.floor(Date.now() / HOUR) * HOUR);
    assert.ok(Date.parse(r.body.from) <= to - 2 * HOUR, 'at least the two look-back buckets');
    assert.equal(r.body.metric.collectedUntil, new Date(to).toISOString());
    assertValues(
      (await seriesOf(s.t, s.key, id, s.base, s.base + HOURS * HOUR)).byKey.total,
      count('Order Completed', [{ property: 'plan', op: 'eq', value: 'pro' }])(s.evs, s.starts),
      'after collect',
    );
  });

  test("series: an unknown breakdown is a 400 naming the metric's breakdowns; so is a window of too many buckets", async () => {
    const id = ids.get('by_plan_country')!;
    const bad = await api(s.t, s.key, 'GET', `shop/metrics/${id}/series?from=-1d&breakdown=browser`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.details.field, 'breakdown');
    assert.match(bad.body.error.message, /plan, country/);
    const none = await api(s.t, s.key, 'GET', `shop/metrics/${ids.get('users')}/series?from=-1d&breakdown=plan`);
    assert.equal(none.status, 400);
    const huge = await api(s.t, s.key, 'GET', `shop/metrics/${id}/series?from=-400d`);
    assert.equal(huge.status, 400, JSON.stringify(huge.body));
    assert.equal(huge.body.error.details.field, 'from');
  });
});

// ---- lifecycle -------------------------------------------------------------------------------------

describe('lifecycle: draft, archive, rename, redefine, delete', () => {
  let s: Awaited<ReturnType<typeof seededApp>>;
  const window = () => [s.base, s.base + HOURS * HOUR] as const;
  const orders = count('Order Completed');
  const backfillJobs = async (id: number) =>
    (await s.t.ctx.jobs.list({ kind: 'metrics.backfill', limit: 1000 })).filter((j) => (j.payload as { metricId: number }).metricId === id);
  const valueRows = async (id: number) =>
    (await s.t.ctx.meta.db.selectFrom('metric_values').select('bucket').where('metric_id', '=', id).execute()).length;

  before(async () => {
    s = await seededApp();
  });
  after(() => s.t.close());

  test('a draft gets no backfill job and no values, and collect still computes its history', async () => {
    const m = await create(s.t, s.key, { name: 'draft_orders', status: 'draft', kind: 'event', definition: { event: 'Order Completed' } });
    assert.deepEqual(await backfillJobs(m.id), []);
    await runJobs(s.t);
    assert.deepEqual((await seriesOf(s.t, s.key, m.id, ...window())).byKey.total, new Array(HOURS).fill(null));
    const r = await api(s.t, s.key, 'POST', `shop/metrics/${m.id}/collect`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.buckets, 30 * 24);
    assert.equal(r.body.metric.status, 'draft');
    assertValues((await seriesOf(s.t, s.key, m.id, ...window())).byKey.total, orders(s.evs, s.starts), 'draft after collect');
  });

  test('display name and archive keep values and version; a new definition bumps the version and recomputes', async () => {
    const m = await create(s.t, s.key, { name: 'orders', kind: 'event', definition: { event: 'Order Completed' } });
    await runJobs(s.t);
    assertValues((await seriesOf(s.t, s.key, m.id, ...window())).byKey.total, orders(s.evs, s.starts), 'v1');
    const collected = (await api(s.t, s.key, 'GET', `shop/metrics/${m.id}`)).body;

    const renamed = await api(s.t, s.key, 'PATCH', `shop/metrics/${m.id}`, {
      displayName: 'Orders',
      description: 'completed orders',
      unit: 'orders',
    });
    assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
    assert.equal(renamed.body.displayName, 'Orders');
    assert.equal(renamed.body.version, 1);
    assert.deepEqual([renamed.body.historyFrom, renamed.body.collectedUntil], [collected.historyFrom, collected.collectedUntil]);
    assert.equal((await backfillJobs(m.id)).length, 1, 'no new backfill');
    assertValues((await seriesOf(s.t, s.key, m.id, ...window())).byKey.total, orders(s.evs, s.starts), 'after rename');

    const filters = [{ property: 'plan', op: 'in', value: ['pro', 'team'] }];
    const redefined = await api(s.t, s.key, 'PATCH', `shop/metrics/${m.id}`, { definition: { event: 'Signed Up', filters } });
    assert.equal(redefined.status, 200, JSON.stringify(redefined.body));
    assert.equal(redefined.body.version, 2);
    assert.equal(redefined.body.collectedUntil, null);
    assert.equal(redefined.body.displayName, 'Orders');
    assert.deepEqual((await seriesOf(s.t, s.key, m.id, ...window())).byKey.total, new Array(HOURS).fill(null), 'history cleared');
    await runJobs(s.t);
    assertValues((await seriesOf(s.t, s.key, m.id, ...window())).byKey.total, count('Signed Up', filters)(s.evs, s.starts), 'v2');

    const archived = await api(s.t, s.key, 'POST', `shop/metrics/${m.id}/archive`);
    assert.equal(archived.status, 200);
    assert.equal(archived.body.status, 'archived');
    assert.equal(archived.body.version, 2);
    assertValues((await seriesOf(s.t, s.key, m.id, ...window())).byKey.total, count('Signed Up', filters)(s.evs, s.starts), 'archived');
    assert.equal((await api(s.t, s.key, 'POST', `shop/metrics/${m.id}/collect`)).status, 409, 'an archived metric is not collected');
    const daily = await api(s.t, s.key, 'PATCH', `shop/metrics/${m.id}`, { interval: '1d' });
    assert.deepEqual(
      [daily.body.interval, daily.body.version, daily.body.collectedUntil],
      ['1d', 3, null],
      'a new interval is a new body too',
    );
    assert.deepEqual(
      (await api(s.t, s.key, 'GET', 'shop/metrics?status=archived')).body.metrics.map((x: { name: string }) => x.name),
      ['orders'],
    );
  });

  test('names are unique in a project: create and rename to a taken name are 409', async () => {
    await create(s.t, s.key, { name: 'taken', kind: 'event', definition: {} });
    const dup = await api(s.t, s.key, 'POST', 'shop/metrics', {
      name: 'taken',
      kind: 'ratio',
      definition: { numerator: {}, denominator: {} },
    });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.error.code, 'VIGIL_ERR_CONFLICT');
    assert.equal(dup.body.error.details.field, 'name');
    const other = await create(s.t, s.key, { name: 'free_name', kind: 'event', definition: {} });
    assert.equal((await api(s.t, s.key, 'PATCH', `shop/metrics/${other.id}`, { name: 'taken' })).status, 409);
    assert.equal((await api(s.t, s.key, 'GET', `shop/metrics/${other.id}`)).body.name, 'free_name');
  });

  test('delete: 204, then 404 everywhere, and its values are gone', async () => {
    const m = await create(s.t, s.key, { name: 'doomed', kind: 'event', definition: { event: 'Page Viewed' } });
    await runJobs(s.t);
    assert.ok((await valueRows(m.id)) >= 30 * 24);
    assert.equal((await api(s.t, s.key, 'DELETE', `shop/metrics/${m.id}`)).status, 403, 'deleting needs an owner (an admin key)');
    const admin = (await s.t.ctx.apiKeys.create({ projectId: s.t.project.id, scopes: ['admin'] })).secret;
    assert.equal((await api(s.t, admin, 'DELETE', `shop/metrics/${m.id}`)).status, 204);
    for (const [method, path] of [
      ['GET', ''],
      ['GET', '/series?from=-1d'],
      ['PATCH', ''],
      ['POST', '/collect'],
      ['DELETE', ''],
    ]) {
      const r = await api(s.t, admin, method, `shop/metrics/${m.id}${path}`, method === 'PATCH' ? { displayName: 'x' } : undefined);
      assert.equal(r.status, 404, `${method} ${path}`);
      assert.equal(r.body.error.code, 'VIGIL_ERR_NOT_FOUND');
    }
    assert.equal(await valueRows(m.id), 0);
  });
});

// ---- validation and auth ------------------------------------------------------------------------

describe('validation and auth', () => {
  let t: TestApp;
  let key: string;
  before(async () => {
    t = await startTestApp();
    key = await keyOf(t, t.project.id, ['read', 'write']);
  });
  after(() => t.close());

  // the metric's own fields are checked by the route schema (VIGIL_ERR_BAD_REQUEST), its definition by the compiler
  const invalid = (body: object, field: string, code = 'VIGIL_ERR_INVALID_METRIC') =>
    test(`400 ${code} naming ${field}: ${JSON.stringify(body)}`, async () => {
      const r = await api(t, key, 'POST', 'shop/metrics', { name: 'm', kind: 'event', definition: {}, ...body });
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.error.code, code, JSON.stringify(r.body));
      assert.equal(r.body.error.details?.field, field, JSON.stringify(r.body));
    });
  invalid({ kind: 'funnel' }, 'kind', 'VIGIL_ERR_BAD_REQUEST');
  invalid({ interval: '2h' }, 'interval', 'VIGIL_ERR_BAD_REQUEST');
  invalid({ name: 'Bad Name' }, 'name', 'VIGIL_ERR_BAD_REQUEST');
  invalid({ colour: 'red' }, 'colour', 'VIGIL_ERR_BAD_REQUEST');
  invalid({ definition: { filters: [{ property: 'plan', op: 'like', value: 'p%' }] } }, 'definition.filters.0.op');
  invalid({ definition: { filters: [{ property: 'amount', op: 'gt', value: '10' }] } }, 'definition.filters.0.value');
  invalid({ definition: { filters: [{ property: 'country', op: 'in', value: 'DE' }] } }, 'definition.filters.0.value');
  invalid({ definition: { filters: [{ property: 'plan', op: 'is_set', value: 'x' }] } }, 'definition.filters.0.value');
  invalid({ definition: { breakdowns: ['plan', 'country', 'os', 'browser'] } }, 'definition.breakdowns');
  invalid({ definition: { breakdowns: ['plan', 'plan'] } }, 'definition.breakdowns');
  invalid({ definition: { event: 'x', colour: 'red' } }, 'definition.colour');
  invalid({ definition: { filters: [{ property: 'plan', op: 'eq', value: 'pro', negate: true }] } }, 'definition.filters.0.negate');
  invalid({ kind: 'aggregation', definition: { property: 'amount', fn: 'median' } }, 'definition.fn');
  invalid(
    { kind: 'ratio', definition: { numerator: { event: 'a' }, denominator: { measure: 'revenue' } } },
    'definition.denominator.measure',
  );

  test('SQL that is not one SELECT is refused with VIGIL_ERR_METRIC_SQL_FORBIDDEN, and nothing is stored', async () => {
    for (const sql of ['DROP TABLE events', 'SELECT bucket, 1 AS value FROM events GROUP BY bucket; DROP TABLE events']) {
      const r = await api(t, key, 'POST', 'shop/metrics', { name: 'evil', kind: 'sql', definition: { sql } });
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.error.code, 'VIGIL_ERR_METRIC_SQL_FORBIDDEN', JSON.stringify(r.body));
    }
    const preview = await api(t, key, 'POST', 'shop/metrics/preview', { kind: 'sql', definition: { sql: 'DROP TABLE events' } });
    assert.equal(preview.body.error.code, 'VIGIL_ERR_METRIC_SQL_FORBIDDEN');
    assert.deepEqual((await api(t, key, 'GET', 'shop/metrics')).body.metrics, []);
  });

  test('a PATCH with a bad definition is a 400 and changes nothing', async () => {
    const m = await create(t, key, { name: 'keeper', kind: 'event', definition: { event: 'A' } });
    const r = await api(t, key, 'PATCH', `shop/metrics/${m.id}`, { definition: { event: 'B', filters: [{ property: 'x', op: 'lt' }] } });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.details.field, 'definition.filters.0.value');
    const now = (await api(t, key, 'GET', `shop/metrics/${m.id}`)).body;
    assert.deepEqual([now.definition, now.version], [{ event: 'A' }, 1]);
  });

  test('auth: no key 401, a read key cannot change (403), a key of another project gets 404', async () => {
    const m = await create(t, key, { name: 'guarded', kind: 'event', definition: {} });
    assert.equal((await api(t, undefined, 'GET', 'shop/metrics')).status, 401);
    assert.equal((await api(t, undefined, 'POST', 'shop/metrics', { name: 'x', kind: 'event', definition: {} })).status, 401);
    assert.equal((await api(t, 'vk_not_a_key', 'GET', 'shop/metrics')).status, 401);
    assert.equal((await api(t, t.readKey, 'GET', `shop/metrics/${m.id}`)).status, 200);
    for (const [method, path, body] of [
      ['POST', '', { name: 'x', kind: 'event', definition: {} }],
      ['PATCH', `/${m.id}`, { displayName: 'x' }],
      ['DELETE', `/${m.id}`],
      ['POST', `/${m.id}/collect`],
      ['POST', `/${m.id}/archive`],
    ] as const) {
      const r = await api(t, t.readKey, method, `shop/metrics${path}`, body);
      assert.equal(r.status, 403, `${method} ${path}`);
      assert.equal(r.body.error.code, 'VIGIL_ERR_FORBIDDEN');
    }
    assert.equal((await api(t, t.writeKey, 'GET', 'shop/metrics')).status, 403, 'an ingest key does not read');

    const other = await t.ctx.projects.create({ slug: 'other', name: 'Other' });
    const otherKey = await keyOf(t, other.id, ['read', 'write']);
    for (const [method, path] of [
      ['GET', ''],
      ['GET', `/${m.id}`],
      ['GET', `/${m.id}/series?from=-1d`],
      ['DELETE', `/${m.id}`],
    ]) {
      assert.equal((await api(t, otherKey, method, `shop/metrics${path}`)).status, 404, `${method} ${path}`);
    }
    assert.equal(
      (await api(t, otherKey, 'GET', `other/metrics/${m.id}`)).status,
      404,
      'the id is not found through the other project either',
    );
    assert.equal((await api(t, key, 'GET', `shop/metrics/${m.id}`)).body.name, 'guarded');
  });
});
