/**
 * The event query API (/timeseries, /events, /top-events, /overview) against a plain TypeScript
 * reference over the same generated events. Events go in through /v1/batch with explicit
 * timestamps (no sentAt, so they are stored as sent). Zone-specific expectations are written by hand.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, postJson, getJson, basic, type TestApp } from '../helpers/app.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const SIZE: Record<string, number> = { '5m': 5 * MIN, '15m': 15 * MIN, '1h': HOUR, '6h': 6 * HOUR, '1d': DAY, '1w': WEEK };

const ms = (iso: string): number => {
  const v = Date.parse(iso);
  assert.ok(Number.isFinite(v), iso);
  return v;
};
/** A UTC bucket label as the API writes it for a project in UTC. */
const utcLabel = (v: number) => new Date(v).toISOString().replace('.000Z', '+00:00');

interface Ev {
  messageId: string;
  event: string;
  userId?: string;
  anonymousId?: string;
  sessionId: string;
  ts: number;
  country: string | null;
  /** undefined: no plan property; null: plan is JSON null */
  plan: string | null | undefined;
}
const distinctOf = (e: Ev) => (e.userId ?? e.anonymousId) as string;

function toMessage(e: Ev) {
  return {
    type: 'track',
    messageId: e.messageId,
    event: e.event,
    ...(e.userId ? { userId: e.userId } : {}),
    ...(e.anonymousId ? { anonymousId: e.anonymousId } : {}),
    timestamp: new Date(e.ts).toISOString(),
    properties: e.plan === undefined ? { n: 1 } : { plan: e.plan, n: 1 },
    context: { sessionId: e.sessionId, ...(e.country ? { location: { country: e.country } } : {}) },
  };
}

async function ingest(t: TestApp, events: Ev[]) {
  for (let i = 0; i < events.length; i += 250) {
    const r = await postJson(`${t.url}/v1/batch`, { batch: events.slice(i, i + 250).map(toMessage) }, basic(t.writeKey));
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }
  await t.ctx.flush();
}

/** mulberry32: a tiny seeded PRNG so the data set is the same on every run. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
function pick<T>(rand: () => number, weighted: [T, number][]): T {
  const total = weighted.reduce((s, [, w]) => s + w, 0);
  let r = rand() * total;
  for (const [v, w] of weighted) if ((r -= w) < 0) return v;
  return weighted[weighted.length - 1][0];
}

// The main window: Monday 2026-05-04 to Monday 2026-05-18 (UTC), two whole weeks.
const FROM = ms('2026-05-04T00:00:00Z');
const TO = ms('2026-05-18T00:00:00Z');

function generate(): Ev[] {
  const rand = prng(20260504);
  const events: Ev[] = [];
  let n = 0;
  const make = (ts: number, over: Partial<Ev> = {}): Ev => {
    const anonymous = rand() < 0.2;
    const who = anonymous
      ? { anonymousId: `a${String(1 + Math.floor(rand() * 15)).padStart(2, '0')}` }
      : { userId: `u${String(1 + Math.floor(rand() * 40)).padStart(2, '0')}` };
    const e: Ev = {
      messageId: `m${String(++n).padStart(5, '0')}`,
      event: pick(rand, [
        ['Page Viewed', 50],
        ['Added To Cart', 20],
        ['Signed Up', 8],
        ['Order Completed', 12],
        ['Searched', 10],
      ]),
      ...who,
      sessionId: '',
      ts,
      country: pick<string | null>(rand, [
        ['DE', 30],
        ['US', 25],
        ['FR', 15],
        [null, 12],
        ['GB', 8],
        ['IT', 5],
        ['ES', 5],
      ]),
      plan: pick<string | null | undefined>(rand, [
        ['free', 35],
        [undefined, 20],
        [null, 10],
        ['pro', 20],
        ['team', 10],
        ['enterprise', 5],
      ]),
      ...over,
    };
    // sessions of 3 hours per visitor, so one session can span several hourly buckets
    e.sessionId = `${distinctOf(e)}-s${Math.floor(e.ts / (3 * HOUR))}`;
    return e;
  };
  for (let i = 0; i < 700; i++) events.push(make(FROM + Math.floor(rand() * (TO - FROM))));
  // the week before (for /overview's previous window) and a few after the window
  for (let i = 0; i < 40; i++) events.push(make(FROM - WEEK + Math.floor(rand() * WEEK)));
  for (let i = 0; i < 10; i++) events.push(make(TO + Math.floor(rand() * DAY)));
  // boundaries: exactly at from (in), one ms before from (out), exactly at to (out), one ms before to (in)
  events.push(make(FROM), make(FROM - 1), make(TO), make(TO - 1));
  // five events at one instant: /events must order them by messageId and page through them once
  const tie = ms('2026-05-10T12:00:00Z');
  for (let i = 0; i < 5; i++) events.push(make(tie));
  // one user twice in one day (two hours), once on another day: distinct counts per day must not add hours
  events.push(make(ms('2026-05-06T03:10:00Z'), { event: 'Rare Event', userId: 'u-twice', anonymousId: undefined }));
  events.push(make(ms('2026-05-06T19:40:00Z'), { event: 'Rare Event', userId: 'u-twice', anonymousId: undefined }));
  events.push(make(ms('2026-05-08T09:00:00Z'), { event: 'Rare Event', userId: 'u-other', anonymousId: undefined }));
  return events;
}

/** UTC bucket floor; weeks start on Monday (1970-01-05 is 4 days after the epoch). */
function utcFloor(interval: string, v: number): number {
  if (interval === '1w') return Math.floor((v - 4 * DAY) / WEEK) * WEEK + 4 * DAY;
  return Math.floor(v / SIZE[interval]) * SIZE[interval];
}

interface RefSeries {
  key: string;
  label: string;
  values: number[];
  total: number;
}

