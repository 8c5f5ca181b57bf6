/**
 * The first-run page: until the web app arrives, the one page a new instance needs, where the
 * first owner is created. Plain HTML and one script file (the CSP allows no inline script).
 */
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../app-context.js';

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Vigil: first run</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 28rem; margin: 4rem auto; padding: 0 1rem; color: #1f2328; }
  h1 { font-size: 1.5rem; } label { display: block; margin-top: 1rem; font-weight: 600; }
  input { width: 100%; box-sizing: border-box; padding: .5rem; font: inherit; border: 1px solid #8c959f; border-radius: 6px; }
  button { margin-top: 1.5rem; padding: .6rem 1.2rem; font: inherit; border: 0; border-radius: 6px; background: #1f6feb; color: #fff; cursor: pointer; }
  button[disabled] { opacity: .6; } .hint { color: #59636e; font-size: .9rem; }
  [role=alert] { margin-top: 1rem; color: #b42318; } .done { color: #1a7f37; }
</style>
</head>
<body>
<main>
  <h1>Welcome to Vigil</h1>
  <p id="intro">Create the owner account. The owner manages this instance and owns the projects that exist now (the demo).</p>
  <form id="setup" hidden>
    <label for="email">Email</label>
    <input id="email" name="email" type="email" autocomplete="email" required>
    <label for="name">Name</label>
    <input id="name" name="name" autocomplete="name">
    <label for="password">Password</label>
    <input id="password" name="password" type="password" autocomplete="new-password" minlength="12" required>
    <p class="hint">At least 12 characters.</p>
    <label for="confirm">Password again</label>
    <input id="confirm" name="confirm" type="password" autocomplete="new-password" required>
    <button type="submit">Create the owner</button>
    <p id="error" role="alert"></p>
  </form>
  <p id="status"></p>
</main>
<script src="/setup.js"></script>
</body>
</html>
`;

const SCRIPT = `(() => {
  const form = document.getElementById('setup');
  const status = document.getElementById('status');
  const error = document.getElementById('error');
  const finished = (text) => { form.hidden = true; status.textContent = text; status.className = 'done'; };
  fetch('/api/setup').then((r) => r.json()).then((s) => {
    if (s.needsOwner) form.hidden = false;
    else finished('This instance already has an owner. Sign in, or ask an owner for an invitation.');
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    const data = Object.fromEntries(new FormData(form));
    if (data.password !== data.confirm) { error.textContent = 'The two passwords differ.'; return; }
    const button = form.querySelector('button');
    button.disabled = true;
    try {
      const r = await fetch('/api/setup', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: data.email, name: data.name, password: data.password }) });
      const body = await r.json();
      if (!r.ok) { error.textContent = body.error.message; return; }
      finished('Signed in as ' + body.user.email + '. The API reference is at /api/docs.');
    } catch (err) {
      error.textContent = 'Vigil did not answer: ' + err.message;
    } finally {
      button.disabled = false;
    }
  });
})();
`;

export async function firstRunRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }) {
  const access = { access: { public: true } } as const;
  app.get('/', { config: access, schema: { hide: true } }, async (_request, reply) => reply.redirect((await ctx.users.count()) === 0 ? '/setup' : '/api/docs'));
  app.get('/setup', { config: access, schema: { hide: true } }, async (_request, reply) => reply.type('text/html; charset=utf-8').send(PAGE));
  app.get('/setup.js', { config: access, schema: { hide: true } }, async (_request, reply) => reply.type('text/javascript; charset=utf-8').send(SCRIPT));
}
