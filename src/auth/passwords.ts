/**
 * Password hashing with scrypt (node:crypto, i.e. OpenSSL). Each hash carries its parameters
 * (`scrypt$logN$r$p$salt$hash`), so raising the cost later still verifies older hashes.
 *
 * Default cost: N = 2^16, r = 8, p = 1 (64 MiB, about 0.15-0.3 s on a small VM): half of OWASP's
 * suggested minimum (N = 2^17), chosen so sign-in stays quick on two cores; set
 * VIGIL_PASSWORD_SCRYPT_LOG_N=17 for OWASP's figure. The hash runs on libuv's thread pool, not the
 * event loop.
 */
import crypto from 'node:crypto';
import { promisify } from 'node:util';
import { badRequest } from '../errors.js';

const scrypt = promisify(crypto.scrypt) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: crypto.ScryptOptions,
) => Promise<Buffer>;
const KEY_BYTES = 32;
const R = 8;
const P = 1;

export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 256;

/** Throws a 400 naming the rule a new password breaks. */
export function checkPasswordRules(password: string, field = 'password'): void {
  if (typeof password !== 'string' || password.length < MIN_PASSWORD_LENGTH)
    throw badRequest(`the password must be at least ${MIN_PASSWORD_LENGTH} characters long`, { field });
  if (password.length > MAX_PASSWORD_LENGTH)
    throw badRequest(`the password must be at most ${MAX_PASSWORD_LENGTH} characters long`, { field });
  if (new Set(password).size < 4) throw badRequest('the password must not be one or two characters repeated', { field });
}

const options = (logN: number, r: number, p: number): crypto.ScryptOptions => ({
  N: 2 ** logN,
  r,
  p,
  maxmem: 256 * 2 ** logN * r + 1024 * 1024,
});

export async function hashPassword(password: string, logN: number): Promise<string> {
  const salt = crypto.randomBytes(16);
  const hash = await scrypt(password.normalize('NFKC'), salt, KEY_BYTES, options(logN, R, P));
  return ['scrypt', logN, R, P, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, logN, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await scrypt(
    password.normalize('NFKC'),
    Buffer.from(salt, 'base64url'),
    expected.length,
    options(Number(logN), Number(r), Number(p)),
  );
  return crypto.timingSafeEqual(actual, expected);
}
