/** Numbers, changes and times as the app shows them; numbers as alerts and the API write them too (src/format/number.ts). */
import { formatPercentChange } from '../../../src/format/number';

export { formatDistinct, formatNumber } from '../../../src/format/number';

/** 0.123 → +12.3%; null (no previous value) → "n/a" */
export function formatChange(change: number | null | undefined): string {
  return change == null ? 'n/a' : formatPercentChange(change * 100);
}

export function formatPercent(share: number): string {
  return `${(share * 100).toFixed(share < 0.1 ? 1 : 0)}%`;
}

/** A time in the project's zone (or the browser's): "Mar 5, 14:03:07" */
export function formatTime(iso: string | number, timeZone?: string, withSeconds = true): string {
  const d = new Date(iso);
  return d.toLocaleString('en', {
    timeZone,
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: withSeconds ? '2-digit' : undefined,
    hourCycle: 'h23',
  });
}

export function formatDay(iso: string | number, timeZone?: string): string {
  return new Date(iso).toLocaleDateString('en', { timeZone, month: 'short', day: 'numeric', year: 'numeric' });
}

/** "3 min ago" */
export function formatAgo(iso: string | number, now = Date.now()): string {
  const s = Math.round((now - new Date(iso).getTime()) / 1000);
  if (s < 60) return `${Math.max(0, s)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}
