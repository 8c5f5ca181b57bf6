/**
 * Hostile requests for every route: the operations of the OpenAPI document plus the /v1 aliases it
 * hides. A request is a function of the seed and its index (the fixture is seeded the same way each
 * run: the same ids, new secrets), so `--seed S --only N` sends it again; sessions are filled in when
 * it is sent.
 */
import zlib from 'node:zlib';
import { Rng } from './prng.js';
import { hostileString, hostileValue, mutate, stringify, type Json } from './hostile.js';
import { validValue, type JsonSchema } from './schema-values.js';
import type { Fixture, PrincipalName } from './world.js';

export interface Operation {
  method: string;
  /** OpenAPI path template, e.g. /api/projects/{slug}/metrics/{id} */
  path: string;
  tag: string;
  query: { name: string; schema: JsonSchema }[];
  body: JsonSchema | undefined;
}

export interface FuzzRequest {
  index: number;
  route: string;
  routeClass: string;
  principal: PrincipalName;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
  notes: string[];
  /** ingest: the project the request's key points at and the tracked messageId of each event by index (null: not tracked) */
  ingest?: { project: 'main' | 'other' | null; messageIds: (string | null)[]; single: boolean };
  /** the request carries its own key (ingest): the principal's credentials are not added when it is sent */
  ownAuth?: boolean;
  /** sent as this many copies at once (a race), each to its path: the same one, or another invitation token */
  burstPaths?: string[];
  /** the session of the principal is replaced after a 2xx (sign-out, password change) */
  endsSession?: boolean;
}

type OpenApi = {
  paths: Record<
    string,
    Record<
      string,
      {
        tags?: string[];
        parameters?: { in: string; name: string; schema: JsonSchema }[];
        requestBody?: { content: Record<string, { schema: JsonSchema }> };
      }
    >
  >;
};

const SHORT_INGEST = ['t', 'p', 's', 'i', 'g', 'a', 'b'];
const LONG_OF_SHORT: Record<string, string> = { t: 'track', p: 'page', s: 'screen', i: 'identify', g: 'group', a: 'alias', b: 'batch' };

/** Every /v1 and /api operation of the document, and the /v1 aliases it hides. */
export function operationsOf(doc: OpenApi): Operation[] {
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    if (!path.startsWith('/v1') && !path.startsWith('/api/')) continue;
    if (path.startsWith('/api/docs')) continue;
    for (const [method, op] of Object.entries(methods)) {
      const params = op.parameters ?? [];
      ops.push({
        method: method.toUpperCase(),
        path,
        tag: op.tags?.[0] ?? 'other',
        query: params.filter((p) => p.in === 'query').map((p) => ({ name: p.name, schema: p.schema })),
        body: op.requestBody?.content['application/json']?.schema,
      });
    }
  }
  for (const s of SHORT_INGEST) ops.push({ method: 'POST', path: `/v1/${s}`, tag: 'ingest', query: [], body: undefined });
  return ops;
}

const RULE = { condition: { operator: '>', value: 100 }, severity: 'warning' };
const _PAST = () => new Date(Date.now() - 3 * 86_400_000).toISOString();

