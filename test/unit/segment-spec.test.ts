import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  LATEST_TIME_MS,
  MAX_NESTING,
  checkCorrectedTime,
  checkMessage,
  type Checked,
  type Rejection,
  type SegmentMessage,
} from '../../src/ingest/segment-spec.js';
import { correctedTimestamp } from '../../src/ingest/enrich.js';
import type { EventType } from '../../src/storage/events/event-store.js';

/** The accepted message, or a failed assertion that shows the rejection. */
function accepted(c: Checked): SegmentMessage {
  if (!c.ok) assert.fail(`expected the message to be accepted, got ${JSON.stringify(c.rejection)}`);
  return c.message;
}

function rejected(c: Checked): Rejection {
  if (c.ok) assert.fail(`expected a rejection, got ${JSON.stringify(c.message)}`);
  return c.rejection;
}

/** checkMessage as a batch item (no implied type) at index 0. */
const item = (raw: unknown) => checkMessage(raw, 0, undefined);
/** checkMessage as the body of /v1/<type>. */
const call = (type: EventType, raw: unknown) => checkMessage(raw, 0, type);

describe('checkMessage: shape and type', () => {
  for (const raw of [null, 'track', 42, true, [], [{ type: 'track' }]]) {
    test(`a non-object item (${JSON.stringify(raw)}) is rejected as not_an_object`, () => {
      const r = rejected(checkMessage(raw, 7, undefined));
      assert.deepEqual({ index: r.index, field: r.field, reason: r.reason }, { index: 7, field: '', reason: 'not_an_object' });
      assert.match(r.message, /object/);
    });
  }

  for (const type of [undefined, 'Track', 'trackk', 5, null, '']) {
    test(`a batch item with type ${JSON.stringify(type)} is rejected on field "type"`, () => {
      const r = rejected(item({ type, userId: 'u', event: 'E' }));
      assert.equal(r.field, 'type');
      assert.equal(r.reason, 'invalid_type');
      assert.match(r.message, /track, page, screen, identify, group, alias/);
    });
  }

  test('every one of the six types is accepted in a batch', () => {
    const bodies: Record<EventType, Record<string, unknown>> = {
      track: { event: 'E' },
      page: {},
      screen: {},
      identify: {},
      group: { groupId: 'g' },
      alias: { previousId: 'p' },
    };
    for (const [type, extra] of Object.entries(bodies)) {
      assert.equal(accepted(item({ type, userId: 'u', ...extra })).type, type);
    }
  });

  test('the endpoint type wins over a type in the body', () => {
    const m = accepted(call('page', { type: 'track', userId: 'u', name: 'Home' }));
    assert.equal(m.type, 'page');
    assert.equal(m.name, 'Home');
  });

  test('the index is reported as given', () => {
    assert.equal(rejected(checkMessage({ type: 'track', userId: 'u' }, 2499, undefined)).index, 2499);
  });
});

describe('checkMessage: identity', () => {
  test('userId and anonymousId both missing → field userId, missing_identity', () => {
    const r = rejected(call('track', { event: 'E' }));
    assert.deepEqual({ index: r.index, field: r.field, reason: r.reason }, { index: 0, field: 'userId', reason: 'missing_identity' });
  });

  test('empty strings and nulls count as missing', () => {
    assert.equal(rejected(call('track', { event: 'E', userId: '', anonymousId: null })).reason, 'missing_identity');
  });

  test('anonymousId alone is enough, and userId alone is enough', () => {
    const a = accepted(call('track', { event: 'E', anonymousId: 'anon-1' }));
    assert.equal(a.anonymousId, 'anon-1');
    assert.equal(a.userId, undefined);
    const u = accepted(call('identify', { userId: 'u-1' }));
    assert.equal(u.userId, 'u-1');
  });

  test('numeric ids are kept as strings', () => {
    const m = accepted(call('track', { event: 'E', userId: 42, messageId: 7 }));
    assert.equal(m.userId, '42');
    assert.equal(m.messageId, '7');
  });

  for (const field of ['userId', 'anonymousId', 'messageId']) {
    test(`${field} that is an object or boolean is rejected on that field`, () => {
      for (const bad of [{ id: 1 }, true, ['x']]) {
        const r = rejected(call('track', { event: 'E', userId: 'u', anonymousId: 'a', [field]: bad }));
        assert.equal(r.field, field);
        assert.equal(r.reason, 'invalid_field');
      }
    });
  }
});

