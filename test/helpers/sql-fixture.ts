/** The window both stores' SQL snapshot tests compile reads for: two weeks over Berlin's spring change. */
import type { TimeseriesQuery } from '../../src/storage/events/event-store.js';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
export const FROM = Date.parse('2026-03-23T00:00:00Z');
export const TO = Date.parse('2026-04-06T00:00:00Z');
/** Europe/Berlin around the spring change, written out: +01:00 until 2026-03-29T01:00Z, then +02:00 */
export const BERLIN_SPANS = [
  { fromMs: FROM, offsetMs: HOUR },
  { fromMs: Date.parse('2026-03-29T01:00:00Z'), offsetMs: 2 * HOUR },
];
export const base: TimeseriesQuery = { projectId: 7, fromMs: FROM, toMs: TO, grainMs: HOUR, measure: 'events', limit: 10 };
