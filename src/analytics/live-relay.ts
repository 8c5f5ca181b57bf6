/**
 * The live view across processes (scaled mode): an ingest process tells the others what it accepted
 * with PostgreSQL's NOTIFY, and every process LISTENs and publishes what the others accepted to its
 * own live subscribers. Best effort, like the live view itself: a row too large for one
 * notification, or one sent while the connection is down, is not shown (it is stored all the same).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { LiveFeed } from './live.js';

const CHANNEL = 'vigil_live';
/** NOTIFY payloads must stay under 8,000 bytes */
const MAX_PAYLOAD = 7_800;
const RECONNECT_MS = 1_000;
/**
 * Rows a process relays per second at most: the live view is read by people, and relaying every
 * row of a busy ingest process would cost PostgreSQL as much as storing it. Beyond this the rows
 * are stored (and shown to this process's own viewers) but not relayed.
 */
export const MAX_RELAYED_ROWS_PER_S = 200;

interface Note {
  /** the process that sent it (it has shown the rows to its own subscribers already) */
  from: string;
  projectId: number;
  rows: string[];
}

interface Log {
  warn(obj: object, msg: string): void;
}

/** Groups rows into NOTIFY payloads under the size limit; a row that cannot fit alone is left out. */
export function notePayloads(from: string, projectId: number, rows: readonly string[]): string[] {
  const payloads: string[] = [];
  const overhead = Buffer.byteLength(JSON.stringify({ from, projectId, rows: [] }));
  let batch: string[] = [];
  let size = overhead;
  const flush = () => {
    if (batch.length) payloads.push(JSON.stringify({ from, projectId, rows: batch } satisfies Note));
    batch = [];
    size = overhead;
  };
  for (const row of rows) {
    const cost = Buffer.byteLength(JSON.stringify(row)) + 1;
    if (overhead + cost > MAX_PAYLOAD) continue;
    if (size + cost > MAX_PAYLOAD) flush();
    batch.push(row);
    size += cost;
  }
  flush();
  return payloads;
}

export class PostgresLiveRelay {
  private readonly id = randomBytes(6).toString('hex');
  private client: pg.Client | null = null;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private relayWindow = { startedAt: 0, rows: 0 };
  /** NOTIFYs go out one at a time on the listening connection */
  private sending: Promise<unknown> = Promise.resolve();

  private constructor(
    private url: string,
    private feed: LiveFeed,
    private log: Log,
  ) {}

  /** Listens on the channel (and keeps reconnecting while running). */
  static async start(url: string, feed: LiveFeed, log: Log): Promise<PostgresLiveRelay> {
    const relay = new PostgresLiveRelay(url, feed, log);
    await relay.connect();
    return relay;
  }

  /** What this process's ingest accepted: shown here at once, and sent to the other processes. */
  publish(projectId: number, rows: readonly string[]): void {
    this.feed.publish(projectId, rows);
    const client = this.client;
    if (!client || !rows.length) return;
    const now = Date.now();
    if (now - this.relayWindow.startedAt >= 1000) this.relayWindow = { startedAt: now, rows: 0 };
    const room = MAX_RELAYED_ROWS_PER_S - this.relayWindow.rows;
    if (room <= 0) return;
    const relayed = rows.length > room ? rows.slice(0, room) : rows;
    this.relayWindow.rows += relayed.length;
    for (const payload of notePayloads(this.id, projectId, relayed)) {
      this.sending = this.sending.then(() => client.query('SELECT pg_notify($1, $2)', [CHANNEL, payload])).catch(() => undefined);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 5_000 });
    client.on('notification', (n) => this.receive(n.payload));
    const lost = (why: string) => {
      if (this.client !== client) return;
      this.client = null;
      client.end().catch(() => undefined);
      this.log.warn({ error: why }, 'the live relay lost its PostgreSQL connection; reconnecting');
      this.reconnectLater();
    };
    client.on('error', (err) => lost(err.message));
    client.on('end', () => lost('connection ended'));
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    this.client = client;
  }

  private reconnectLater(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(async () => {
      this.timer = undefined;
      try {
        await this.connect();
      } catch (err) {
        this.log.warn({ error: err instanceof Error ? err.message : String(err) }, 'the live relay cannot reach PostgreSQL; retrying');
        this.reconnectLater();
      }
    }, RECONNECT_MS);
    this.timer.unref();
  }

  private receive(payload: string | undefined): void {
    if (!payload) return;
    let note: Note;
    try {
      note = JSON.parse(payload) as Note;
    } catch {
      return;
    }
    if (note.from === this.id || !Array.isArray(note.rows)) return;
    this.feed.publish(note.projectId, note.rows);
  }
}