/** What /timeseries should answer for a UTC project, computed directly from the events. */
function reference(
  events: Ev[],
  q: {
    interval: string;
    from: number;
    to: number;
    measure?: 'events' | 'users' | 'sessions';
    event?: string;
    breakdown?: (e: Ev) => string | null;
    limit?: number;
  },
) {
  const starts: number[] = [];
  for (let s = utcFloor(q.interval, q.from); s < q.to; s += SIZE[q.interval]) starts.push(s);
  const rows = events.filter((e) => e.ts >= starts[0] && e.ts < q.to && (q.event === undefined || e.event === q.event));
  const keyOf = (e: Ev) => (q.breakdown ? (q.breakdown(e) ?? '$none') : 'total');
  let group = (k: string) => k;
  if (q.breakdown) {
    const counts = new Map<string, number>();
    for (const e of rows) counts.set(keyOf(e), (counts.get(keyOf(e)) ?? 0) + 1);
    const top = new Set(
      [...counts]
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
        .slice(0, q.limit ?? 10)
        .map(([k]) => k),
    );
    group = (k) => (top.has(k) ? k : '$other');
  }
  const cells = new Map<string, Set<string>[]>();
  for (const e of rows) {
    const g = group(keyOf(e));
    if (!cells.has(g))
      cells.set(
        g,
        starts.map(() => new Set<string>()),
      );
    const b = starts.indexOf(utcFloor(q.interval, e.ts));
    const measure = q.measure ?? 'events';
    cells.get(g)![b].add(measure === 'events' ? e.messageId : measure === 'users' ? distinctOf(e) : e.sessionId);
  }
  if (!q.breakdown && !cells.size)
    cells.set(
      'total',
      starts.map(() => new Set()),
    );
  const series: RefSeries[] = [...cells].map(([key, sets]) => {
    const values = sets.map((s) => s.size);
    return { key, label: key === '$other' ? 'other' : key === '$none' ? '(none)' : key, values, total: values.reduce((a, b) => a + b, 0) };
  });
  return { buckets: starts.map(utcLabel), series };
}

/** Series compared by key (ties in totals may come in any order), then their order checked. */
function assertSeries(actual: RefSeries[], expected: RefSeries[], what: string) {
  const byKey = (s: RefSeries[]) => Object.fromEntries(s.map((x) => [x.key, x]));
  assert.deepEqual(byKey(actual), byKey(expected), what);
  assert.equal(actual.length, expected.length, what);
  const others = actual.map((s) => s.key === '$other');
  assert.ok(
    others.every((o, i) => !o || i === others.length - 1),
    `${what}: "$other" comes last`,
  );
  const ranked = actual.filter((s) => s.key !== '$other');
  for (let i = 1; i < ranked.length; i++) assert.ok(ranked[i - 1].total >= ranked[i].total, `${what}: series are sorted by total`);
}

function qs(params: Record<string, string | number | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) p.set(k, String(v));
  return p.toString();
}

