/** Several invitations for one new e-mail accepted at the same moment: one account, no link used up without its membership. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { postJson, startTestApp, type TestApp } from '../helpers/app.js';

describe('invitations accepted at once', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  // a few rounds, so the accepts overlap in every order
  for (const round of [1, 2, 3])
    test(`round ${round}: four invitations for the same new e-mail make one account; each link grants its membership or is a 409 that leaves it pending`, async () => {
      const EMAIL = `newcomer${round}@example.com`;
      const invited = [];
      for (let i = 0; i < 4; i++) {
        const project = await t.ctx.projects.create({ slug: `team-${round}-${i}`, name: `Team ${round}.${i}`, timeZone: 'UTC' });
        invited.push({ project, ...(await t.ctx.invitations.create(project.id, { email: EMAIL, role: 'editor' }, null)) });
      }
      const answers = await Promise.all(
        invited.map((inv, i) =>
          postJson(`${t.url}/api/invitations/${inv.token}/accept`, { password: `a fine long password ${i}`, name: 'Newcomer' }),
        ),
      );
      const shown = JSON.stringify(answers.map((a) => [a.status, a.body]));
      assert.ok(
        answers.every((a) => a.status === 201 || a.status === 409),
        shown,
      );
      assert.equal(answers.filter((a) => a.status === 201).length, 1, shown);

      const users = await t.ctx.meta.db.selectFrom('users').select('id').where('email', '=', EMAIL).execute();
      assert.equal(users.length, 1, 'one account');
      const userId = Number(users[0].id);
      for (const [i, inv] of invited.entries()) {
        const state = (await t.ctx.invitations.get(inv.project.id, inv.invitation.id)).state;
        const role = await t.ctx.memberships.roleOf(inv.project.id, userId);
        if (answers[i].status === 201) {
          assert.deepEqual([state, role], ['accepted', 'editor'], `invitation ${i}`);
        } else {
          assert.match(answers[i].body.error.message, /already exists: sign in/);
          assert.deepEqual([state, role], ['pending', undefined], `invitation ${i}: a 409 leaves the link unused`);
        }
      }
    });
});
