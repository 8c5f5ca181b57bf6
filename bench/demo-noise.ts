// Demo noise over seeds: for each seed (SEEDS, default 1-10) seeds the demo as a new user gets it
// (30 days ending 2026-11-20, the demo's own detection settings, the product's clock at the end of
// the traffic), through the normal ingest, collection, detection and incident code, then reads the
// incidents the product opened and labels them with the injected problems the generator reports:
// an incident matches a problem when its buckets overlap the problem's window (from an hour
// before) and one of its signals watches something the problem moves (an event, a metric reading
// such an event or property, a pushed measurement). Prints per seed and summed: incidents in the
// 30 days, those matching a problem, recall (problems with at least one incident), incidents per
// problem, and the scopes of the others. Each seed runs in a child process, JOBS (default 2) at a
// time. Prints its figures.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** the fixed end of the integration tests' demo (test/integration/drift.test.ts), so every run sees the same data */
const END = Date.UTC(2026, 10, 20);
const DAYS = 30;

/** What one seed's run reports. */
interface SeedResult {
  seed: number;
  seedSeconds: number;
  events: number;
  /** per injected problem: its window and the scopes of the incidents matching it */
  problems: { name: string; startMs: number; endMs: number; incidents: number; scopes: string[]; times: string[] }[];
  incidents: number;
  matching: number;
  /** the scopes of the incidents that match no problem, with their direction */
  others: string[];
  /** the same with their first bucket (MM-DDTHH), printed with VERBOSE=1 */
  otherTimes: string[];
}

/** What a catalog metric reads: its events ('*': every event), its property, its pushed measurement. */
function metricReads(definition: Record<string, unknown>): string[] {
  const d = definition as {
    event?: string | null;
    property?: string;
    numerator?: { event?: string };
    denominator?: { event?: string };
    service?: string;
    metric?: string;
    sql?: string;
  };
  if (d.service && d.metric) return [`${d.service}/${d.metric}`];
  if (d.sql) return ['$page'];
  const reads = [d.event, d.numerator?.event, d.denominator?.event, d.property].filter((x): x is string => typeof x === 'string');
  return d.event === null || (!d.event && !d.numerator) ? ['*', ...reads] : reads;
}

async function runSeed(seed: number): Promise<SeedResult> {
  const { pino } = await import('pino');
  const { loadConfig } = await import('../src/config.js');
  const { createAppContext } = await import('../src/app-context.js');
  const { seedDemo } = await import('../src/demo/seed.js');
  const { DEMO_METRICS } = await import('../src/demo/catalog.js');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `vigil-demo-noise-${seed}-`));
  try {
    const config = loadConfig({}, { dataDir, port: 0, host: '127.0.0.1', logLevel: 'silent', demo: 'false', ingestFlushMs: 200 });
    // the product's clock stands at the end of the traffic: the demo as a user sees it right after seeding
    const ctx = await createAppContext(config, pino({ level: 'silent' }), { now: () => END });
    try {
      const t0 = performance.now();
      const demo = await seedDemo(ctx, { days: DAYS, endMs: END, seed });
      const seedSeconds = (performance.now() - t0) / 1000;
      const start = END - DAYS * DAY;
      const readsByMetricId = new Map<number, string[]>();
      const nameByMetricId = new Map<number, string>();
      for (const m of DEMO_METRICS) {
        const id = (await ctx.catalog.byName(demo.project, m.name)).id;
        readsByMetricId.set(id, metricReads(m.definition as Record<string, unknown>));
        nameByMetricId.set(id, m.name);
      }
      const scopeName = (i: { scopeKey: string; metricId: number | null }) =>
        i.metricId !== null ? (nameByMetricId.get(i.metricId) ?? i.scopeKey) : i.scopeKey;
      const watches = (s: { scopeKey: string; metricId: number | null }): string[] =>
        s.metricId !== null
          ? (readsByMetricId.get(s.metricId) ?? [])
          : s.scopeKey.startsWith('event:')
            ? [s.scopeKey.slice('event:'.length)]
            : s.scopeKey.startsWith('volume:')
              ? ['*']
              : [];
      const opened = await ctx.incidents.openedBetween(demo.project, start, END + DAY, 'started');
      const matches = (o: (typeof opened)[number], p: (typeof demo.incidents)[number]) =>
        o.incident.startedBucket < p.endMs &&
        o.incident.lastBucket + HOUR > p.startMs - HOUR &&
        o.signals.some((s) => watches(s).some((w) => w === '*' || p.affects.includes(w)));
      const problems = demo.incidents.map((p) => {
        const matching = opened.filter((o) => matches(o, p));
        return {
          name: p.name,
          startMs: p.startMs,
          endMs: p.endMs,
          incidents: matching.length,
          scopes: matching.map((o) => scopeName(o.incident)),
          times: matching.map(
            (o) =>
              `${scopeName(o.incident)} ${new Date(o.incident.startedBucket).toISOString().slice(5, 13)} [${o.signals.map((x) => `${x.scopeKey}@${new Date(x.bucket).toISOString().slice(11, 13)}`).join(' ')}]`,
          ),
        };
      });
      const others = opened.filter((o) => !demo.incidents.some((p) => matches(o, p)));
      return {
        seed,
        seedSeconds,
        events: demo.events,
        problems,
        incidents: opened.length,
        matching: opened.length - others.length,
        others: others.map((o) => `${scopeName(o.incident)} ${o.incident.direction ?? ''}`.trim()),
        otherTimes: others.map(
          (o) => `${scopeName(o.incident)} ${o.incident.direction ?? ''} ${new Date(o.incident.startedBucket).toISOString().slice(5, 13)}`,
        ),
      };
    } finally {
      await ctx.close();
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Runs one seed in a child process (its own stores, its own DuckDB) and reads its JSON line. */
function runChild(seed: number): Promise<SeedResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--one-seed', String(seed)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code === 0 && line.startsWith('{')) resolve(JSON.parse(line) as SeedResult);
      else reject(new Error(`seed ${seed}: exit ${code}\n${out}`));
    });
  });
}

