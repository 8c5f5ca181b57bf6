/**
 * Numbers as people read them, the same in the web app (web/ imports this file), in alert texts and
 * in the texts the API writes (incident titles, signal descriptions). Ground module: imports nothing.
 *
 * 12,345,678 → 12.3M · 12,345 → 12.3K · 1,234.5 · 0.0115 (three significant digits below 1, so a
 * small fraction never collapses to 0.01). Numbers shown side by side — axis ticks, a value and the
 * threshold it crossed — go through formatDistinct, which adds digits until they differ.
 */

/** from here on numbers are abbreviated (12.3K, 4.5M) */
const COMPACT_FROM = 10_000;
/** significant digits of a fraction by default: 0.0115, 0.123 */
const FRACTION_DIGITS = 3;
/** formatDistinct stops adding digits here: beyond it two values are the same to anyone reading */
const MAX_SIGNIFICANT_DIGITS = 10;

const formatters = new Map<string, Intl.NumberFormat>();
function numberFormat(options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = JSON.stringify(options);
  let f = formatters.get(key);
  if (!f) formatters.set(key, (f = new Intl.NumberFormat('en-US', options)));
  return f;
}

/**
 * One number: abbreviated from 10,000, two decimals at most from 1, three significant digits
 * below 1. `significantDigits` asks for that many instead (formatDistinct uses it).
 */
export function formatNumber(n: number, significantDigits?: number): string {
  if (!Number.isFinite(n)) return Number.isNaN(n) ? 'n/a' : n > 0 ? '∞' : '−∞';
  const abs = Math.abs(n);
  const compact = abs >= COMPACT_FROM ? ({ notation: 'compact', compactDisplay: 'short' } as const) : {};
  if (significantDigits !== undefined) return numberFormat({ ...compact, maximumSignificantDigits: significantDigits }).format(n);
  if (abs >= COMPACT_FROM) return numberFormat({ ...compact, maximumFractionDigits: 1 }).format(n);
  if (abs >= 1 || n === 0) return numberFormat({ maximumFractionDigits: 2 }).format(n);
  return numberFormat({ maximumSignificantDigits: FRACTION_DIGITS }).format(n);
}

/**
 * Numbers that are read against each other: each formatted with the fewest digits that keep
 * different values looking different (ticks 0.01, 0.015, 0.02; a threshold 0.0115 and a value
 * 0.0118), never fewer than formatNumber gives.
 */
export function formatDistinct(values: readonly number[]): string[] {
  const plain = values.map((v) => formatNumber(v));
  if (tellsApart(values, plain)) return plain;
  for (let digits = 2; digits <= MAX_SIGNIFICANT_DIGITS; digits++) {
    const texts = values.map((v, i) => longer(plain[i], formatNumber(v, digits)));
    if (tellsApart(values, texts)) return texts;
  }
  return values.map((v) => formatNumber(v, MAX_SIGNIFICANT_DIGITS));
}

/** the text with more digits: asking for n significant digits may give fewer than the default did */
const longer = (a: string, b: string) => (b.replace(/\D/g, '').length > a.replace(/\D/g, '').length ? b : a);

function tellsApart(values: readonly number[], texts: string[]): boolean {
  const seen = new Map<string, number>();
  return texts.every((t, i) => {
    const before = seen.get(t);
    seen.set(t, values[i]);
    return before === undefined || before === values[i];
  });
}

/** A change in percent, signed: +12.3%, −40%, ±0% (one decimal below 10 %). */
export function formatPercentChange(percent: number): string {
  const abs = Math.abs(percent);
  const sign = percent > 0 ? '+' : percent < 0 ? '−' : '±';
  return `${sign}${abs.toFixed(abs < 10 ? 1 : 0)}%`;
}
