/**
 * Distribution drift of a property's values: the Population Stability Index between a baseline
 * and a current window, corrected for the drift that sampling noise alone produces.
 *
 * PSI = Σ (cur − base) · ln(cur / base) over value shares. A value missing on one side gets the
 * share 1 / (2 n) of that side (n = its event count) so a new or vanished value is large but
 * finite. PSI is the symmetric (Jeffreys) divergence; with no real change it is approximately
 * χ²(K − 1) / n_eff, where K is the number of distinct values seen on either side and
 * n_eff the harmonic combination of the sample sizes: 1 / n_eff = 1 / n_base + 1 / n_cur
 * (the variance of a difference of two independent shares). The correction subtracted is that
 * χ²'s mean + 2σ: (K − 1) / n_eff + 2 · √(2 (K − 1)) / n_eff. Bands apply to the adjusted value.
 */

export type DriftBand = 'stable' | 'minor' | 'significant';

/** Below this adjusted PSI the distribution is stable: the usual PSI rule of thumb. */
export const PSI_STABLE_BELOW = 0.1;
/** Below this (and above PSI_STABLE_BELOW) the shift is minor; from here on it is significant. */
export const PSI_MINOR_BELOW = 0.25;
/** σ of the χ² noise subtracted: mean + 2σ keeps unchanged data stable ~95 % of the time. */
export const NOISE_SIGMAS = 2;

export interface PsiCategory {
  value: string;
  /** raw share in the baseline (0 when absent; the floored share is used only in the sum) */
  baseShare: number;
  currentShare: number;
  /** (cur − base) · ln(cur / base) with floored shares; the contributions sum to `psi` */
  contribution: number;
}

export interface PsiResult {
  /** raw PSI */
  psi: number;
  /** expected noise subtracted */
  correction: number;
  /** max(0, psi − correction) */
  adjusted: number;
  band: DriftBand;
  /** sorted by contribution, largest first */
  categories: PsiCategory[];
}

type Counts = Map<string, number> | Record<string, number>;

function toMap(counts: Counts, side: string): Map<string, number> {
  const map = counts instanceof Map ? counts : new Map(Object.entries(counts));
  for (const [value, n] of map) {
    if (!Number.isFinite(n) || n < 0) throw new RangeError(`${side} count of '${value}' must be a finite number ≥ 0`);
  }
  return map;
}

function total(map: Map<string, number>, side: string): number {
  let n = 0;
  for (const c of map.values()) n += c;
  if (n <= 0) throw new RangeError(`${side} is empty: it has no events`);
  return n;
}

export function bandOf(adjusted: number): DriftBand {
  if (adjusted < PSI_STABLE_BELOW) return 'stable';
  if (adjusted < PSI_MINOR_BELOW) return 'minor';
  return 'significant';
}

/** Expected PSI of unchanged data with K categories and effective sample size nEff (mean + NOISE_SIGMAS σ). */
export function psiNoise(k: number, nEff: number): number {
  if (k <= 1) return 0;
  return (k - 1) / nEff + (NOISE_SIGMAS * Math.sqrt(2 * (k - 1))) / nEff;
}

/** Counts per value (any non-negative weights; usually event counts) of the two windows. */
export function psi(baseline: Counts, current: Counts): PsiResult {
  const base = toMap(baseline, 'baseline');
  const cur = toMap(current, 'current');
  const nBase = total(base, 'baseline');
  const nCur = total(cur, 'current');
  const values = new Set([...base.keys(), ...cur.keys()].filter((v) => (base.get(v) ?? 0) > 0 || (cur.get(v) ?? 0) > 0));

  const categories: PsiCategory[] = [];
  let sum = 0;
  for (const value of values) {
    const baseShare = (base.get(value) ?? 0) / nBase;
    const currentShare = (cur.get(value) ?? 0) / nCur;
    const b = baseShare > 0 ? baseShare : 1 / (2 * nBase);
    const c = currentShare > 0 ? currentShare : 1 / (2 * nCur);
    const contribution = (c - b) * Math.log(c / b);
    sum += contribution;
    categories.push({ value, baseShare, currentShare, contribution });
  }
  categories.sort((x, y) => y.contribution - x.contribution || (x.value < y.value ? -1 : x.value > y.value ? 1 : 0));

  const nEff = 1 / (1 / nBase + 1 / nCur);
  const correction = psiNoise(values.size, nEff);
  const adjusted = Math.max(0, sum - correction);
  return { psi: sum, correction, adjusted, band: bandOf(adjusted), categories };
}