/** Bodies an allowed caller gets a 2xx for (see test/integration/permissions.test.ts): mutations of these reach the handlers. */
const SEEDS: Partial<Record<string, (rng: Rng) => Json>> = {
  'POST /api/setup': (r) => ({ email: `late${r.int(0, 9)}@fuzz.test`, password: 'correct horse battery staple' }),
  'POST /api/auth/sign-in': (r) => ({
    email: r.pick(['scratch@fuzz.test', 'nobody@fuzz.test']),
    password: r.pick(['correct horse battery staple', 'wrong password!!']),
  }),
  'POST /api/auth/register': (r) => ({ email: `new${r.int(0, 1e6)}@fuzz.test`, password: 'correct horse battery staple' }),
  'POST /api/auth/password': (r) => ({
    currentPassword: r.chance(0.3) ? 'correct horse battery staple' : 'not the password',
    newPassword: r.chance(0.8) ? 'correct horse battery staple' : 'short',
  }),
  'POST /api/invitations/{token}/accept': () => ({ password: 'correct horse battery staple', name: 'Invitee' }),
  'POST /api/projects': (r) => ({ slug: `p${r.int(0, 1e6)}`, name: 'P', timeZone: r.pick(['UTC', 'Europe/Berlin', 'America/St_Johns']) }),
  'PATCH /api/projects/{slug}': (r) => ({ name: 'Fuzz', timeZone: r.pick(['UTC', 'Asia/Kathmandu']) }),
  'POST /api/projects/{slug}/metrics': (r) =>
    r.pick<Json>([
      { name: `n${r.int(0, 1e6)}`, kind: 'event', status: 'draft', definition: { event: 'Signed Up' } },
      {
        name: `n${r.int(0, 1e6)}`,
        kind: 'event',
        definition: {
          event: 'Order Completed',
          measure: 'sum',
          property: 'amount',
          breakdowns: ['plan'],
          filters: [{ property: 'plan', op: 'eq', value: 'pro' }],
        },
      },
      {
        name: `n${r.int(0, 1e6)}`,
        kind: 'ratio',
        definition: { numerator: { event: 'Order Completed' }, denominator: { event: 'Signed Up' } },
      },
      {
        name: `n${r.int(0, 1e6)}`,
        kind: 'sql',
        definition: { sql: 'SELECT time_bucket(INTERVAL 1 hour, timestamp) AS bucket, count(*) AS value FROM events GROUP BY 1' },
      },
    ]),
  'POST /api/projects/{slug}/metrics/preview': (r) =>
    r.pick<Json>([
      { kind: 'event', definition: { event: 'Signed Up' }, buckets: 2 },
      {
        kind: 'sql',
        definition: {
          sql: r.pick([
            'SELECT 1 AS value',
            "SELECT count(*) AS value FROM events WHERE event = 'Signed Up'",
            'SELECT max(length(properties)) AS value FROM events',
          ]),
        },
        buckets: 3,
      },
    ]),
  'PATCH /api/projects/{slug}/metrics/{id}': () => ({ displayName: 'Renamed', detection: { sensitivity: 'high' } }),
  'POST /api/projects/{slug}/metrics/{id}/rules': () => ({ name: 'high', rule: RULE }),
  'PATCH /api/projects/{slug}/metrics/{id}/rules/{ruleId}': (r) => ({ enabled: r.chance(0.5) }),
  'POST /api/projects/{slug}/metrics/{id}/backtest': () => ({ from: '-1d', to: 'now' }),
  'POST /api/projects/{slug}/metrics/backtest': () => ({
    kind: 'event',
    definition: { event: 'Signed Up' },
    interval: '1h',
    from: '-3d',
    to: 'now',
    rule: RULE,
  }),
  'PATCH /api/projects/{slug}/members/{userId}': (r) => ({ role: r.pick(['viewer', 'editor']) }),
  'POST /api/projects/{slug}/invitations': (r) => ({ email: `guest${r.int(0, 1e6)}@fuzz.test`, role: 'viewer' }),
  'POST /api/projects/{slug}/keys': (r) => ({ name: 'ci', scopes: [r.pick(['read', 'ingest', 'write'])], expiresAt: '+90d' }),
  'POST /api/projects/{slug}/incidents/{id}/mute': () => ({ until: '+1h' }),
  'POST /api/projects/{slug}/incidents/{id}/assign': () => ({ userId: null }),
  'POST /api/projects/{slug}/incidents/{id}/comments': () => ({ body: 'looking' }),
  'POST /api/projects/{slug}/incidents/bulk': (r) => ({ ids: [r.int(1, 3)], action: r.pick(['acknowledge', 'resolve']) }),
  'POST /api/projects/{slug}/alert-rules': () => ({ name: 'a', destinationIds: [1] }),
  'POST /api/projects/{slug}/alert-rules/simulate': () => ({ filters: { minSeverity: 'major' }, days: 7 }),
  'PATCH /api/projects/{slug}/alert-rules/{id}': (r) => ({ enabled: r.chance(0.5), cooldownMinutes: 30 }),
  'POST /api/projects/{slug}/alert-rules/{id}/simulate': () => ({ days: 7 }),
  'POST /api/projects/{slug}/alert-destinations': () => ({ name: 'd', kind: 'pagerduty', secrets: { routingKey: 'R'.repeat(32) } }),
  'POST /api/projects/{slug}/alert-destinations/test': (r) => ({
    name: 'draft',
    kind: 'webhook',
    config: { url: r.pick(['http://127.0.0.1:9/hook', 'http://[::ffff:7f00:1]:9/', 'http://192.0.2.1/x', 'http://169.254.169.254/']) },
    secrets: { secret: 'x'.repeat(20) },
  }),
  'PATCH /api/projects/{slug}/alert-destinations/{id}': () => ({ config: { source: 'vigil' } }),
  'POST /api/auth/forgot-password': (r) => ({ email: r.pick(['scratch@fuzz.test', 'nobody@fuzz.test', 'SCRATCH@fuzz.test']) }),
  'POST /api/auth/password-resets/{token}': () => ({ password: 'correct horse battery staple' }),
  'PUT /api/projects/{slug}/detection': (r) => ({ enabled: true, sensitivity: r.pick(['low', 'medium', 'high', 4]), minExpected: 50 }),
};

