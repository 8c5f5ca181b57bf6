/**
 * The settling time a project's event-based detection uses when nobody set one: how late its
 * events actually arrive, as the p99 of (received − event time) over the last day, in whole
 * minutes, at most the fixed 2-hour default. One scan of a day of events per project every few
 * minutes at most: every detection run in between reads the cached figure.
 */
import type { EventStore } from '../storage/events/event-store.js';
import { DEFAULT_SETTLING, DEFAULT_SETTLING_MINUTES, type SettlingFallback } from './settings.js';

/** lateness is measured over the events received in the last day */
export const LATENESS_WINDOW_MS = 24 * 3_600_000;
/** a figure is reused this long (lateness changes slowly; a detection run should not rescan a day) */
export const LATENESS_CACHE_MS = 5 * 60_000;
/** a p99 over fewer events says little: the fixed default applies */
export const LATENESS_MIN_EVENTS = 100;

/** The settling time a measured p99 lateness gives: whole minutes, from 0 up to the 2-hour default. */
export function observedSettling(lateness: { events: number; p99Ms: number | null }): SettlingFallback {
  if (lateness.p99Ms === null || lateness.events < LATENESS_MIN_EVENTS) return DEFAULT_SETTLING;
  return { minutes: Math.min(DEFAULT_SETTLING_MINUTES, Math.max(0, Math.ceil(lateness.p99Ms / 60_000))), source: 'observed' };
}

export class LatenessCache {
  private cached = new Map<number, { at: number; value: Promise<SettlingFallback> }>();

  constructor(
    private events: EventStore,
    private now: () => number,
  ) {}

  /** The project's observed settling time, measured at most once per LATENESS_CACHE_MS. */
  settling(projectId: number): Promise<SettlingFallback> {
    const now = this.now();
    const hit = this.cached.get(projectId);
    if (hit && now - hit.at >= 0 && now - hit.at < LATENESS_CACHE_MS) return hit.value;
    const value = this.events.lateness({ projectId, sinceMs: now - LATENESS_WINDOW_MS }).then(observedSettling);
    this.cached.set(projectId, { at: now, value });
    // a failed scan is not remembered: the next run tries again
    value.catch(() => this.cached.delete(projectId));
    return value;
  }

  /** Forgets a project's figure (tests, a deleted project). */
  forget(projectId: number): void {
    this.cached.delete(projectId);
  }
}
