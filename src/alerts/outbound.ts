/**
 * Outbound HTTP for alert destinations: https only (unless allowed), an SSRF guard on every address
 * actually connected to (the check runs inside the socket's DNS lookup, so a host cannot resolve to
 * a public address for the check and a private one for the connection), redirects followed by hand
 * and checked again, one deadline for the whole exchange, and a cap on the response body.
 *
 * Error messages name the host only, never the path or query: Slack, Teams and Telegram URLs carry
 * their credential in the path.
 */
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { ENV_NAMES } from '../config.js';
import { badRequest } from '../errors.js';
import { classifyAddress } from './address-classes.js';

export interface OutboundRequest {
  method: 'GET' | 'POST' | 'PUT';
  url: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface OutboundResponse {
  status: number;
  /** lower-case names; repeated headers joined with ", " */
  headers: Record<string, string>;
  /** at most `maxBytes` (1 MiB) of the body, decoded as UTF-8 */
  body: string;
  /** the body was longer than `maxBytes` and was not read to its end */
  truncated?: boolean;
  /** the URL that answered, after redirects */
  url?: string;
}

export interface OutboundHttp {
  request(req: OutboundRequest): Promise<OutboundResponse>;
}

export type OutboundErrorCode =
  | 'invalid_url'
  | 'scheme_not_allowed'
  | 'private_address'
  | 'dns'
  | 'connection'
  | 'timeout'
  | 'too_many_redirects';

/** A request that did not get an answer. `retryable`: a later attempt may succeed (timeouts, DNS, connection errors). */
export class OutboundError extends Error {
  constructor(
    readonly code: OutboundErrorCode,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'OutboundError';
  }
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}
/** DNS behind a small interface, so tests can make a name resolve where they need it to. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async (hostname) => {
  const all = await dns.promises.lookup(hostname, { all: true, verbatim: true });
  return all.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

export interface AddressPolicy {
  /** private, loopback, link-local, ... addresses are allowed (VIGIL_ALERTS_ALLOW_PRIVATE_URLS) */
  allowPrivate: boolean;
  /** exact addresses allowed even when private (a known relay; tests) */
  allowAddresses?: readonly string[];
  resolve?: Resolver;
}

export interface UrlPolicy extends AddressPolicy {
  /** plain http is allowed (VIGIL_ALERTS_ALLOW_HTTP) */
  allowHttp: boolean;
}

