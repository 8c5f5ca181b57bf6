/**
 * Fuzzes chString against a real ClickHouse: thousands of random strings (quotes, backslashes, NUL
 * and other control characters, SQL and escape-sequence look-alikes, Unicode, surrogates) are
 * written as literals and read back with `SELECT hex(<literal>)`; each must come back as exactly
 * its UTF-8 bytes. A literal that broke out would change the statement, fail it, or the bytes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { chString } from '../../src/storage/events/clickhouse-escape.js';
import { parseClickHouseUrl } from '../../src/storage/events/clickhouse-schema.js';
import { TEST_CLICKHOUSE_URL, clickhouseSkip } from '../helpers/app.js';

const CASES = 5000;
const PER_STATEMENT = 250;

/** A small seeded generator, so a failure can be replayed (the seed is in the test name). */
function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  "'",
  "''",
  '\\',
  "\\'",
  '\\\\',
  '"',
  '`',
  '\0',
  '\n',
  '\r',
  '\t',
  '\b',
  '\f',
  '\x1a',
  '\x1b',
  '\x7f',
  '\\x00',
  '\\0',
  '\\N',
  '\\u0027',
  '%',
  '_',
  ';',
  '--',
  '/*',
  '*/',
  '#',
  '$1',
  '{',
  '}',
  '?',
  ') OR 1=1 --',
  "'; DROP TABLE events; --",
  'é',
  'ß',
  '中文',
  '😀',
  '\u200b',
  '\u2028',
  '\ufeff',
  '\ud800',
  '\udfff',
  '\u0085',
  ' ',
  'a',
  'Z',
  '0',
];

function randomString(next: () => number): string {
  const length = Math.floor(next() * 24);
  let s = '';
  for (let i = 0; i < length; i++) {
    const r = next();
    if (r < 0.5) s += PIECES[Math.floor(next() * PIECES.length)];
    else if (r < 0.7)
      s += String.fromCharCode(Math.floor(next() * 0x20)); // a control character
    else if (r < 0.9)
      s += String.fromCharCode(0x20 + Math.floor(next() * 0x60)); // printable ASCII
    else s += String.fromCodePoint(Math.floor(next() * 0x10ffff)); // any code point (surrogates included)
  }
  return s;
}

/** The bytes a string is sent as (lone surrogates become U+FFFD, as chString states). */
const utf8Hex = (s: string) => Buffer.from(s, 'utf8').toString('hex').toUpperCase();

describe('chString round-trips through a real ClickHouse', async () => {
  const skip = await clickhouseSkip();
  let client: ClickHouseClient;
  before(() => {
    if (skip) return;
    const t = parseClickHouseUrl(TEST_CLICKHOUSE_URL);
    client = createClient({ url: t.httpUrl, username: t.username, password: t.password });
  });
  after(() => client?.close());

  const roundTrip = async (values: string[]) => {
    const sql = `SELECT [${values.map((v) => `hex(${chString(v)})`).join(', ')}] AS h, [${values.map((v) => `length(${chString(v)})`).join(', ')}] AS n`;
    const [row] = (await (await client.query({ query: sql, format: 'JSONEachRow' })).json()) as { h: string[]; n: (number | string)[] }[];
    return row;
  };

  test('hand-picked strings', { skip }, async () => {
    const values = [
      '',
      "'",
      '\\',
      "\\'",
      "'\\",
      '\0',
      'a\0b',
      '\\x41',
      '\\0',
      "\\\\'",
      "O'Brien",
      'line1\nline2',
      '\t\r\n',
      '中文😀',
      '\ud800',
      "'); DROP TABLE x; --",
      ...PIECES,
    ];
    const row = await roundTrip(values);
    values.forEach((v, i) => {
      assert.equal(row.h[i], utf8Hex(v), JSON.stringify(v));
      assert.equal(Number(row.n[i]), Buffer.byteLength(v, 'utf8'), JSON.stringify(v));
    });
  });

  for (const seed of [1, 2, 3, 4]) {
    test(`${CASES / 4} random strings (seed ${seed})`, { skip }, async () => {
      const next = random(seed);
      const all = Array.from({ length: CASES / 4 }, () => randomString(next));
      for (let i = 0; i < all.length; i += PER_STATEMENT) {
        const values = all.slice(i, i + PER_STATEMENT);
        const row = await roundTrip(values);
        values.forEach((v, j) =>
          assert.equal(row.h[j], utf8Hex(v), `case ${i + j} of seed ${seed}: ${JSON.stringify(v)} -> ${chString(v)}`),
        );
      }
    });
  }

  test('a literal compares equal to the same string stored through an insert, in WHERE', { skip }, async () => {
    const next = random(99);
    // well-formed strings only: the store replaces lone surrogates before it inserts (ClickHouse's JSON reader refuses them)
    const values = Array.from({ length: 300 }, () => randomString(next)).filter((v) => Buffer.from(v, 'utf8').toString('utf8') === v);
    const db = `vigil_escape_${process.pid}`;
    await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
    try {
      await client.command({ query: `CREATE TABLE ${db}.t (i UInt32, s String) ENGINE = MergeTree ORDER BY i` });
      await client.insert({ table: `${db}.t`, values: values.map((s, i) => ({ i, s })), format: 'JSONEachRow' });
      for (let i = 0; i < values.length; i += 50) {
        const batch = values.slice(i, i + 50);
        const sql = `SELECT ${batch.map((v, j) => `countIf(i = ${i + j} AND s = ${chString(v)})`).join(' + ')} AS n FROM ${db}.t`;
        const [row] = (await (await client.query({ query: sql, format: 'JSONEachRow' })).json()) as { n: number | string }[];
        assert.equal(Number(row.n), batch.length, `batch at ${i}: ${row.n} of ${batch.length} matched`);
      }
    } finally {
      await client.command({ query: `DROP DATABASE IF EXISTS ${db}` });
    }
  });
});