// ---- ingest bodies ----

const EVENT_NAMES = ['Signed Up', 'Order Completed', 'Page Viewed', 'Button Clicked'];

function segmentEvent(rng: Rng, type: string, messageId: string): Record<string, Json> {
  const e: Record<string, Json> = { messageId };
  if (rng.chance(0.8)) e.userId = `u${rng.int(0, 50)}`;
  if (!e.userId || rng.chance(0.3)) e.anonymousId = `anon-${rng.int(0, 1000)}`;
  if (type === 'track') e.event = rng.pick(EVENT_NAMES);
  if (type === 'page' || type === 'screen') e.name = rng.pick(['Home', 'Pricing', 'Checkout']);
  if (type === 'group') e.groupId = `g${rng.int(0, 9)}`;
  if (type === 'alias') (e.previousId = `anon-${rng.int(0, 1000)}`), (e.userId = `u${rng.int(0, 50)}`);
  if (type === 'identify' || type === 'group') e.traits = { plan: rng.pick(['free', 'pro']), email: `u${rng.int(0, 50)}@fuzz.test` };
  e.properties = { plan: rng.pick(['free', 'pro']), amount: rng.int(1, 500), path: '/x' };
  e.context = {
    page: { path: rng.pick(['/', '/pricing', '/checkout']), referrer: 'https://www.example.com/a' },
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0',
    library: { name: 'fuzz', version: '1' },
  };
  const at = Date.now() - rng.int(0, 7 * 86_400_000);
  e.timestamp = rng.chance(0.8) ? new Date(at).toISOString() : at;
  if (rng.chance(0.3)) e.sentAt = new Date().toISOString();
  return e;
}

/** Extra weight on the fields ingest parses itself: times, ids, nesting, surrogates. */
function mutateEvent(rng: Rng, e: Record<string, Json>, notes: string[]): Json {
  if (rng.chance(0.5)) {
    const field = rng.pick([
      'timestamp',
      'sentAt',
      'originalTimestamp',
      'properties',
      'userId',
      'anonymousId',
      'event',
      'context',
      'traits',
      'type',
      'name',
    ]);
    const value = rng.weighted<() => Json>([
      [3, () => rng.pick([1e308, -1e308, 1e20, -1e20, 8_640_000_000_000_001, -8_640_000_000_000_001, 2 ** 53, -1, 0])],
      [
        2,
        () =>
          rng.pick([
            '\ud800',
            `x\udfffy`,
            '275760-09-13T00:00:00.001Z',
            '+275760-09-13T00:00:00Z',
            '0001-01-01T00:00:00Z',
            '9999-12-31T23:59:59Z',
            '2026-13-45T99:99:99Z',
          ]),
      ],
      [1, () => ({ deep: hostileValue(rng) })],
      [2, () => hostileValue(rng)],
    ])();
    e[field] = value;
    notes.push(`event.${field}`);
    return e;
  }
  const { value, notes: n } = mutate(rng, e, rng.int(1, 3));
  notes.push(...n.map((x) => `event: ${x}`));
  return value;
}

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'text/plain;charset=UTF-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=utf-16',
  'application/octet-stream',
  '*/*',
  'application/json;' + 'a'.repeat(3000),
  'text/html',
];

function gzip(b: Buffer): Buffer {
  return zlib.gzipSync(b);
}

