/**
 * Event and property names are the client's: `__proto__`, `constructor` and `toString` must profile
 * like any other name (the fuzzer found the tracking plan answering 500 once an event carried a
 * property named `__proto__`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { profileEvents, schemaChanges } from '../../src/detect/schema-drift.js';
import { foldProfile, mergeProfiles } from '../../src/signals/drift/drift.js';

const NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'];

test('names that Object.prototype has are profiled, merged and compared as plain names', () => {
  const events = NAMES.flatMap((event) =>
    [1, 2].map(() => ({
      event,
      properties: JSON.parse(`{"__proto__": "a", "constructor": 1, "toString": null, "x": {"__proto__": 2}}`) as Record<string, unknown>,
    })),
  );
  const day = profileEvents(events);
  assert.deepEqual(Object.keys(day).sort(), [...NAMES].sort());
  for (const name of NAMES) {
    assert.equal(Object.getOwnPropertyDescriptor(day, name)?.value.count, 2);
    assert.deepEqual(Object.keys(Object.getOwnPropertyDescriptor(day, name)?.value.properties).sort(), [
      '__proto__',
      'constructor',
      'toString',
      'x',
    ]);
  }
  assert.equal(Object.getPrototypeOf(day), Object.prototype, 'nothing was written to the prototype');
  assert.equal(({} as Record<string, unknown>).count, undefined);

  const rows = NAMES.flatMap((event) => [
    { event, events: 2, key: '__proto__', type: 'string', value: 'a', count: 2, distinct: 1 },
    { event, events: 2, key: 'constructor', type: 'number', value: '1', count: 2, distinct: 1 },
  ]);
  const folded = foldProfile(rows);
  assert.deepEqual(Object.keys(folded).sort(), [...NAMES].sort());
  assert.equal(
    Object.getOwnPropertyDescriptor(Object.getOwnPropertyDescriptor(folded, '__proto__')?.value.properties, '__proto__')?.value.values.a,
    2,
  );

  const merged = mergeProfiles([folded, JSON.parse(JSON.stringify(folded))]);
  assert.equal(Object.getOwnPropertyDescriptor(merged, 'constructor')?.value.count, 4);
  // a baseline without these names (as stored: parsed JSON) sees them as new; with them, as known
  assert.deepEqual(
    schemaChanges({}, day)
      .filter((c) => c.kind === 'new_event')
      .map((c) => c.event)
      .sort(),
    [...NAMES].sort(),
  );
  assert.deepEqual(schemaChanges(JSON.parse(JSON.stringify(day)), day), []);
});