describe('queries on a UTC project', () => {
  let t: TestApp;
  const events = generate();
  const iso = (v: number) => new Date(v).toISOString();
  const series = (params: Record<string, string | number | undefined>) =>
    getJson(`${t.url}/api/projects/shop/timeseries?${qs(params)}`, t.readKey);

  before(async () => {
    t = await startTestApp();
    await ingest(t, events);
  });
  after(() => t?.close());

  test('the data set exercises what the tests rely on', () => {
    assert.ok(events.length > 750);
    assert.equal(new Set(events.map((e) => e.messageId)).size, events.length);
    const ref = reference(events, { interval: '1d', from: FROM, to: TO, breakdown: (e) => e.plan ?? null, limit: 2 });
    assert.ok(
      ref.series.some((s) => s.key === '$none'),
      'missing or null plan is among the top values',
    );
    assert.ok(ref.series.some((s) => s.key === '$other'));
  });

  for (const interval of ['5m', '15m', '1h', '6h', '1d', '1w']) {
    test(`${interval} buckets: every bucket present, counts equal the reference`, async () => {
      const r = await series({ interval, from: iso(FROM), to: iso(TO) });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const ref = reference(events, { interval, from: FROM, to: TO });
      assert.equal(r.body.buckets.length, (TO - FROM) / SIZE[interval]);
      assert.deepEqual(r.body.buckets, ref.buckets);
      assert.deepEqual(r.body.series, ref.series);
      assert.equal(r.body.interval, interval);
      assert.equal(r.body.timeZone, 'UTC');
      assert.equal(r.body.measure, 'events');
      assert.equal(r.body.from, '2026-05-04T00:00:00+00:00');
      assert.equal(r.body.to, '2026-05-18T00:00:00.000Z');
    });
  }

  test('zeros are filled: a 5m series over a day with a single event has one 1 and 287 zeros', async () => {
    const from = ms('2026-05-30T00:00:00Z');
    const one: Ev = {
      messageId: 'lonely',
      event: 'Lonely',
      userId: 'u-lonely',
      sessionId: 'sl',
      ts: ms('2026-05-30T13:37:00Z'),
      country: null,
      plan: undefined,
    };
    events.push(one);
    await ingest(t, [one]);
    const r = await series({ interval: '5m', from: iso(from), to: iso(from + DAY), event: 'Lonely' });
    assert.equal(r.status, 200);
    assert.equal(r.body.buckets.length, 288);
    const values: number[] = r.body.series[0].values;
    assert.equal(values.length, 288);
    assert.equal(values[(13 * 60 + 35) / 5], 1);
    assert.equal(
      values.reduce((a, b) => a + b, 0),
      1,
    );
    assert.equal(r.body.buckets[(13 * 60 + 35) / 5], '2026-05-30T13:35:00+00:00');
  });

  test('a window with no events still has one zero series with every bucket', async () => {
    const from = ms('2025-01-01T00:00:00Z');
    const r = await series({ interval: '6h', from: iso(from), to: iso(from + 2 * DAY) });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.series, [{ key: 'total', label: 'total', values: [0, 0, 0, 0, 0, 0, 0, 0], total: 0 }]);
    assert.equal(r.body.buckets.length, 8);
  });

  test('the window is half-open: an event at `from` counts, one at `to` does not', async () => {
    // the generated set has events at FROM-1, FROM, TO-1 and TO
    const r = await series({ interval: '1d', from: iso(FROM), to: iso(TO) });
    const inWindow = events.filter((e) => e.ts >= FROM && e.ts < TO).length;
    assert.equal(r.body.series[0].total, inWindow);
    assert.ok(events.some((e) => e.ts === FROM) && events.some((e) => e.ts === TO) && events.some((e) => e.ts === FROM - 1));
    // one millisecond later/earlier moves exactly those events out
    const atFrom = events.filter((e) => e.ts === FROM).length;
    const beforeTo = events.filter((e) => e.ts === TO - 1).length;
    const narrow = await series({ interval: '5m', from: iso(FROM + 5 * MIN), to: iso(TO - 5 * MIN) });
    const expected = events.filter((e) => e.ts >= FROM + 5 * MIN && e.ts < TO - 5 * MIN).length;
    assert.equal(narrow.body.series[0].total, expected);
    assert.ok(atFrom >= 1 && beforeTo >= 1);
  });

  test('a `from` inside a bucket starts the series at that bucket (and says so)', async () => {
    const from = ms('2026-05-06T10:00:00Z'); // a Wednesday
    const r = await series({ interval: '1w', from: iso(from), to: iso(TO) });
    assert.equal(r.body.from, '2026-05-04T00:00:00+00:00');
    assert.deepEqual(r.body.buckets, ['2026-05-04T00:00:00+00:00', '2026-05-11T00:00:00+00:00']);
    assert.deepEqual(r.body.series, reference(events, { interval: '1w', from, to: TO }).series);
  });

  test('event= keeps one event name', async () => {
    for (const event of ['Signed Up', 'Order Completed', 'No Such Event']) {
      const r = await series({ interval: '1d', from: iso(FROM), to: iso(TO), event });
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.series, reference(events, { interval: '1d', from: FROM, to: TO, event }).series, event);
    }
  });

  for (const [interval, measure] of [
    ['1h', 'users'],
    ['1d', 'users'],
    ['1w', 'users'],
    ['1h', 'sessions'],
    ['1d', 'sessions'],
    ['6h', 'sessions'],
  ] as const) {
    test(`measure=${measure}, ${interval}: distinct ids per bucket`, async () => {
      const r = await series({ interval, measure, from: iso(FROM), to: iso(TO) });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.measure, measure);
      assert.deepEqual(r.body.series, reference(events, { interval, measure, from: FROM, to: TO }).series);
    });
  }

  test('measure=users per day counts a user seen in two hours of one day once', async () => {
    const r = await series({ interval: '1d', measure: 'users', event: 'Rare Event', from: iso(FROM), to: iso(TO) });
    // u-twice on 05-06 (03:10 and 19:40), u-other on 05-08
    assert.deepEqual(r.body.series[0].values, [0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const hourly = await series({ interval: '1h', measure: 'users', event: 'Rare Event', from: iso(FROM), to: iso(TO) });
    assert.equal(hourly.body.series[0].total, 3);
    const count = await series({ interval: '1d', event: 'Rare Event', from: iso(FROM), to: iso(TO) });
    assert.deepEqual(count.body.series[0].values, [0, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  test('breakdown by a column keeps the top `limit` values; the rest is "$other", missing is "$none"', async () => {
    for (const [interval, measure, limit] of [
      ['1d', 'events', 3],
      ['6h', 'events', 2],
      ['1d', 'users', 3],
      ['1h', 'sessions', 4],
      ['1d', 'events', 50],
    ] as const) {
      const r = await series({ interval, measure, limit, breakdown: 'country', from: iso(FROM), to: iso(TO) });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const ref = reference(events, { interval, measure, limit, from: FROM, to: TO, breakdown: (e) => e.country });
      assertSeries(r.body.series, ref.series, `country ${interval} ${measure} limit ${limit}`);
      if (limit < 7) {
        const other = r.body.series.find((s: RefSeries) => s.key === '$other');
        assert.equal(other?.label, 'other');
        assert.equal(r.body.series.length, limit + 1);
      }
    }
  });

  test('breakdown by country with limit=3: the values a user would read', async () => {
    const r = await series({ interval: '1w', limit: 3, breakdown: 'country', from: iso(FROM), to: iso(TO) });
    const inWindow = events.filter((e) => e.ts >= FROM && e.ts < TO);
    const counts = new Map<string, number>();
    for (const e of inWindow) counts.set(e.country ?? '$none', (counts.get(e.country ?? '$none') ?? 0) + 1);
    const top3 = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 3);
    const rest = inWindow.length - top3.reduce((s, [, c]) => s + c, 0);
    assert.deepEqual(
      r.body.series.map((s: RefSeries) => [s.key, s.total]),
      [...top3, ['$other', rest]],
    );
  });

  test('breakdown by a property (plan), also written as properties.plan; null and missing are "$none"', async () => {
    for (const breakdown of ['plan', 'properties.plan']) {
      for (const [interval, measure, limit] of [
        ['1d', 'events', 2],
        ['1d', 'users', 3],
        ['1h', 'events', 10],
      ] as const) {
        const r = await series({ interval, measure, limit, breakdown, from: iso(FROM), to: iso(TO) });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        const ref = reference(events, { interval, measure, limit, from: FROM, to: TO, breakdown: (e) => e.plan ?? null });
        assertSeries(r.body.series, ref.series, `${breakdown} ${interval} ${measure} ${limit}`);
        assert.equal(r.body.series.find((s: RefSeries) => s.key === '$none')?.label, '(none)');
      }
    }
  });

  test('breakdown with event= filter', async () => {
    const r = await series({ interval: '1d', limit: 2, breakdown: 'country', event: 'Page Viewed', from: iso(FROM), to: iso(TO) });
    assertSeries(
      r.body.series,
      reference(events, { interval: '1d', limit: 2, event: 'Page Viewed', from: FROM, to: TO, breakdown: (e) => e.country }).series,
      'page viewed by country',
    );
  });

  test('a breakdown property that no event has is all "$none"', async () => {
    const r = await series({ interval: '1w', breakdown: 'no.such"prop', from: iso(FROM), to: iso(TO) });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const total = events.filter((e) => e.ts >= FROM && e.ts < TO).length;
    assert.deepEqual(
      r.body.series.map((s: RefSeries) => [s.key, s.label, s.total]),
      [['$none', '(none)', total]],
    );
  });

  test('bad requests are 400 with a message naming the problem', async () => {
    const bad = async (params: Record<string, string>, pattern: RegExp) => {
      const r = await series(params);
      assert.equal(r.status, 400, JSON.stringify(params));
      assert.equal(r.body.error.code, 'VIGIL_ERR_BAD_REQUEST');
      assert.match(r.body.error.message, pattern, JSON.stringify(params));
    };
    await bad({ interval: '2h' }, /interval/);
    await bad({ interval: '1h', measure: 'revenue' }, /measure/);
    const allowed = await series({ interval: '2h' });
    assert.deepEqual(allowed.body.error.details.validation[0].params.allowedValues, ['5m', '15m', '1h', '6h', '1d', '1w']);
    await bad({ interval: '1h', from: iso(TO), to: iso(FROM) }, /"from" must be before "to"/);
    await bad({ interval: '1h', from: iso(TO), to: iso(TO) }, /from/);
    await bad({ interval: '1h', from: 'yesterday-ish' }, /"from" is not a time/);
    await bad({ interval: '1h', to: '2026-13-01' }, /"to" is not a time/);
    await bad({ interval: '1h', from: '2026-05-04T10:00:00' }, /from/); // no zone: ambiguous
    await bad({ interval: '5m', from: '2025-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z' }, /buckets/);
    await bad({ interval: '1h', from: '2025-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z' }, /buckets/);
    await bad({ interval: '1d', from: '0', to: '2026-01-01T00:00:00Z' }, /buckets/);
    await bad({ interval: '1h', limit: '0', breakdown: 'country' }, /limit/);
  });

  test('a huge window at a fine interval is refused quickly, not computed', async () => {
    const started = performance.now();
    const r = await series({ interval: '5m', from: '1970-01-01', to: '2200-01-01' });
    assert.equal(r.status, 400);
    assert.match(r.body.error.message, /buckets/);
    assert.ok(performance.now() - started < 2000);
  });

  test('relative and epoch-ms windows work', async () => {
    const r = await series({ interval: '1d', from: String(FROM), to: String(TO) });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.series, reference(events, { interval: '1d', from: FROM, to: TO }).series);
    const rel = await series({ interval: '1h', from: '-2d' });
    assert.equal(rel.status, 200);
    assert.ok(rel.body.buckets.length === 48 || rel.body.buckets.length === 49);
  });

  test("keys: none is 401, another project's is 404 (not 403), an ingest-only key is 403", async () => {
    const none = await getJson(`${t.url}/api/projects/shop/timeseries`);
    assert.equal(none.status, 401);
    assert.equal(none.body.error.code, 'VIGIL_ERR_UNAUTHORIZED');
    const wrong = await getJson(`${t.url}/api/projects/shop/timeseries`, 'vk_not-a-real-key');
    assert.equal(wrong.status, 401);

    const other = await t.ctx.projects.create({ slug: 'other-shop' });
    const otherKey = (await t.ctx.apiKeys.create({ projectId: other.id, scopes: ['read'] })).secret;
    for (const path of ['timeseries', 'events', 'top-events', 'overview']) {
      const r = await getJson(`${t.url}/api/projects/shop/${path}`, otherKey);
      assert.equal(r.status, 404, path);
      assert.equal(r.body.error.code, 'VIGIL_ERR_NOT_FOUND');
      // the same answer as for a project that does not exist: nothing is learned
      const missing = await getJson(`${t.url}/api/projects/nope/${path}`, otherKey);
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error.message.replace('nope', 'shop'), r.body.error.message);
    }
    // the other project's key sees its own (empty) project
    const own = await getJson(`${t.url}/api/projects/other-shop/timeseries?interval=1d&from=${iso(FROM)}&to=${iso(TO)}`, otherKey);
    assert.equal(own.status, 200);
    assert.equal(own.body.series[0].total, 0);

    const ingestOnly = await getJson(`${t.url}/api/projects/shop/timeseries`, t.writeKey);
    assert.equal(ingestOnly.status, 403);
    assert.match(ingestOnly.body.error.message, /read/);
  });

  // ---- /events
  const newestFirst = (a: Ev, b: Ev) => b.ts - a.ts || (a.messageId < b.messageId ? 1 : -1);
  const list = (params: Record<string, string | number | undefined>) =>
    getJson(`${t.url}/api/projects/shop/events?${qs(params)}`, t.readKey);

  test('/events: newest first, with the fields as sent', async () => {
    const r = await list({ limit: 20 });
    assert.equal(r.status, 200);
    const expected = [...events].sort(newestFirst).slice(0, 20);
    assert.deepEqual(
      r.body.events.map((e: { messageId: string }) => e.messageId),
      expected.map((e) => e.messageId),
    );
    const first = r.body.events[0];
    const e = expected[0];
    assert.equal(first.timestamp, new Date(e.ts).toISOString());
    assert.equal(first.event, e.event);
    assert.equal(first.type, 'track');
    assert.equal(first.userId, e.userId ?? null);
    assert.equal(first.distinctId, distinctOf(e));
    assert.equal(first.sessionId, e.sessionId);
    assert.equal(first.country, e.country);
    assert.deepEqual(first.properties, e.plan === undefined ? { n: 1 } : { plan: e.plan, n: 1 });
    assert.equal(typeof r.body.nextCursor, 'string');
  });

  test('/events: filter by event and by user', async () => {
    const byEvent = await list({ event: 'Signed Up', limit: 1000 });
    assert.deepEqual(
      byEvent.body.events.map((e: { messageId: string }) => e.messageId),
      events
        .filter((e) => e.event === 'Signed Up')
        .sort(newestFirst)
        .map((e) => e.messageId),
    );
    assert.equal(byEvent.body.nextCursor, null);
    for (const user of ['u07', 'a03', 'u-twice']) {
      const r = await list({ user, limit: 1000 });
      const expected = events
        .filter((e) => distinctOf(e) === user)
        .sort(newestFirst)
        .map((e) => e.messageId);
      assert.ok(expected.length > 0, user);
      assert.deepEqual(
        r.body.events.map((e: { messageId: string }) => e.messageId),
        expected,
        user,
      );
    }
    const both = await list({ user: 'u-twice', event: 'Rare Event' });
    assert.equal(both.body.events.length, 2);
    const none = await list({ user: 'nobody' });
    assert.deepEqual(none.body, { events: [], nextCursor: null });
  });

  test('/events: cursor pagination with limit=7 returns every row exactly once, in order', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const r = await list({ limit: 7, cursor });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.ok(r.body.events.length <= 7);
      seen.push(...r.body.events.map((e: { messageId: string }) => e.messageId));
      cursor = r.body.nextCursor ?? undefined;
      pages++;
      assert.ok(pages < 1000, 'pagination terminates');
    } while (cursor);
    const expected = [...events].sort(newestFirst).map((e) => e.messageId);
    assert.equal(seen.length, expected.length);
    assert.equal(new Set(seen).size, seen.length, 'no row twice');
    assert.deepEqual(seen, expected);
    assert.equal(pages, Math.ceil(expected.length / 7));
  });

  test('/events: cursor pagination with a filter', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const r = await list({ limit: 7, event: 'Searched', cursor });
      seen.push(...r.body.events.map((e: { messageId: string }) => e.messageId));
      cursor = r.body.nextCursor ?? undefined;
    } while (cursor);
    assert.deepEqual(
      seen,
      events
        .filter((e) => e.event === 'Searched')
        .sort(newestFirst)
        .map((e) => e.messageId),
    );
  });

  test('/events: a bad cursor or limit is 400', async () => {
    for (const cursor of [
      'not-a-cursor',
      Buffer.from('[1,2]').toString('base64url'),
      Buffer.from('null').toString('base64url'),
      Buffer.from('["x","m1"]').toString('base64url'),
    ]) {
      const r = await list({ cursor });
      assert.equal(r.status, 400, cursor);
      assert.match(r.body.error.message, /cursor/);
    }
    for (const limit of ['0', '1001', 'ten']) {
      const r = await list({ limit });
      assert.equal(r.status, 400, limit);
    }
  });

  // ---- /top-events and /overview
  test('/top-events: events by volume with distinct users, in the window', async () => {
    const r = await getJson(`${t.url}/api/projects/shop/top-events?${qs({ from: iso(FROM), to: iso(TO) })}`, t.readKey);
    assert.equal(r.status, 200);
    const inWindow = events.filter((e) => e.ts >= FROM && e.ts < TO);
    const names = [...new Set(inWindow.map((e) => e.event))];
    const expected = names
      .map((event) => ({
        event,
        count: inWindow.filter((e) => e.event === event).length,
        users: new Set(inWindow.filter((e) => e.event === event).map(distinctOf)).size,
      }))
      .sort((a, b) => b.count - a.count || (a.event < b.event ? -1 : 1));
    assert.deepEqual(r.body.events, expected);
    assert.equal(r.body.from, iso(FROM));
    assert.equal(r.body.to, iso(TO));
    const two = await getJson(`${t.url}/api/projects/shop/top-events?${qs({ from: iso(FROM), to: iso(TO), limit: 2 })}`, t.readKey);
    assert.deepEqual(two.body.events, expected.slice(0, 2));
  });

  test('/overview: current against the window before it, change ratio', async () => {
    const from = ms('2026-05-11T00:00:00Z');
    const r = await getJson(`${t.url}/api/projects/shop/overview?${qs({ from: iso(from), to: iso(TO) })}`, t.readKey);
    assert.equal(r.status, 200);
    const totals = (a: number, b: number) => {
      const rows = events.filter((e) => e.ts >= a && e.ts < b);
      return { events: rows.length, users: new Set(rows.map(distinctOf)).size, sessions: new Set(rows.map((e) => e.sessionId)).size };
    };
    const current = totals(from, TO);
    const previous = totals(from - WEEK, from);
    assert.deepEqual(r.body.current, current);
    assert.deepEqual(r.body.previous, previous);
    const ratio = (c: number, p: number) => (c - p) / p;
    assert.ok(Math.abs(r.body.change.events - ratio(current.events, previous.events)) < 1e-12);
    assert.ok(Math.abs(r.body.change.users - ratio(current.users, previous.users)) < 1e-12);
    assert.ok(Math.abs(r.body.change.sessions - ratio(current.sessions, previous.sessions)) < 1e-12);
    assert.equal(r.body.from, iso(from));
    assert.equal(r.body.to, iso(TO));
  });

  test('/overview and /top-events over the longest window a client can ask for: 200, not 500', async () => {
    for (const from of ['-99999999d', '-14285714w', '0']) {
      const o = await getJson(
        `${t.url}/api/projects/shop/overview?${qs({ from, to: from === '0' ? '8640000000000000' : undefined })}`,
        t.readKey,
      );
      assert.equal(o.status, 200, `${from}: ${JSON.stringify(o.body)}`);
      assert.ok(o.body.current.events >= events.filter((e) => e.ts <= Date.now()).length);
      const top = await getJson(`${t.url}/api/projects/shop/top-events?${qs({ from })}`, t.readKey);
      assert.equal(top.status, 200, from);
    }
  });

  test('/overview: change is null when the previous window is empty', async () => {
    // the generated events start one week before FROM; the week before that is empty
    const from = FROM - WEEK;
    const r = await getJson(`${t.url}/api/projects/shop/overview?${qs({ from: iso(from), to: iso(FROM) })}`, t.readKey);
    const rows = events.filter((e) => e.ts >= from && e.ts < FROM);
    assert.ok(rows.length > 0);
    assert.deepEqual(r.body.current, {
      events: rows.length,
      users: new Set(rows.map(distinctOf)).size,
      sessions: new Set(rows.map((e) => e.sessionId)).size,
    });
    assert.deepEqual(r.body.previous, { events: 0, users: 0, sessions: 0 });
    assert.deepEqual(r.body.change, { events: null, users: null, sessions: null });
    // and a drop to nothing is -100 %: the day after TO is empty, the day before it is not
    const after = await getJson(`${t.url}/api/projects/shop/overview?${qs({ from: iso(TO + DAY), to: iso(TO + 2 * DAY) })}`, t.readKey);
    assert.ok(events.some((e) => e.ts >= TO && e.ts < TO + DAY) && !events.some((e) => e.ts >= TO + DAY && e.ts < TO + 2 * DAY));
    assert.deepEqual(after.body.current, { events: 0, users: 0, sessions: 0 });
    assert.deepEqual(after.body.change, { events: -1, users: -1, sessions: -1 });
  });
});

