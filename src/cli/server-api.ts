/**
 * Commands that read events while a server runs go through its API: the server holds the event
 * store (DuckDB lets one process open the file). `--url`/`--key` (or VIGIL_URL/VIGIL_API_KEY) name
 * the server and a key with the read scope; without them the command opens the stores itself, and
 * a store held by a server is one line saying so.
 */
import { VigilError } from '../errors.js';
import { EventStoreLockedError } from '../storage/events/store-locked.js';

export interface ServerApi {
  url: string;
  key: string;
}

export interface ServerApiOptions {
  url?: string;
  key?: string;
}

const cliError = (message: string) => new VigilError('VIGIL_ERR_BAD_REQUEST', message);

/** The server to ask: --url and --key, else VIGIL_URL and VIGIL_API_KEY; undefined without a URL. */
export function serverApi(o: ServerApiOptions, env: NodeJS.ProcessEnv = process.env): ServerApi | undefined {
  const url = o.url ?? (env.VIGIL_URL || undefined);
  if (url === undefined) return undefined;
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    // reported below
  }
  if (!parsed || !/^https?:$/.test(parsed.protocol))
    throw cliError(`--url "${url}" is not the address of a Vigil server, such as http://localhost:3000`);
  const key = o.key ?? (env.VIGIL_API_KEY || undefined);
  if (key === undefined) throw cliError('--url needs an API key with the read scope: --key <key> or VIGIL_API_KEY');
  return { url: url.replace(/\/+$/, ''), key };
}

/** The one-line message for a store a server holds, or null for any other error. */
export function storeInUseError(err: unknown, opts: { viaApi: boolean }): VigilError | null {
  if (!(err instanceof EventStoreLockedError)) return null;
  const holder = err.holderPid === null ? 'another process' : `another process (PID ${err.holderPid})`;
  const way = opts.viaApi ? 'stop it first, or pass --url <server> --key <read key> to go through its API' : 'stop the server first';
  return new VigilError(
    'VIGIL_ERR_CONFLICT',
    `the event store ${err.file} is open in ${holder}, most likely a running Vigil server: ${way}`,
  );
}

const reason = (err: unknown) => {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
};

async function get(api: ServerApi, path: string): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${api.key}` } });
  } catch (err) {
    throw cliError(`cannot reach the server at ${api.url}: ${reason(err)}`);
  }
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
    throw cliError(`the server at ${api.url} answered ${res.status}: ${body?.error?.message ?? res.statusText}`);
  }
  return res;
}

const projectPath = (slug: string, rest: string) => `/api/projects/${encodeURIComponent(slug)}/${rest}`;

/** Where an export goes: opened once the server has accepted the request, finished at the end. */
export type ExportOutput = () => { out: NodeJS.WritableStream; finish(): Promise<void> };

/**
 * Writes the server's export (GET /api/projects/:slug/export) as it arrives; returns how many
 * events it held. `toMs` undefined: no end.
 */
export async function exportFromServer(
  api: ServerApi,
  slug: string,
  window: { fromMs: number; toMs?: number },
  open: ExportOutput,
): Promise<number> {
  const query = new URLSearchParams({ from: new Date(window.fromMs).toISOString() });
  if (window.toMs !== undefined) query.set('to', new Date(window.toMs).toISOString());
  const res = await get(api, projectPath(slug, `export?${query}`));
  const { out, finish } = open();
  let events = 0;
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      for (const byte of chunk) if (byte === 0x0a) events++;
      if (!out.write(chunk)) await new Promise((r) => out.once('drain', r));
    }
  } catch (err) {
    throw cliError(`the export from ${api.url} was cut short after ${events} events: ${reason(err)}`);
  }
  await finish();
  return events;
}

/** GET /api/projects/:slug/metrics: the catalog as the server lists it. */
export async function metricsFromServer<T>(api: ServerApi, slug: string): Promise<T[]> {
  const res = await get(api, projectPath(slug, 'metrics'));
  return ((await res.json()) as { metrics: T[] }).metrics;
}