describe('checkMessage: required fields per call', () => {
  test('track without event → field event, missing_event', () => {
    const r = rejected(call('track', { userId: 'u' }));
    assert.deepEqual([r.field, r.reason], ['event', 'missing_event']);
  });

  test('track with an empty event name → missing_event', () => {
    assert.equal(rejected(call('track', { userId: 'u', event: '' })).reason, 'missing_event');
  });

  test('track with a non-string event → invalid_field on event', () => {
    const r = rejected(call('track', { userId: 'u', event: 12 }));
    assert.deepEqual([r.field, r.reason], ['event', 'invalid_field']);
  });

  test('group without groupId → field groupId', () => {
    const r = rejected(call('group', { userId: 'u', traits: { name: 'Acme' } }));
    assert.deepEqual([r.field, r.reason], ['groupId', 'missing_group_id']);
  });

  test('group with a groupId keeps it', () => {
    assert.equal(accepted(call('group', { userId: 'u', groupId: 'acme' })).groupId, 'acme');
  });

  test('alias without previousId → field previousId', () => {
    const r = rejected(call('alias', { userId: 'u' }));
    assert.deepEqual([r.field, r.reason], ['previousId', 'missing_alias_ids']);
  });

  test('alias without userId → field userId (anonymousId does not stand in)', () => {
    const r = rejected(call('alias', { previousId: 'anon-1', anonymousId: 'anon-1' }));
    assert.deepEqual([r.field, r.reason], ['userId', 'missing_alias_ids']);
  });

  test('alias with both ids is accepted', () => {
    const m = accepted(call('alias', { previousId: 'anon-1', userId: 'u' }));
    assert.equal(m.previousId, 'anon-1');
  });

  test('page and screen need no name; a name that is not a string is rejected', () => {
    assert.equal(accepted(call('page', { anonymousId: 'a' })).name, undefined);
    assert.equal(accepted(call('screen', { anonymousId: 'a', name: 'Home' })).name, 'Home');
    assert.equal(rejected(call('page', { anonymousId: 'a', name: { x: 1 } })).field, 'name');
  });
});

describe('checkMessage: objects', () => {
  for (const field of ['properties', 'traits', 'context', 'integrations']) {
    for (const bad of ['text', 3, [1, 2], true]) {
      test(`${field} = ${JSON.stringify(bad)} is rejected on field ${field}`, () => {
        const r = rejected(call('track', { userId: 'u', event: 'E', [field]: bad }));
        assert.deepEqual([r.field, r.reason], [field, 'invalid_field']);
      });
    }
  }

  test('missing or null objects become empty objects', () => {
    const m = accepted(call('track', { userId: 'u', event: 'E', properties: null }));
    assert.deepEqual(m.properties, {});
    assert.deepEqual(m.traits, {});
    assert.deepEqual(m.context, {});
  });

  test('objects are passed through unchanged', () => {
    const m = accepted(call('identify', { userId: 'u', traits: { plan: 'pro', seats: 3 }, context: { locale: 'de' } }));
    assert.deepEqual(m.traits, { plan: 'pro', seats: 3 });
    assert.deepEqual(m.context, { locale: 'de' });
  });
});

