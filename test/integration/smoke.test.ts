import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, postJson, getJson, basic } from '../helpers/app.js';

test('an event sent to /v1/track can be read back from /events', async () => {
  const t = await startTestApp();
  try {
    const r = await postJson(
      `${t.url}/v1/track`,
      { userId: 'u1', event: 'Signed Up', properties: { plan: 'pro' }, messageId: 'm-1' },
      basic(t.writeKey),
    );
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { success: true });
    await t.ctx.flush();
    const list = await getJson(`${t.url}/api/projects/shop/events`, t.readKey);
    assert.equal(list.status, 200);
    assert.equal(list.body.events.length, 1);
    assert.equal(list.body.events[0].event, 'Signed Up');
    assert.deepEqual(list.body.events[0].properties, { plan: 'pro' });
  } finally {
    await t.close();
  }
});