/** A body's bytes and encoding, hostile at the byte level some of the time. */
function encodeBody(
  rng: Rng,
  text: string,
  limit: number,
  notes: string[],
): { body: Buffer; headers: Record<string, string>; intact: boolean } {
  const raw = Buffer.from(text);
  const kind = rng.weighted<string>([
    [70, 'plain'],
    [8, 'gzip'],
    [3, 'gzip-truncated'],
    [3, 'gzip-invalid'],
    [3, 'gzip-overlimit'],
    [2, 'gzip-bomb'],
    [2, 'plain-overlimit'],
    [2, 'odd-encoding'],
    [3, 'bad-utf8'],
    [2, 'truncated'],
    [2, 'empty'],
  ]);
  if (kind !== 'plain') notes.push(`body: ${kind}`);
  switch (kind) {
    case 'gzip':
      return { body: gzip(raw), headers: { 'content-encoding': rng.pick(['gzip', 'GZIP', 'x-gzip', ' gzip ']) }, intact: true };
    case 'gzip-truncated': {
      const z = gzip(raw);
      return { body: z.subarray(0, rng.int(0, z.length - 1)), headers: { 'content-encoding': 'gzip' }, intact: false };
    }
    case 'gzip-invalid':
      return {
        body: rng.chance(0.5) ? raw : Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), rng.bytes(rng.int(0, 64))]),
        headers: { 'content-encoding': 'gzip' },
        intact: false,
      };
    case 'gzip-overlimit':
      return {
        body: rng.chance(0.5) ? Buffer.alloc(limit + rng.int(1, 4096), 'x') : gzip(Buffer.alloc(limit + 1024, 'x')),
        headers: { 'content-encoding': 'gzip' },
        intact: false,
      };
    case 'gzip-bomb':
      return {
        body: gzip(Buffer.concat([Buffer.from('{"batch":['), Buffer.alloc(rng.pick([2, 20]) * 1024 * 1024, ' '), Buffer.from(']}')])),
        headers: { 'content-encoding': 'gzip' },
        intact: false,
      };
    case 'plain-overlimit':
      return { body: Buffer.alloc(limit + rng.int(1, 100_000), 'x'), headers: {}, intact: false };
    case 'odd-encoding':
      return {
        body: raw,
        headers: { 'content-encoding': rng.pick(['deflate', 'br', 'gzip, gzip', 'identity', 'compress', 'x'.repeat(200), 'gzip;q=1']) },
        intact: false,
      };
    case 'bad-utf8': {
      const at = rng.int(0, raw.length);
      return {
        body: Buffer.concat([
          raw.subarray(0, at),
          Buffer.from(rng.pick([[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80], [0x00]])),
          raw.subarray(at),
        ]),
        headers: {},
        intact: false,
      };
    }
    case 'truncated':
      return { body: raw.subarray(0, rng.int(0, Math.max(0, raw.length - 1))), headers: {}, intact: false };
    case 'empty':
      return { body: Buffer.alloc(0), headers: {}, intact: false };
    default:
      return { body: raw, headers: {}, intact: true };
  }
}

// ---- path parameters and query strings ----

const HOSTILE_PARAMS = [
  '0',
  '-1',
  '1.5',
  '1e3',
  'NaN',
  'Infinity',
  '99999999999999999999',
  '9007199254740993',
  '2147483648',
  '0x10',
  '..',
  '%2e%2e',
  '..%2f..%2fetc%2fpasswd',
  '%00',
  '%ff',
  '%ud800',
  'x'.repeat(5000),
  '%20',
  'null',
  'undefined',
  '__proto__',
  'constructor',
  "1'%20OR%20'1'='1",
  '1;DROP',
  '%F0%9F%99%82',
  '-0',
  '+1',
  '1,2',
];

function objectKeyOf(path: string): string | null {
  const m = /^(.*\{(?!slug\})[A-Za-z]+\})/.exec(path);
  return m ? m[1] : null;
}

