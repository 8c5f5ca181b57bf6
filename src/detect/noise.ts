/**
 * Noise models: how much a bucket may vary by chance, from the samples behind it. Each model has
 * a variance-stabilising transform g, on whose scale chance variation has a known variance:
 * - poisson (counts of events): g(x) = 2√(x + 3/8) (Anscombe), variance 1, so 91 against 3.6 is
 *   far out and 3 against 1.2 is not;
 * - binomial (a ratio over its denominator n): g(p) = 2·asin√p̃ (Anscombe's p̃), variance 1 / n;
 * - log (heavy-tailed sums and averages: revenue, latency): g(x) = ln(x + c), variance 1 / N for
 *   the N rows the bucket is expected to hold (a sum that falls because its rows did is news);
 * - robust (anything else, e.g. a gauge that goes negative): g(x) = x.
 * Without samples (a log-scale series whose rows are unknown, a robust one) the chance variation is
 * the spread of the same phase in earlier cycles.
 * To each the baseline's own relative error is added on the same scale; the scorer multiplies the
 * total by the series' dispersion φ (what it does beyond the model).
 */
import type { ValueKind } from './anomaly.js';

export type NoiseModel = 'poisson' | 'binomial' | 'log' | 'robust';
export const NOISE_MODELS: readonly NoiseModel[] = ['poisson', 'binomial', 'log', 'robust'];

/** the offset of the log scale, as a share of the series' level: a zero stays finite, a drop to zero is still far */
const LOG_OFFSET = 0.1;

/**
 * The model a series gets when nobody says: counts are Poisson; fractions in [0, 1] with their
 * denominators binomial (without them robust); other non-negative values log-scale; the rest robust.
 */
export function modelFor(kind: ValueKind, values: (number | null)[], samples: (number | null)[] | null): NoiseModel {
  if (kind === 'count') return 'poisson';
  let unit = true,
    nonNegative = true;
  for (const v of values) {
    if (v === null) continue;
    if (v < 0) nonNegative = false;
    if (v < 0 || v > 1) unit = false;
  }
  // a share without its denominators is bounded: a log scale would read every low hour as a collapse
  if (unit) return samples?.some((n) => n !== null && n > 0) ? 'binomial' : 'robust';
  return nonNegative ? 'log' : 'robust';
}

export interface BucketNoise {
  transform(x: number): number;
  /** back from the transformed scale, within the values the model allows */
  inverse(y: number): number;
  /** the expected value, transformed */
  center: number;
  /** chance variance on the transformed scale, before the dispersion: sampling plus the baseline's error */
  variance: number;
  /** the baseline's share of it: shared by neighbouring buckets, so a run cannot average it away */
  modelVariance: number;
}

export interface NoiseInput {
  expected: number;
  /** the series' typical magnitude around the bucket */
  level: number;
  /** the baseline's relative error */
  error: number;
  /** samples behind this bucket (a ratio's denominator, a sum's rows), null when unknown */
  samples: number | null;
  /** samples the bucket is expected to hold, null when unknown */
  expectedSamples: number | null;
  /** the relative spread of one value at this phase, from earlier cycles: the chance variation of a series whose samples are unknown */
  phaseSpread: number;
  /** earlier buckets the expected value combines: their own chance variation adds 1.5 / cycles of one bucket's */
  cycles: number;
}

export function noise(model: NoiseModel, b: NoiseInput): BucketNoise {
  const E = b.expected;
  switch (model) {
    case 'poisson': {
      const transform = (x: number) => 2 * Math.sqrt(Math.max(0, x) + 0.375);
      const slope = Math.max(0, E) / Math.sqrt(Math.max(0, E) + 0.375);
      return withModel(
        { transform, inverse: (y) => (y <= 0 ? 0 : Math.max(0, (y / 2) ** 2 - 0.375)), center: transform(E) },
        1,
        (slope * b.error) ** 2,
        b.cycles,
      );
    }
    case 'binomial': {
      const n = b.samples ?? b.expectedSamples ?? 0;
      const transform = (p: number) => 2 * Math.asin(Math.sqrt((Math.min(1, Math.max(0, p)) * n + 0.375) / (n + 0.75)));
      const inverse = (y: number) => {
        if (!n) return E;
        const q = Math.sin(Math.min(Math.PI, Math.max(0, y)) / 2) ** 2;
        return Math.min(1, Math.max(0, (q * (n + 0.75) - 0.375) / n));
      };
      const p = Math.min(0.999, Math.max(1e-6, E));
      return withModel(
        { transform, inverse, center: transform(E) },
        n ? 1 / (n + 0.5) : 0,
        n ? (p * b.error) ** 2 / (p * (1 - p)) : 0,
        b.cycles,
      );
    }
    case 'log': {
      const c = Math.max(LOG_OFFSET * Math.max(b.level, E), 1e-9);
      const transform = (x: number) => Math.log(Math.max(0, x) + c);
      const rows = b.expectedSamples ?? b.samples;
      const slope = Math.max(0, E) / (Math.max(0, E) + c);
      const sampling = rows && rows > 0 ? 1 / rows : (slope * b.phaseSpread) ** 2;
      return withModel(
        { transform, inverse: (y) => Math.max(0, Math.exp(y) - c), center: transform(E) },
        sampling,
        (slope * b.error) ** 2,
        b.cycles,
      );
    }
    case 'robust': {
      const scale = Math.max(Math.abs(E), Math.abs(b.level));
      return withModel(
        { transform: (x) => x, inverse: (y) => y, center: E },
        (scale * b.phaseSpread) ** 2,
        (scale * b.error) ** 2,
        b.cycles,
      );
    }
  }
}

function withModel(n: Omit<BucketNoise, 'variance' | 'modelVariance'>, sampling: number, model: number, cycles: number): BucketNoise {
  return {
    transform: n.transform,
    inverse: n.inverse,
    center: n.center,
    variance: sampling * (1 + 1.5 / Math.max(1, cycles)) + model,
    modelVariance: model,
  };
}
