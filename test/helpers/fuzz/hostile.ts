/**
 * Hostile values: wrong types, numbers at and past every limit, strings no parser expects, deep
 * nesting, prototype keys; and mutations that put them anywhere inside an otherwise valid value.
 */
import type { Rng } from './prng.js';

/** A JSON number literal JSON.stringify cannot write (1e999, -0 as typed, 1.0e+308 ...): kept as text. */
export class RawJson {
  constructor(readonly text: string) {}
}

export type Json = null | boolean | number | string | RawJson | Json[] | { [key: string]: Json };

/** JSON text, with RawJson written as is (so `1e999` reaches the server as a literal). */
export function stringify(value: Json): string {
  const raws: string[] = [];
  const text = JSON.stringify(value, (_k, v: unknown) => {
    if (v instanceof RawJson) {
      raws.push(v.text);
      return `\u0000RAW${raws.length - 1}\u0000`;
    }
    return v;
  });
  return (text ?? 'null').replace(/"\\u0000RAW(\d+)\\u0000"/g, (_m, i: string) => raws[Number(i)]);
}

/** Numbers past what JS, JSON, SQL engines and Date accept. */
export const HOSTILE_NUMBERS: readonly number[] = [
  0,
  -1,
  1,
  -0,
  2 ** 31,
  -(2 ** 31) - 1,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53),
  2 ** 63,
  2 ** 64,
  1e20,
  -1e20,
  1e308,
  -1e308,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  5e-324,
  0.1,
  1.5,
  8_640_000_000_000_000,
  8_640_000_000_000_001,
  -8_640_000_000_000_001,
  1e15,
  1e13,
];
/** The same as number literals (some overflow to Infinity when parsed). */
export const RAW_NUMBERS: readonly string[] = [
  '1e999',
  '-1e999',
  '1e308',
  '-0',
  '0e0',
  '1E+2',
  '123456789012345678901234567890',
  '0.0000000000000000000001',
  '1.7976931348623157e309',
  '-9223372036854775809',
];
/** Numbers as the strings a query string or a lenient parser turns into numbers. */
export const NUMERIC_STRINGS: readonly string[] = [
  'Infinity',
  '-Infinity',
  'NaN',
  '1e999',
  '-1e999',
  '-0',
  '0x10',
  '1e3',
  '00001',
  '1.5',
  ' 1',
  '1 ',
  '+1',
  '9007199254740993',
  '99999999999999999999',
  '-1',
  '0',
  '',
  'null',
  'true',
  '1,2',
  '١٢٣',
];

const METACHARACTERS: readonly string[] = [
  "'",
  '"',
  '\\',
  "' OR '1'='1",
  "'; DROP TABLE events; --",
  '1; SELECT 1',
  '/* */',
  '--',
  '%',
  '_',
  '\\x00',
  '\u0000',
  '$1',
  '?',
  '${7*7}',
  '{{7*7}}',
  '.*',
  '(a+)+$',
  '[',
  '(?<x>',
  '\\',
  '*',
  '^$',
  '|',
  'a{1000000}',
  '<script>alert(1)</script>',
  '"><img src=x>',
  '\r\nX-Injected: 1',
  '\n',
  '\t',
  '../../../../etc/passwd',
  '..\\..\\windows',
  '%2e%2e%2f',
  'file:///etc/passwd',
  'http://169.254.169.254/latest/meta-data/',
  'http://127.0.0.1:1/',
  'http://[::1]/',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '$where',
  '{"$gt":""}',
  'NULL',
  'undefined',
  'NaN',
  "' UNION SELECT * FROM events --",
  "read_csv('/etc/passwd')",
  'stats(properties)',
  'current_query()',
  'now()',
  '\u202e',
  '\ufeff',
  '\u2028\u2029',
];

/** Strings no one validated for: lone surrogates, control characters, huge, metacharacters, odd Unicode. */
export function hostileString(rng: Rng): string {
  switch (rng.int(0, 11)) {
    case 0:
      return rng.pick(['\ud800', '\udfff', 'a\ud800b', '\udc00\ud800', 'x'.repeat(rng.int(0, 10)) + '\ud83d']);
    case 1:
      return rng.pick(METACHARACTERS);
    case 2:
      return 'x'.repeat(rng.pick([256, 1000, 4097, 33_000, 70_000]));
    case 3:
      return rng.pick(NUMERIC_STRINGS);
    case 4:
      return String.fromCharCode(...Array.from({ length: rng.int(1, 20) }, () => rng.int(0, 31)));
    case 5:
      return rng.pick(['', ' ', '   ', '\u00a0', '\u200b', '\u3000']);
    case 6:
      return rng.pick(['é', 'e\u0301', '🙂', '𝕏', '日本語', 'ﷺ', '\uffff', '\ufffe', '\u0085']).repeat(rng.int(1, 50));
    case 7:
      return rng.pick([
        '2026-02-30T00:00:00Z',
        '275760-09-13T00:00:00.001Z',
        '-271821-04-19T23:59:59Z',
        '0000-00-00',
        '9999-12-31T23:59:59.999Z',
        '1970-01-01',
        'now',
        '-7d',
        '+90d',
        '-99999999d',
        '+1e999d',
        'yesterday',
      ]);
    case 8:
      return rng.pick([
        'a@b',
        'A@EXAMPLE.COM',
        ' viewer@fuzz.test ',
        'x@' + 'y'.repeat(300) + '.com',
        '@',
        'a@b@c',
        'mailto:a@b.c',
        '"a b"@c.d',
      ]);
    case 9:
      return rng.pick(['#fff', '#GGGGGG', 'rgb(1,2,3)', '1h', '5m', '0m', '-1h', '1000000w', '1y', 'P1D']);
    case 10:
      return rng.word(1, 8) + rng.pick(METACHARACTERS) + rng.word(1, 4);
    default:
      return rng.word(1, 30);
  }
}

