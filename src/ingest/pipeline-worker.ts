/**
 * The pipeline thread: parses bodies and turns messages into segment lines (pipeline.ts), so the
 * event loop only reads sockets, authenticates, deduplicates and writes. One thread, so that
 * session state (which visitor is in which session) lives in one place.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { VigilError } from '../errors.js';
import type { Enrichers } from './enrich.js';
import { createIpHash } from './ip-hash.js';
import { parseBody, processMessages, type ParsedBody } from './pipeline.js';
import type { PipelineJob, PipelineReply } from './pipeline-client.js';
import { SessionTracker } from './sessions.js';

const port = parentPort!;
const sessions = new SessionTracker();
const hashIp = createIpHash();
/** bodies that carried their key inside: parsed, waiting for the main thread to verify the key */
const waiting = new Map<number, { parsed: ParsedBody; job: PipelineJob }>();

function run(job: PipelineJob, parsed: ParsedBody, projectId: number): PipelineReply {
  const enrichers: Enrichers = {
    hashIp: (p, ip, ua) => hashIp(job.salt, p, ip, ua),
    sessionFor: (p, d, t) => sessions.sessionFor(p, d, t),
    newMessageId: () => 'vigil-' + crypto.randomUUID(),
  };
  return { id: job.id, output: processMessages(parsed.messages, parsed.impliedType, parsed.defaults, projectId, job.req, enrichers) };
}

function handle(message: PipelineJob | { id: number; projectId: number | null }): PipelineReply | null {
  if (!('req' in message)) {
    const held = waiting.get(message.id);
    waiting.delete(message.id);
    if (!held || message.projectId === null) return null;
    return run(held.job, held.parsed, message.projectId);
  }
  const job = message;
  const parsed: ParsedBody =
    job.text !== undefined
      ? parseBody(job.text, job.kind!)
      : { messages: job.messages ?? [], impliedType: job.impliedType, defaults: job.defaults ?? {}, writeKey: undefined };
  if (job.projectId !== undefined) return run(job, parsed, job.projectId);
  if (!parsed.writeKey) return { id: job.id, error: { code: 'VIGIL_ERR_UNAUTHORIZED', message: '', details: null, missingKey: true } };
  waiting.set(job.id, { parsed, job });
  return { id: job.id, writeKey: parsed.writeKey };
}

// tell the main thread which OS thread this is, so it keeps its normal priority (ops/thread-priority.ts)
try {
  port.postMessage({ tid: Number(fs.readlinkSync('/proc/thread-self').split('/').pop()) });
} catch {
  // not Linux
}

port.on('message', (message: PipelineJob | { id: number; projectId: number | null }) => {
  let reply: PipelineReply | null;
  try {
    reply = handle(message);
  } catch (err) {
    const known = err instanceof VigilError ? err : new VigilError('VIGIL_ERR_INTERNAL', (err as Error).message);
    reply = { id: message.id, error: { code: known.code, message: known.message, details: known.details ?? null } };
  }
  if (reply) port.postMessage(reply);
});
