import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { SecretsError, decryptSecrets, encryptSecrets } from '../../src/alerts/secrets.js';

const KEY = 'a-test-secret-key-of-at-least-32-characters';

describe('alert secrets', () => {
  test('round-trips an object of secrets, in the v1:<iv>:<tag>:<ciphertext> format', () => {
    const secrets = { botToken: '123456:ABC-def_ghi', webhookUrl: 'https://hooks.slack.com/services/T0/B0/xyz', empty: '' };
    const sealed = encryptSecrets(secrets, KEY);
    assert.match(sealed, /^v1:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
    const [, iv, tag] = sealed.split(':');
    assert.equal(Buffer.from(iv, 'base64').length, 12);
    assert.equal(Buffer.from(tag, 'base64').length, 16);
    assert.ok(!sealed.includes('ABC-def'), 'no plaintext in the sealed text');
    assert.deepEqual(decryptSecrets(sealed, KEY), secrets);
  });

  test('is AES-256-GCM under HKDF-SHA256(secretKey, info "vigil alert secrets")', () => {
    // decrypt independently, from the documented scheme, to pin the format down
    const sealed = encryptSecrets({ apiToken: 't0k3n' }, KEY);
    const [, iv, tag, data] = sealed.split(':');
    const key = Buffer.from(crypto.hkdfSync('sha256', KEY, Buffer.alloc(0), 'vigil alert secrets', 32));
    const decipher = crypto.createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    const plain = Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
    assert.deepEqual(JSON.parse(plain), { apiToken: 't0k3n' });
  });

  test('uses a fresh IV each time', () => {
    const a = encryptSecrets({ s: 'same' }, KEY);
    const b = encryptSecrets({ s: 'same' }, KEY);
    assert.notEqual(a, b);
    assert.notEqual(a.split(':')[1], b.split(':')[1]);
  });

  test('another key fails with a message that names VIGIL_SECRET_KEY', () => {
    const sealed = encryptSecrets({ secret: 'x'.repeat(32) }, KEY);
    assert.throws(
      () => decryptSecrets(sealed, 'a-different-secret-key-of-32-characters!'),
      (err: unknown) => {
        assert.ok(err instanceof SecretsError);
        assert.match(err.message, /cannot be decrypted: VIGIL_SECRET_KEY is not the key they were saved with/);
        return true;
      },
    );
  });

  test('altered or malformed text is refused', () => {
    const sealed = encryptSecrets({ secret: 'value' }, KEY);
    const parts = sealed.split(':');
    const data = Buffer.from(parts[3], 'base64');
    data[0] ^= 1;
    const altered = [parts[0], parts[1], parts[2], data.toString('base64')].join(':');
    assert.throws(() => decryptSecrets(altered, KEY), SecretsError);
    assert.throws(() => decryptSecrets('plain text', KEY), /not in the v1:<iv>:<tag>:<ciphertext> format/);
    assert.throws(() => decryptSecrets(`v2:${parts.slice(1).join(':')}`, KEY), SecretsError);
    assert.throws(() => decryptSecrets(`v1:AAAA:${parts[2]}:${parts[3]}`, KEY), /damaged/);
  });
});
