// Sign-in latency with the password-hash parameters in use (and their neighbours), through HTTP
// on loopback. Prints its figures.
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { createAppContext } from '../src/app-context.js';
import { buildServer } from '../src/server.js';
import { hashPassword, verifyPassword } from '../src/auth/passwords.js';

const RUNS = Number(process.env.RUNS ?? 20);
const PASSWORD = 'correct horse battery staple';
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `median ${s[Math.floor(s.length / 2)].toFixed(0)} ms, p95 ${s[Math.floor(s.length * 0.95)].toFixed(0)} ms, min ${s[0].toFixed(0)} ms`;
};

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-auth-'));
const config = loadConfig(process.env, {
  dataDir,
  port: 0,
  host: '127.0.0.1',
  logLevel: 'silent',
  demo: 'false',
  signinRateLimit: 100_000,
});
const ctx = await createAppContext(config, pino({ level: 'silent' }));
const app = await buildServer(ctx);
await app.listen({ port: 0, host: '127.0.0.1' });
const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
try {
  await ctx.users.create({ email: 'bench@example.com', password: PASSWORD });
  const times: number[] = [];
  for (let i = 0; i < RUNS + 2; i++) {
    const started = performance.now();
    const res = await fetch(`${url}/api/auth/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'bench@example.com', password: PASSWORD }),
    });
    if (res.status !== 200) throw new Error(`sign-in answered ${res.status}: ${await res.text()}`);
    await res.text();
    if (i >= 2) times.push(performance.now() - started);
  }
  const hashes: string[] = [];
  for (const logN of [15, 16, 17]) {
    const hash = await hashPassword(PASSWORD, logN);
    const t: number[] = [];
    for (let i = 0; i < 5; i++) {
      const s = performance.now();
      await verifyPassword(PASSWORD, hash);
      t.push(performance.now() - s);
    }
    hashes.push(`  scrypt N=2^${logN}, r=8, p=1 (${(128 * 8 * 2 ** logN) / 2 ** 20} MiB): verify ${stats(t)}`);
  }
  console.log(`
==== bench:auth ====
machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, Node ${process.version}; load average ${os.loadavg()[0].toFixed(2)}
sign-in through HTTP with the configured parameters (VIGIL_PASSWORD_SCRYPT_LOG_N=${config.passwordScryptLogN}), ${RUNS} runs: ${stats(times)}
password check alone:
${hashes.join('\n')}`);
} finally {
  await app.close();
  await ctx.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
