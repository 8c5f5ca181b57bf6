import fs from 'node:fs';
import os from 'node:os';

/** How much lower than the event loop background threads run (nice levels, 0 to 19). */
const BACKGROUND_NICENESS = 10;

/**
 * Lowers the OS priority of every thread of this process but the main one and the given
 * foreground threads (the ingest pipeline) (Linux only).
 *
 * The event loop parses requests and acknowledges events; the other threads (DuckDB loading
 * segments, libuv's pool, V8's GC helpers) do work that can wait. On a small machine a burst of
 * segment loading would otherwise take the cores away from the event loop and hold back every
 * acknowledgement queued behind it. Threads started later get the same treatment on the next call.
 */
export function lowerBackgroundThreadPriority(foreground: ReadonlySet<number> = new Set()): number {
  let lowered = 0;
  let tids: string[];
  try {
    tids = fs.readdirSync('/proc/self/task');
  } catch {
    return 0; // not Linux: nothing to do
  }
  for (const tid of tids) {
    const id = Number(tid);
    if (id === process.pid || foreground.has(id)) continue;
    try {
      if (os.getPriority(id) < BACKGROUND_NICENESS) {
        os.setPriority(id, BACKGROUND_NICENESS);
        lowered++;
      }
    } catch {
      // the thread ended meanwhile, or we may not change it: harmless
    }
  }
  return lowered;
}
