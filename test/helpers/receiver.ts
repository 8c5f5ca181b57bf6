/**
 * A loopback HTTP receiver that stands in for a third-party service (Slack, Jira, ...): it records
 * every request and answers as told — a fixed reply, a queue of replies, or a function of the request.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  /** path and query, as sent */
  path: string;
  /** path without the query */
  pathname: string;
  query: URLSearchParams;
  /** lower-case names */
  headers: http.IncomingHttpHeaders;
  body: string;
  /** the body parsed as JSON (throws when it is not) */
  json<T = any>(): T;
}

export interface Reply {
  status?: number;
  /** an object is sent as JSON */
  body?: string | object;
  headers?: Record<string, string>;
  /** wait before answering */
  delayMs?: number;
  /** never answer (the connection stays open until the client gives up or the receiver closes) */
  hang?: boolean;
}

export type Responder = (req: ReceivedRequest) => Reply | Promise<Reply>;

export interface Receiver {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  requests: ReceivedRequest[];
  /** answer every request with `reply` (or what `reply(req)` returns) from now on */
  respond(reply: Reply | Responder): void;
  /** answer the next requests with these, in order, then go back to the default */
  enqueue(...replies: Reply[]): void;
  close(): Promise<void>;
}

export async function startReceiver(initial: Reply | Responder = { status: 200, body: 'ok' }): Promise<Receiver> {
  let responder: Responder = typeof initial === 'function' ? initial : () => initial;
  const queue: Reply[] = [];
  const requests: ReceivedRequest[] = [];

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://receiver');
      const received: ReceivedRequest = {
        method: req.method ?? '',
        path: req.url ?? '/',
        pathname: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body,
        json: () => JSON.parse(body),
      };
      requests.push(received);
      let reply: Reply;
      try {
        reply = queue.shift() ?? (await responder(received));
      } catch (err) {
        reply = { status: 500, body: `receiver failed: ${(err as Error).message}` };
      }
      if (reply.hang) return;
      if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
      const isJson = typeof reply.body === 'object';
      const text = isJson ? JSON.stringify(reply.body) : (reply.body ?? '');
      res.writeHead(reply.status ?? 200, { 'content-type': isJson ? 'application/json' : 'text/plain', ...reply.headers });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    respond(reply) {
      responder = typeof reply === 'function' ? reply : () => reply;
    },
    enqueue(...replies) {
      queue.push(...replies);
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