/** A value nested `depth` levels deep (arrays or objects), as text: too deep for JSON.stringify itself. */
export function deepValue(depth: number, asArray: boolean): Json {
  return new RawJson(asArray ? `${'['.repeat(depth)}1${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
}

/** Any hostile JSON value: every type, at and past its limits. */
export function hostileValue(rng: Rng, depth = 0): Json {
  switch (rng.int(0, 12)) {
    case 0:
      return rng.pick(HOSTILE_NUMBERS);
    case 1:
      return new RawJson(rng.pick(RAW_NUMBERS));
    case 2:
    case 3:
      return hostileString(rng);
    case 4:
      return rng.pick([null, true, false]);
    case 5:
      return depth > 2 ? [] : Array.from({ length: rng.int(0, 4) }, () => hostileValue(rng, depth + 1));
    case 6:
      return depth > 2 ? {} : hostileObject(rng, depth + 1);
    case 7:
      return deepValue(rng.pick([64, 200, 1000, 6000]), rng.chance(0.5));
    case 8:
      return Array.from({ length: rng.pick([100, 3000]) }, (_, i) => i);
    case 9:
      return JSON.parse('{"__proto__":{"isAdmin":true,"role":"owner"},"constructor":{"prototype":{"polluted":1}}}') as Json;
    case 10:
      return rng.pick(['', [], {}, 0]);
    case 11:
      return Object.fromEntries(Array.from({ length: rng.pick([50, 1200]) }, (_, i) => [`k${i}`, i]));
    default:
      return rng.word();
  }
}

/** An object whose keys are themselves hostile (prototype keys, empty, huge, metacharacters). */
export function hostileObject(rng: Rng, depth = 0): { [key: string]: Json } {
  const out: { [key: string]: Json } = {};
  for (let i = rng.int(0, 4); i > 0; i--) {
    const key = rng.chance(0.4)
      ? rng.pick(['__proto__', 'constructor', 'prototype', '', ' ', '$.x', 'a.b', "a'b", 'a"b', '\ud800', 'x'.repeat(300), '0', '-1'])
      : rng.word();
    // __proto__ as a key must be an own property in the JSON text, not the prototype of `out`
    Object.defineProperty(out, key, { value: hostileValue(rng, depth + 1), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

type Container = Json[] | { [key: string]: Json };
const isContainer = (v: Json): v is Container => typeof v === 'object' && v !== null && !(v instanceof RawJson);

/** Every place inside a value a mutation can reach: [parent, key] pairs. */
function places(value: Json, out: [Container, string | number][] = [], depth = 0): [Container, string | number][] {
  if (!isContainer(value) || depth > 6) return out;
  if (Array.isArray(value)) value.forEach((v, i) => (out.push([value, i]), places(v, out, depth + 1)));
  else for (const k of Object.keys(value)) out.push([value, k]), places(value[k], out, depth + 1);
  return out;
}

/** A hostile twin of a number: past its limits, the wrong type, or a numeric-looking string. */
function hostileNumberFor(rng: Rng): Json {
  return rng.weighted<() => Json>([
    [3, () => rng.pick(HOSTILE_NUMBERS)],
    [3, () => new RawJson(rng.pick(RAW_NUMBERS))],
    [3, () => rng.pick(NUMERIC_STRINGS)],
    [1, () => rng.pick([null, true, [], {}])],
  ])();
}

/** Mutates a (deep-copied) valid value `count` times; returns the new value and what was done (for replay notes). */
export function mutate(rng: Rng, valid: Json, count: number): { value: Json; notes: string[] } {
  let root: Json = structuredClone(valid);
  const notes: string[] = [];
  for (let n = 0; n < count; n++) {
    const all = places(root);
    if (!all.length || rng.chance(0.05)) {
      root = hostileValue(rng);
      notes.push('root replaced');
      continue;
    }
    const [parent, key] = rng.pick(all);
    const current = (parent as Record<string | number, Json>)[key];
    const kind = rng.weighted<string>([
      [4, 'replace'],
      [2, 'typed'],
      [1, 'delete'],
      [1, 'proto'],
      [1, 'extra'],
      [1, 'deep'],
      [1, 'wrap'],
    ]);
    notes.push(`${kind} ${String(key)}`);
    const set = (v: Json) => ((parent as Record<string | number, Json>)[key] = v);
    switch (kind) {
      case 'replace':
        set(hostileValue(rng));
        break;
      case 'typed':
        if (typeof current === 'number') set(hostileNumberFor(rng));
        else if (typeof current === 'string') set(hostileString(rng));
        else set(hostileValue(rng));
        break;
      case 'delete':
        if (Array.isArray(parent)) parent.splice(Number(key), 1);
        else delete parent[key as string];
        break;
      case 'proto':
        if (!Array.isArray(parent))
          Object.defineProperty(parent, rng.pick(['__proto__', 'constructor', 'prototype']), {
            value: rng.chance(0.5) ? { isAdmin: true, role: 'owner' } : hostileValue(rng),
            enumerable: true,
            writable: true,
            configurable: true,
          });
        break;
      case 'extra':
        if (!Array.isArray(parent)) parent[rng.chance(0.5) ? rng.word() : hostileString(rng)] = hostileValue(rng);
        else parent.push(hostileValue(rng));
        break;
      case 'deep':
        set(deepValue(rng.pick([100, 1000, 6000]), rng.chance(0.5)));
        break;
      case 'wrap':
        set(rng.chance(0.5) ? [current] : { value: current });
        break;
    }
  }
  return { value: root, notes };
}
