/**
 * The long fuzz run: hostile requests over every /v1 and /api route against a real `vigil serve`
 * (test/helpers/fuzz/). Prints requests per route class, the status histogram, each failure with
 * how to replay it, requests per second and the duration; exits 1 when anything failed.
 *
 *   npm run fuzz                              100,000 requests, seed 1
 *   npm run fuzz -- --seed 7 --requests 5000  (or FUZZ_SEED, FUZZ_REQUESTS)
 *   npm run fuzz -- --seed 7 --only 1234,99   replay those requests on a fresh instance
 *   --concurrency 6, --json <file> (the whole summary, failures included), --keep-data
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { formatSummary, runFuzz } from '../test/helpers/fuzz/runner.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: process.env.FUZZ_SEED ?? '1' },
    requests: { type: 'string', default: process.env.FUZZ_REQUESTS ?? '100000' },
    concurrency: { type: 'string', default: '6' },
    only: { type: 'string' },
    json: { type: 'string' },
    'keep-data': { type: 'boolean', default: false },
  },
});

const seed = Number(values.seed);
const requests = Number(values.requests);
if (!Number.isInteger(seed) || !Number.isInteger(requests) || requests < 1) {
  console.error('--seed and --requests take integers (e.g. --seed 7 --requests 5000)');
  process.exit(2);
}
const only = values.only?.split(',').map(Number).filter(Number.isInteger);

const started = performance.now();
const summary = await runFuzz({
  seed,
  requests,
  only,
  concurrency: Number(values.concurrency),
  keepData: values['keep-data'],
  progressEvery: 5000,
  onProgress: (done, s) =>
    console.log(
      `  ${done} requests, ${s.failures.length} failure(s), ${Math.round(s.sent / ((performance.now() - started) / 1000))} requests/s so far`,
    ),
});
console.log(formatSummary(summary, 100));
if (values.json) {
  fs.writeFileSync(values.json, JSON.stringify(summary, null, 2));
  console.log(`summary written to ${values.json}`);
}
process.exit(summary.failures.length ? 1 : 0);