function fillPath(rng: Rng, op: Operation, fx: Fixture, notes: string[], clean = false): string {
  const key = objectKeyOf(op.path);
  const destroys = op.method === 'DELETE' || op.path.endsWith('/archive');
  const known = key ? ((destroys ? fx.objects[`DELETE ${key}`] : undefined) ?? fx.objects[key]) : undefined;
  const params: Record<string, string> = known && (clean || rng.chance(0.85)) ? { ...rng.pick(known) } : {};
  const slugs =
    op.method === 'DELETE' && op.path === '/api/projects/{slug}'
      ? [fx.projects.scratch.slug]
      : [
          fx.projects.main.slug,
          fx.projects.main.slug,
          fx.projects.main.slug,
          fx.projects.main.slug,
          fx.projects.other.slug,
          fx.projects.scratch.slug,
        ];
  return op.path.replace(/\{([^}]+)\}/g, (_m, name: string) => {
    if (name === '*') return rng.pick(['track', 'x', '', '../api/projects', 'x'.repeat(3000)]);
    const hostile = !clean && (rng.chance(0.12) || (name !== 'slug' && params[name] === undefined && rng.chance(0.5)));
    if (hostile) {
      let v = rng.chance(0.8) ? rng.pick(HOSTILE_PARAMS) : encodeURIComponent(hostileString(rng).replace(/[\ud800-\udfff]/g, 'x'));
      const ids = /\/keys\/\{id\}/.test(op.path)
        ? fx.protectedIds.keys
        : /\{userId\}|\/users\/\{id\}/.test(op.path)
          ? fx.protectedIds.users
          : [];
      let coerced = NaN;
      try {
        coerced = Number(decodeURIComponent(v).trim());
      } catch {
        // not decodable: not a number either
      }
      if (ids.includes(coerced) || ids.includes(Math.trunc(coerced))) v = '0';
      notes.push(`param ${name}=${v.slice(0, 40)}`);
      return v;
    }
    if (name === 'slug') return clean && slugs.length > 1 ? fx.projects.main.slug : rng.pick(slugs);
    // no known object: an id nothing has (never a principal's user or key)
    return params[name] ?? String(rng.int(1000, 1010));
  });
}

/** Values a handler accepts for the query parameters the schemas leave as free strings (times, names, cursors). */
const QUERY_VALUES: Record<string, (rng: Rng) => string | undefined> = {
  from: (r) => r.pick(['-7d', '-1d', '-30d', '-2h', new Date(Date.now() - 3 * 86_400_000).toISOString()]),
  to: (r) => r.pick(['now', '-1h', new Date().toISOString()]),
  event: (r) => r.pick(EVENT_NAMES),
  user: (r) => `u${r.int(0, 50)}`,
  breakdown: (r) => r.pick(['plan', 'browser', 'country', 'page_path', 'os']),
  metric: (r) => String(r.int(1, 3)),
  rule: (r) => String(r.int(1, 2)),
  destination: (r) => String(r.int(1, 2)),
  incident: (r) => String(r.int(1, 3)),
  cursor: () => undefined,
  action: (r) => r.pick(['metric.create', 'api_key.create', 'invitation.create']),
  actor: () => 'owner@fuzz.test',
  targetType: (r) => r.pick(['metric', 'api_key', 'member']),
};

function queryString(rng: Rng, op: Operation, notes: string[], resolve: (ref: string) => JsonSchema, clean = false): string {
  const parts: string[] = [];
  for (const q of op.query) {
    const numeric = q.schema.type === 'integer' || q.schema.type === 'number';
    if (!rng.chance(numeric ? 0.85 : 0.6)) continue;
    let value: string | undefined;
    if (clean) {
      value = QUERY_VALUES[q.name] && !q.schema.enum ? QUERY_VALUES[q.name](rng) : String(validValue(rng, q.schema, resolve));
    } else if (numeric && rng.chance(0.5)) {
      value = rng.pick([
        'Infinity',
        'Infinity',
        '-Infinity',
        '1e999',
        '1e999',
        '-1e999',
        '1e308',
        'NaN',
        '-1',
        '0',
        '-0',
        '1.5',
        '99999999999999999999',
        '9007199254740993',
        '0x10',
        '1e3',
        '',
      ]);
      notes.push(`query ${q.name}=${value}`);
    } else if (rng.chance(0.15)) {
      value = rng.chance(0.5)
        ? rng.pick(['Infinity', '1e999', '-1', '0', 'NaN', '-0', '1.5', '99999999999999999999', '', '1e308'])
        : hostileString(rng);
      notes.push(`query ${q.name}`);
    } else if (QUERY_VALUES[q.name] && !q.schema.enum) {
      value = QUERY_VALUES[q.name](rng);
    } else {
      const v = validValue(rng, q.schema, resolve);
      value = typeof v === 'string' ? v : JSON.stringify(v);
    }
    if (value === undefined) continue;
    const enc = encodeURIComponent(value.replace(/[\ud800-\udfff]/g, '\ufffd'));
    parts.push(`${q.name}=${enc}`);
    if (rng.chance(0.03)) parts.push(`${q.name}=${enc}`);
  }
  if (!clean && rng.chance(0.05))
    parts.push(rng.pick(['__proto__[isAdmin]=true', 'constructor[prototype][x]=1', 'limit[]=1', '%zz=1', 'a=' + 'b'.repeat(10_000)]));
  return parts.length ? `?${parts.join('&')}` : '';
}

