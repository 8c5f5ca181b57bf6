/**
 * How SQL groups rows into the buckets of a project's time zone. The store computes a slot per
 * row (a UTC grain, or local wall-clock time floored to a grain); `bucketOf` maps a slot back to
 * the index of its bucket.
 */
import { INTERVAL_MS, bucketFloor, bucketStarts, offsetSpans, sqlGrainMs, tzOffsetMs, type Interval } from './time.js';

export interface SlotSpec {
  /** rows are grouped by floor(timestamp / grainMs) * grainMs, in UTC ... */
  grainMs: number;
  /**
   * ... or, when given, by UTC plus the offset of the span the row falls in, floored to grainMs
   * (weeks floored to Mondays).
   */
  localOffsets?: { fromMs: number; offsetMs: number }[];
}

export interface Slots {
  spec: SlotSpec;
  /** start of every bucket of the window */
  starts: number[];
  /** index in `starts` of the bucket a slot falls in, or -1 */
  bucketOf(slotMs: number): number;
}

const HOUR_MS = 3_600_000;

/**
 * Offsets reduced modulo a sub-daily bucket size: `floor((t + r) / size) * size` is then an instant
 * inside the row's bucket (its start plus r), which bucketFloor maps back exactly. Undefined when
 * every remainder is 0 (plain UTC flooring).
 */
function offsetRemainders(spans: { fromMs: number; offsetMs: number }[], size: number) {
  const out: { fromMs: number; offsetMs: number }[] = [];
  for (const s of spans) {
    const offsetMs = ((s.offsetMs % size) + size) % size;
    if (!out.length || out[out.length - 1].offsetMs !== offsetMs) out.push({ fromMs: s.fromMs, offsetMs });
  }
  return out.length === 1 && out[0].offsetMs === 0 ? undefined : out;
}

/**
 * Slots for the buckets intersecting [fromMs, toMs). `additive` values (counts, sums) may be
 * grouped by a finer UTC grain and summed into buckets; any other value (distinct counts,
 * averages, percentiles) needs one slot per bucket: buckets of 6h and more are grouped by local
 * wall-clock time (a 25-hour day stays one bucket), shorter ones by a UTC grain shifted by the
 * offset's remainder (a repeated local hour stays two buckets).
 */
export function slotsFor(
  tz: string,
  interval: Interval,
  fromMs: number,
  toMs: number,
  additive: boolean,
  starts = bucketStarts(tz, interval, fromMs, toMs),
): Slots {
  const size = INTERVAL_MS[interval];
  const first = starts[0] ?? fromMs;
  const index = new Map(starts.map((s, i) => [s, i]));
  if (additive) {
    return {
      spec: { grainMs: sqlGrainMs(tz, interval, first, toMs) },
      starts,
      bucketOf: (slot) => index.get(bucketFloor(tz, interval, slot)) ?? -1,
    };
  }
  const spans = offsetSpans(tz, first, toMs);
  const wallClock = size > HOUR_MS;
  if (!wallClock) {
    return {
      spec: { grainMs: size, localOffsets: offsetRemainders(spans, size) },
      starts,
      bucketOf: (slot) => index.get(bucketFloor(tz, interval, slot)) ?? -1,
    };
  }
  const localIndex = new Map(starts.map((s, i) => [s + tzOffsetMs(tz, s), i]));
  return {
    spec: { grainMs: size, localOffsets: spans },
    starts,
    bucketOf: (slot) => localIndex.get(slot) ?? index.get(bucketFloor(tz, interval, slot - tzOffsetMs(tz, slot))) ?? -1,
  };
}
