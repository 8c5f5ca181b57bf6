// `vigil detect` start-up: wall time of the compiled command line scoring a 60-day hourly CSV,
// from process start to exit, over RUNS runs (median and fastest). Needs the build
// (`npx tsc -p tsconfig.json`, or `npm run build`); CLI=path/to/cli.js measures another build,
// e.g. one of an older commit. Prints its figures.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const RUNS = Number(process.env.RUNS ?? 10);
const CLI = process.env.CLI ?? 'dist/src/cli.js';
const HOUR = 3_600_000;

if (!fs.existsSync(CLI)) {
  console.error(`${CLI} is missing: build first (npx tsc -p tsconfig.json), or name a build with CLI=...`);
  process.exit(1);
}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-detect-startup-'));
try {
  const input = path.join(dir, 'series.csv');
  const start = Date.UTC(2026, 0, 1);
  const rows = Array.from(
    { length: 60 * 24 },
    (_, i) => `${new Date(start + i * HOUR).toISOString()},${(100 + 50 * Math.sin((2 * Math.PI * i) / 24)).toFixed(1)}`,
  );
  fs.writeFileSync(input, `timestamp,value\n${rows.join('\n')}\n`);
  const times: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    const run = spawnSync(process.execPath, [CLI, 'detect', '--input', input, '--output', path.join(dir, 'out.csv')], { encoding: 'utf8' });
    times.push(performance.now() - t0);
    if (run.status !== 0) throw new Error(`vigil detect failed: ${run.stderr}`);
  }
  const bare: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    spawnSync(process.execPath, ['-e', '0']);
    bare.push(performance.now() - t0);
  }
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  const median = (xs: number[]) => sorted(xs)[xs.length >> 1];
  console.log(`
==== bench:detect-startup ====
${CLI} detect on ${rows.length} hourly rows, ${RUNS} runs: median ${median(times).toFixed(0)} ms, fastest ${sorted(times)[0].toFixed(0)} ms
an empty node process for comparison: median ${median(bare).toFixed(0)} ms
`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
