/**
 * The live view: events as ingest accepts them, streamed to browsers as server-sent events.
 *
 * `LiveFeed` is an in-process bus. Ingest publishes the rows it has made durable (the JSON lines
 * it wrote to the write buffer); a project nobody watches costs one map lookup. Each subscriber
 * has a filter and a bounded buffer: when its connection falls behind, newer events are dropped
 * and the client is told how many. In the scaled mode (PostgreSQL), live-relay.ts carries what
 * each process's ingest accepted to the subscribers of every other process.
 */
import { PassThrough } from 'node:stream';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { EventRow } from '../storage/events/event-store.js';
import { projectOf } from '../auth/access.js';
import { SlugParams, errorResponses } from '../http-schemas.js';
import { eventForApi } from './service.js';

export type LiveEvent = ReturnType<typeof eventForApi>;

export interface LiveFilter {
  /** an event name (track) or a page/screen name as stored in `event` */
  event?: string;
  /** matches userId, anonymousId or the distinct id */
  user?: string;
}

type Send = (events: LiveEvent[]) => void;

interface Subscriber {
  filter: LiveFilter;
  send: Send;
}

export function matchesLive(filter: LiveFilter, e: LiveEvent): boolean {
  if (filter.event !== undefined && e.event !== filter.event) return false;
  if (filter.user !== undefined && e.userId !== filter.user && e.anonymousId !== filter.user && e.distinctId !== filter.user) return false;
  return true;
}

export class LiveFeed {
  private byProject = new Map<number, Set<Subscriber>>();

  /** Calls `send` with each published batch's events that pass `filter`; returns the unsubscribe function. */
  subscribe(projectId: number, filter: LiveFilter, send: Send): () => void {
    const sub: Subscriber = { filter, send };
    let subs = this.byProject.get(projectId);
    if (!subs) this.byProject.set(projectId, (subs = new Set()));
    subs.add(sub);
    return () => {
      subs.delete(sub);
      if (!subs.size && this.byProject.get(projectId) === subs) this.byProject.delete(projectId);
    };
  }

  /**
   * Events just made durable: rows as `EventRow`s or as the JSON lines ingest wrote. Never throws
   * (ingest has already acknowledged them; a viewer's trouble is not the sender's).
   */
  publish(projectId: number, rows: readonly (string | EventRow)[]): void {
    const subs = this.byProject.get(projectId);
    if (!subs?.size || !rows.length) return;
    let events: LiveEvent[];
    try {
      events = rows.map((r) => eventForApi(typeof r === 'string' ? (JSON.parse(r) as EventRow) : r));
    } catch {
      return;
    }
    for (const sub of subs) {
      const picked = events.filter((e) => matchesLive(sub.filter, e));
      if (!picked.length) continue;
      try {
        sub.send(picked);
      } catch {
        // a broken connection is cleaned up by its own close handler
      }
    }
  }

  /** connections open now (all projects) */
  get subscribers(): number {
    let n = 0;
    for (const subs of this.byProject.values()) n += subs.size;
    return n;
  }
}

/** a comment line every so often keeps proxies from closing an idle stream */
export const HEARTBEAT_MS = 15_000;
/** what may wait in one connection's buffer before newer events are dropped */
export const MAX_BUFFERED_BYTES = 256 * 1024;
/** EventSource's reconnection delay, in milliseconds (the client adds its own backoff) */
const RETRY_MS = 2_000;

/** One server-sent event: a name and a JSON payload. */
const frame = (name: string, data: unknown) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;

/** `GET /api/projects/:slug/live`: the project's newly ingested events as `text/event-stream`. */
export async function liveRoutes(root: FastifyInstance, { live, heartbeatMs = HEARTBEAT_MS }: { live: LiveFeed; heartbeatMs?: number }) {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const open = new Set<PassThrough>();
  // app.close() waits for open connections: streams end first, so a shutdown is not held up
  app.addHook('preClose', async () => {
    for (const stream of open) stream.end();
  });

  app.get(
    '/api/projects/:slug/live',
    {
      // a compressor holds frames back until its buffer fills: the stream must go out as written
      compress: false,
      config: { access: { role: 'viewer', keys: true } },
      schema: {
        tags: ['events'],
        summary: 'Newly ingested events of the project, as server-sent events',
        description: [
          'A `text/event-stream` that stays open. Event `ready` once connected; `events` with a JSON array of events (the shape of GET /events) as ingest accepts them;',
          '`dropped` with `{"dropped": n}` when the connection fell behind and n events were left out; a comment line every 15 s as a heartbeat.',
          'Only events accepted after the connection opened are sent (no replay).',
        ].join(' '),
        params: SlugParams,
        querystring: Type.Object(
          {
            event: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'only events of this name' })),
            user: Type.Optional(
              Type.String({ minLength: 1, maxLength: 200, description: 'only events of this userId, anonymousId or distinct id' }),
            ),
          },
          { additionalProperties: false },
        ),
        produces: ['text/event-stream'],
        response: { 200: Type.String({ description: 'text/event-stream' }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const project = projectOf(request);
      const filter: LiveFilter = { event: request.query.event, user: request.query.user };
      const stream = new PassThrough();
      let dropped = 0;
      const write = (text: string) => {
        if (!stream.writableEnded) stream.write(text);
      };
      const unsubscribe = live.subscribe(project.id, filter, (events) => {
        if (stream.writableLength + stream.readableLength > MAX_BUFFERED_BYTES) {
          dropped += events.length;
          return;
        }
        if (dropped) {
          write(frame('dropped', { dropped }));
          dropped = 0;
        }
        write(frame('events', events));
      });
      const heartbeat = setInterval(() => write(`: heartbeat ${new Date().toISOString()}\n\n`), heartbeatMs);
      heartbeat.unref();
      const stop = () => {
        clearInterval(heartbeat);
        unsubscribe();
        open.delete(stream);
        if (!stream.writableEnded) stream.end();
      };
      open.add(stream);
      // the response closes when the client goes away (or the stream ends)
      reply.raw.once('close', stop);
      stream.once('close', stop);
      write(`retry: ${RETRY_MS}\n` + frame('ready', { project: project.slug, filter }));
      return (
        reply
          .header('content-type', 'text/event-stream; charset=utf-8')
          .header('cache-control', 'no-cache, no-transform')
          // nginx and friends buffer responses by default; a stream must go through as it is written
          .header('x-accel-buffering', 'no')
          // a stream is sent as it is written; the 200 schema above only documents it
          .send(stream as unknown as string)
      );
    },
  );
}
