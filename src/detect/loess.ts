/** LOESS as STL uses it (netlib's stl.f): tricube-weighted local fits of degree 0 or 1, fitted every `jump` points. */

export type Kernels = Float64Array[]; // tricube tables by half-width, filled on demand

/** Tricube weights by distance 0..h for half-width h, with netlib's cut-offs (1 within 0.001·h, 0 beyond 0.999·h). */
function tricube(cache: Kernels, h: number): Float64Array {
  let k = cache[h];
  if (k === undefined) {
    k = new Float64Array(h + 1);
    for (let r = 0; r <= h; r++) {
      const q = r / h,
        t = 1 - q * q * q;
      k[r] = r <= 0.001 * h ? 1 : r > 0.999 * h ? 0 : t * t * t;
    }
    cache[h] = k;
  }
  return k;
}

/** Weighted local fit (degree 0 or 1) at x from y[lo..hi]; NaN when every weight is 0. netlib `stlest`. */
export function fitAt(
  y: Float64Array,
  n: number,
  len: number,
  deg: number,
  x: number,
  lo: number,
  hi: number,
  rw: Float64Array | null,
  cache: Kernels,
): number {
  let h = Math.max(x - lo, hi - x);
  if (len > n) h += Math.floor((len - n) / 2);
  const k = Number.isFinite(h) ? tricube(cache, h) : null; // h = ∞ ("periodic"): every weight is 1
  let sw = 0,
    sd = 0,
    sdd = 0,
    sy = 0,
    sdy = 0;
  for (let j = lo; j <= hi; j++) {
    const d = j - x;
    const w = (k === null ? 1 : k[d < 0 ? -d : d]) * (rw === null ? 1 : rw[j]),
      wy = w * y[j];
    sw += w;
    sd += w * d;
    sdd += w * d * d;
    sy += wy;
    sdy += wy * d;
  }
  return sw <= 0 ? NaN : localValue(n, h > 0 ? deg : 0, sw, sd, sdd, sy, sdy);
}

/** Value at offset 0 of the weighted local mean (deg 0) or line (deg 1) from the weighted sums of 1, d, d², y, d·y. */
function localValue(n: number, deg: number, sw: number, sd: number, sdd: number, sy: number, sdy: number): number {
  const my = sy / sw,
    a = sd / sw,
    c = sdd / sw - a * a; // weighted means of y and d, variance of d
  return deg > 0 && Math.sqrt(c) > 0.001 * (n - 1) ? my - (a * (sdy / sw - a * my)) / c : my;
}

/** fitAt for the window centred on i, the common case; k = tricube(h) with k[h] = 0. */
function fitCentred(y: Float64Array, n: number, i: number, k: Float64Array, deg: number, rw: Float64Array | null): number {
  const h = k.length - 1;
  let sw = 1,
    sy = y[i];
  if (rw === null) {
    // symmetric weights: the local line's value at the centre is the weighted mean
    for (let d = 1; d < h; d++) {
      const w = k[d];
      sw += 2 * w;
      sy += w * (y[i - d] + y[i + d]);
    }
    return sy / sw;
  }
  sw = rw[i];
  sy *= rw[i];
  let sd = 0,
    sdd = 0,
    sdy = 0;
  for (let d = 1; d < h; d++) {
    const wl = k[d] * rw[i - d],
      wr = k[d] * rw[i + d],
      yl = wl * y[i - d],
      yr = wr * y[i + d];
    sw += wl + wr;
    sd += d * (wr - wl);
    sdd += d * d * (wl + wr);
    sy += yl + yr;
    sdy += d * (yr - yl);
  }
  return sw <= 0 ? NaN : localValue(n, deg, sw, sd, sdd, sy, sdy);
}

/** LOESS of y[0..n) into out, fitted every `jump` points and interpolated linearly. netlib `stless`. */
export function smooth(
  y: Float64Array,
  n: number,
  len: number,
  deg: number,
  jump: number,
  rw: Float64Array | null,
  out: Float64Array,
  cache: Kernels,
): void {
  if (n < 2) {
    if (n === 1) out[0] = y[0];
    return;
  }
  const step = Math.max(1, Math.min(jump, n - 1)),
    half = (len + 1) / 2;
  const centred = len < n ? tricube(cache, half - 1) : null;
  let prev = -1;
  for (let i = 0; ; i = Math.min(i + step, n - 1)) {
    const lo = centred === null ? 0 : Math.min(Math.max(i - half + 1, 0), n - len);
    const v =
      centred !== null && lo === i - half + 1
        ? fitCentred(y, n, i, centred, deg, rw)
        : fitAt(y, n, len, deg, i, lo, centred === null ? n - 1 : lo + len - 1, rw, cache);
    out[i] = Number.isNaN(v) ? y[i] : v;
    for (let m = prev + 1; m < i; m++) out[m] = out[prev] + ((out[i] - out[prev]) * (m - prev)) / (i - prev);
    if (i === n - 1) return;
    prev = i;
  }
}