export interface OutboundOptions extends UrlPolicy {
  /** for the whole exchange, redirects and body included */
  timeoutMs?: number;
  maxBytes?: number;
  maxRedirects?: number;
  userAgent?: string;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_BYTES = 1024 * 1024;
export const DEFAULT_MAX_REDIRECTS = 3;

function refusal(host: string, address: string, what: string): string {
  const kind = `${/^[aeiou]/.test(what) ? 'an' : 'a'} ${what} address`;
  const shown = host === address ? `${address} is ${kind}` : `${host} resolves to ${kind} ${address}`;
  return `destination host ${shown}; set ${ENV_NAMES.alertsAllowPrivateUrls}=true to allow it`;
}

/** Why `address` may not be connected to under `policy`, or null when it may. */
function refusedAddress(host: string, address: string, policy: AddressPolicy): string | null {
  if (policy.allowPrivate || policy.allowAddresses?.includes(address)) return null;
  const what = classifyAddress(address);
  return what === null ? null : refusal(host, address, what);
}

function stripBrackets(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

/** Resolves `host` and checks every address; returns the addresses (throws OutboundError when refused or unresolvable). */
export async function resolveChecked(host: string, policy: AddressPolicy): Promise<ResolvedAddress[]> {
  const bare = stripBrackets(host);
  const family = net.isIP(bare);
  let addresses: ResolvedAddress[];
  if (family) addresses = [{ address: bare, family: family as 4 | 6 }];
  else {
    try {
      addresses = await (policy.resolve ?? systemResolver)(bare);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new OutboundError('dns', `destination host ${bare} could not be resolved (${code})`, true);
    }
    if (addresses.length === 0) throw new OutboundError('dns', `destination host ${bare} could not be resolved (no address)`, true);
  }
  // one private address is enough to refuse: which one a connection would use is not ours to pick
  for (const a of addresses) {
    const why = refusedAddress(bare, a.address, policy);
    if (why) throw new OutboundError('private_address', why, false);
  }
  return addresses;
}

// ---------------------------------------------------------------------------------------------
// URL checks

function parseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new OutboundError('invalid_url', 'destination URL is not a valid absolute URL', false);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new OutboundError('invalid_url', `destination URL must use https (not ${url.protocol.slice(0, -1)})`, false);
  if (url.username || url.password)
    throw new OutboundError('invalid_url', 'destination URL must not contain a user name or password', false);
  return url;
}

function checkScheme(url: URL, allowHttp: boolean): void {
  if (url.protocol === 'http:' && !allowHttp) {
    throw new OutboundError(
      'scheme_not_allowed',
      `destination URL must use https (plain http is refused; set ${ENV_NAMES.alertsAllowHttp}=true to allow it)`,
      false,
    );
  }
}

/**
 * Checks a destination URL when it is saved: scheme, syntax, and where its host resolves. Throws a
 * 400 (badRequest) whose details name `field`; a DNS failure is a 400 too (the host must resolve now).
 */
export async function checkUrl(raw: string, opts: UrlPolicy & { field?: string }): Promise<void> {
  const field = opts.field ?? 'config.url';
  try {
    const url = parseUrl(raw);
    checkScheme(url, opts.allowHttp);
    await resolveChecked(url.hostname, opts);
  } catch (err) {
    if (err instanceof OutboundError) throw badRequest(err.message, { field, reason: err.code });
    throw err;
  }
}

/** The same check for a host that is not reached over HTTP (the SMTP server). */
export async function checkHost(host: string, opts: AddressPolicy & { field?: string }): Promise<void> {
  try {
    await resolveChecked(host, opts);
  } catch (err) {
    if (err instanceof OutboundError) throw badRequest(err.message, { field: opts.field ?? 'config.host', reason: err.code });
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Requests

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/** A `lookup` for http.request that resolves, checks, and hands the socket only checked addresses. */
function guardedLookup(policy: AddressPolicy, onRefused: (err: OutboundError) => void) {
  return (hostname: string, options: dns.LookupOptions, callback: LookupCallback): void => {
    resolveChecked(hostname, policy).then(
      (addresses) => {
        const wanted = options.family === 4 || options.family === 6 ? addresses.filter((a) => a.family === options.family) : addresses;
        if (wanted.length === 0) {
          callback(Object.assign(new Error(`no IPv${options.family} address for ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
        } else if (options.all)
          callback(
            null,
            wanted.map((a) => ({ address: a.address, family: a.family })),
          );
        else callback(null, wanted[0].address, wanted[0].family);
      },
      (err: OutboundError) => {
        onRefused(err);
        callback(err as unknown as NodeJS.ErrnoException, '', 0);
      },
    );
  };
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** headers that carry a credential for one origin: dropped when a redirect leaves it */
const ORIGIN_BOUND_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];

interface Hop {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  truncated: boolean;
}

interface HopLimits {
  policy: AddressPolicy;
  timeoutMs: number;
  maxBytes: number;
  userAgent: string;
}

/** One request and its answer (no redirect followed), read up to `limits.maxBytes`, by `deadline`. */
function hop(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
  deadline: number,
  limits: HopLimits,
): Promise<Hop> {
  const { policy, timeoutMs, maxBytes, userAgent } = limits;
  return new Promise<Hop>((resolve, reject) => {
    let settled = false;
    let guardError: OutboundError | null = null;
    const finish = (err: Error | null, value?: Hop) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(value!);
    };
    const requestHeaders: Record<string, string | number> = { 'user-agent': userAgent, ...headers };
    if (body !== undefined) requestHeaders['content-length'] = Buffer.byteLength(body);
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.request(url, {
      method,
      headers: requestHeaders,
      agent: false,
      lookup: guardedLookup(policy, (err) => (guardError = err)) as unknown as typeof dns.lookup,
    });
    const timer = setTimeout(
      () => {
        const err = new OutboundError('timeout', `destination ${url.host} did not answer within ${timeoutMs} ms`, true);
        finish(err);
        req.destroy(err);
      },
      Math.max(0, deadline - Date.now()),
    );
    req.on('error', (err) => {
      if (guardError) return finish(guardError);
      if (err instanceof OutboundError) return finish(err);
      const code = (err as NodeJS.ErrnoException).code;
      finish(new OutboundError('connection', `could not reach ${url.host}: ${code ?? err.message}`, true));
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let truncated = false;
      const done = () => finish(null, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), truncated });
      res.on('data', (chunk: Buffer) => {
        if (truncated) return;
        const room = maxBytes - size;
        if (chunk.length > room) {
          chunks.push(chunk.subarray(0, room));
          size = maxBytes;
          truncated = true;
          // stop reading: the rest is never downloaded
          done();
          res.destroy();
          req.destroy();
          return;
        }
        chunks.push(chunk);
        size += chunk.length;
      });
      res.on('end', done);
      res.on('error', (err) =>
        finish(
          new OutboundError(
            'connection',
            `connection to ${url.host} failed while reading the answer: ${(err as NodeJS.ErrnoException).code ?? err.message}`,
            true,
          ),
        ),
      );
      res.on('close', () => {
        if (!res.complete) finish(new OutboundError('connection', `connection to ${url.host} closed before the answer ended`, true));
      });
    });
    req.end(body);
  });
}

export function createOutboundHttp(opts: OutboundOptions): OutboundHttp {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const limits: HopLimits = {
    policy: opts,
    timeoutMs,
    maxBytes: opts.maxBytes ?? DEFAULT_MAX_BYTES,
    userAgent: opts.userAgent ?? 'Vigil-Alerts',
  };
  const maxRedirects = opts.maxRedirects ?? DEFAULT_MAX_REDIRECTS;

  return {
    async request(req: OutboundRequest): Promise<OutboundResponse> {
      const deadline = Date.now() + timeoutMs;
      let url = parseUrl(req.url);
      let method: string = req.method;
      let body = req.body;
      const headers: Record<string, string> = Object.fromEntries(Object.entries(req.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
      for (let redirects = 0; ; redirects++) {
        checkScheme(url, opts.allowHttp);
        // IP literals never reach the lookup: check them here (names are checked in the lookup)
        const literal = stripBrackets(url.hostname);
        if (net.isIP(literal)) await resolveChecked(literal, opts);
        const res = await hop(url, method, headers, body, deadline, limits);
        const location = res.headers.location;
        if (!REDIRECTS.has(res.status) || !location) {
          return {
            status: res.status,
            headers: Object.fromEntries(
              Object.entries(res.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v ?? '')]),
            ),
            body: res.body.toString('utf8'),
            truncated: res.truncated,
            url: url.toString(),
          };
        }
        if (redirects >= maxRedirects)
          throw new OutboundError('too_many_redirects', `destination ${url.host} redirected more than ${maxRedirects} times`, false);
        let next: URL;
        try {
          next = parseUrl(new URL(location, url).toString());
        } catch (err) {
          throw err instanceof OutboundError ? new OutboundError(err.code, `redirect from ${url.host}: ${err.message}`, false) : err;
        }
        if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
          method = 'GET';
          body = undefined;
          delete headers['content-type'];
        }
        if (next.origin !== url.origin) for (const h of ORIGIN_BOUND_HEADERS) delete headers[h];
        url = next;
      }
    },
  };
}
