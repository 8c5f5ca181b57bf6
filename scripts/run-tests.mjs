// Runs every *.test.ts under test/ with node's test runner (TypeScript through tsx).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

function find(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? find(p) : e.name.endsWith('.test.ts') ? [p] : [];
  });
}

/** Newest modification time of the files under `dir` (0 when there is none). */
function newest(dir) {
  if (!fs.existsSync(dir)) return 0;
  return fs.readdirSync(dir, { withFileTypes: true }).reduce((t, e) => {
    const p = path.join(dir, e.name);
    return Math.max(t, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
  }, 0);
}

const only = process.argv.slice(2);
const files = only.length ? only : find('test').sort();

// the browser tests drive the built web app (dist/web): build it once here when it is missing or
// older than its sources, so `npm test` works on a fresh clone (the server answers 503 without it)
if (files.some((f) => f.split(path.sep).join('/').includes('test/e2e/'))) {
  const built = fs.existsSync('dist/web/index.html') ? fs.statSync('dist/web/index.html').mtimeMs : 0;
  if (built < Math.max(newest('web'), fs.statSync('package-lock.json').mtimeMs)) {
    console.log('building the web app for the browser tests (npm run build:web)');
    const build = spawnSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', 'web', '--logLevel', 'warn'], { stdio: 'inherit' });
    if (build.status !== 0) process.exit(build.status ?? 1);
  }
}
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
