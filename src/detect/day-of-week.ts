/**
 * Day-of-week factors from as little as one week: how busy each weekday is against the days
 * around it, shrunk towards 1 (no effect) by how much the days seen so far say. A weekday seen
 * once moves most of the way to what it showed (day totals are steady, so one week says a lot);
 * a weekday not seen yet keeps factor 1 with a wide uncertainty, so a first weekend widens the
 * band instead of firing. The uncertainty goes into the baseline's error.
 */

/** prior spread of a log day factor: weekdays of product metrics differ by about 30 % */
const PRIOR_VARIANCE = 0.3 ** 2;
/** day-to-day scatter of a log day total beyond its weekday's effect, at least (10 %) */
const DAY_SCATTER = 0.1 ** 2;
/** days read, the newest: four weeks */
const MAX_DAYS = 28;
/** a day counts when at least this share of its buckets has a value */
const MIN_DAY_COVERAGE = 0.8;
/** a day at less than this share of the days around it reads as this share (a log of 0 is -∞; a business app's weekend is 0) */
const MIN_RATIO = 0.001;

export interface DayFactors {
  /** per weekday (0 = the weekday of the series' first whole day), the multiplicative factor */
  factor: number[];
  /** per weekday, the variance of its log factor */
  variance: number[];
  /** per weekday, the whole days of it seen */
  seen: number[];
}

/**
 * Factors from the whole days before `before` (the start of the current day). `dayOffset`: the
 * position of the series' first bucket in its day; a day's weekday is floor((t + offset) / day) % 7.
 */
export function dayOfWeekFactors(xs: (number | null)[], before: number, day: number, dayOffset: number, isCount: boolean): DayFactors {
  const lastDay = Math.floor((before + dayOffset) / day);
  const firstDay = Math.max(0, lastDay - MAX_DAYS);
  const means: (number | null)[] = [];
  for (let d = firstDay; d < lastDay; d++) {
    const from = d * day - dayOffset;
    let sum = 0,
      n = 0;
    if (from >= 0)
      for (let t = from; t < from + day; t++)
        if (xs[t] !== null && xs[t] !== undefined) {
          sum += xs[t]!;
          n++;
        }
    means.push(n >= MIN_DAY_COVERAGE * day ? sum / n : null);
  }
  // each day against the mean of the days within three of it (a week around it, as far as seen)
  const obs: { dow: number; x: number; v: number }[] = [];
  for (let k = 0; k < means.length; k++) {
    const m = means[k];
    if (m === null) continue;
    let s = 0,
      n = 0;
    for (let j = Math.max(0, k - 3); j <= Math.min(means.length - 1, k + 3); j++)
      if (means[j] !== null) {
        s += means[j]!;
        n++;
      }
    const around = s / n;
    if (n < 3 || around <= 0) continue;
    // a count's day total varies by chance as Poisson: 1 / its expected total on the log scale
    obs.push({ dow: (firstDay + k) % 7, x: Math.log(Math.max(MIN_RATIO, m / around)), v: isCount ? 1 / Math.max(1, around * day) : 0 });
  }
  const scatter = Math.max(DAY_SCATTER, observedScatter(obs));
  const factor: number[] = [],
    variance: number[] = [],
    seen: number[] = [];
  for (let dow = 0; dow < 7; dow++) {
    let precision = 1 / PRIOR_VARIANCE,
      weighted = 0,
      n = 0;
    for (const o of obs) {
      if (o.dow !== dow) continue;
      const w = 1 / (scatter + o.v);
      precision += w;
      weighted += w * o.x;
      n++;
    }
    factor.push(Math.exp(weighted / precision));
    variance.push(1 / precision);
    seen.push(n);
  }
  return { factor, variance, seen };
}

/** The scatter of log day ratios around their weekday's mean, over weekdays seen at least twice (0 when none). */
function observedScatter(obs: { dow: number; x: number }[]): number {
  let ss = 0,
    df = 0;
  for (let dow = 0; dow < 7; dow++) {
    const xs = obs.filter((o) => o.dow === dow).map((o) => o.x);
    if (xs.length < 2) continue;
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    ss += xs.reduce((a, x) => a + (x - mean) ** 2, 0);
    df += xs.length - 1;
  }
  return df ? ss / df : 0;
}
