import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import zlib from 'node:zlib';
import { startTestApp, postJson, basic } from '../helpers/app.js';

/** A GET as a client that takes (or not) compressed answers; the body as sent on the wire. */
function rawGet(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

test('API answers over 1 KB are compressed for clients that take it; small answers and the live stream are not', async () => {
  const t = await startTestApp();
  try {
    const batch = Array.from({ length: 200 }, (_, i) => ({
      type: 'track',
      userId: `u${i}`,
      event: 'Order Completed',
      properties: { total: i, sku: `sku-${i % 7}` },
      messageId: `m-${i}`,
    }));
    assert.equal((await postJson(`${t.url}/v1/batch`, { batch }, basic(t.writeKey))).status, 200);
    await t.ctx.flush();
    const auth = { authorization: `Bearer ${t.readKey}` };
    const url = `${t.url}/api/projects/shop/events?limit=500`;

    const plain = await rawGet(url, auth);
    assert.equal(plain.status, 200);
    assert.equal(plain.headers['content-encoding'], undefined);
    const events = JSON.parse(plain.body.toString('utf8')).events;
    assert.equal(events.length, 200);

    const gzipped = await rawGet(url, { ...auth, 'accept-encoding': 'gzip' });
    assert.equal(gzipped.headers['content-encoding'], 'gzip');
    assert.deepEqual(JSON.parse(zlib.gunzipSync(gzipped.body).toString('utf8')).events, events);
    assert.ok(gzipped.body.length * 4 < plain.body.length, `gzip sent ${gzipped.body.length} of ${plain.body.length} bytes`);

    const brotli = await rawGet(url, { ...auth, 'accept-encoding': 'br, gzip' });
    assert.equal(brotli.headers['content-encoding'], 'br');
    assert.deepEqual(JSON.parse(zlib.brotliDecompressSync(brotli.body).toString('utf8')).events, events);

    // under the threshold: not worth compressing
    const small = await rawGet(`${t.url}/health`, { 'accept-encoding': 'gzip' });
    assert.equal(small.status, 200);
    assert.equal(small.headers['content-encoding'], undefined);

    // the live stream's first frame arrives at once, uncompressed
    const live = await new Promise<{ encoding: string | undefined; first: string }>((resolve, reject) => {
      const req = http.get(`${t.url}/api/projects/shop/live`, { headers: { ...auth, 'accept-encoding': 'gzip, br' } }, (res) => {
        res.once('data', (chunk: Buffer) => {
          resolve({ encoding: res.headers['content-encoding'], first: chunk.toString('utf8') });
          req.destroy();
        });
      });
      req.on('error', reject);
      setTimeout(() => reject(new Error('no frame from the live stream within 5 s')), 5000).unref();
    });
    assert.equal(live.encoding, undefined);
    assert.match(live.first, /event: ready/);
  } finally {
    await t.close();
  }
});
