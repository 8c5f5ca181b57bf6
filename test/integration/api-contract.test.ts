/**
 * The contract between the server and its clients: the web app's types of answers and request
 * bodies are generated from the routes' schemas (web/src/api/schema.gen.ts), and the browser SDK
 * sends what ingest reads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { BatchBody, Message } from '../../sdk/src/core.js';
import { createClient, type Env } from '../../sdk/src/core.js';
import { API_TYPES_FILE, generateApiTypes } from '../../scripts/api-types.js';
import { parseBody } from '../../src/ingest/pipeline.js';
import { checkMessage, type SegmentMessage } from '../../src/ingest/segment-spec.js';

test('web/src/api/schema.gen.ts is what the routes’ schemas generate', async () => {
  const generated = await generateApiTypes();
  const committed = fs.readFileSync(API_TYPES_FILE, 'utf8');
  // not assert.equal: a diff of a 3,000-line file says less than the one thing to do
  assert.ok(committed === generated, 'web/src/api/schema.gen.ts differs from the routes’ schemas: run npm run api-types (and commit it)');
});

test('the web’s api layer declares no shapes of answers or bodies of its own', () => {
  const dir = path.dirname(API_TYPES_FILE);
  // what a hook takes as its query, and the live stream's state, are the web's own; the rest is schema.gen.ts
  const own = /^(Window|\w+Query|Stream\w+)$/;
  const declared: string[] = [];
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== path.basename(API_TYPES_FILE))) {
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    for (const m of text.matchAll(/^(?:export )?(?:interface (\w+)|type (\w+)(?:<[^=]*>)? = \{)/gm)) {
      const name = m[1] ?? m[2];
      if (!own.test(name)) declared.push(`${file}: ${name}`);
    }
    assert.doesNotMatch(text, /from '(\.\.\/)+src\//, `${file} imports server code: name the generated types instead`);
  }
  assert.deepEqual(declared, [], 'hand-declared API shapes in web/src/api: use ApiResponse / ApiBody of schema.gen.ts');
});

// --- the SDK's messages against what ingest reads (ingest parses its bodies itself: no body schema) ---
type Assert<T extends true> = T;
/** every field the SDK sends is one the server reads */
export type SdkFieldsAreRead = Assert<Exclude<keyof Message, keyof SegmentMessage> extends never ? true : false>;
/** every call type the SDK sends is one the server takes */
export type SdkTypesAreTaken = Assert<Message['type'] extends SegmentMessage['type'] ? true : false>;

test('every message the SDK sends passes ingest’s checks', async () => {
  const bodies: string[] = [];
  let ids = 0;
  const memory = new Map<string, string>();
  const env: Env = {
    version: '1.0.0',
    now: () => Date.parse('2026-03-02T10:00:00Z'),
    uuid: () => `00000000-0000-4000-8000-${String(++ids).padStart(12, '0')}`,
    random: () => 0.5,
    local: { get: (k) => memory.get(k) ?? null, set: (k, v) => void memory.set(k, v) },
    session: { get: (k) => memory.get(`s:${k}`) ?? null, set: (k, v) => void memory.set(`s:${k}`, v) },
    post: async (_url, body) => (bodies.push(body), 200),
    beacon: () => true,
    setTimer: () => () => undefined,
    context: () => ({
      page: { path: '/pricing', referrer: '', url: 'https://shop.example/pricing', title: 'Pricing', search: '' },
      userAgent: 'Mozilla/5.0',
      locale: 'en-GB',
    }),
  };
  const client = createClient(env);
  client.init('wk_test', { host: 'https://vigil.example', flushAt: 100 });
  client.page();
  client.page('Pricing', { plan: 'pro' });
  client.track('Signed Up', { plan: 'pro' });
  client.identify('user-1', { email: 'a@example.com' });
  client.identify({ anonymousTrait: true });
  client.group('org-1', { name: 'Org' });
  await client.flush();

  assert.equal(bodies.length, 1);
  const parsed = parseBody(bodies[0], { batch: true });
  assert.equal(parsed.writeKey, 'wk_test');
  assert.equal(parsed.messages.length, 6);
  for (const [i, message] of parsed.messages.entries()) {
    const checked = checkMessage(message, i, parsed.impliedType, parsed.defaults);
    assert.ok(checked.ok, `message ${i} rejected: ${checked.ok ? '' : checked.rejection.message}`);
  }
  const body: BatchBody = JSON.parse(bodies[0]);
  assert.deepEqual(Object.keys(body).sort(), ['batch', 'sentAt', 'writeKey']);
});
