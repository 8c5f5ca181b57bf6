/**
 * A broken request body (too large, not gzip, truncated, a gzip bomb, cut by the client) must end
 * that request only: run against `vigil serve` in a child process, so a crash shows as an exit.
 */
import { after, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import zlib from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';
import { cleanUpProcesses, serveProcess, type Served } from '../helpers/serve-process.js';

let server: Served;
let exitCode: number | null | undefined;
// a server per test, so a crash in one test does not fail the others
beforeEach(async () => {
  server = await serveProcess([]);
  exitCode = undefined;
  void server.exited.then((code) => (exitCode = code));
});
after(cleanUpProcesses);

/** Sends `body` with the headers given; resolves with the status, or the socket error's code. */
function post(path: string, body: Buffer, headers: Record<string, string>, opts: { cutAfter?: number } = {}): Promise<number | string> {
  return new Promise((resolve) => {
    const url = new URL(path, server.url);
    const req = http.request(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(body.length), ...headers } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    if (opts.cutAfter === undefined) return req.end(body);
    // the client goes away in the middle of its body
    req.write(body.subarray(0, opts.cutAfter), () => setTimeout(() => req.destroy(), 50));
  });
}

async function assertAlive(label: string) {
  await sleep(300); // a stream error with no listener would have killed the process by now
  assert.equal(exitCode, undefined, `${label}: the server exited (${exitCode})`);
  const res = await fetch(`${server.url}/health`);
  assert.equal(res.status, 200, `${label}: /health answers`);
}

const gzip = { 'content-encoding': 'gzip' };
const big = (bytes: number) => Buffer.from(JSON.stringify({ userId: 'u', event: 'E', properties: { pad: 'x'.repeat(bytes) } }));

test('a non-gzip body over the size limit labelled gzip gets its 413 and the server lives on', { timeout: 30_000 }, async () => {
  for (let i = 0; i < 3; i++) {
    assert.equal(await post('/v1/track', big(40 * 1024), gzip), 413);
    await assertAlive(`try ${i + 1}`);
  }
});

test('broken gzip bodies end their own request only, on every ingest route', { timeout: 60_000 }, async () => {
  const zipped = zlib.gzipSync(big(1024));
  const bomb = zlib.gzipSync(big(2 * 1024 * 1024));
  const cases: [string, Buffer, number | 'any'][] = [
    ['truncated', zipped.subarray(0, zipped.length - 6), 400],
    ['garbage after the header', Buffer.concat([zipped.subarray(0, 10), Buffer.alloc(64 * 1024, 7)]), 'any'],
    ['a bomb', bomb, 413],
    ['plain JSON', big(1024), 400],
  ];
  for (const path of ['/v1/track', '/v1/batch', '/v1/measurements']) {
    for (const [label, body, status] of cases) {
      const got = await post(path, body, gzip);
      if (status !== 'any') assert.equal(got, status, `${path}, ${label}`);
      else assert.ok(typeof got === 'number' && got >= 400 && got < 500, `${path}, ${label}: ${got}`);
    }
    await assertAlive(path);
  }
});

test('a client that goes away mid-body (gzip or not) does not take the server with it', { timeout: 30_000 }, async () => {
  const zipped = zlib.gzipSync(big(300 * 1024));
  for (const path of ['/v1/track', '/v1/batch']) {
    await post(path, zipped, gzip, { cutAfter: zipped.length >> 1 });
    await post(path, big(40 * 1024), gzip, { cutAfter: 1000 });
    await post(path, big(40 * 1024), {}, { cutAfter: 1000 });
  }
  // routes outside ingest read their bodies through Fastify alone
  for (const path of ['/api/auth/sign-in', '/api/setup']) {
    await post(path, big(20 * 1024), {}, { cutAfter: 1000 });
    assert.equal(await post(path, big(2 * 1024 * 1024), {}), 413, `${path}: a body over the limit`);
  }
  await assertAlive('cut bodies');
});