// ---- one request ----

export interface Generator {
  ops: Operation[];
  fixture: Fixture;
  seed: number;
  resolve(ref: string): JsonSchema;
}

export function makeGenerator(doc: OpenApi, fixture: Fixture, seed: number): Generator {
  const resolve = (ref: string): JsonSchema =>
    (ref
      .replace(/^#\//, '')
      .split('/')
      .reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), doc) ?? {}) as JsonSchema;
  return { ops: operationsOf(doc), fixture, seed, resolve };
}

/** The route class a summary counts by: ingest kinds, then the OpenAPI tag. */
export function routeClassOf(op: Operation): string {
  if (op.path === '/v1/measurements') return 'ingest:measurements';
  if (op.path.startsWith('/v1/'))
    return /batch|import|\/b$/.test(op.path) ? 'ingest:batch' : op.method === 'OPTIONS' ? 'ingest:options' : 'ingest:single';
  return `api:${op.tag}`;
}

function ingestPrincipal(rng: Rng): PrincipalName {
  return rng.weighted<PrincipalName>([
    [70, 'ingest'],
    [12, 'ingest:other'],
    [5, 'read'],
    [6, 'anonymous'],
    [4, 'viewer'],
    [3, 'owner'],
  ]);
}

function apiPrincipal(rng: Rng): PrincipalName {
  return rng.weighted<PrincipalName>([
    [8, 'anonymous'],
    [8, 'ingest'],
    [14, 'read'],
    [20, 'viewer'],
    [22, 'editor'],
    [28, 'owner'],
  ]);
}