// ---- time zones: expectations written by hand

function ev(messageId: string, isoTs: string, userId: string, event = 'Tick'): Ev {
  return { messageId, event, userId, sessionId: `${userId}-${messageId}`, ts: ms(isoTs), country: null, plan: undefined };
}

describe('a project in Europe/Berlin', () => {
  let t: TestApp;
  const series = (params: Record<string, string>) => getJson(`${t.url}/api/projects/shop/timeseries?${qs(params)}`, t.readKey);
  before(async () => {
    t = await startTestApp({ timeZone: 'Europe/Berlin' });
    await ingest(t, [
      // summer (UTC+2)
      ev('b1', '2026-06-30T21:59:59.999Z', 'A'), // local 06-30 23:59:59.999
      ev('b2', '2026-06-30T22:00:00.000Z', 'A'), // local 07-01 00:00
      ev('b3', '2026-07-01T10:00:00.000Z', 'A'),
      ev('b4', '2026-07-01T21:59:59.000Z', 'B'), // local 07-01 23:59:59
      ev('b5', '2026-07-01T22:00:00.000Z', 'B'), // local 07-02 00:00
      ev('b6', '2026-07-03T12:00:00.000Z', 'C'),
      // spring forward on Sunday 2026-03-29 at 01:00 UTC: a 23-hour day
      ev('d1', '2026-03-28T22:59:59.000Z', 'A'), // local 03-28 23:59:59+01
      ev('d2', '2026-03-28T23:00:00.000Z', 'A'), // local 03-29 00:00+01
      ev('d3', '2026-03-29T00:59:59.000Z', 'B'), // local 01:59:59+01
      ev('d4', '2026-03-29T01:00:00.000Z', 'B'), // local 03:00+02
      ev('d5', '2026-03-29T21:59:59.000Z', 'A'), // local 23:59:59+02
      ev('d6', '2026-03-29T22:00:00.000Z', 'C'), // local 03-30 00:00+02
      // fall back on Sunday 2026-10-25 at 01:00 UTC: local 02:00-03:00 happens twice, a 25-hour day
      ev('f1', '2026-10-25T00:30:00.000Z', 'A'), // local 02:30+02
      ev('f2', '2026-10-25T01:30:00.000Z', 'B'), // local 02:30+01
      ev('f3', '2026-10-25T01:45:00.000Z', 'B'), // local 02:45+01
      ev('f4', '2026-10-25T22:59:59.000Z', 'A'), // local 23:59:59+01
    ]);
  });
  after(() => t?.close());

  const values = (body: { series: { values: number[] }[] }) => body.series[0].values;

  test('daily buckets start at local midnight', async () => {
    for (const measure of ['events', 'users']) {
      const r = await series({ interval: '1d', measure, from: '2026-07-01T00:00:00+02:00', to: '2026-07-04T00:00:00+02:00' });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.timeZone, 'Europe/Berlin');
      assert.deepEqual(r.body.buckets, ['2026-07-01T00:00:00+02:00', '2026-07-02T00:00:00+02:00', '2026-07-03T00:00:00+02:00']);
      assert.deepEqual(values(r.body), measure === 'events' ? [3, 1, 1] : [2, 1, 1], measure);
      assert.equal(r.body.from, '2026-07-01T00:00:00+02:00');
    }
  });

  test('a `from` given in UTC still gets local-midnight days', async () => {
    const r = await series({ interval: '1d', from: '2026-07-01T00:00:00Z', to: '2026-07-02T00:00:00Z' });
    // 2026-07-01T00:00Z is 02:00 local on 07-01; the day bucket starts at 06-30T22:00Z
    assert.deepEqual(r.body.buckets, ['2026-07-01T00:00:00+02:00', '2026-07-02T00:00:00+02:00']);
    assert.deepEqual(values(r.body), [3, 1]);
  });

  test('the 23-hour day of 2026-03-29 has the right counts', async () => {
    for (const measure of ['events', 'users', 'sessions']) {
      const r = await series({ interval: '1d', measure, from: '2026-03-28T00:00:00+01:00', to: '2026-03-31T00:00:00+02:00' });
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.buckets, ['2026-03-28T00:00:00+01:00', '2026-03-29T00:00:00+01:00', '2026-03-30T00:00:00+02:00']);
      assert.deepEqual(values(r.body), measure === 'users' ? [1, 2, 1] : [1, 4, 1], measure);
    }
  });

  test('hourly buckets skip the missing local hour 02:00 on 2026-03-29', async () => {
    for (const measure of ['events', 'users']) {
      const r = await series({ interval: '1h', measure, from: '2026-03-29T00:00:00+01:00', to: '2026-03-29T05:00:00+02:00' });
      assert.deepEqual(r.body.buckets, [
        '2026-03-29T00:00:00+01:00',
        '2026-03-29T01:00:00+01:00',
        '2026-03-29T03:00:00+02:00',
        '2026-03-29T04:00:00+02:00',
      ]);
      assert.deepEqual(values(r.body), [1, 1, 1, 0], measure);
    }
  });

  test('weeks start on Monday at local midnight, across the change', async () => {
    for (const measure of ['events', 'users']) {
      const r = await series({ interval: '1w', measure, from: '2026-03-23T00:00:00+01:00', to: '2026-04-06T00:00:00+02:00' });
      assert.deepEqual(r.body.buckets, ['2026-03-23T00:00:00+01:00', '2026-03-30T00:00:00+02:00']);
      assert.deepEqual(values(r.body), measure === 'events' ? [5, 1] : [2, 1], measure);
    }
  });

  test('the repeated local hour of 2026-10-25 is two hourly buckets, for counts and for users', async () => {
    for (const measure of ['events', 'users', 'sessions']) {
      const r = await series({ interval: '1h', measure, from: '2026-10-25T02:00:00+02:00', to: '2026-10-25T03:00:00+01:00' });
      assert.deepEqual(r.body.buckets, ['2026-10-25T02:00:00+02:00', '2026-10-25T02:00:00+01:00']);
      assert.deepEqual(values(r.body), measure === 'events' || measure === 'sessions' ? [1, 2] : [1, 1], measure);
    }
  });

  test('the 25-hour day of 2026-10-25 is one bucket', async () => {
    for (const measure of ['events', 'users']) {
      const r = await series({ interval: '1d', measure, from: '2026-10-25T00:00:00+02:00', to: '2026-10-26T00:00:00+01:00' });
      assert.deepEqual(r.body.buckets, ['2026-10-25T00:00:00+02:00']);
      assert.deepEqual(values(r.body), measure === 'events' ? [4] : [2], measure);
    }
    const sixHours = await series({ interval: '6h', measure: 'users', from: '2026-10-25T00:00:00+02:00', to: '2026-10-26T00:00:00+01:00' });
    // 00:00-06:00 local holds 7 hours and both A (02:30+02) and B (02:30+01, 02:45+01)
    assert.deepEqual(sixHours.body.buckets, [
      '2026-10-25T00:00:00+02:00',
      '2026-10-25T06:00:00+01:00',
      '2026-10-25T12:00:00+01:00',
      '2026-10-25T18:00:00+01:00',
    ]);
    assert.deepEqual(values(sixHours.body), [2, 0, 0, 1]);
  });
});

