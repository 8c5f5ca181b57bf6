// Detection quality on a labelled corpus (bench/detect-corpus.ts): SEEDS seeds × every shape ×
// PER_SHAPE series of 6 weeks of hourly buckets, each scored as the product scores a metric's
// series (detectEpisodes of src/signals/anomaly/episodes.ts, a new project's default settings). Prints per
// shape and overall:
// - precision: signals that overlap a labelled window / all signals (every signal of the series
//   counts, from its first day: a young series' false alarms are false alarms too);
// - recall: labelled windows overlapped by a signal / labelled windows;
// - median delay, in buckets, from the close of a window's first bucket to the detection run (one
//   per closed bucket once it has settled, as the scheduler runs it) whose signals first overlap
//   the window: "live" with 5 minutes of settling (a typical observed lateness), "detector" with 0.
// SEEDS=1-10 and PER_SHAPE=2 by default (220 series). Prints its figures.
import { detectEpisodes, type BucketSeries } from '../src/signals/anomaly/episodes.js';
import { resolveDetection, type ResolvedDetection } from '../src/signals/settings.js';
import { naturalRange } from '../src/detect/value-range.js';
import type { Episode } from '../src/detect/episodes.js';
import { SHAPES, corpusForSeed, type CorpusSeries, type LabelledWindow, type ShapeName } from './detect-corpus.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SEEDS = parseSeeds(process.env.SEEDS ?? '1-10');
const PER_SHAPE = Number(process.env.PER_SHAPE ?? 2);
/** a window not found live within this many buckets after its end counts as found late (capped) */
const DELAY_SEARCH_AFTER_END = 24;

function parseSeeds(text: string): number[] {
  const [from, to] = text.split('-').map(Number);
  return Array.from({ length: (to ?? from) - from + 1 }, (_, i) => from + i);
}

/** a new project's defaults: what a metric nobody tuned gets */
const DEFAULTS = resolveDetection({}, {});
/** what event metrics settle in when their events arrive a few minutes late (the default follows the observed lateness) */
const TYPICAL_LATENESS_MINUTES = 5;
const LIVE: ResolvedDetection = { ...DEFAULTS, settlingMinutes: TYPICAL_LATENESS_MINUTES };
const NO_SETTLING: ResolvedDetection = { ...DEFAULTS, settlingMinutes: 0 };

const overlaps = (e: Pick<Episode, 'start' | 'end'>, w: LabelledWindow) => e.start < w.end && e.end >= w.start;

/** The series' first `n` buckets, as a metric collected up to the close of bucket n - 1. */
function prefix(s: CorpusSeries, n: number): BucketSeries {
  const values = s.values.slice(0, n);
  return {
    starts: s.starts.slice(0, n),
    values,
    samples: s.samples?.slice(0, n),
    valueKind: s.valueKind,
    range: naturalRange(s.range, values),
  };
}

/** Every signal of the whole series, scored once it is all in (a backfill, or a look back later). */
function signalsOf(s: CorpusSeries): Episode[] {
  const n = s.values.length;
  const until = s.starts[n - 1] + HOUR;
  return detectEpisodes(prefix(s, n), '1h', DEFAULTS, { timeZone: 'UTC', until, since: s.starts[0], now: until + 30 * DAY });
}

/**
 * Buckets from the close of the window's first bucket to the first live run with a signal
 * overlapping the window (a run once the newest bucket has settled: its close plus the settling
 * time, as the product schedules it); null when none within the search.
 */
function liveDelay(s: CorpusSeries, w: LabelledWindow, settings: ResolvedDetection): number | null {
  const last = Math.min(s.values.length, w.end + DELAY_SEARCH_AFTER_END);
  for (let n = w.start + 1; n <= last; n++) {
    const until = s.starts[n - 1] + HOUR;
    const found = detectEpisodes(prefix(s, n), '1h', settings, {
      timeZone: 'UTC',
      until,
      since: s.starts[0],
      now: until + settings.settlingMinutes * 60_000,
    });
    if (found.some((e) => overlaps(e, w))) return n - (w.start + 1);
  }
  return null;
}

interface Tally {
  series: number;
  signals: number;
  truePositives: number;
  windows: number;
  found: number;
  liveDelays: number[];
  detectorDelays: number[];
}

