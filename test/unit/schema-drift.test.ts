import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { profileEvents, schemaChanges, LOW_CARDINALITY, type SchemaChange } from '../../src/detect/schema-drift.js';

type Row = { event: string; properties: Record<string, unknown> };
const rows = (n: number, event: string, props: (i: number) => Record<string, unknown>): Row[] =>
  Array.from({ length: n }, (_, i) => ({ event, properties: props(i) }));
const PLANS = ['free', 'pro', 'team'];
const signup = (i: number): Record<string, unknown> => ({
  plan: PLANS[i % 3],
  seats: i + 1,
  $lib: 'web',
  referrer: `https://r${i}.example`,
});
const baselineRows = [...rows(60, 'signup', signup), ...rows(40, 'pageview', (i) => ({ path: `/p/${i}` }))];
const kinds = (changes: SchemaChange[]): string[] => changes.map((c) => `${c.kind}:${c.event}${c.property ? '.' + c.property : ''}`);

describe('profileEvents', () => {
  test('counts events, types, distinct values, and keeps values only for low cardinality', () => {
    const day = profileEvents([
      { event: 'e', properties: { a: 'x', b: 1, c: null, d: [1], f: { k: 1 }, g: true, u: undefined } },
      { event: 'e', properties: { a: 'x', b: '1', c: 'y' } },
      { event: 'e', properties: { a: 'z' } },
    ]);
    assert.equal(day.e!.count, 3);
    assert.deepEqual(day.e!.properties.a, { types: { string: 3 }, values: { x: 2, z: 1 }, distinct: 2 });
    assert.deepEqual(day.e!.properties.b, { types: { number: 1, string: 1 }, values: { 1: 2 }, distinct: 1 });
    assert.deepEqual(day.e!.properties.c, { types: { null: 1, string: 1 }, values: { y: 1 }, distinct: 1 });
    assert.deepEqual(day.e!.properties.d, { types: { array: 1 }, values: { '[1]': 1 }, distinct: 1 });
    assert.deepEqual(day.e!.properties.f!.types, { object: 1 });
    assert.deepEqual(day.e!.properties.g!.values, { true: 1 });
    assert.equal(day.e!.properties.u, undefined);
  });

  test('high-cardinality properties keep the distinct count but no values', () => {
    const day = profileEvents(rows(LOW_CARDINALITY + 1, 'e', (i) => ({ id: `u${i}` })));
    assert.equal(day.e!.properties.id!.distinct, LOW_CARDINALITY + 1);
    assert.equal(day.e!.properties.id!.values, undefined);
    const atLimit = profileEvents(rows(LOW_CARDINALITY, 'e', (i) => ({ id: `u${i}` })));
    assert.equal(Object.keys(atLimit.e!.properties.id!.values!).length, LOW_CARDINALITY);
  });
});

