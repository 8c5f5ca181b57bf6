/**
 * Destination secrets at rest: AES-256-GCM with a key derived from VIGIL_SECRET_KEY by
 * HKDF-SHA256 (empty salt, info "vigil alert secrets"), stored as `v1:<iv>:<tag>:<ciphertext>`
 * (base64 each; a fresh 12-byte IV per encryption). Changing VIGIL_SECRET_KEY makes stored secrets
 * unreadable: decryption then fails with a message that says so, never with garbage.
 */
import crypto from 'node:crypto';
import { ENV_NAMES } from '../config.js';

const VERSION = 'v1';
const HKDF_INFO = 'vigil alert secrets';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SecretsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretsError';
  }
}

const keys = new Map<string, Buffer>();

function keyFor(secretKey: string): Buffer {
  let key = keys.get(secretKey);
  if (!key) {
    key = Buffer.from(crypto.hkdfSync('sha256', secretKey, Buffer.alloc(0), HKDF_INFO, 32));
    keys.set(secretKey, key);
  }
  return key;
}

/** Encrypts an object of secrets (field → value) under the app's secret key. */
export function encryptSecrets(secrets: Record<string, string>, secretKey: string): string {
  const iv = crypto.randomBytes(IV_BYTES);
  const cipher = crypto.createCipheriv('aes-256-gcm', keyFor(secretKey), iv);
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(secrets), 'utf8'), cipher.final()]);
  return [VERSION, iv.toString('base64'), cipher.getAuthTag().toString('base64'), ciphertext.toString('base64')].join(':');
}

/** Decrypts what encryptSecrets made; throws SecretsError when the text is malformed or the key differs. */
export function decryptSecrets(sealed: string, secretKey: string): Record<string, string> {
  const parts = sealed.split(':');
  if (parts.length !== 4 || parts[0] !== VERSION) {
    throw new SecretsError(`stored alert destination secrets are not in the ${VERSION}:<iv>:<tag>:<ciphertext> format`);
  }
  const [, ivB64, tagB64, dataB64] = parts;
  const iv = Buffer.from(ivB64, 'base64');
  const tag = Buffer.from(tagB64, 'base64');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES)
    throw new SecretsError('stored alert destination secrets are damaged (bad IV or tag length)');
  let plain: string;
  try {
    const decipher = crypto.createDecipheriv('aes-256-gcm', keyFor(secretKey), iv, { authTagLength: TAG_BYTES });
    decipher.setAuthTag(tag);
    plain = Buffer.concat([decipher.update(Buffer.from(dataB64, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretsError(
      `alert destination secrets cannot be decrypted: ${ENV_NAMES.secretKey} is not the key they were saved with (or they were altered); restore that key or enter the destination's secrets again`,
    );
  }
  const value: unknown = JSON.parse(plain);
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    throw new SecretsError('decrypted alert destination secrets are not an object of strings');
  }
  return value as Record<string, string>;
}