function parseSeeds(text: string): number[] {
  const [from, to] = text.split('-').map(Number);
  return Array.from({ length: (to ?? from) - from + 1 }, (_, i) => from + i);
}

const oneSeed = process.argv.indexOf('--one-seed');
if (oneSeed >= 0) {
  console.log(JSON.stringify(await runSeed(Number(process.argv[oneSeed + 1]))));
} else {
  const seeds = parseSeeds(process.env.SEEDS ?? '1-10');
  const jobs = Math.max(1, Number(process.env.JOBS ?? 2));
  const started = performance.now();
  const results: SeedResult[] = [];
  const queue = [...seeds];
  await Promise.all(
    Array.from({ length: Math.min(jobs, queue.length) }, async () => {
      for (let seed = queue.shift(); seed !== undefined; seed = queue.shift()) {
        const r = await runChild(seed);
        results.push(r);
        console.error(`seed ${seed}: seeded in ${r.seedSeconds.toFixed(0)} s, ${r.incidents} incidents`);
      }
    }),
  );
  results.sort((a, b) => a.seed - b.seed);
  const sum = (f: (r: SeedResult) => number) => results.reduce((a, r) => a + f(r), 0);
  const found = (r: SeedResult) => r.problems.filter((p) => p.incidents > 0).length;
  const onTarget = (r: SeedResult) =>
    r.problems.every((p) => p.incidents === 1) && r.problems.length === 3 && r.incidents - r.matching <= 2;
  const day = (ms: number) => new Date(ms).toISOString().slice(5, 13).replace('T', ' ');
  const otherScopes = new Map<string, number>();
  for (const r of results) for (const o of r.others) otherScopes.set(o, (otherScopes.get(o) ?? 0) + 1);
  const matchedScopes = new Map<string, Map<string, number>>();
  for (const r of results)
    for (const p of r.problems)
      for (const s of p.scopes) {
        const m = matchedScopes.get(p.name) ?? matchedScopes.set(p.name, new Map()).get(p.name)!;
        m.set(s, (m.get(s) ?? 0) + 1);
      }
  const listed = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .map(([s, n]) => `${s} ${n}`)
      .join(', ');
  console.log(`
==== bench:demo-noise ====
${results.length} seeds, each the demo's ${DAYS} days ending ${new Date(END).toISOString().slice(0, 10)} as seeded by \`vigil demo --seed N\` (demo detection settings, the product's clock at the end);
incidents: opened by the product in the ${DAYS} days; matching: overlaps an injected problem's window and watches what it moves; recall: problems with an incident
seed  events  incidents  matching  other  recall  incidents per problem (window start UTC, MM-DD HH)
${results.map((r) => `${String(r.seed).padStart(4)} ${String(r.events).padStart(7)} ${String(r.incidents).padStart(10)} ${String(r.matching).padStart(9)} ${String(r.incidents - r.matching).padStart(6)}  ${found(r)}/${r.problems.length}    ${r.problems.map((p) => `${p.name} ${p.incidents} (${day(p.startMs)})`).join(', ')}`).join('\n')}
 all ${String(sum((r) => r.events)).padStart(8)} ${String(sum((r) => r.incidents)).padStart(10)} ${String(sum((r) => r.matching)).padStart(9)} ${String(sum((r) => r.incidents - r.matching)).padStart(6)}  ${sum(found)}/${sum((r) => r.problems.length)}
per seed: ${(sum((r) => r.incidents) / results.length).toFixed(1)} incidents in ${DAYS} days, ${(sum((r) => r.incidents - r.matching) / results.length).toFixed(1)} matching no problem; precision ${(
    sum((r) => r.matching) /
      Math.max(
        1,
        sum((r) => r.incidents),
      )
  ).toFixed(2)}, recall ${(
    sum(found) /
      Math.max(
        1,
        sum((r) => r.problems.length),
      )
  ).toFixed(2)}
problems found, by name: ${['checkout drop', 'signup spike', 'error burst'].map((n) => `${n} ${results.filter((r) => r.problems.some((p) => p.name === n && p.incidents > 0)).length}/${results.length}`).join(', ')}
seeds on target (every problem exactly one incident, at most 2 others): ${results.filter(onTarget).length}/${results.length}
incidents matching a problem, by scope (all seeds; '*' metrics read every event): ${[...matchedScopes].map(([p, m]) => `${p}: ${listed(m)}`).join('; ')}
incidents matching no problem, by scope and direction (all seeds): ${listed(otherScopes)}
${process.env.VERBOSE ? `problems with more than one incident (scope, first bucket, [signals]):\n${results.flatMap((r) => r.problems.filter((p) => p.incidents > 1).map((p) => `  ${r.seed} ${p.name}: ${p.times.join('; ')}`)).join('\n')}\nthe others, by seed (scope, direction, first bucket MM-DDTHH):\n${results.map((r) => `  ${r.seed}: ${r.otherTimes.join('; ')}`).join('\n')}\n` : ''}${((performance.now() - started) / 1000).toFixed(0)} s with ${jobs} jobs
`);
}
