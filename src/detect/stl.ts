/**
 * Robust STL and MSTL decomposition — a pure kernel: number arrays in, plain objects out.
 *
 * STL: Cleveland, Cleveland, McRae & Terpenning (1990), "STL: A Seasonal-Trend Decomposition Procedure Based
 * on Loess", J. Official Statistics 6(1), step by step as their Fortran (netlib `stl`, behind R's `stl` and
 * statsmodels' `STL`). Inner loop: detrend → LOESS of each cycle-subseries, extended one cycle each way →
 * low-pass (moving averages of period, period, 3, then LOESS) → seasonal = subseries fit − low-pass →
 * deseasonalise → LOESS trend. Outer loop: bisquare weights of |remainder| / (6 × median |remainder|).
 * MSTL: Bandara, Hyndman & Bergmeir (2021), "MSTL: A Seasonal-Trend Decomposition Algorithm for Time Series
 * with Multiple Seasonal Patterns", arXiv:2107.13462: STL per period, shortest first, on the series less the
 * other seasonals, `iterations` times over; the trend is the last STL's.
 *
 * Choices (with the same windows, degrees and jumps this matches statsmodels' STL to ~1e-11):
 * - LOESS: tricube weights, degree 1 for seasonal, trend and low-pass (statsmodels; R fits the seasonal with
 *   degree 0). seasonalWindow Infinity or ≥ values.length is R's "periodic": degree 0 over the whole
 *   subseries, so each phase gets its (weighted) mean.
 * - Speed: each LOESS is fitted at every ceil(window / 10)-th point and interpolated linearly in between (the
 *   paper's "jump", R's default; statsmodels' default is no jump); tricube weights come from tables, and an
 *   unweighted centred fit is a weighted mean. A smoother costs O(n × window / jump); the moving averages and
 *   the median (quickselect) O(n).
 * - Robust (default): 2 inner iterations, 6 robustness passes after the first, unweighted one (R and
 *   statsmodels: 15; each costs a whole inner loop). Not robust: 5 inner iterations, one pass, weights 1.
 *   As in the Fortran, the weights returned are those the last pass used, and a local fit whose weights are
 *   all 0 takes the point's own value. 6 × median |remainder| is floored at 1e-10 × mean |y|.
 * - Windows are integers ≥ 3; an even one is raised to the next odd (as R does).
 * - MSTL: seasonal windows default to 7 + 4·i for the i-th usable period (Bandara et al., statsmodels); windows
 *   in opts apply to every period; robust as in stl. A period with fewer than 2 whole cycles is skipped and
 *   gets a zero seasonal; if none is usable, the trend is one LOESS with the shortest period's trend window.
 */
import { fitAt, type Kernels, smooth } from './loess.js';

export interface StlOptions {
  /** Odd ≥ 3, default 7; Infinity or ≥ values.length: "periodic". */ seasonalWindow?: number;
  /** Odd, default the smallest odd ≥ 1.5 × period / (1 − 1.5 / seasonalWindow). */ trendWindow?: number;
  /** Odd, default the smallest odd ≥ period. */ lowPassWindow?: number;
  /** Default true. */ robust?: boolean;
  /** Default 2 when robust, 5 otherwise. */ innerIterations?: number;
  /** Robustness passes after the first; default 6 (R: 15); ignored when not robust. */ outerIterations?: number;
}
export interface Decomposition {
  trend: number[];
  seasonal: number[];
  remainder: number[];
  weights: number[];
}
export interface MultiDecomposition {
  trend: number[];
  seasonals: number[][];
  remainder: number[];
}

const DEFAULT_SEASONAL_WINDOW = 7; // the paper's usual choice and R's common s.window
const ROBUST_INNER = 2; // the paper: 1–2 inner passes suffice once robustness weights are iterated
const PLAIN_INNER = 5; // the paper: enough to converge without an outer loop
const ROBUST_OUTER = 6; // R/statsmodels: 15; each pass costs a whole inner loop, and 6 is within noise of 15 on tests
const JUMP_DIVISOR = 10; // fit LOESS every ceil(window / 10) points, interpolate between (netlib, R, statsmodels)
const MAD_FLOOR = 1e-10; // relative floor under 6·median|r|: an exact fit must not get weights from rounding noise
const MSTL_ITERATIONS = 2; // Bandara et al.: two passes over the periods are enough
const mstlSeasonalWindow = (rank: number): number => 7 + 4 * rank; // i-th usable period, i = 1, 2, … (Bandara et al.)

interface Config {
  np: number;
  ns: number;
  nt: number;
  nl: number;
  sdeg: number;
  inner: number;
  outer: number;
}

