import crypto from 'node:crypto';
import type { EventType } from '../storage/events/event-store.js';
import { VigilError } from '../errors.js';
import type { Metrics } from '../ops/metrics.js';
import type { DedupIndex } from './dedup-index.js';
import { toEventRow, type Enrichers, type RequestInfo } from './enrich.js';
import type { IpHasher } from './ip-hash.js';
import { checkMessage, type BatchDefaults, type Rejection } from './segment-spec.js';
import type { SessionTracker } from './sessions.js';
import type { WriteBuffer } from './write-buffer.js';

/** Segment's limit for one event, measured on the stored line. */
export const MAX_EVENT_BYTES = 32 * 1024;

export interface IngestResult {
  accepted: number;
  duplicates: number;
  rejected: Rejection[];
}

export interface IngestDeps {
  buffer: WriteBuffer;
  dedup: DedupIndex;
  ipHasher: IpHasher;
  sessions: SessionTracker;
  metrics: Metrics;
}

/**
 * Ingest as named steps: check each message against the spec, enrich it into a row, drop what was
 * seen before, then write all of the request's rows to the write buffer and wait until they are
 * durable. Invalid messages are reported by index; they never cost the valid ones their place.
 */
export class IngestService {
  private enrichers: Enrichers;

  constructor(private deps: IngestDeps) {
    this.enrichers = {
      hashIp: (projectId, ip, ua) => deps.ipHasher.hash(projectId, ip, ua),
      sessionFor: (projectId, distinctId, timestamp) => deps.sessions.sessionFor(projectId, distinctId, timestamp),
      newMessageId: () => 'vigil-' + crypto.randomUUID(),
    };
  }

  async ingest(projectId: number, messages: unknown[], impliedType: EventType | undefined, batch: BatchDefaults, req: RequestInfo): Promise<IngestResult> {
    const { dedup, metrics } = this.deps;
    await this.deps.ipHasher.ready();
    const rejected: Rejection[] = [];
    const lines: string[] = [];
    const keys: string[] = [];
    let duplicates = 0;
    let hasIdentify = false;
    for (let i = 0; i < messages.length; i++) {
      const checked = checkMessage(messages[i], i, impliedType, batch);
      if (!checked.ok) {
        rejected.push(checked.rejection);
        continue;
      }
      const row = toEventRow(checked.message, projectId, req, this.enrichers);
      const line = JSON.stringify(row);
      // a UTF-16 unit is at most 3 bytes of UTF-8, so most lines need no byte count
      if (line.length * 3 > MAX_EVENT_BYTES && Buffer.byteLength(line) > MAX_EVENT_BYTES) {
        rejected.push({ index: i, field: '', reason: 'too_large', message: `the event is larger than ${MAX_EVENT_BYTES / 1024} KB` });
        continue;
      }
      if (checked.message.messageId !== undefined) {
        if (!dedup.add(projectId, row.message_id)) {
          duplicates++;
          continue;
        }
        keys.push(row.message_id);
      }
      lines.push(line);
      hasIdentify ||= row.type === 'identify';
    }
    metrics.batchSize.observe(messages.length);
    for (const r of rejected) metrics.eventsRejected.inc({ reason: r.reason });
    if (duplicates) metrics.eventsRejected.inc({ reason: 'duplicate' }, duplicates);
    // a duplicate's first copy may still be in flight: joining the same write means its
    // acknowledgement also waits until that copy is on disk (and fails if it fails)
    if (lines.length || duplicates) {
      try {
        await this.deps.buffer.append(lines.length ? lines.join('\n') + '\n' : '', lines.length, hasIdentify);
      } catch (err) {
        for (const k of keys) dedup.remove(projectId, k);
        throw new VigilError('VIGIL_ERR_UNAVAILABLE', `events could not be written to disk; nothing was stored, retry later (${(err as Error).message})`);
      }
      metrics.eventsAccepted.inc(lines.length);
    }
    return { accepted: lines.length, duplicates, rejected };
  }
}