describe('a project in Asia/Kolkata (UTC+05:30)', () => {
  let t: TestApp;
  const series = (params: Record<string, string>) => getJson(`${t.url}/api/projects/shop/timeseries?${qs(params)}`, t.readKey);
  before(async () => {
    t = await startTestApp({ timeZone: 'Asia/Kolkata' });
    await ingest(t, [
      ev('k6', '2026-05-03T23:29:59.000Z', 'D'), // local 04:59:59
      ev('k1', '2026-05-03T23:30:00.000Z', 'A'), // local 05:00
      ev('k2', '2026-05-04T00:29:59.000Z', 'B'),
      ev('k3', '2026-05-04T00:30:00.000Z', 'A'), // local 06:00
      ev('k4', '2026-05-04T02:29:00.000Z', 'A'),
      ev('k5', '2026-05-04T02:30:00.000Z', 'C'), // local 08:00
    ]);
  });
  after(() => t?.close());

  test('hourly buckets start at :30 UTC', async () => {
    for (const measure of ['events', 'users']) {
      const r = await series({ interval: '1h', measure, from: '2026-05-03T23:30:00Z', to: '2026-05-04T02:30:00Z' });
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.buckets, ['2026-05-04T05:00:00+05:30', '2026-05-04T06:00:00+05:30', '2026-05-04T07:00:00+05:30']);
      assert.deepEqual(r.body.series[0].values, [2, 1, 1], measure);
    }
  });

  test('15-minute and daily buckets', async () => {
    const q = await series({ interval: '15m', from: '2026-05-04T00:00:00Z', to: '2026-05-04T01:00:00Z' });
    assert.deepEqual(q.body.buckets, [
      '2026-05-04T05:30:00+05:30',
      '2026-05-04T05:45:00+05:30',
      '2026-05-04T06:00:00+05:30',
      '2026-05-04T06:15:00+05:30',
    ]);
    assert.deepEqual(q.body.series[0].values, [0, 1, 1, 0]); // k2 at 00:29:59Z is local 05:59:59
    for (const measure of ['events', 'users']) {
      const d = await series({ interval: '1d', measure, from: '2026-05-04T00:00:00+05:30', to: '2026-05-05T00:00:00+05:30' });
      assert.deepEqual(d.body.buckets, ['2026-05-04T00:00:00+05:30']);
      assert.deepEqual(d.body.series[0].values, measure === 'events' ? [6] : [4], measure);
    }
  });
});