function ingestRequest(
  rng: Rng,
  g: Generator,
  op: Operation,
  index: number,
): Omit<FuzzRequest, 'index' | 'route' | 'routeClass' | 'method' | 'path'> {
  const notes: string[] = [];
  const principal = ingestPrincipal(rng);
  const headers: Record<string, string> = {};
  const short = op.path.slice(4);
  const long = LONG_OF_SHORT[short] ?? short;
  const single = !['batch', 'import', 'measurements'].includes(long);
  let counter = 0;
  const nextId = () => `fz${g.seed}-${index}-${counter++}`;
  let doc: Json;
  let messageIds: (string | null)[] = [];
  if (long === 'measurements') {
    doc = Array.from({ length: rng.int(1, 5) }, () => ({
      service: rng.pick(['api', 'web']),
      metric: rng.pick(['latency_ms', 'queue.depth']),
      value: rng.int(0, 1000),
      tags: { region: 'eu' },
      timestamp: new Date(Date.now() - rng.int(0, 3_600_000)).toISOString(),
    })) as Json;
    if (rng.chance(0.3)) doc = { measurements: doc };
    if (rng.chance(0.6)) {
      const m = mutate(rng, doc, rng.int(1, 3));
      doc = m.value;
      notes.push(...m.notes);
    }
  } else if (single) {
    const id = nextId();
    const e = segmentEvent(rng, long, id);
    const mutated = rng.chance(0.4) ? mutateEvent(rng, e, notes) : e;
    messageIds = [
      typeof mutated === 'object' && mutated !== null && !Array.isArray(mutated) && (mutated as Record<string, Json>).messageId === id
        ? id
        : null,
    ];
    doc = mutated;
  } else {
    const n = rng.weighted<number>([
      [80, rng.int(1, 20)],
      [3, 2501],
      [5, rng.int(100, 400)],
    ]);
    const events: Json[] = [];
    for (let i = 0; i < n; i++) {
      const id = nextId();
      const e = segmentEvent(rng, rng.pick(['track', 'track', 'page', 'identify', 'screen', 'group', 'alias']), id);
      e.type = e.event ? 'track' : e.groupId ? 'group' : e.previousId ? 'alias' : e.traits ? 'identify' : rng.pick(['page', 'screen']);
      const mutated = n <= 20 && rng.chance(0.3) ? mutateEvent(rng, e, notes) : e;
      events.push(mutated);
      messageIds.push(
        typeof mutated === 'object' && mutated !== null && !Array.isArray(mutated) && (mutated as Record<string, Json>).messageId === id
          ? id
          : null,
      );
    }
    doc = { batch: events, sentAt: new Date().toISOString(), context: { library: { name: 'fuzz' } } };
    if (rng.chance(0.15)) {
      const m = mutate(rng, { sentAt: doc.sentAt as Json, context: doc.context as Json }, 1);
      if (m.value && typeof m.value === 'object' && !Array.isArray(m.value)) doc = { ...(m.value as Record<string, Json>), batch: events };
      notes.push(...m.notes.map((x) => `batch: ${x}`));
    }
  }
  // where the key goes: Basic (Segment), Bearer, X-API-Key, the body's writeKey, or nowhere
  let placement = rng.weighted<string>([
    [55, 'basic'],
    [15, 'bearer'],
    [10, 'x-api-key'],
    [12, 'body'],
    [3, 'none'],
    [5, 'garbage'],
  ]);
  let project: 'main' | 'other' | null = principal === 'ingest' ? 'main' : principal === 'ingest:other' ? 'other' : null;
  const keys = g.fixture.keys;
  const secret =
    principal === 'ingest' ? keys.ingest : principal === 'ingest:other' ? keys.ingestOther : principal === 'read' ? keys.read : undefined;
  if (secret === undefined) placement = 'none';
  if (placement === 'body' && doc && typeof doc === 'object' && !Array.isArray(doc)) (doc as Record<string, Json>).writeKey = secret!;
  else if (placement === 'basic') headers.authorization = `Basic ${Buffer.from(`${secret}:`).toString('base64')}`;
  else if (placement === 'bearer') headers.authorization = `Bearer ${secret}`;
  else if (placement === 'x-api-key') headers['x-api-key'] = secret!;
  else if (placement === 'garbage') {
    headers.authorization = rng.pick([
      'Basic',
      'Basic !!!',
      'Basic ' + Buffer.from(':').toString('base64'),
      'Bearer ',
      'Digest x',
      'Basic ' + 'A'.repeat(8000),
    ]);
    project = null;
  } else project = placement === 'body' ? project : null;
  if (placement === 'none' || (placement === 'body' && (typeof doc !== 'object' || doc === null || Array.isArray(doc)))) project = null;
  if (principal !== 'ingest' && principal !== 'ingest:other') project = null;
  notes.push(`key: ${placement}`);
  const limit = single ? 32 * 1024 : 500 * 1024;
  const text = stringify(doc);
  const enc = encodeBody(rng, text, limit, notes);
  Object.assign(headers, enc.headers);
  const ct = rng.weighted<string | null>([
    [60, 'application/json'],
    [20, 'text/plain'],
    [8, null],
    [12, rng.pick(CONTENT_TYPES)],
  ]);
  if (ct) headers['content-type'] = ct;
  if (rng.chance(0.2)) headers.origin = rng.pick(['https://shop.example.com', 'null', 'http://evil.example']);
  return {
    principal,
    ownAuth: secret !== undefined,
    headers,
    body: enc.body,
    notes,
    ingest: { project: enc.intact ? project : null, messageIds: enc.intact ? messageIds : messageIds.map(() => null), single },
  };
}

/** A request an owner or editor makes as the client would: it reaches the handler's success path (and makes state to fuzz). */
function cleanApiRequest(rng: Rng, g: Generator, op: Operation): Omit<FuzzRequest, 'index' | 'route' | 'routeClass' | 'method' | 'path'> {
  const seedFn = SEEDS[`${op.method} ${op.path}`];
  const principal = rng.weighted<PrincipalName>([
    [3, 'owner'],
    [1, 'editor'],
    [1, 'viewer'],
  ]);
  if (!op.body && !seedFn) return { principal, headers: {}, body: undefined, notes: ['clean'] };
  const doc = seedFn ? seedFn(rng) : validValue(rng, op.body, g.resolve);
  return {
    principal,
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(stringify(doc)),
    notes: ['clean'],
    endsSession: op.path === '/api/auth/sign-out' || op.path === '/api/auth/password',
  };
}

