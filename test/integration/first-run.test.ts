/** First-run setup makes exactly one owner, however many browsers submit the form at once. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { postJson, startTestApp, type TestApp } from '../helpers/app.js';

describe('first-run setup', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  test('ten concurrent setups: one owner is created, the nine others get a 409 in plain words', async () => {
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        postJson(`${t.url}/api/setup`, { email: `owner${i}@example.com`, password: 'correct horse battery staple', name: `Owner ${i}` }),
      ),
    );
    const statuses = answers.map((a) => a.status).sort();
    assert.deepEqual(statuses, [201, ...Array(9).fill(409)], JSON.stringify(answers.map((a) => a.body)));
    for (const refused of answers.filter((a) => a.status === 409)) {
      assert.equal(refused.body.error.message, 'this instance already has an owner; sign in instead');
    }
    const users = await t.ctx.meta.db.selectFrom('users').select(['email', 'is_admin']).execute();
    assert.equal(users.length, 1);
    assert.equal(Number(users[0].is_admin), 1);
    assert.equal(users[0].email, answers.find((a) => a.status === 201)!.body.user.email);
    assert.deepEqual(
      (await postJson(`${t.url}/api/setup`, { email: 'late@example.com', password: 'correct horse battery staple' })).status,
      409,
    );
  });
});
