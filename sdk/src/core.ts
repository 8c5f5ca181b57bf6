/**
 * The SDK's logic without the browser: identity, sessions, the bounded queue, batching, retries
 * with backoff and the unload hand-off. Every side effect (clock, randomness, storage, network,
 * timers, page context) comes in through `Env`, so the unit tests drive it with fakes and
 * browser.ts wires the real ones.
 */

export type Props = Record<string, unknown>;

/**
 * One message as the SDK posts it (Segment's spec); test/integration/api-contract.test.ts checks
 * it against what the server's ingest reads (src/ingest/segment-spec.ts).
 */
export interface Message {
  type: 'track' | 'page' | 'identify' | 'group';
  messageId: string;
  /** ISO 8601 */
  timestamp: string;
  anonymousId: string;
  userId?: string;
  event?: string;
  name?: string;
  groupId?: string;
  properties?: Props;
  traits?: Props;
  context: {
    library: { name: string; version: string };
    page: PageContext;
    userAgent: string;
    locale: string;
    sessionId: string;
  };
}

/** The body of POST /v1/batch: the key rides in it, as a beacon cannot set headers. */
export interface BatchBody {
  batch: Message[];
  /** ISO 8601 */
  sentAt: string;
  writeKey: string;
}

export interface Options {
  /** the Vigil server, e.g. https://vigil.example.com (default: where sdk.js came from) */
  host?: string;
  /** send as soon as this many events wait */
  flushAt?: number;
  /** send what waits at least this often */
  flushIntervalMs?: number;
  /** a page view at start and on every SPA route change */
  trackPages?: boolean;
}

export interface KeyValue {
  get(key: string): string | null;
  set(key: string, value: string): void;
}

export interface PageContext {
  path: string;
  referrer: string;
  url: string;
  title: string;
  search: string;
}

export interface Env {
  version: string;
  now(): number;
  uuid(): string;
  /** in [0, 1) */
  random(): number;
  /** survives visits (localStorage) */
  local: KeyValue;
  /** one tab's visit (sessionStorage) */
  session: KeyValue;
  /** POSTs the body; resolves to the HTTP status, 0 when the network failed */
  post(url: string, body: string): Promise<number>;
  /** hands the body to the browser to send after the page is gone; false when it refused */
  beacon(url: string, body: string): boolean;
  /** runs fn after ms; returns the cancel function */
  setTimer(fn: () => void, ms: number): () => void;
  context(): { page: PageContext; userAgent: string; locale: string };
}

export interface Client {
  init(writeKey: string, options?: Options): void;
  track(event: string, properties?: Props): void;
  page(name?: string | Props, properties?: Props): void;
  identify(userId?: string | Props, traits?: Props): void;
  group(groupId: string, traits?: Props): void;
  /** forgets the user: a new anonymousId and session, no userId (call it on sign-out) */
  reset(): void;
  /** sends everything queued now; resolves when the attempt is over */
  flush(): Promise<void>;
  /** the page is going away: everything queued leaves by beacon */
  unload(): void;
  /** the options in force after init (browser.ts reads trackPages) */
  options?: Required<Options>;
}

/** A visit ends after 30 minutes without events (the convention, and the server's: src/ingest/sessions.ts). */
export const SESSION_IDLE_MS = 30 * 60 * 1000;
/** Events kept in memory while the server is unreachable; the oldest go first beyond it. */
export const MAX_QUEUE = 1000;
/** Events in one request. */
export const MAX_BATCH = 100;
/** Characters in one request body: well under the server's 500 KB batch limit. */
export const MAX_BATCH_CHARS = 400_000;
/** Characters in one beacon: browsers refuse beacons once 64 KB are pending (and UTF-8 may take more bytes than characters). */
export const MAX_BEACON_CHARS = 30_000;
/** Retry delays double from 1 s up to 1 minute. */
export const BACKOFF_BASE_MS = 1000;
export const BACKOFF_MAX_MS = 60_000;

export const LIBRARY = 'vigil.js';
export const KEY_ANONYMOUS_ID = 'vigil_aid';
export const KEY_USER_ID = 'vigil_uid';
export const KEY_SESSION = 'vigil_sid';

/** The delay before retry number `attempt` (1, 2, ...), with ±25% jitter so clients do not retry in step. */
export function backoffMs(attempt: number, random: number): number {
  return Math.min(BACKOFF_BASE_MS * 2 ** (attempt - 1), BACKOFF_MAX_MS) * (0.75 + random / 2);
}

/** The session id for an event at `now`: the stored one unless idle for SESSION_IDLE_MS; marks the activity. */
export function touchSession(store: KeyValue, now: number, uuid: () => string): string {
  const [id, last] = (store.get(KEY_SESSION) || '').split('|');
  const sid = id && now - Number(last) < SESSION_IDLE_MS ? id : uuid();
  store.set(KEY_SESSION, sid + '|' + now);
  return sid;
}