describe('schemaChanges', () => {
  const baseline = profileEvents(baselineRows);

  test('identical days: no changes', () => {
    assert.deepEqual(schemaChanges(baseline, profileEvents(baselineRows)), []);
  });

  test('same schema, different volume and values of a high-cardinality property: no changes', () => {
    const today = profileEvents([
      ...rows(25, 'signup', (i) => ({ ...signup(i), referrer: `https://other${i}` })),
      ...rows(3, 'pageview', () => ({ path: '/new' })),
    ]);
    assert.deepEqual(schemaChanges(baseline, today), []);
  });

  test('an event simply absent today is not reported, nor its properties as gone', () => {
    assert.deepEqual(schemaChanges(baseline, profileEvents(rows(30, 'signup', signup))), []);
    assert.deepEqual(schemaChanges(baseline, {}), []);
  });

  test('new event (its properties are not reported separately)', () => {
    const today = profileEvents([...baselineRows, ...rows(5, 'checkout', () => ({ amount: 10 }))]);
    const changes = schemaChanges(baseline, today);
    assert.deepEqual(kinds(changes), ['new_event:checkout']);
    assert.equal(changes[0]!.after, 5);
    assert.match(changes[0]!.detail, /New event 'checkout'/);
  });

  test('new property', () => {
    const today = profileEvents(rows(30, 'signup', (i) => ({ ...signup(i), coupon: 'X' + i })));
    const changes = schemaChanges(baseline, today);
    assert.deepEqual(kinds(changes), ['new_property:signup.coupon']);
    assert.equal(changes[0]!.after, 'string');
  });

  test('property gone: needs enough events today and a property that was usual', () => {
    const noSeats = (n: number): Row[] => rows(n, 'signup', (i) => ({ plan: PLANS[i % 3], referrer: 'r' }));
    const changes = schemaChanges(baseline, profileEvents(noSeats(20)));
    assert.deepEqual(kinds(changes), ['property_gone:signup.seats']);
    assert.equal(changes[0]!.before, 1);
    assert.deepEqual(schemaChanges(baseline, profileEvents(noSeats(19))), []);
    assert.deepEqual(kinds(schemaChanges(baseline, profileEvents(noSeats(5)), { minEventsForGone: 5 })), ['property_gone:signup.seats']);
    // a property on fewer than half of the baseline events may be absent for a day
    const optional = profileEvents(rows(60, 'signup', (i) => (i < 29 ? { ...signup(i), promo: 'a' } : signup(i))));
    assert.deepEqual(schemaChanges(optional, profileEvents(rows(60, 'signup', signup))), []);
    const usual = profileEvents(rows(60, 'signup', (i) => (i < 30 ? { ...signup(i), promo: 'a' } : signup(i))));
    assert.deepEqual(kinds(schemaChanges(usual, profileEvents(rows(60, 'signup', signup)))), ['property_gone:signup.promo']);
  });

  test('type changed: the dominant type differs', () => {
    const today = profileEvents(rows(30, 'signup', (i) => ({ ...signup(i), seats: String(i + 1) })));
    const changes = schemaChanges(baseline, today);
    assert.deepEqual(kinds(changes), ['type_changed:signup.seats']);
    assert.deepEqual([changes[0]!.before, changes[0]!.after], ['number', 'string']);
  });

  test('type changed: a minority of other types, nulls, or no dominant type is no change', () => {
    const few = profileEvents(rows(30, 'signup', (i) => ({ ...signup(i), seats: i < 14 ? String(i) : i })));
    assert.deepEqual(schemaChanges(baseline, few), []);
    const nulls = profileEvents(rows(30, 'signup', (i) => ({ ...signup(i), seats: i < 25 ? null : i })));
    assert.deepEqual(schemaChanges(baseline, nulls), []);
    const mixed = profileEvents(rows(30, 'signup', (i) => ({ ...signup(i), seats: i % 2 ? String(i) : i })));
    assert.deepEqual(schemaChanges(baseline, mixed), []);
  });

  test('new value in a low-cardinality property, one change per value', () => {
    const today = profileEvents([
      ...rows(30, 'signup', signup),
      ...rows(2, 'signup', (i) => ({ ...signup(i), plan: 'enterprise' })),
      ...rows(1, 'signup', (i) => ({ ...signup(i), plan: 'edu' })),
    ]);
    const changes = schemaChanges(baseline, today);
    assert.deepEqual(kinds(changes), ['new_value:signup.plan', 'new_value:signup.plan']);
    assert.deepEqual(
      changes.map((c) => c.after),
      ['edu', 'enterprise'],
    );
    assert.deepEqual(changes[1]!.before, ['free', 'pro', 'team']);
    assert.match(changes[1]!.detail, /new value 'enterprise' \(2 that day\)/);
  });

  test('no new values reported unless both sides are low-cardinality', () => {
    // baseline has 60 distinct seats values: today's new ones are routine
    const today = profileEvents(rows(30, 'signup', (i) => ({ ...signup(i), seats: 1000 + i })));
    assert.deepEqual(schemaChanges(baseline, today), []);
    // baseline low, today high: no per-value flood
    const wide = profileEvents(rows(30, 'signup', (i) => ({ ...signup(i), plan: `p${i}` })));
    assert.deepEqual(schemaChanges(baseline, wide), []);
  });

  test('properties starting with $ are ignored', () => {
    const today = profileEvents(rows(30, 'signup', (i) => ({ plan: PLANS[i % 3], seats: i, referrer: 'r', $lib: 7, $device: 'x' })));
    assert.deepEqual(schemaChanges(baseline, today), []);
    const noLib = profileEvents(rows(30, 'signup', (i) => ({ plan: PLANS[i % 3], seats: i, referrer: 'r' })));
    assert.deepEqual(schemaChanges(baseline, noLib), []);
  });

  test('several changes come ordered by event, then property', () => {
    const today = profileEvents([
      ...rows(30, 'signup', (i) => ({ plan: i ? PLANS[i % 3] : 'vip', seats: 'many', referrer: 'r', amount: 1 })),
      ...rows(40, 'pageview', () => ({ path: '/' })),
      ...rows(1, 'alpha', () => ({})),
    ]);
    assert.deepEqual(kinds(schemaChanges(baseline, today)), [
      'new_event:alpha',
      'new_property:signup.amount',
      'new_value:signup.plan',
      'type_changed:signup.seats',
    ]);
  });
});