describe('checkMessage: timestamps', () => {
  test('ISO 8601 strings are read as epoch milliseconds', () => {
    const m = accepted(
      call('track', {
        userId: 'u',
        event: 'E',
        timestamp: '2026-11-27T12:00:00.250Z',
        originalTimestamp: '2026-11-27T13:00:00+01:00',
        sentAt: '2026-11-27T12:00:05Z',
      }),
    );
    assert.equal(m.timestamp, Date.UTC(2026, 10, 27, 12, 0, 0, 250));
    assert.equal(m.originalTimestamp, Date.UTC(2026, 10, 27, 12));
    assert.equal(m.sentAt, Date.UTC(2026, 10, 27, 12, 0, 5));
  });

  test('epoch milliseconds are accepted as numbers', () => {
    assert.equal(accepted(call('track', { userId: 'u', event: 'E', timestamp: 1_700_000_000_123 })).timestamp, 1_700_000_000_123);
  });

  test('a date-time without a zone is read as UTC, whatever the server time zone', () => {
    const saved = process.env.TZ;
    process.env.TZ = 'America/New_York'; // Node applies a changed TZ to Date at once
    try {
      assert.equal(
        accepted(call('track', { userId: 'u', event: 'E', timestamp: '2026-01-02T03:04:05' })).timestamp,
        Date.UTC(2026, 0, 2, 3, 4, 5),
      );
      assert.equal(
        accepted(call('track', { userId: 'u', event: 'E', timestamp: '2026-01-02 03:04:05.5' })).timestamp,
        Date.UTC(2026, 0, 2, 3, 4, 5, 500),
      );
      assert.equal(accepted(call('track', { userId: 'u', event: 'E', timestamp: '2026-01-02' })).timestamp, Date.UTC(2026, 0, 2));
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  for (const bad of ['not a date', 'yesterday', '12', 'foo 1', '2026-13-01T00:00:00Z', 'Tue, 01 Jan 2026 10:00:00 GMT', true, { at: 1 }]) {
    test(`timestamp ${JSON.stringify(bad)} is rejected on field timestamp`, () => {
      const r = rejected(call('track', { userId: 'u', event: 'E', timestamp: bad }));
      assert.deepEqual([r.field, r.reason], ['timestamp', 'invalid_field']);
      assert.match(r.message, /ISO 8601/);
    });
  }

  test('invalid originalTimestamp and sentAt are reported on their own fields', () => {
    assert.equal(rejected(call('track', { userId: 'u', event: 'E', originalTimestamp: 'nope' })).field, 'originalTimestamp');
    assert.equal(rejected(call('track', { userId: 'u', event: 'E', sentAt: 'nope' })).field, 'sentAt');
  });

  test('empty or null timestamps count as absent', () => {
    const m = accepted(call('track', { userId: 'u', event: 'E', timestamp: '', originalTimestamp: null }));
    assert.equal(m.timestamp, undefined);
    assert.equal(m.originalTimestamp, undefined);
  });
});

describe('checkMessage: batch defaults', () => {
  test('the batch context is merged into each item; the item wins on conflicts', () => {
    const batch = { context: { locale: 'en-US', library: { name: 'analytics.js' } } };
    const m = accepted(
      checkMessage({ type: 'track', userId: 'u', event: 'E', context: { locale: 'de-DE', page: { path: '/' } } }, 0, undefined, batch),
    );
    assert.deepEqual(m.context, { locale: 'de-DE', library: { name: 'analytics.js' }, page: { path: '/' } });
    const plain = accepted(checkMessage({ type: 'track', userId: 'u', event: 'E' }, 1, undefined, batch));
    assert.deepEqual(plain.context, batch.context);
  });

  test('merging does not modify the batch context shared by the other items', () => {
    const batch = { context: { locale: 'en-US' } };
    accepted(checkMessage({ type: 'track', userId: 'u', event: 'E', context: { locale: 'fr' } }, 0, undefined, batch));
    assert.deepEqual(batch.context, { locale: 'en-US' });
  });

  test("the batch sentAt applies to items without their own; an item's sentAt wins", () => {
    const batch = { sentAt: '2026-01-01T00:00:10Z' };
    assert.equal(
      accepted(checkMessage({ type: 'track', userId: 'u', event: 'E' }, 0, undefined, batch)).sentAt,
      Date.UTC(2026, 0, 1, 0, 0, 10),
    );
    assert.equal(
      accepted(checkMessage({ type: 'track', userId: 'u', event: 'E', sentAt: '2026-01-01T00:00:20Z' }, 0, undefined, batch)).sentAt,
      Date.UTC(2026, 0, 1, 0, 0, 20),
    );
  });

  test('an invalid batch sentAt rejects the item on field sentAt', () => {
    assert.equal(rejected(checkMessage({ type: 'track', userId: 'u', event: 'E' }, 0, undefined, { sentAt: 'later' })).field, 'sentAt');
  });
});

describe('checkMessage: what the event stores can load', () => {
  const deep = (levels: number): unknown => {
    let v: unknown = 'leaf';
    for (let i = 0; i < levels; i++) v = i % 2 ? [v] : { k: v };
    return v;
  };

  test('a lone surrogate anywhere becomes U+FFFD (name, ids, keys and values, nested, the batch context)', () => {
    const lone = '\ud800';
    const m = accepted(
      checkMessage(
        {
          type: 'track',
          event: `E${lone}`,
          userId: `u${lone}`,
          anonymousId: `\udc00a`,
          messageId: `m${lone}`,
          properties: { [`k${lone}`]: `v${lone}`, list: [{ deep: `x${lone}` }], pair: '\ud83d\ude00' },
          context: { page: { path: `/p${lone}` } },
        },
        0,
        undefined,
        { context: { locale: `en${lone}` } },
      ),
    );
    assert.equal(m.event, 'E\ufffd');
    assert.equal(m.userId, 'u\ufffd');
    assert.equal(m.anonymousId, '\ufffda');
    assert.equal(m.messageId, 'm\ufffd');
    assert.deepEqual(m.properties, { 'k\ufffd': 'v\ufffd', list: [{ deep: 'x\ufffd' }], pair: '\ud83d\ude00' });
    assert.deepEqual(m.context, { locale: 'en\ufffd', page: { path: '/p\ufffd' } });
    assert.doesNotMatch(JSON.stringify(m), /\\ud[89a-f]/i, 'no lone surrogate is left');
  });

  test('a message without lone surrogates is passed on as it came (no copy)', () => {
    const properties = { a: { b: [1, 'two'] } };
    assert.equal(accepted(call('track', { userId: 'u', event: 'E', properties })).properties, properties);
  });

  for (const [field, value] of [
    ['timestamp', 1e308],
    ['timestamp', -1e308],
    ['timestamp', 1e20],
    ['timestamp', 8640000000000001],
    ['timestamp', -1],
    ['sentAt', 1e308],
    ['originalTimestamp', -1e308],
  ] as const) {
    test(`${field} ${value} is out of the storable range and rejected on field ${field}`, () => {
      const r = rejected(
        call('track', {
          userId: 'u',
          event: 'E',
          [field]: value,
          ...(field === 'originalTimestamp' ? { sentAt: '2026-01-01T00:00:00Z' } : {}),
        }),
      );
      assert.deepEqual([r.field, r.reason], [field, 'invalid_field']);
      assert.match(r.message, new RegExp(`${field} must be a time from 1970-01-01T00:00:00Z to 9999-12-31`));
    });
  }

  test('the edges of the range are accepted', () => {
    assert.equal(accepted(call('track', { userId: 'u', event: 'E', timestamp: 0 })).timestamp, 0);
    assert.equal(accepted(call('track', { userId: 'u', event: 'E', timestamp: '9999-12-31T23:59:59.999Z' })).timestamp, LATEST_TIME_MS);
  });

  test('a time corrected for clock skew must be storable too; the client time field is named', () => {
    const m = accepted(call('track', { userId: 'u', event: 'E', originalTimestamp: 0, sentAt: '9999-01-01T00:00:00Z' }));
    const r = checkCorrectedTime(correctedTimestamp(m, Date.UTC(2026, 0, 1)), m, 3);
    assert.deepEqual([r?.index, r?.field, r?.reason], [3, 'originalTimestamp', 'invalid_field']);
    assert.equal(checkCorrectedTime(correctedTimestamp(m, Date.UTC(9999, 0, 1)), m, 3), null);
  });

  test(`properties, traits and context nested deeper than ${MAX_NESTING} levels are rejected on their field`, () => {
    assert.ok(accepted(call('track', { userId: 'u', event: 'E', properties: deep(MAX_NESTING - 1) })));
    for (const field of ['properties', 'traits', 'context']) {
      const r = rejected(call('identify', { userId: 'u', [field]: deep(6000) }));
      assert.deepEqual([r.field, r.reason], [field, 'too_deep']);
      assert.match(r.message, new RegExp(`${field} nests .* deeper than ${MAX_NESTING} levels`));
    }
    assert.equal(rejected(call('identify', { userId: 'u', properties: deep(MAX_NESTING + 1) })).field, 'properties');
  });
});

test('a "__proto__" key is cleaned as an own key, never taken as the prototype', () => {
  const raw = JSON.parse(
    '{"type":"track","userId":"u","event":"E","__proto__":{"x":"\\ud800"},"properties":{"__proto__":"\\ud800","a":"\\ud800"}}',
  );
  const m = accepted(item(raw));
  assert.deepEqual(Object.keys(m.properties), ['__proto__', 'a']);
  assert.equal(Object.getPrototypeOf(m.properties), Object.prototype);
  assert.equal(JSON.stringify(m.properties), '{"__proto__":"\ufffd","a":"\ufffd"}');
});