function apiRequest(rng: Rng, g: Generator, op: Operation): Omit<FuzzRequest, 'index' | 'route' | 'routeClass' | 'method' | 'path'> {
  const notes: string[] = [];
  const principal = apiPrincipal(rng);
  const headers: Record<string, string> = {};
  let body: Buffer | undefined;
  const seedFn = SEEDS[`${op.method} ${op.path}`];
  if (op.body || seedFn) {
    const valid = seedFn && rng.chance(0.7) ? seedFn(rng) : validValue(rng, op.body, g.resolve);
    let doc = valid;
    if (rng.chance(0.7)) {
      const m = mutate(rng, valid, rng.int(1, 3));
      doc = m.value;
      notes.push(...m.notes);
    }
    const enc = encodeBody(rng, stringify(doc), 1024 * 1024, notes);
    body = enc.body;
    Object.assign(headers, enc.headers);
    headers['content-type'] = rng.chance(0.9) ? 'application/json' : rng.pick(CONTENT_TYPES);
  } else if (rng.chance(0.08)) {
    body = Buffer.from(rng.pick(['', '{}', 'null', '{"a":', stringify(hostileValue(rng))]));
    headers['content-type'] = rng.pick(['application/json', 'text/plain']);
    notes.push('unexpected body');
  }
  // sessions: the CSRF header sometimes missing or wrong; keys sometimes as X-API-Key
  if (rng.chance(0.05)) notes.push('csrf: omitted'), (headers['x-csrf-token'] = '');
  else if (rng.chance(0.03)) notes.push('csrf: wrong'), (headers['x-csrf-token'] = 'x'.repeat(rng.pick([1, 64, 5000])));
  if (rng.chance(0.03))
    notes.push('cookie: junk'),
      (headers.cookie = rng.pick([
        'vigil_session=',
        'vigil_session=x',
        'vigil_session=' + 'a'.repeat(5000),
        'vigil_session=%ff%00',
        'a=b; vigil_session=1; vigil_session=2',
      ]));
  if (rng.chance(0.05)) headers.origin = rng.pick(['http://evil.example', 'null']);
  return { principal, headers, body, notes, endsSession: op.path === '/api/auth/sign-out' || op.path === '/api/auth/password' };
}

/** Request number `index` of the run with this generator's seed. */
export function generate(g: Generator, index: number): FuzzRequest {
  const rng = new Rng((g.seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  const ingestOps = g.ops.filter((o) => o.path.startsWith('/v1'));
  const apiOps = g.ops.filter((o) => !o.path.startsWith('/v1'));
  const op = rng.chance(0.4) ? rng.pick(ingestOps) : rng.pick(apiOps);
  const pathNotes: string[] = [];
  const clean = !op.path.startsWith('/v1') && rng.chance(0.25);
  const path = op.path.startsWith('/v1')
    ? fillPath(rng, op, g.fixture, pathNotes)
    : fillPath(rng, op, g.fixture, pathNotes, clean) + queryString(rng, op, pathNotes, g.resolve, clean);
  const rest =
    op.path.startsWith('/v1') && op.method === 'POST'
      ? ingestRequest(rng, g, op, index)
      : clean
        ? cleanApiRequest(rng, g, op)
        : apiRequest(rng, g, op);
  const request: FuzzRequest = {
    index,
    route: `${op.method} ${op.path}`,
    routeClass: routeClassOf(op),
    method: op.method,
    path,
    ...rest,
    notes: [...pathNotes, ...rest.notes],
  };
  // races: a change sent several times at once (unique names, first-run setup, one account from several invitations)
  if (op.method !== 'GET' && !op.path.startsWith('/v1') && rng.chance(op.path.endsWith('{token}/accept') ? 0.4 : 0.05)) {
    const n = rng.int(3, 5);
    request.burstPaths =
      op.path.includes('{token}') && rng.chance(0.7)
        ? g.fixture.sameEmailTokens.map((t) => op.path.replace('{token}', t))
        : Array.from({ length: n }, () => path);
    if (op.path.includes('{token}')) request.principal = 'anonymous';
    request.notes.push(`burst of ${request.burstPaths.length}`);
  }
  return request;
}
