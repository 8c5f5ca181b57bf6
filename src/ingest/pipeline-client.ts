import { Worker } from 'node:worker_threads';
import type { FastifyBaseLogger } from 'fastify';
import type { EventType } from '../storage/events/event-store.js';
import { VigilError, type ErrorCode } from '../errors.js';
import type { RequestInfo } from './enrich.js';
import type { BodyKind, PipelineOutput } from './pipeline.js';
import type { BatchDefaults } from './segment-spec.js';

export interface PipelineJob {
  id: number;
  /** a raw request body ... */
  text?: string;
  kind?: BodyKind;
  /** ... or messages already parsed (import, demo) */
  messages?: unknown[];
  impliedType?: EventType;
  defaults?: BatchDefaults;
  /** known when the key came in a header; else the body's writeKey is returned for checking */
  projectId?: number;
  req: RequestInfo;
  salt: string;
}

export type PipelineReply =
  | { id: number; output: PipelineOutput }
  | { id: number; writeKey: string }
  | { id: number; error: { code: ErrorCode; message: string; details: unknown; missingKey?: boolean } };

/** OS thread ids of pipeline threads: on the request path, so they keep their priority. */
export const foregroundThreads = new Set<number>();

type Pending = { resolve: (r: PipelineReply) => void; reject: (e: Error) => void };

/** The main thread's side of the pipeline worker; restarts it if it dies. */
export class PipelineClient {
  private worker!: Worker;
  private pending = new Map<number, Pending>();
  private nextId = 1;
  private closing = false;

  constructor(private log: FastifyBaseLogger) {
    this.start();
  }

  private start() {
    this.worker = import.meta.url.endsWith('.ts')
      ? // under tsx (tests, benchmarks) the worker loads the TypeScript source through tsx, which it must register itself
        new Worker(
          `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./pipeline-worker.ts', import.meta.url).href)}); })`,
          { eval: true },
        )
      : new Worker(new URL('./pipeline-worker.js', import.meta.url));
    // the worker never keeps the process alive by itself (a test that skips close() still ends)
    this.worker.unref();
    this.worker.on('message', (reply: PipelineReply | { tid: number }) => {
      if ('tid' in reply) {
        foregroundThreads.add(reply.tid);
        return;
      }
      const p = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      p?.resolve(reply);
    });
    this.worker.on('error', (err) => this.log.error({ err }, 'the ingest pipeline thread failed'));
    this.worker.on('exit', () => {
      for (const p of this.pending.values())
        p.reject(new VigilError('VIGIL_ERR_UNAVAILABLE', 'the ingest pipeline restarted; nothing of this request was stored, retry'));
      this.pending.clear();
      if (!this.closing) this.start();
    });
  }

  run(job: Omit<PipelineJob, 'id'>): Promise<PipelineReply & { id: number }> {
    return this.send({ ...job, id: this.nextId++ });
  }

  /** Answers a `writeKey` reply: the project to continue with, or null to drop the body. */
  resume(id: number, projectId: number | null): Promise<PipelineReply> {
    if (projectId === null) {
      this.worker.postMessage({ id, projectId });
      return Promise.resolve({ id, error: { code: 'VIGIL_ERR_UNAUTHORIZED', message: '', details: null } });
    }
    return this.send({ id, projectId });
  }

  private send(message: { id: number; projectId?: number }): Promise<PipelineReply> {
    return new Promise((resolve, reject) => {
      this.pending.set(message.id, { resolve, reject });
      this.worker.postMessage(message);
    });
  }

  async close() {
    this.closing = true;
    await this.worker.terminate();
  }
}
