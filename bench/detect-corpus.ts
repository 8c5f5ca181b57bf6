/**
 * A labelled corpus of hourly product-metric series for bench:detect-quality: per seed, a few
 * series of each shape product metrics have (event counts with daily and weekly rhythm from 1 to
 * 10k an hour, ratios over small denominators, heavy-tailed sums, holidays and one-off days, level
 * shifts, outages, gradual drifts, spikes from a small base, gaps), each with the windows where
 * something really happened. Pure: same seed → same series.
 *
 * A shape is a "clear effect" when every window it injects is unmistakable to a person looking at
 * the chart (several times the noise, over enough samples): the targets of issue 17 (precision
 * ≥ 0.8, recall ≥ 0.9) apply to those. A gradual drift is not clear; the plain rhythm has no window
 * (it only counts false alarms).
 */
import { mulberry32 } from '../src/demo/random.js';
import type { ValueKind } from '../src/detect/anomaly.js';
import type { SeriesShape } from '../src/detect/value-range.js';

const HOUR = 3_600_000;
/** a Monday, so weeks start on day 0 */
export const CORPUS_START_MS = Date.UTC(2026, 0, 5);
export const CORPUS_DAYS = 42;
const BUCKETS = CORPUS_DAYS * 24;
/** labelled windows start after ten days and end before the series does */
const FIRST_WINDOW_DAY = 10;
const LAST_WINDOW_DAY = 39;
/** a level shift is labelled for its first day: the detector should say so then, and be quiet after */
const SHIFT_WINDOW_BUCKETS = 24;

/** Buckets [start, end) where something happened. */
export interface LabelledWindow {
  start: number;
  end: number;
  what: string;
}

export interface CorpusSeries {
  id: string;
  shape: ShapeName;
  /** how the product detects it: counts (events) or fractions (ratios, sums) */
  valueKind: ValueKind;
  range: SeriesShape;
  starts: number[];
  /** null: a gap (a bucket never collected; a ratio over no denominator; a sum over no rows) */
  values: (number | null)[];
  /** the samples behind each value where the product knows them: a ratio's tries, a sum's orders */
  samples?: (number | null)[];
  windows: LabelledWindow[];
}

type Rng = () => number;

// ---- sampling ----

function normal(rng: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

function poisson(rng: Rng, lambda: number): number {
  if (lambda <= 0) return 0;
  if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * normal(rng)));
  const limit = Math.exp(-lambda);
  let k = 0;
  for (let p = rng(); p > limit; p *= rng()) k++;
  return k;
}