// ---- time zones: random events around DST changes against a reference built on Intl alone

const wallFormats = new Map<string, Intl.DateTimeFormat>();
/** Local wall-clock time at instant t, as milliseconds of a UTC calendar (so Date can print it). */
function wallClock(tz: string, t: number): number {
  let f = wallFormats.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    wallFormats.set(tz, f);
  }
  const p = Object.fromEntries(f.formatToParts(t).map((x) => [x.type, Number(x.value)]));
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) + (((t % 1000) + 1000) % 1000);
}
const wallText = (wall: number) => new Date(wall).toISOString().slice(0, 19);
const offsetText = (off: number) =>
  `${off < 0 ? '-' : '+'}${String(Math.floor(Math.abs(off) / HOUR)).padStart(2, '0')}:${String((Math.abs(off) % HOUR) / MIN).padStart(2, '0')}`;

/**
 * The bucket an event belongs to, named as the API labels it: buckets of an hour or less by local
 * wall time and offset (a repeated local hour is two buckets); longer ones by local wall time only.
 */
function bucketKey(tz: string, interval: string, t: number): string {
  const wall = wallClock(tz, t);
  const day = Math.floor(wall / DAY);
  if (interval === '1w') return wallText((day - ((day + 3) % 7)) * DAY); // epoch day 0 was a Thursday
  const floored = Math.floor(wall / SIZE[interval]) * SIZE[interval];
  return SIZE[interval] <= HOUR ? wallText(floored) + offsetText(wall - t) : wallText(floored);
}
const labelKey = (interval: string, label: string) => (SIZE[interval] <= HOUR ? label : label.slice(0, 19));