function checkValues(values: number[], fn: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]))
      throw new RangeError(`${fn}: values[${i}] is ${values[i]}; interpolate gaps and drop non-finite values before decomposing`);
  }
}
function checkPeriod(period: number, fn: string): void {
  if (!Number.isInteger(period) || period < 2) throw new RangeError(`${fn}: period must be an integer ≥ 2, got ${period}`);
}
/** An integer option ≥ min, or the fallback; a window (odd) that is even is raised to the next odd. */
function option(value: number | undefined, fallback: number, name: string, min: number, odd = false): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min)
    throw new RangeError(`option ${name} must be an integer ≥ ${min}${odd ? ' (even is raised to odd)' : ''}, got ${value}`);
  return odd && value % 2 === 0 ? value + 1 : value;
}
const nextOdd = (x: number): number => {
  const c = Math.ceil(x);
  return c % 2 === 1 ? c : c + 1;
};

function configure(n: number, period: number, opts: StlOptions): Config {
  const robust = opts.robust ?? true;
  const periodic = opts.seasonalWindow === Infinity || (opts.seasonalWindow !== undefined && opts.seasonalWindow >= n);
  const ns = periodic ? Infinity : option(opts.seasonalWindow, DEFAULT_SEASONAL_WINDOW, 'seasonalWindow', 3, true);
  return {
    np: period,
    ns,
    sdeg: periodic ? 0 : 1,
    nt: option(opts.trendWindow, nextOdd((1.5 * period) / (1 - 1.5 / ns)), 'trendWindow', 3, true),
    nl: option(opts.lowPassWindow, nextOdd(period), 'lowPassWindow', 3, true),
    inner: option(opts.innerIterations, robust ? ROBUST_INNER : PLAIN_INNER, 'innerIterations', 1),
    outer: robust ? option(opts.outerIterations, ROBUST_OUTER, 'outerIterations', 0) : 0,
  };
}

/** Moving average of length len over x[0..n) into out[0..n − len]. */
function movingAverage(x: Float64Array, n: number, len: number, out: Float64Array): void {
  let v = 0;
  for (let i = 0; i < len; i++) v += x[i];
  for (let j = 0; j <= n - len; j++) {
    if (j > 0) v += x[j + len - 1] - x[j - 1];
    out[j] = v / len;
  }
}

/** Work arrays of one STL: a cycle-subseries (k), the extended seasonal and moving averages (n + 2·np), n-long. */
function scratch(n: number, np: number) {
  const k = Math.ceil(n / np) + 2,
    f = (m: number): Float64Array => new Float64Array(m);
  return {
    sub: f(k),
    subW: f(k),
    subFit: f(k),
    season: f(n + 2 * np),
    a: f(n + 2 * np),
    b: f(n + 2 * np),
    low: f(n),
    work: f(n),
    sorted: f(n),
    kernels: [] as Kernels,
  };
}
type Scratch = ReturnType<typeof scratch>;

/** One STL on y; trend, seasonal and rw (weights) are written in place. */
function stlInto(y: Float64Array, c: Config, trend: Float64Array, seasonal: Float64Array, rw: Float64Array): void {
  const n = y.length,
    np = c.np,
    s = scratch(n, np);
  const sJump = Math.ceil(c.ns / JUMP_DIVISOR),
    tJump = Math.ceil(c.nt / JUMP_DIVISOR),
    lJump = Math.ceil(c.nl / JUMP_DIVISOR);
  trend.fill(0);
  rw.fill(1);
  for (let pass = 0; pass <= c.outer; pass++) {
    const w = pass > 0 ? rw : null;
    for (let it = 0; it < c.inner; it++) {
      for (let i = 0; i < n; i++) s.work[i] = y[i] - trend[i];
      cycleSubseries(s.work, n, c, sJump, w, s);
      movingAverage(s.season, n + 2 * np, np, s.a);
      movingAverage(s.a, n + np + 1, np, s.b);
      movingAverage(s.b, n + 2, 3, s.a);
      smooth(s.a, n, c.nl, 1, lJump, null, s.low, s.kernels);
      for (let i = 0; i < n; i++) {
        seasonal[i] = s.season[np + i] - s.low[i];
        s.work[i] = y[i] - seasonal[i];
      }
      smooth(s.work, n, c.nt, 1, tJump, w, trend, s.kernels);
    }
    if (pass < c.outer) robustnessWeights(y, trend, seasonal, rw, s.work, s.sorted);
  }
}

/** LOESS of each cycle-subseries of y, extended by one cycle at both ends, into s.season (n + 2·np). netlib `stlss`. */
function cycleSubseries(y: Float64Array, n: number, c: Config, jump: number, rw: Float64Array | null, s: Scratch): void {
  const { np, ns, sdeg } = c;
  for (let j = 0; j < np; j++) {
    const k = Math.floor((n - 1 - j) / np) + 1;
    for (let m = 0; m < k; m++) {
      s.sub[m] = y[j + m * np];
      if (rw !== null) s.subW[m] = rw[j + m * np];
    }
    const w = rw !== null ? s.subW : null;
    smooth(s.sub, k, ns, sdeg, jump, w, s.subFit, s.kernels);
    const first = fitAt(s.sub, k, ns, sdeg, -1, 0, Math.min(ns, k) - 1, w, s.kernels);
    const last = fitAt(s.sub, k, ns, sdeg, k, Math.max(0, k - ns), k - 1, w, s.kernels);
    s.season[j] = Number.isNaN(first) ? s.subFit[0] : first;
    for (let m = 0; m < k; m++) s.season[(m + 1) * np + j] = s.subFit[m];
    s.season[(k + 1) * np + j] = Number.isNaN(last) ? s.subFit[k - 1] : last;
  }
}

