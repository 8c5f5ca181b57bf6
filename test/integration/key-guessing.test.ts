/** Guessing API keys: failed key lookups are limited per address, on ingest and on the API alike. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { basic, postJson, startTestApp, type TestApp } from '../helpers/app.js';

const LIMIT = 5;

describe('failed key lookups per address', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ config: { keyFailureRateLimit: LIMIT, trustProxy: 'true' } });
  });
  after(() => t.close());

  const track = (key: string, ip: string) =>
    postJson(`${t.url}/v1/track`, { userId: 'u1', event: 'Guess' }, { ...basic(key), 'x-forwarded-for': ip });
  const trackWithBodyKey = (key: string, ip: string) =>
    postJson(`${t.url}/v1/track`, { writeKey: key, userId: 'u1', event: 'Guess' }, { 'x-forwarded-for': ip });
  const projects = (key: string, ip: string) =>
    fetch(`${t.url}/api/projects`, { headers: { authorization: `Bearer ${key}`, 'x-forwarded-for': ip } });

  test('past the allowance an address gets 429 with Retry-After for every key, the right one included; other addresses go on', async () => {
    for (let i = 0; i < LIMIT; i++) assert.equal((await track(`vk_guess_${i}`, '198.51.100.20')).status, 401, `guess ${i}`);
    const limited = await track('vk_guess_next', '198.51.100.20');
    assert.equal(limited.status, 429);
    assert.equal(limited.body.error.code, 'VIGIL_ERR_RATE_LIMITED');
    assert.match(limited.body.error.message, /invalid|unknown, revoked or expired API key/);
    const wait = Number(limited.headers.get('retry-after'));
    assert.ok(wait >= 1 && wait <= 60, `Retry-After ${wait}`);
    assert.equal((await track(t.writeKey, '198.51.100.20')).status, 429, 'a right guess is not told apart');
    assert.equal((await projects(t.readKey, '198.51.100.20')).status, 429, 'the API shares the allowance');
    assert.equal((await track(t.writeKey, '198.51.100.21')).status, 200, 'another address is not affected');
  });

  test('keys in the body and on the API are counted too; good keys cost nothing', async () => {
    for (let i = 0; i < 3 * LIMIT; i++) assert.equal((await track(t.writeKey, '203.0.113.30')).status, 200);
    for (let i = 0; i < LIMIT; i++) {
      const r =
        i % 2 ? await trackWithBodyKey(`vk_body_${i}`, '203.0.113.30') : { status: (await projects(`vk_api_${i}`, '203.0.113.30')).status };
      assert.equal(r.status, 401, `failure ${i}`);
    }
    assert.equal((await trackWithBodyKey('vk_body_last', '203.0.113.30')).status, 429);
  });
});