/** How many of the first messages go in one request of at most `maxChars` (always at least one). */
export function batchSize(messages: readonly unknown[], maxChars: number): number {
  let n = 0;
  for (let chars = 0; n < messages.length && n < MAX_BATCH; n++) {
    chars += JSON.stringify(messages[n]).length + 1;
    if (n && chars > maxChars) break;
  }
  return n;
}

/** Worth sending again later: no answer, a timeout, rate limiting or a server error. Other 4xx would fail again. */
export const retryable = (status: number) => !status || status === 408 || status === 429 || status >= 500;

// long because the client is one closure over its queue, storage and identity (the snippet's size budget keeps it so)
export function createClient(env: Env): Client {
  const queue: Message[] = [];
  let inflight: Message[] = [];
  let writeKey = '';
  let opts: Required<Options> | undefined;
  let sending: Promise<void> | undefined;
  let cancelTimer: (() => void) | undefined;
  let attempts = 0;

  const endpoint = () => opts!.host + '/v1/batch';
  // Beacon cannot set headers, and a text/plain body needs no CORS preflight: the key goes in the body
  const body = (batch: Message[]) => JSON.stringify({ batch, sentAt: new Date(env.now()).toISOString(), writeKey } satisfies BatchBody);

  const anonymousId = () => env.local.get(KEY_ANONYMOUS_ID) || newAnonymousId();
  function newAnonymousId() {
    const id = env.uuid();
    env.local.set(KEY_ANONYMOUS_ID, id);
    return id;
  }

  function later(ms: number) {
    cancelTimer?.();
    cancelTimer = env.setTimer(() => {
      cancelTimer = undefined;
      client.flush();
    }, ms);
  }

  function enqueue(type: Message['type'], fields: Pick<Message, 'event' | 'name' | 'groupId' | 'properties' | 'traits'>) {
    const now = env.now();
    const { page, userAgent, locale } = env.context();
    const message: Message = {
      type,
      messageId: env.uuid(),
      timestamp: new Date(now).toISOString(),
      anonymousId: anonymousId(),
      ...fields,
      context: {
        library: { name: LIBRARY, version: env.version },
        page,
        userAgent,
        locale,
        sessionId: touchSession(env.session, now, env.uuid),
      },
    };
    const userId = env.local.get(KEY_USER_ID);
    if (userId) message.userId = userId;
    if (queue.push(message) > MAX_QUEUE) queue.shift();
    // while backing off (attempts > 0) the retry timer decides; before init nothing is sent
    if (!opts || attempts) return;
    if (queue.length >= opts.flushAt) client.flush();
    else if (!cancelTimer) later(opts.flushIntervalMs);
  }

  async function send() {
    while (queue.length && opts) {
      inflight = queue.splice(0, batchSize(queue, MAX_BATCH_CHARS));
      const status = await env.post(endpoint(), body(inflight));
      const batch = inflight;
      inflight = [];
      if (retryable(status)) {
        queue.unshift(...batch);
        queue.splice(0, queue.length - MAX_QUEUE);
        later(backoffMs(++attempts, env.random()));
        return;
      }
      // delivered, or refused for good (a 400 lists the rejected events; the others were stored)
      attempts = 0;
    }
    // nothing failed (the queue may also have left by beacon during a backoff)
    attempts = 0;
  }

  const client: Client = {
    init(key, options = {}) {
      if (opts) return;
      writeKey = key;
      opts = client.options = { host: '', flushAt: 10, flushIntervalMs: 2000, trackPages: true, ...options };
      opts.host = opts.host.replace(/\/+$/, '');
      if (queue.length) later(0);
    },
    track(event, properties = {}) {
      if (event) enqueue('track', { event, properties });
    },
    page(name, properties) {
      if (typeof name === 'object') [name, properties] = [undefined, name];
      enqueue('page', { name, properties: { ...env.context().page, ...properties } });
    },
    identify(userId, traits) {
      if (typeof userId === 'object') [userId, traits] = [undefined, userId];
      if (userId) env.local.set(KEY_USER_ID, String(userId));
      enqueue('identify', { traits: traits || {} });
    },
    group(groupId, traits = {}) {
      if (groupId) enqueue('group', { groupId, traits });
    },
    reset() {
      env.local.set(KEY_USER_ID, '');
      env.session.set(KEY_SESSION, '');
      newAnonymousId();
    },
    flush() {
      cancelTimer?.();
      cancelTimer = undefined;
      return (sending ||= send().finally(() => (sending = undefined)));
    },
    unload() {
      if (!opts) return;
      // the batch in flight may die with the page: send it again (the server stores a messageId once)
      const rest = inflight.concat(queue.splice(0));
      while (rest.length) {
        const chunk = rest.splice(0, batchSize(rest, MAX_BEACON_CHARS));
        if (!env.beacon(endpoint(), body(chunk))) {
          queue.push(...chunk, ...rest);
          return;
        }
      }
    },
  };
  return client;
}