/** The k-th smallest of a[0..n) (0-based), by quickselect; reorders a. */
function select(a: Float64Array, k: number): number {
  let lo = 0,
    hi = a.length - 1;
  while (hi > lo) {
    const pivot = a[(lo + hi) >> 1];
    let i = lo,
      j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i++] = a[j];
        a[j--] = t;
      }
    } // now a[lo..j] ≤ pivot ≤ a[i..hi]
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return a[k];
}

/** Bisquare weights of |remainder| / (6 × median |remainder|). netlib `stlrwt`, with MAD_FLOOR. */
function robustnessWeights(
  y: Float64Array,
  trend: Float64Array,
  seasonal: Float64Array,
  rw: Float64Array,
  work: Float64Array,
  sorted: Float64Array,
): void {
  const n = y.length;
  let scale = 0;
  for (let i = 0; i < n; i++) {
    work[i] = Math.abs(y[i] - trend[i] - seasonal[i]);
    scale += Math.abs(y[i]);
  }
  sorted.set(work);
  const upper = select(sorted, n >> 1);
  let lower = upper; // for even n, the largest value below the upper middle
  if (n % 2 === 0) {
    lower = sorted[0];
    for (let i = 1; i < n >> 1; i++) if (sorted[i] > lower) lower = sorted[i];
  }
  const cmad = Math.max(3 * (lower + upper), (MAD_FLOOR * scale) / n);
  const c9 = 0.999 * cmad,
    c1 = 0.001 * cmad;
  for (let i = 0; i < n; i++) {
    const r = work[i];
    if (r <= c1) rw[i] = 1;
    else if (r <= c9) {
      const u = r / cmad,
        t = 1 - u * u;
      rw[i] = t * t;
    } else rw[i] = 0;
  }
}

/** Robust STL of `values` (finite, at least 2 × period long) with the given integer period ≥ 2. */
export function stl(values: number[], period: number, opts: StlOptions = {}): Decomposition {
  checkValues(values, 'stl');
  checkPeriod(period, 'stl');
  const n = values.length;
  if (n < 2 * period) throw new RangeError(`stl: need at least 2 × period = ${2 * period} values (two whole cycles), got ${n}`);
  const y = Float64Array.from(values),
    trend = new Float64Array(n),
    seasonal = new Float64Array(n),
    rw = new Float64Array(n);
  stlInto(y, configure(n, period, opts), trend, seasonal, rw);
  const remainder = new Array<number>(n);
  for (let i = 0; i < n; i++) remainder[i] = y[i] - trend[i] - seasonal[i];
  return { trend: Array.from(trend), seasonal: Array.from(seasonal), remainder, weights: Array.from(rw) };
}

/** MSTL of `values` with several integer periods ≥ 2; seasonals come back in the order of `periods`. */
export function mstl(values: number[], periods: number[], opts: StlOptions & { iterations?: number } = {}): MultiDecomposition {
  checkValues(values, 'mstl');
  if (periods.length === 0) throw new RangeError('mstl: give at least one period');
  for (const p of periods) checkPeriod(p, 'mstl');
  const iterations = option(opts.iterations, MSTL_ITERATIONS, 'iterations', 1);
  const n = values.length;
  const usable = periods
    .map((_, i) => i)
    .filter((i) => n >= 2 * periods[i])
    .sort((a, b) => periods[a] - periods[b]);
  const seasonals = periods.map(() => new Float64Array(n));
  const deseasoned = Float64Array.from(values),
    trend = new Float64Array(n),
    rw = new Float64Array(n);
  if (usable.length === 0) {
    const c = configure(n, Math.min(...periods), { ...opts, seasonalWindow: opts.seasonalWindow ?? mstlSeasonalWindow(1) });
    smooth(deseasoned, n, c.nt, 1, Math.ceil(c.nt / JUMP_DIVISOR), null, trend, []);
  }
  for (let it = 0; it < iterations && usable.length > 0; it++) {
    usable.forEach((idx, rank) => {
      const s = seasonals[idx];
      for (let i = 0; i < n; i++) deseasoned[i] += s[i];
      const c = configure(n, periods[idx], { ...opts, seasonalWindow: opts.seasonalWindow ?? mstlSeasonalWindow(rank + 1) });
      stlInto(deseasoned, c, trend, s, rw);
      for (let i = 0; i < n; i++) deseasoned[i] -= s[i];
    });
  }
  const remainder = new Array<number>(n);
  for (let i = 0; i < n; i++) remainder[i] = deseasoned[i] - trend[i];
  return { trend: Array.from(trend), seasonals: seasonals.map((s) => Array.from(s)), remainder };
}
