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

// ---------------------------------------------------------------------------------------------
// Address classification

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

/**
 * [first address, prefix length, what it is]: every block of the IANA IPv4 special-purpose
 * registry that is not globally reachable, plus the deprecated 6to4 relay anycast. Globally
 * reachable entries (AS112 192.31.196.0/24 and 192.175.48.0/24, AMT 192.52.193.0/24) stay allowed.
 */
const IPV4_BLOCKS: Array<[string, number, string]> = [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'shared (CGNAT)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'documentation (TEST-NET-1)'],
  ['192.88.99.0', 24, 'deprecated 6to4 relay'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation (TEST-NET-2)'],
  ['203.0.113.0', 24, 'documentation (TEST-NET-3)'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];

function classifyIpv4(ip: string): string | null {
  const n = ipv4ToInt(ip);
  for (const [base, bits, what] of IPV4_BLOCKS) {
    const size = 2 ** (32 - bits);
    const start = ipv4ToInt(base);
    if (n >= start && n < start + size) return what;
  }
  return null;
}

/** The eight 16-bit groups of an IPv6 address (with an embedded dotted IPv4 tail expanded). */
function ipv6Groups(ip: string): number[] {
  let addr = ip.split('%')[0].toLowerCase();
  const dotted = addr.match(/(\d+\.\d+\.\d+\.\d+)$/);
  if (dotted) {
    const n = ipv4ToInt(dotted[1]);
    addr = addr.slice(0, -dotted[1].length) + `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, tail] = addr.includes('::') ? addr.split('::') : [addr, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : new Array(8 - headGroups.length - tailGroups.length).fill('0');
  return [...headGroups, ...fill, ...tailGroups].map((g) => parseInt(g, 16));
}

const v4Of = (high: number, low: number) => `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;

/** [first groups, prefix length, what it is]: the IANA IPv6 special-purpose blocks that are not globally reachable. */
const IPV6_BLOCKS: Array<[number[], number, string]> = [
  [[0, 0, 0, 0, 0xffff, 0], 96, 'IPv4-translated'],
  [[0x64, 0xff9b, 1], 48, 'local-use NAT64'],
  [[0x100, 0, 0, 0], 64, 'discard-only'],
  [[0x100, 0, 0, 1], 64, 'dummy'],
  [[0x2001, 0], 32, 'Teredo'],
  [[0x2001, 2, 0], 48, 'benchmarking'],
  [[0x2001, 0x10], 28, 'deprecated ORCHID'],
  [[0x2001, 0xdb8], 32, 'documentation'],
  [[0x3fff], 20, 'documentation'],
  [[0x5f00], 16, 'SRv6 SID'],
  [[0xfc00], 7, 'unique-local'],
  [[0xfe80], 10, 'link-local'],
  [[0xfec0], 10, 'site-local'],
  [[0xff00], 8, 'multicast'],
];

function inBlock(g: number[], base: number[], bits: number): boolean {
  for (let i = 0; bits > 0; i++, bits -= 16) {
    const mask = bits >= 16 ? 0xffff : (0xffff << (16 - bits)) & 0xffff;
    if ((g[i] & mask) !== ((base[i] ?? 0) & mask)) return false;
  }
  return true;
}

function classifyIpv6(ip: string): string | null {
  const g = ipv6Groups(ip);
  const zeroUpTo = (k: number) => g.slice(0, k).every((x) => x === 0);
  if (zeroUpTo(8)) return 'unspecified';
  if (zeroUpTo(7) && g[7] === 1) return 'loopback';
  // forms that reach an IPv4 address are judged by it: ::ffff:a.b.c.d (mapped), ::a.b.c.d
  // (compatible, deprecated), 64:ff9b::/96 (NAT64: a gateway forwards to it), 2002::/16 (6to4)
  if (zeroUpTo(5) && g[5] === 0xffff) return classifyIpv4(v4Of(g[6], g[7]));
  if (zeroUpTo(6)) return classifyIpv4(v4Of(g[6], g[7]));
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return classifyIpv4(v4Of(g[6], g[7]));
  if (g[0] === 0x2002) return classifyIpv4(v4Of(g[1], g[2]));
  return IPV6_BLOCKS.find(([base, bits]) => inBlock(g, base, bits))?.[2] ?? null;
}

/**
 * What kind of non-public address `ip` is ("private", "loopback", "link-local", ...), or null for a
 * public one. IPv4-mapped and NAT64 IPv6 addresses are judged by the IPv4 address they carry.
 */
export function classifyAddress(ip: string): string | null {
  const family = net.isIP(ip);
  if (family === 4) return classifyIpv4(ip);
  if (family === 6) return classifyIpv6(ip);
  return 'invalid';
}

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

export function createOutboundHttp(opts: OutboundOptions): OutboundHttp {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxRedirects = opts.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const userAgent = opts.userAgent ?? 'Vigil-Alerts';

  function hop(url: URL, method: string, headers: Record<string, string>, body: string | undefined, deadline: number): Promise<Hop> {
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
        lookup: guardedLookup(opts, (err) => (guardError = err)) as unknown as typeof dns.lookup,
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
        const res = await hop(url, method, headers, body, deadline);
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
