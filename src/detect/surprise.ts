/**
 * Anomaly likelihood: one number per scored bucket, in [0, 1], that says how unusual the detector's
 * recent surprise is for this series, so that one threshold suits quiet and noisy series alike
 * (after Numenta's HTM "anomaly likelihood"). Strictly causal: a bucket's score uses only the
 * buckets up to and including it.
 *
 * Per bucket the surprise is |z| from the detector (capped: beyond the cap a bucket is simply
 * off the scale). Its moving average over a short window (a sudden change) and over a longer one
 * (a sustained, moderate one) is compared with the mean and standard deviation of that same
 * average over the series' recent history; the Gaussian tail probability of the current average
 * is put on a log scale, log(p) / log(1e-10), so 0.5 means "as rare as 1 in 100,000" and 1 means
 * 1 in 10^10 or rarer. The score is the larger of the two windows'.
 *
 * After the warm-up, a value beyond the range of every value before it (by more than
 * RANGE_TOLERANCE of that range) scores 1 whatever its z: a series that leaves the range it has
 * kept so far is news even when the baseline, following it, sees little surprise (Numenta's HTM
 * detector in NAB does the same, with the same 5 %).
 *
 * A detection is reported once: after a bucket reaches DETECTION, the next SUPPRESS buckets are
 * held below it (the surprise of one incident lasts a while, and repeating it is noise).
 */
import type { ScoredPoint } from './anomaly.js';

/** buckets averaged for a sudden change */
export const SHORT_WINDOW = 5;
/** buckets averaged for a sustained, moderate change */
export const LONG_WINDOW = 20;
/** buckets of history the averages are compared with (a week of 5-minute buckets) */
export const HISTORY = 2016;
/** buckets of history needed before anything is scored */
export const WARMUP = 100;
/** |z| beyond this adds no surprise */
export const Z_CAP = 20;
/** the score of a detection: a tail probability of 1e-5 */
export const DETECTION = 0.5;
/** buckets held below DETECTION after one */
export const SUPPRESS = 100;
/** a value this share of the range beyond every earlier value is new ground */
export const RANGE_TOLERANCE = 0.05;
/** the averages' standard deviation never goes below this, so a flat history does not make every wobble rare */
const MIN_SD = 0.05;
/** log(TAIL_FLOOR) is a score of 1 */
const TAIL_FLOOR = 1e-10;

/** erfc(x), Numerical Recipes' Chebyshev approximation (relative error below 1.2e-7). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** The log-scaled rarity of `x` against a normal distribution: 0 at or below the mean, 1 at 1e-10 or rarer. */
export function logRarity(x: number, mean: number, sd: number): number {
  const k = (x - mean) / sd;
  if (!(k > 0)) return 0;
  const tail = 0.5 * erfc(k / Math.SQRT2);
  return Math.min(1, Math.max(0, Math.log(tail + TAIL_FLOOR) / Math.log(TAIL_FLOOR)));
}

/** Per value, the rarity of its moving average over `window` against the averages of the HISTORY before it. */
function rarities(surprise: Float64Array, window: number): Float64Array {
  const n = surprise.length;
  const avg = new Float64Array(n);
  let acc = 0;
  for (let i = 0; i < n; i++) {
    acc += surprise[i];
    if (i >= window) acc -= surprise[i - window];
    avg[i] = acc / Math.min(i + 1, window);
  }
  const out = new Float64Array(n);
  let s1 = 0,
    s2 = 0,
    count = 0;
  for (let i = 0; i < n; i++) {
    if (count >= WARMUP) {
      const mean = s1 / count;
      const sd = Math.max(MIN_SD, Math.sqrt(Math.max(0, s2 / count - mean * mean)));
      out[i] = logRarity(avg[i], mean, sd);
    }
    // the history window slides: running sums, the oldest average leaves
    s1 += avg[i];
    s2 += avg[i] * avg[i];
    if (++count > HISTORY) {
      const old = avg[i - HISTORY];
      s1 -= old;
      s2 -= old * old;
      count--;
    }
  }
  return out;
}

/**
 * The anomaly likelihood of each scored point (in order, gaps left out), in [0, 1]; a point the
 * detector could not score (no baseline yet) adds no surprise and scores 0.
 */
export function anomalyLikelihood(points: Pick<ScoredPoint, 'value' | 'z' | 'expected'>[]): number[] {
  const surprise = new Float64Array(points.length);
  points.forEach((p, i) => {
    surprise[i] = p.expected === null ? 0 : Math.min(Z_CAP, Math.abs(p.z));
  });
  const short = rarities(surprise, SHORT_WINDOW);
  const long = rarities(surprise, LONG_WINDOW);
  const out: number[] = [];
  let heldUntil = -1;
  let min = Infinity,
    max = -Infinity;
  for (let i = 0; i < points.length; i++) {
    const { value, expected } = points[i];
    const margin = (max - min) * RANGE_TOLERANCE;
    const newGround = i >= WARMUP && max > min && (value > max + margin || value < min - margin);
    min = Math.min(min, value);
    max = Math.max(max, value);
    let score = expected === null ? 0 : newGround ? 1 : Math.max(short[i], long[i]);
    if (i <= heldUntil) score = Math.min(score, DETECTION / 2);
    else if (score >= DETECTION) heldUntil = i + SUPPRESS;
    out.push(score);
  }
  return out;
}
