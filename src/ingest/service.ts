import type { EventType } from '../storage/events/event-store.js';
import { VigilError } from '../errors.js';
import type { Metrics } from '../ops/metrics.js';
import type { ApiKey } from '../auth/api-keys.js';
import { missingKey } from '../auth/request-auth.js';
import { rateLimited, type RateLimiter } from '../http/rate-limit.js';
import type { DedupIndex } from './dedup-index.js';
import type { RequestInfo } from './enrich.js';
import type { IpSalts } from './ip-hash.js';
import type { BodyKind, PipelineOutput } from './pipeline.js';
import type { PipelineClient, PipelineReply } from './pipeline-client.js';
import type { BatchDefaults, Rejection } from './segment-spec.js';
import type { IngestLog } from './write-buffer.js';

export interface IngestResult {
  accepted: number;
  duplicates: number;
  rejected: Rejection[];
}

export interface IngestDeps {
  buffer: IngestLog;
  dedup: DedupIndex;
  ipSalts: IpSalts;
  pipeline: PipelineClient;
  metrics: Metrics;
  /** checks an ingest key sent from `address` (401/403 when it is not one; 429 after too many failures from the address) */
  verifyKey: (secret: string, address: string) => Promise<ApiKey>;
  /** requests per key (by key id); none: unlimited */
  keyLimiter?: RateLimiter;
  /** told of every event once it is durable (the live view, analytics/live.ts) */
  live?: { publish(projectId: number, rows: readonly string[]): void };
}

/**
 * Ingest as named steps: parse, check each message against the spec and enrich it into a row
 * (on the pipeline thread), authenticate, drop what was seen before, then write the rows to the
 * write buffer and wait until they are durable. Invalid messages are reported by index; they
 * never cost the valid ones their place.
 */
export class IngestService {
  constructor(private deps: IngestDeps) {}

  /** A request body as received; `headerKey` is the key from the request's headers, if any. */
  async ingestBody(text: string, kind: BodyKind, headerKey: string | undefined, req: RequestInfo): Promise<IngestResult> {
    // a key in the headers is checked before any parsing; one inside the body after
    const key = headerKey === undefined ? undefined : await this.authenticate(headerKey, req.ip);
    const salt = await this.deps.ipSalts.currentSalt();
    let reply: PipelineReply = await this.deps.pipeline.run({ text, kind, projectId: key?.projectId, req, salt });
    let projectId = key?.projectId;
    if ('writeKey' in reply) {
      const bodyKey = await this.authenticate(reply.writeKey, req.ip).catch(async (err) => {
        await this.deps.pipeline.resume(reply.id, null);
        throw err;
      });
      projectId = bodyKey.projectId;
      reply = await this.deps.pipeline.resume(reply.id, projectId);
    }
    return this.store(projectId as number, outputOf(reply));
  }

  /**
   * Charges one request to a verified key; over its limit, a 429 before anything is stored.
   * (Every ingest endpoint with a key, measurements included, draws on the same allowance.)
   */
  chargeKey(key: ApiKey): void {
    const limiter = this.deps.keyLimiter;
    if (!limiter) return;
    const taken = limiter.take(String(key.id));
    if (!taken.ok)
      throw rateLimited(`this API key sent more than ${limiter.limit / (limiter.windowMs / 1000)} requests per second`, taken.retryAfterS);
  }

  private async authenticate(secret: string, address: string): Promise<ApiKey> {
    const key = await this.deps.verifyKey(secret, address);
    this.chargeKey(key);
    return key;
  }

  /** Messages already parsed (import, demo), for a known project. */
  async ingest(
    projectId: number,
    messages: unknown[],
    impliedType: EventType | undefined,
    defaults: BatchDefaults,
    req: RequestInfo,
  ): Promise<IngestResult> {
    const salt = await this.deps.ipSalts.currentSalt();
    return this.store(projectId, outputOf(await this.deps.pipeline.run({ messages, impliedType, defaults, projectId, req, salt })));
  }

  private async store(projectId: number, out: PipelineOutput): Promise<IngestResult> {
    const { dedup, metrics } = this.deps;
    const kept: string[] = [];
    const keys: string[] = [];
    let duplicates = 0;
    for (let i = 0; i < out.lines.length; i++) {
      const id = out.messageIds[i];
      if (id !== null) {
        if (!dedup.add(projectId, id)) {
          duplicates++;
          continue;
        }
        keys.push(id);
      }
      kept.push(out.lines[i]);
    }
    metrics.batchSize.observe(out.received);
    for (const r of out.rejected) metrics.eventsRejected.inc({ reason: r.reason });
    if (duplicates) metrics.eventsRejected.inc({ reason: 'duplicate' }, duplicates);
    // a duplicate's first copy may still be in flight: joining the same write means its
    // acknowledgement also waits until that copy is on disk (and fails if it fails)
    if (kept.length || duplicates) {
      const waitStarted = performance.now();
      try {
        await this.deps.buffer.append(kept.length ? kept.join('\n') + '\n' : '', kept.length, out.hasIdentify);
      } catch (err) {
        for (const k of keys) dedup.remove(projectId, k);
        throw new VigilError(
          'VIGIL_ERR_UNAVAILABLE',
          `events could not be written to disk; nothing was stored, retry later (${(err as Error).message})`,
        );
      }
      metrics.durableWaitSeconds.observe((performance.now() - waitStarted) / 1000);
      metrics.eventsAccepted.inc(kept.length);
      if (kept.length) this.deps.live?.publish(projectId, kept);
    }
    return { accepted: kept.length, duplicates, rejected: out.rejected };
  }
}

function outputOf(reply: PipelineReply): PipelineOutput {
  if ('output' in reply) return reply.output;
  if ('error' in reply) {
    if (reply.error.missingKey) throw missingKey();
    throw new VigilError(reply.error.code, reply.error.message, reply.error.details ?? undefined);
  }
  throw new VigilError('VIGIL_ERR_INTERNAL', 'unexpected reply from the ingest pipeline');
}