/** Gamma(shape, 1) (Marsaglia and Tsang; shape < 1 boosted). */
function gamma(rng: Rng, shape: number): number {
  if (shape < 1) return gamma(rng, shape + 1) * rng() ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number, v: number;
    do {
      x = normal(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng();
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** A count with mean λ and variance φ·λ (φ = 1: Poisson; more: a gamma-Poisson mixture, like events that come several to a session). */
function count(rng: Rng, lambda: number, phi: number): number {
  if (lambda <= 0) return 0;
  return poisson(rng, phi > 1 ? gamma(rng, lambda / (phi - 1)) * (phi - 1) : lambda);
}

function binomial(rng: Rng, n: number, p: number): number {
  let k = 0;
  for (let i = 0; i < n; i++) if (rng() < p) k++;
  return k;
}

const uniform = (rng: Rng, lo: number, hi: number) => lo + (hi - lo) * rng();
const logUniform = (rng: Rng, lo: number, hi: number) => Math.exp(uniform(rng, Math.log(lo), Math.log(hi)));
const integer = (rng: Rng, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
const choose = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)];

// ---- rhythm ----

/** The expected rate per bucket: a daily curve (night at `floor` of the peak), quieter weekends, a slight trend. */
function rhythm(rng: Rng, peak: number): number[] {
  const peakHour = integer(rng, 12, 18);
  const floor = uniform(rng, 0.08, 0.4);
  const weekend = uniform(rng, 0.45, 0.9);
  const trend = uniform(rng, -0.1, 0.15);
  return Array.from({ length: BUCKETS }, (_, i) => {
    const hour = i % 24;
    const dow = Math.floor(i / 24) % 7; // 0 Monday … 5 Saturday, 6 Sunday
    const daily = floor + ((1 - floor) * (1 + Math.cos((2 * Math.PI * (hour - peakHour)) / 24))) / 2;
    return peak * daily * (dow >= 5 ? weekend : 1) * (1 + (trend * i) / BUCKETS);
  });
}

/** A window start in the busy hours (09:00-18:00) of a day between FIRST_WINDOW_DAY and LAST_WINDOW_DAY. */
function busyStart(rng: Rng, hours: number): number {
  return integer(rng, FIRST_WINDOW_DAY, LAST_WINDOW_DAY) * 24 + integer(rng, 9, Math.max(9, 19 - hours));
}

function multiply(rate: number[], from: number, to: number, factor: number): void {
  for (let i = from; i < Math.min(to, rate.length); i++) rate[i] *= factor;
}

const dispersion = (rng: Rng) => choose(rng, [1, 1, 2, 4]);
const counts = (rng: Rng, rate: number[], phi: number) => rate.map((l) => count(rng, l, phi));

// ---- shapes ----

interface Made {
  values: (number | null)[];
  samples?: (number | null)[];
  windows: LabelledWindow[];
  valueKind?: ValueKind;
  range?: SeriesShape;
}

interface Shape {
  clear: boolean | null;
  description: string;
  make: (rng: Rng) => Made;
}

export const SHAPES = {
  'count-rhythm': {
    clear: null,
    description: 'event counts with daily and weekly rhythm, 1/h to 10k/h at the peak, Poisson or over-dispersed (φ 2, 4); nothing happens',
    make: (rng) => ({ values: counts(rng, rhythm(rng, logUniform(rng, 1, 10_000)), dispersion(rng)), windows: [] }),
  },
  'count-spike': {
    clear: true,
    description: '20/h-10k/h, 1-3 busy hours at ×3-6',
    make: (rng) => {
      const rate = rhythm(rng, logUniform(rng, 20, 10_000));
      const hours = integer(rng, 1, 3);
      const start = busyStart(rng, hours);
      multiply(rate, start, start + hours, uniform(rng, 3, 6));
      return { values: counts(rng, rate, dispersion(rng)), windows: [{ start, end: start + hours, what: 'spike' }] };
    },
  },
  'spike-small-base': {
    clear: true,
    description: 'a quiet event, 1/h-10/h at the peak, jumps to 10-25× (at least 20/h) for 1-3 busy hours (errors after a bad deploy)',
    make: (rng) => {
      const rate = rhythm(rng, logUniform(rng, 1, 10));
      const hours = integer(rng, 1, 3);
      const start = busyStart(rng, hours);
      const factor = uniform(rng, 10, 25);
      for (let i = start; i < start + hours; i++) rate[i] = Math.max(20, rate[i] * factor);
      return { values: counts(rng, rate, 1), windows: [{ start, end: start + hours, what: 'spike from a small base' }] };
    },
  },
  'count-outage': {
    clear: true,
    description: '20/h-10k/h, 2-8 busy hours at 0 or 5-10 % of normal',
    make: (rng) => {
      const rate = rhythm(rng, logUniform(rng, 20, 10_000));
      const hours = integer(rng, 2, 8);
      const start = busyStart(rng, hours);
      multiply(rate, start, start + hours, rng() < 0.5 ? 0 : uniform(rng, 0.05, 0.1));
      return { values: counts(rng, rate, dispersion(rng)), windows: [{ start, end: start + hours, what: 'outage' }] };
    },
  },
  'level-shift': {
    clear: true,
    description: '20/h-10k/h, from one busy hour on ×0.5, ×0.6, ×1.6 or ×2 for good (labelled: its first day)',
    make: (rng) => {
      const rate = rhythm(rng, logUniform(rng, 20, 10_000));
      const start = busyStart(rng, 1);
      multiply(rate, start, rate.length, choose(rng, [0.5, 0.6, 1.6, 2]));
      return { values: counts(rng, rate, dispersion(rng)), windows: [{ start, end: start + SHIFT_WINDOW_BUCKETS, what: 'level shift' }] };
    },
  },
  'gradual-drift': {
    clear: false,
    description: '20/h-10k/h, a ramp over 5-10 days to ×0.6 or ×1.5, held (labelled: the ramp and a day after)',
    make: (rng) => {
      const rate = rhythm(rng, logUniform(rng, 20, 10_000));
      const days = integer(rng, 5, 10);
      const start = integer(rng, FIRST_WINDOW_DAY, LAST_WINDOW_DAY - days) * 24;
      const end = start + days * 24;
      const to = choose(rng, [0.6, 1.5]);
      for (let i = start; i < rate.length; i++) rate[i] *= 1 + (to - 1) * Math.min(1, (i - start) / (end - start));
      return {
        values: counts(rng, rate, dispersion(rng)),
        windows: [{ start, end: Math.min(rate.length, end + 24), what: 'gradual drift' }],
      };
    },
  },
  holiday: {
    clear: true,
    description: '20/h-10k/h, one weekday at 30-50 % of normal all day',
    make: (rng) => {
      const rate = rhythm(rng, logUniform(rng, 20, 10_000));
      let day: number;
      do day = integer(rng, FIRST_WINDOW_DAY, LAST_WINDOW_DAY);
      while (day % 7 >= 5);
      multiply(rate, day * 24, day * 24 + 24, uniform(rng, 0.3, 0.5));
      return { values: counts(rng, rate, dispersion(rng)), windows: [{ start: day * 24, end: day * 24 + 24, what: 'holiday' }] };
    },
  },
  'one-off-day': {
    clear: true,
    description: '20/h-10k/h, a launch day: 6-10 busy hours at ×2-3',
    make: (rng) => {
      const rate = rhythm(rng, logUniform(rng, 20, 10_000));
      const hours = integer(rng, 6, 10);
      const start = busyStart(rng, hours);
      multiply(rate, start, start + hours, uniform(rng, 2, 3));
      return { values: counts(rng, rate, dispersion(rng)), windows: [{ start, end: start + hours, what: 'one-off day' }] };
    },
  },
  'ratio-small-denominator': {
    clear: true,
    description:
      'a conversion rate over 5/h-30/h tries at the peak (a gap when there are none), rate 0.3-0.7; for 8-12 busy hours it falls to 10-30 % of itself',
    make: (rng) => {
      const tries = counts(rng, rhythm(rng, logUniform(rng, 5, 30)), 1);
      const p = uniform(rng, 0.3, 0.7);
      const hours = integer(rng, 8, 12);
      const start = busyStart(rng, Math.min(hours, 10));
      const factor = uniform(rng, 0.1, 0.3);
      const values = tries.map((n, i) => (n === 0 ? null : binomial(rng, n, i >= start && i < start + hours ? p * factor : p) / n));
      return {
        values,
        samples: tries,
        windows: [{ start, end: start + hours, what: 'conversion drop' }],
        valueKind: 'fraction',
        range: 'ratio',
      };
    },
  },
  'heavy-tailed-sum': {
    clear: true,
    description:
      'revenue: the sum of log-normal order values (σ 0.8-1.5) over 10/h-100/h orders (0 when there are none, as the product fills a sum); 3-6 busy hours of a payments outage at 0-10 % of the orders',
    make: (rng) => {
      const rate = rhythm(rng, logUniform(rng, 10, 100));
      const hours = integer(rng, 3, 6);
      const start = busyStart(rng, hours);
      multiply(rate, start, start + hours, uniform(rng, 0, 0.1));
      const sigma = uniform(rng, 0.8, 1.5);
      const orders = rate.map((l) => poisson(rng, l));
      const values = orders.map((n) => {
        let sum = 0;
        for (let k = 0; k < n; k++) sum += 40 * Math.exp(sigma * normal(rng));
        return Math.round(sum * 100) / 100;
      });
      return {
        values,
        samples: orders,
        windows: [{ start, end: start + hours, what: 'revenue drop' }],
        valueKind: 'fraction',
        range: 'any',
      };
    },
  },
  'count-with-gaps': {
    clear: true,
    description: '20/h-10k/h with 2-4 gaps of 2-24 buckets never collected (the store was down), and 1-2 busy hours at ×4-6',
    make: (rng) => {
      const rate = rhythm(rng, logUniform(rng, 20, 10_000));
      const hours = integer(rng, 1, 2);
      const start = busyStart(rng, hours);
      multiply(rate, start, start + hours, uniform(rng, 4, 6));
      const values: (number | null)[] = counts(rng, rate, dispersion(rng));
      for (let g = integer(rng, 2, 4); g > 0; g--) {
        const from = integer(rng, 2 * 24, BUCKETS - 24);
        const to = from + integer(rng, 2, 24);
        // a gap never hides the labelled window
        if (to <= start - 2 || from >= start + hours + 2) for (let i = from; i < Math.min(to, BUCKETS); i++) values[i] = null;
      }
      return { values, windows: [{ start, end: start + hours, what: 'spike' }] };
    },
  },
} satisfies Record<string, Shape>;

export type ShapeName = keyof typeof SHAPES;

/** Series of every shape for one seed, `perShape` of each. */
export function corpusForSeed(seed: number, perShape: number): CorpusSeries[] {
  const starts = Array.from({ length: BUCKETS }, (_, i) => CORPUS_START_MS + i * HOUR);
  const out: CorpusSeries[] = [];
  for (const [name, shape] of Object.entries(SHAPES) as [ShapeName, Shape][]) {
    for (let k = 0; k < perShape; k++) {
      // each series has its own stream: adding a shape leaves the others as they were
      const rng = mulberry32(hash(`${name}#${seed}.${k}`));
      const made = shape.make(rng);
      out.push({
        id: `${name}#${seed}.${k}`,
        shape: name,
        valueKind: made.valueKind ?? 'count',
        range: made.range ?? 'count',
        starts,
        values: made.values,
        samples: made.samples,
        windows: made.windows,
      });
    }
  }
  return out;
}

/** FNV-1a: a seed per series name. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
