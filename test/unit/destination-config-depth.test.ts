/**
 * A destination's config nested thousands deep is a 400 naming the field, not a 500 from a stack
 * overflow in JSON.stringify (the fuzzer found PATCH /alert-destinations/:id answering 500).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDestination } from '../../src/alerts/destinations-store.js';
import { VigilError } from '../../src/errors.js';

test('a config nested too deeply is refused with a 400 on config', () => {
  for (const depth of [9, 6000, 100_000]) {
    const config = JSON.parse(`{"source":${'['.repeat(depth)}1${']'.repeat(depth)}}`) as Record<string, unknown>;
    assert.throws(
      () => parseDestination({ name: 'hook', kind: 'webhook', config }),
      (err: unknown) => err instanceof VigilError && err.status === 400 && (err.details as { field?: string }).field === 'config',
    );
  }
  // a few levels are fine (headers are one level down)
  assert.doesNotThrow(() =>
    parseDestination({ name: 'pager', kind: 'pagerduty', config: { a: { b: { c: [1, [2]] } } }, secrets: { routingKey: 'R'.repeat(32) } }),
  );
});
