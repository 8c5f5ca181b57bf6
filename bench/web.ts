// The web app's figures: the JavaScript a first visit loads (gzipped), and the time from
// navigation to a rendered Overview on the demo data (30 days, ~220k events) in Chromium.
// Builds the web app first when dist/web is missing. Prints its figures.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { pino } from 'pino';
import { chromium } from 'playwright-core';
import { loadConfig } from '../src/config.js';
import { createAppContext } from '../src/app-context.js';
import { buildServer } from '../src/server.js';
import { seedDemo } from '../src/demo/seed.js';

const CHROMIUM = '/usr/bin/chromium';
/** cold loads measured (a fresh browser context each: no cache, no warm connections) */
const RUNS = 7;
const WEB_DIR = 'dist/web';

if (!fs.existsSync(path.join(WEB_DIR, 'index.html'))) {
  console.log('building the web app (npm run build:web) ...');
  const r = spawnSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', 'web', '--logLevel', 'warn'], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
if (!fs.existsSync(CHROMIUM)) {
  console.error(`${CHROMIUM} is missing (apt-get install -y chromium)`);
  process.exit(1);
}

const gz = (file: string) => zlib.gzipSync(fs.readFileSync(file), { level: 9 }).length;
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-web-'));
const config = loadConfig({}, { dataDir, port: 0, host: '127.0.0.1', logLevel: 'silent', demo: 'false', ingestFlushMs: 200 });
const ctx = await createAppContext(config, pino({ level: 'silent' }));
const app = await buildServer(ctx);
try {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const t0 = performance.now();
  const demo = await seedDemo(ctx, { days: 30 });
  console.log(`demo seeded: ${demo.events} events over 30 days in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const user = await ctx.users.create({ email: 'bench@example.com', password: 'a long bench passphrase', isAdmin: true });
  await ctx.memberships.grant(demo.project.id, user.id, 'owner');
  const { token } = await ctx.sessions.create(user.id);

  // what the build holds, for reference
  const assets = fs.readdirSync(path.join(WEB_DIR, 'assets'));
  const allJs = assets.filter((f) => f.endsWith('.js')).reduce((n, f) => n + gz(path.join(WEB_DIR, 'assets', f)), 0);

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const times: number[] = [];
  let firstLoad: { files: string[]; js: number; css: number } | null = null;
  const apiMs = new Map<string, number[]>();
  for (let run = 0; run < RUNS; run++) {
    const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
    await context.addCookies([{ name: 'vigil_session', value: token, url }]);
    const page = await context.newPage();
    const loaded = new Set<string>();
    page.on('request', (r) => {
      const p = new URL(r.url()).pathname;
      if (p.startsWith('/assets/')) loaded.add(p);
    });
    page.on('requestfinished', (r) => {
      const u = new URL(r.url());
      if (!u.pathname.startsWith('/api/')) return;
      const key = `${u.pathname.replace('/api/projects/demo', '')}${u.searchParams.get('breakdown') ? ` (${u.searchParams.get('breakdown')})` : u.searchParams.get('to') ? ' (previous)' : ''}`;
      const t = r.timing();
      (apiMs.get(key) ?? apiMs.set(key, []).get(key)!).push(t.responseEnd - t.requestStart);
    });
    await page.goto(`${url}/p/demo/overview`, { waitUntil: 'commit' });
    // rendered: the three totals, the chart's canvas, and the top events' rows
    await page.locator('.stat-value').filter({ hasNotText: '–' }).nth(2).waitFor({ timeout: 30_000 });
    await page.locator('.chart canvas').first().waitFor();
    await page.getByRole('table', { name: 'Top events' }).locator('tbody tr').first().waitFor();
    const ms = await page.evaluate(() => performance.now() - (performance.getEntriesByType('navigation')[0]?.startTime ?? 0));
    times.push(ms);
    if (!firstLoad) {
      const files = [...loaded].sort();
      const size = (ext: string) => files.filter((f) => f.endsWith(ext)).reduce((n, f) => n + gz(path.join(WEB_DIR, f)), 0);
      firstLoad = { files, js: size('.js'), css: size('.css') };
    }
    await context.close();
  }
  await browser.close();

  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  console.log('');
  console.log(`first load of /p/demo/overview (shell + Overview page), gzipped (level 9):`);
  console.log(
    `  JavaScript ${kb(firstLoad!.js)} in ${firstLoad!.files.filter((f) => f.endsWith('.js')).length} files (target < 300 KB); CSS ${kb(firstLoad!.css)}`,
  );
  for (const f of firstLoad!.files) console.log(`    ${f.padEnd(48)} ${kb(gz(path.join(WEB_DIR, f)))}`);
  console.log(`  every page's JavaScript together: ${kb(allJs)}`);
  console.log(`time to a rendered overview (navigation → totals, chart and top events shown), ${RUNS} cold loads:`);
  console.log(`  median ${median.toFixed(0)} ms, min ${sorted[0].toFixed(0)} ms, max ${sorted[sorted.length - 1].toFixed(0)} ms`);
  console.log('  API calls on the way (median ms, requests in parallel):');
  const med = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
  for (const [k, v] of [...apiMs].sort((a, b) => med(b[1]) - med(a[1]))) console.log(`    ${k.padEnd(44)} ${med(v).toFixed(0)}`);
} finally {
  await app.close();
  await ctx.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