describe('time zones: counts and distinct users per local bucket equal an Intl-based reference', () => {
  let t: TestApp;
  const zones: { tz: string; windows: [string, string][] }[] = [
    {
      tz: 'Europe/Berlin',
      windows: [
        ['2026-03-26T00:00:00Z', '2026-04-01T00:00:00Z'],
        ['2026-10-22T00:00:00Z', '2026-10-28T00:00:00Z'],
      ],
    },
    {
      tz: 'America/New_York',
      windows: [
        ['2026-03-05T00:00:00Z', '2026-03-11T00:00:00Z'],
        ['2026-10-29T00:00:00Z', '2026-11-04T00:00:00Z'],
      ],
    },
    {
      tz: 'America/St_Johns',
      windows: [
        ['2026-03-05T00:00:00Z', '2026-03-11T00:00:00Z'],
        ['2026-10-29T00:00:00Z', '2026-11-04T00:00:00Z'],
      ],
    },
    { tz: 'Asia/Kathmandu', windows: [['2026-05-01T00:00:00Z', '2026-05-06T00:00:00Z']] },
    { tz: 'Asia/Kolkata', windows: [['2026-05-01T00:00:00Z', '2026-05-06T00:00:00Z']] },
  ];
  const data = new Map<string, Ev[]>();
  const keys = new Map<string, string>();

  before(async () => {
    t = await startTestApp();
    const rand = prng(77);
    for (const [z, { tz, windows }] of zones.entries()) {
      const slug = `zone-${z}`;
      const project = await t.ctx.projects.create({ slug, timeZone: tz });
      keys.set(tz, (await t.ctx.apiKeys.create({ projectId: project.id, scopes: ['read'] })).secret);
      const writeKey = (await t.ctx.apiKeys.create({ projectId: project.id, scopes: ['ingest'] })).secret;
      const events: Ev[] = [];
      for (const [from, to] of windows) {
        const a = ms(from),
          b = ms(to);
        for (let i = 0; i < 500; i++) {
          // a third of the events sit on whole quarter hours, where bucket edges are
          const ts = i % 3 === 0 ? a + Math.floor(rand() * ((b - a) / (15 * MIN))) * 15 * MIN : a + Math.floor(rand() * (b - a));
          const userId = `z${Math.floor(rand() * 25)}`;
          events.push({
            messageId: `${slug}-${events.length}`,
            event: 'Tick',
            userId,
            sessionId: `${userId}-${Math.floor(ts / (2 * HOUR))}`,
            ts,
            country: null,
            plan: undefined,
          });
        }
      }
      data.set(tz, events);
      await ingest({ ...t, writeKey }, events);
    }
  });
  after(() => t?.close());

  for (const { tz, windows } of zones) {
    test(tz, async () => {
      const events = data.get(tz)!;
      for (const [from, to] of windows) {
        const a = ms(from),
          b = ms(to);
        for (const interval of ['5m', '15m', '1h', '6h', '1d', '1w']) {
          for (const measure of ['events', 'users'] as const) {
            const what = `${tz} ${from} ${interval} ${measure}`;
            const r = await getJson(
              `${t.url}/api/projects/zone-${zones.findIndex((z) => z.tz === tz)}/timeseries?${qs({ interval, measure, from, to })}`,
              keys.get(tz),
            );
            assert.equal(r.status, 200, `${what}: ${JSON.stringify(r.body)}`);
            const labels: string[] = r.body.buckets;
            // buckets: strictly increasing instants, the first holding `from`, the last starting before `to`
            const starts = labels.map((l) => Date.parse(l));
            for (let i = 1; i < starts.length; i++) assert.ok(starts[i] > starts[i - 1], `${what}: ${labels[i - 1]} < ${labels[i]}`);
            assert.ok(starts[0] <= a && (starts.length === 1 || starts[1] > a), `${what}: first bucket ${labels[0]}`);
            assert.ok(starts[starts.length - 1] < b, `${what}: last bucket ${labels[labels.length - 1]}`);
            assert.equal(new Set(labels.map((l) => labelKey(interval, l))).size, labels.length, `${what}: bucket names are unique`);

            const expected = new Map<string, Set<string>>();
            for (const e of events) {
              if (e.ts < starts[0] || e.ts >= b) continue;
              const k = bucketKey(tz, interval, e.ts);
              if (!expected.has(k)) expected.set(k, new Set());
              expected.get(k)!.add(measure === 'events' ? e.messageId : distinctOf(e));
            }
            const actual = new Map<string, number>();
            labels.forEach((l, i) => r.body.series[0].values[i] && actual.set(labelKey(interval, l), r.body.series[0].values[i]));
            assert.deepEqual(
              Object.fromEntries([...actual].sort()),
              Object.fromEntries([...expected].map(([k, s]) => [k, s.size] as const).sort()),
              what,
            );
          }
        }
      }
    });
  }
});

