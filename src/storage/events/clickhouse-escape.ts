/**
 * The only way a value enters ClickHouse SQL text. Old servers (18.16) have no query parameters,
 * so strings are written as literals by `chString`, numbers by `chInt`/`chNum` after a check, and
 * identifiers never come from input: they are names from allowlists, or checked by `chIdent`.
 * test/unit/clickhouse-escape.test.ts and test/integration/clickhouse-escape.test.ts (a fuzz
 * round-trip through a real `SELECT '<escaped>'`) hold this module to that.
 */

const HEX = '0123456789abcdef';

/**
 * A ClickHouse string literal holding exactly `value`: quote and backslash escaped, every control
 * character (U+0000..U+001F, U+007F) written as \xHH so no byte can end the literal, change the
 * statement or confuse a log. A lone UTF-16 surrogate (not valid Unicode) becomes U+FFFD, as it
 * would when the statement is encoded as UTF-8 anyway: the literal then states what is sent.
 */
export function chString(value: string): string {
  if (typeof value !== 'string') throw new TypeError(`expected a string, got ${typeof value}`);
  let out = "'";
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x27) out += "\\'";
    else if (c === 0x5c) out += '\\\\';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + HEX[c >> 4] + HEX[c & 15];
    else if (c >= 0xd800 && c <= 0xdbff) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += value[i] + value[i + 1];
        i++;
      } else out += '\ufffd';
    } else if (c >= 0xdc00 && c <= 0xdfff) out += '\ufffd';
    else out += value[i];
  }
  return out + "'";
}

/** An integer literal (a safe integer, else a RangeError). */
export function chInt(n: number): string {
  if (!Number.isSafeInteger(n)) throw new RangeError(`expected an integer, got ${n}`);
  return String(n);
}

/** A finite Float64 literal. */
export function chNum(n: number): string {
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new RangeError(`expected a finite number, got ${n}`);
  return `toFloat64(${String(n)})`;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A database, table or cluster name from configuration: letters, digits and _ only, quoted. */
export function chIdent(name: string): string {
  if (!IDENT.test(name))
    throw new RangeError(`"${name}" is not a valid ClickHouse name (letters, digits and _, not starting with a digit)`);
  return '`' + name + '`';
}