const empty = (): Tally => ({ series: 0, signals: 0, truePositives: 0, windows: 0, found: 0, liveDelays: [], detectorDelays: [] });

function add(into: Tally, t: Tally): void {
  into.series += t.series;
  into.signals += t.signals;
  into.truePositives += t.truePositives;
  into.windows += t.windows;
  into.found += t.found;
  into.liveDelays.push(...t.liveDelays);
  into.detectorDelays.push(...t.detectorDelays);
}

function score(s: CorpusSeries): Tally {
  const signals = signalsOf(s);
  const t = empty();
  t.series = 1;
  t.signals = signals.length;
  t.truePositives = signals.filter((e) => s.windows.some((w) => overlaps(e, w))).length;
  t.windows = s.windows.length;
  for (const w of s.windows) {
    if (!signals.some((e) => overlaps(e, w))) continue;
    t.found++;
    const live = liveDelay(s, w, LIVE);
    const detector = liveDelay(s, w, NO_SETTLING);
    if (live !== null) t.liveDelays.push(live);
    if (detector !== null) t.detectorDelays.push(detector);
  }
  return t;
}

function median(xs: number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const ratio = (a: number, b: number) => (b ? (a / b).toFixed(2) : '  - ');
const cell = (x: number | null) => (x === null ? '-' : String(x));

const started = performance.now();
const byShape = new Map<ShapeName, Tally>();
for (const seed of SEEDS) {
  for (const s of corpusForSeed(seed, PER_SHAPE)) {
    const t = byShape.get(s.shape) ?? byShape.set(s.shape, empty()).get(s.shape)!;
    add(t, score(s));
  }
}
const all = empty();
const clear = empty();
for (const [shape, t] of byShape) {
  add(all, t);
  if (SHAPES[shape].clear) add(clear, t);
}
const days = (t: Tally) => t.series * 42;
const row = (name: string, clearLabel: string, t: Tally) =>
  `${name.padEnd(24)} ${clearLabel.padEnd(6)} ${String(t.series).padStart(6)} ${String(t.windows).padStart(7)} ${String(t.signals).padStart(7)} ${((t.signals - t.truePositives) / (days(t) / 30)).toFixed(2).padStart(9)} ${ratio(t.truePositives, t.signals).padStart(9)} ${ratio(t.found, t.windows).padStart(6)} ${cell(median(t.liveDelays)).padStart(10)} ${cell(median(t.detectorDelays)).padStart(9)}`;

console.log(`
==== bench:detect-quality ====
${all.series} series (seeds ${SEEDS[0]}-${SEEDS[SEEDS.length - 1]}, ${PER_SHAPE} per shape per seed), 42 days of hourly buckets each, scored with detectEpisodes
(src/signals/anomaly/episodes.ts) at a new project's defaults: ${JSON.stringify(DEFAULTS)}
clear: yes = a clear effect (targets: precision >= 0.8, recall >= 0.9, delay <= 1 bucket for spikes and outages);
       no = subtle (gradual drift); n/a = no labelled window (false alarms only)
delay: median buckets from the close of a window's first bucket to the run that first signals it (found windows only);
       live = settling ${LIVE.settlingMinutes} min (a typical observed lateness: runs at a bucket's close + ${LIVE.settlingMinutes} min), detector = settling 0
${'shape'.padEnd(24)} ${'clear'.padEnd(6)} ${'series'.padStart(6)} ${'windows'.padStart(7)} ${'signals'.padStart(7)} ${'FP/30d'.padStart(9)} ${'precision'.padStart(9)} ${'recall'.padStart(6)} ${'live delay'.padStart(10)} ${'detector'.padStart(9)}
${[...byShape].map(([shape, t]) => row(shape, SHAPES[shape].clear === null ? 'n/a' : SHAPES[shape].clear ? 'yes' : 'no', t)).join('\n')}
${row('all clear effects', 'yes', clear)}
${row('all shapes', '', all)}
FP/30d: signals outside every labelled window, per series and 30 days. ${((performance.now() - started) / 1000).toFixed(1)} s.
shapes:
${Object.entries(SHAPES)
  .map(([name, s]) => `  ${name}: ${s.description}`)
  .join('\n')}
`);