describe('properties with odd names: "", "*" and "a/b" are read as the names they are', () => {
  let t: TestApp;
  const at = Date.UTC(2026, 3, 1, 10);
  before(async () => {
    t = await startTestApp();
    const batch = [
      ...Array.from({ length: 3 }, (_, i) => ({
        properties: { '': 'empty', '*': 'star', 'a/b': 'slash', plan: 'pro' },
        messageId: `odd-${i}`,
      })),
      { properties: { '': 'other', plan: 'free' }, messageId: 'odd-3' },
    ].map((e) => ({ type: 'track', event: 'Odd', userId: 'u1', timestamp: new Date(at).toISOString(), ...e }));
    assert.equal((await postJson(`${t.url}/v1/batch`, { batch }, basic(t.writeKey))).status, 200);
    await t.ctx.flush();
  });
  after(() => t?.close());

  test('value shares (the drift check) and breakdowns', async () => {
    const shares = (property: string) =>
      t.ctx.events.valueShares({ projectId: t.project.id, event: 'Odd', property, fromMs: at, toMs: at + 3_600_000, limit: 10 });
    assert.deepEqual(await shares(''), [
      { value: 'empty', count: 3 },
      { value: 'other', count: 1 },
    ]);
    assert.deepEqual(await shares('*'), [{ value: 'star', count: 3 }], 'a * is a name, not every property');
    assert.deepEqual(await shares('a/b'), [{ value: 'slash', count: 3 }]);
    for (const [breakdown, want] of [
      [
        '*',
        [
          ['star', 3],
          ['$none', 1],
        ],
      ],
      [
        'a/b',
        [
          ['slash', 3],
          ['$none', 1],
        ],
      ],
    ] as const) {
      const r = await getJson(
        `${t.url}/api/projects/shop/timeseries?${new URLSearchParams({ interval: '1d', breakdown, from: new Date(at - 3_600_000).toISOString(), to: new Date(at + 3_600_000).toISOString() })}`,
        t.readKey,
      );
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(
        r.body.series.map((s: { key: string; total: number }) => [s.key, s.total]),
        want,
        breakdown,
      );
    }
  });
});
