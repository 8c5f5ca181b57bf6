// Detection quality on the Numenta Anomaly Benchmark subset in ../shared/data/nab, scored by
// ../shared/tools/nab-score.mjs, with the same code as `vigil detect` and no tuning per file;
// then detection speed: 1,000 series of 2,000 points on one core. Prints its figures.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { detectCsv } from '../src/detect/csv.js';
import { PERIODS, scoreSeries, type Sensitivity } from '../src/detect/anomaly.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SHARED = path.resolve(ROOT, process.env.SHARED_DIR ?? '../shared');
const DATA = path.join(SHARED, 'data/nab/data');
const OUT = path.join(ROOT, 'bench/.data/nab-results');
const sensitivity: Sensitivity = process.env.SENSITIVITY
  ? Number.isNaN(Number(process.env.SENSITIVITY))
    ? (process.env.SENSITIVITY as 'medium')
    : { z: Number(process.env.SENSITIVITY) }
  : 'medium';

fs.rmSync(OUT, { recursive: true, force: true });
const started = performance.now();
let files = 0;
for (const category of fs.readdirSync(DATA)) {
  fs.mkdirSync(path.join(OUT, category), { recursive: true });
  for (const file of fs.readdirSync(path.join(DATA, category))) {
    const { csv } = detectCsv(fs.readFileSync(path.join(DATA, category, file), 'utf8'), { sensitivity });
    fs.writeFileSync(path.join(OUT, category, file), csv);
    files++;
  }
}
const detectSeconds = (performance.now() - started) / 1000;
const scores = JSON.parse(
  execFileSync(process.execPath, [path.join(SHARED, 'tools/nab-score.mjs'), OUT], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }),
);

// speed: 1,000 hourly series of 2,000 points with a daily and weekly rhythm and noise
let seed = 7;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const series = Array.from({ length: 1000 }, () =>
  Array.from({ length: 2000 }, (_, i) => 100 * (1 + 0.5 * Math.sin((2 * Math.PI * i) / 24)) * (1 + 0.1 * (rand() - 0.5))),
);
const t0 = performance.now();
let flagged = 0;
for (const s of series) flagged += scoreSeries(s, { periods: PERIODS['1h'], valueKind: 'count' }).filter((p) => p.isAnomaly).length;
const speedSeconds = (performance.now() - t0) / 1000;

const fmt = (x: number) => x.toFixed(1);
console.log(`
==== bench:nab ====
${files} NAB files scored in ${detectSeconds.toFixed(1)} s, sensitivity ${JSON.stringify(sensitivity)}, no per-file tuning
NAB scores: standard ${fmt(scores.scores?.standard ?? scores.standard)}, reward_low_FP_rate ${fmt(scores.scores?.reward_low_FP_rate ?? scores.reward_low_FP_rate)}, reward_low_FN_rate ${fmt(scores.scores?.reward_low_FN_rate ?? scores.reward_low_FN_rate)}
  (published standard scores: windowed Gaussian 39.6, Twitter ADVec 47.1, Random Cut Forest 51.7, Skyline 58.2, HTM 70.5, ARTime 74.9)
speed: 1,000 series × 2,000 hourly points scored in ${speedSeconds.toFixed(2)} s on one core (${flagged} flags)
`);
if (process.env.VERBOSE) console.log(JSON.stringify(scores, null, 2));
