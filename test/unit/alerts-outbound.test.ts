import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { classifyAddress } from '../../src/alerts/address-classes.js';
import { OutboundError, checkUrl, createOutboundHttp, type Resolver } from '../../src/alerts/outbound.js';
import { VigilError } from '../../src/errors.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

/** Resolves the names in `table` and nothing else; counts the calls. */
function fakeResolver(table: Record<string, string>) {
  const calls: string[] = [];
  const resolve: Resolver = async (host) => {
    calls.push(host);
    const address = table[host];
    if (!address) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return [{ address, family: address.includes(':') ? 6 : 4 }];
  };
  return { resolve, calls };
}

async function rejection(p: Promise<unknown>): Promise<OutboundError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof OutboundError, `expected an OutboundError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the request to be refused');
}

/** A raw server for the cases a receiver cannot play (never answering, an endless body). */
async function rawServer(handler: http.RequestListener) {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('classifyAddress', () => {
  test('names every non-public range, including IPv6 forms that reach an IPv4 address', () => {
    const cases: Array<[string, string | null]> = [
      ['10.0.0.5', 'private'],
      ['172.31.255.255', 'private'],
      ['192.168.1.1', 'private'],
      ['127.0.0.1', 'loopback'],
      ['169.254.169.254', 'link-local'],
      ['100.64.0.1', 'shared (CGNAT)'],
      ['0.0.0.0', 'unspecified'],
      ['224.0.0.251', 'multicast'],
      ['255.255.255.255', 'reserved'],
      ['::', 'unspecified'],
      ['::1', 'loopback'],
      ['fe80::1', 'link-local'],
      ['fd12:3456::1', 'unique-local'],
      ['fc00::1', 'unique-local'],
      ['ff02::1', 'multicast'],
      ['::ffff:127.0.0.1', 'loopback'],
      ['::ffff:a00:5', 'private'],
      ['64:ff9b::a9fe:a9fe', 'link-local'],
      ['8.8.8.8', null],
      ['172.32.0.1', null],
      ['100.128.0.1', null],
      ['2606:4700:4700::1111', null],
      ['::ffff:8.8.8.8', null],
    ];
    for (const [ip, expected] of cases) assert.equal(classifyAddress(ip), expected, ip);
  });

  test('refuses the rest of the IANA special-purpose registries: documentation, benchmarking, translated and tunnelled forms', () => {
    const refused = [
      '192.0.2.10',
      '198.51.100.7',
      '203.0.113.200',
      '198.19.255.1',
      '100.127.255.255',
      '239.255.255.250',
      '240.0.0.1',
      '192.88.99.1',
      '2001:db8::1',
      '2001:db8:ffff::1',
      '3fff::1',
      '::ffff:0:7f00:1',
      '::ffff:0:808:808',
      '64:ff9b::7f00:1',
      '64:ff9b::192.168.0.1',
      '64:ff9b:1::8.8.8.8',
      '2002:a00:1::1',
      '2002:7f00:1::',
      '2001::1',
      '2001:2::1',
      '2001:10::1',
      '100::1',
      'ff05::2',
      'fec0::1',
      '5f00::1',
    ];
    for (const ip of refused) assert.notEqual(classifyAddress(ip), null, `${ip} must be refused`);
    for (const ip of ['64:ff9b::808:808', '2002:808:808::1', '2620:4f:8000::1', '192.31.196.1', '2001:4860:4860::8888'])
      assert.equal(classifyAddress(ip), null, `${ip} is public`);
  });
});

describe('createOutboundHttp', () => {
  let receiver: Receiver;
  before(async () => {
    receiver = await startReceiver({ status: 200, body: 'hello' });
  });
  after(() => receiver.close());

  test('refuses a loopback address without allowPrivate, and never connects', async () => {
    const before = receiver.requests.length;
    const outbound = createOutboundHttp({ allowPrivate: false, allowHttp: true });
    const err = await rejection(outbound.request({ method: 'GET', url: `${receiver.url}/x` }));
    assert.equal(err.code, 'private_address');
    assert.equal(err.retryable, false);
    assert.match(err.message, /127\.0\.0\.1 is a loopback address; set VIGIL_ALERTS_ALLOW_PRIVATE_URLS=true/);
    // a name that resolves to loopback is refused too (the check is in the socket's lookup)
    const byName = await rejection(outbound.request({ method: 'GET', url: `http://localhost:${receiver.port}/x` }));
    assert.equal(byName.code, 'private_address');
    assert.equal(receiver.requests.length, before);
  });

  test('allows it with allowPrivate and returns status, headers and body', async () => {
    const outbound = createOutboundHttp({ allowPrivate: true, allowHttp: true, userAgent: 'Vigil-Test' });
    const res = await outbound.request({
      method: 'POST',
      url: `${receiver.url}/hook?a=1`,
      headers: { 'Content-Type': 'application/json' },
      body: '{"x":1}',
    });
    assert.equal(res.status, 200);
    assert.equal(res.body, 'hello');
    assert.equal(res.headers['content-type'], 'text/plain');
    assert.equal(res.truncated, false);
    const got = receiver.requests.at(-1)!;
    assert.equal(got.method, 'POST');
    assert.equal(got.path, '/hook?a=1');
    assert.equal(got.body, '{"x":1}');
    assert.equal(got.headers['user-agent'], 'Vigil-Test');
    assert.equal(got.headers['content-length'], '7');
  });

  test('refuses plain http without allowHttp', async () => {
    const before = receiver.requests.length;
    const outbound = createOutboundHttp({ allowPrivate: true, allowHttp: false });
    const err = await rejection(outbound.request({ method: 'GET', url: receiver.url }));
    assert.equal(err.code, 'scheme_not_allowed');
    assert.equal(err.retryable, false);
    assert.match(err.message, /must use https/);
    assert.equal(receiver.requests.length, before);
  });

  test('a redirect to a private address is refused (literal and by name)', async () => {
    const { resolve } = fakeResolver({ 'internal.test': '10.0.0.5' });
    // 127.0.0.1 plays a public host here: it is the only private address allowed
    const outbound = createOutboundHttp({ allowPrivate: false, allowHttp: true, allowAddresses: ['127.0.0.1'], resolve });
    const redirector = await startReceiver({ status: 302, headers: { location: 'http://169.254.169.254/latest/meta-data/' } });
    try {
      const err = await rejection(outbound.request({ method: 'GET', url: `${redirector.url}/start` }));
      assert.equal(err.code, 'private_address');
      assert.match(err.message, /169\.254\.169\.254 is a link-local address/);
      assert.equal(redirector.requests.length, 1, 'the first hop was made');

      redirector.respond({ status: 307, headers: { location: 'http://internal.test:8080/admin' } });
      const byName = await rejection(outbound.request({ method: 'POST', url: `${redirector.url}/start`, body: '{}' }));
      assert.equal(byName.code, 'private_address');
      assert.match(byName.message, /internal\.test resolves to a private address 10\.0\.0\.5/);
    } finally {
      await redirector.close();
    }
  });

  test('follows up to 3 redirects, keeps method and body on 307, drops credentials across origins, refuses a 4th', async () => {
    const target = await startReceiver({ status: 200, body: 'arrived' });
    const hops = await startReceiver((req) => {
      const n = Number(req.pathname.slice(1));
      return { status: 307, headers: { location: n >= 2 ? `${target.url}/end` : `/${n + 1}` } };
    });
    try {
      const outbound = createOutboundHttp({ allowPrivate: true, allowHttp: true });
      const res = await outbound.request({
        method: 'POST',
        url: `${hops.url}/0`,
        headers: { authorization: 'Bearer s3cret', 'content-type': 'application/json' },
        body: '{"a":1}',
      });
      assert.equal(res.body, 'arrived');
      assert.deepEqual(
        hops.requests.map((r) => r.path),
        ['/0', '/1', '/2'],
      );
      assert.equal(hops.requests[2].headers.authorization, 'Bearer s3cret', 'same origin keeps it');
      const end = target.requests[0];
      assert.equal(end.method, 'POST');
      assert.equal(end.body, '{"a":1}');
      assert.equal(end.headers.authorization, undefined, 'another origin does not get the credential');

      hops.respond((req) => ({ status: 302, headers: { location: `/${Number(req.pathname.slice(1)) + 1}` } }));
      const err = await rejection(outbound.request({ method: 'GET', url: `${hops.url}/0` }));
      assert.equal(err.code, 'too_many_redirects');
      assert.equal(err.retryable, false);
    } finally {
      await Promise.all([target.close(), hops.close()]);
    }
  });

  test('connects to the address the guard checked (the resolver is asked once, by the socket)', async () => {
    const { resolve, calls } = fakeResolver({ 'hooks.example.test': '127.0.0.1' });
    const outbound = createOutboundHttp({ allowPrivate: false, allowHttp: true, allowAddresses: ['127.0.0.1'], resolve });
    const res = await outbound.request({ method: 'GET', url: `http://hooks.example.test:${receiver.port}/named` });
    assert.equal(res.status, 200);
    assert.deepEqual(calls, ['hooks.example.test']);
    assert.equal(receiver.requests.at(-1)!.headers.host, `hooks.example.test:${receiver.port}`);
  });

  test('times out a receiver that never answers, as a retryable error', async () => {
    const server = await rawServer(() => {
      /* never answers */
    });
    try {
      const outbound = createOutboundHttp({ allowPrivate: true, allowHttp: true, timeoutMs: 300 });
      const started = Date.now();
      const err = await rejection(outbound.request({ method: 'POST', url: server.url, body: 'x' }));
      assert.equal(err.code, 'timeout');
      assert.equal(err.retryable, true);
      assert.ok(Date.now() - started < 2000, 'gave up near the deadline');
    } finally {
      await server.close();
    }
  });

  test('the deadline covers the body: a trickling answer times out too', async () => {
    const server = await rawServer((_req, res) => {
      res.writeHead(200);
      const timer = setInterval(() => res.write('.'), 50);
      res.on('close', () => clearInterval(timer));
    });
    try {
      const outbound = createOutboundHttp({ allowPrivate: true, allowHttp: true, timeoutMs: 400 });
      const err = await rejection(outbound.request({ method: 'GET', url: server.url }));
      assert.equal(err.code, 'timeout');
    } finally {
      await server.close();
    }
  });

  test('reads at most 1 MiB of an endless body and reports it truncated', async () => {
    const chunk = Buffer.alloc(64 * 1024, 'a');
    const server = await rawServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const pump = () => {
        while (res.write(chunk)) {
          /* fill the buffer */
        }
      };
      res.on('drain', pump);
      pump();
    });
    try {
      const outbound = createOutboundHttp({ allowPrivate: true, allowHttp: true, timeoutMs: 5000 });
      const started = Date.now();
      const res = await outbound.request({ method: 'GET', url: server.url });
      assert.equal(res.truncated, true);
      assert.equal(Buffer.byteLength(res.body), 1024 * 1024);
      assert.ok(Date.now() - started < 4000, 'stopped reading instead of waiting for the deadline');
    } finally {
      await server.close();
    }
  });

  test('a connection refused is retryable', async () => {
    const server = await rawServer(() => {});
    const url = server.url;
    await server.close();
    const outbound = createOutboundHttp({ allowPrivate: true, allowHttp: true });
    const err = await rejection(outbound.request({ method: 'GET', url }));
    assert.equal(err.code, 'connection');
    assert.equal(err.retryable, true);
  });
});

describe('checkUrl', () => {
  async function badRequestOf(p: Promise<unknown>): Promise<VigilError> {
    try {
      await p;
    } catch (err) {
      assert.ok(err instanceof VigilError);
      assert.equal(err.status, 400);
      return err;
    }
    assert.fail('expected a 400');
  }

  test('says what is wrong and which field', async () => {
    const { resolve } = fakeResolver({ 'hooks.internal': '10.0.0.5', 'hooks.example.com': '93.184.215.14' });
    const policy = { allowPrivate: false, allowHttp: false, resolve };
    const http = await badRequestOf(checkUrl('http://hooks.example.com/x', { ...policy, field: 'config.url' }));
    assert.match(http.message, /^destination URL must use https/);
    assert.deepEqual((http.details as { field: string }).field, 'config.url');

    const priv = await badRequestOf(checkUrl('https://hooks.internal/x', { ...policy, field: 'secrets.webhookUrl' }));
    assert.equal(
      priv.message,
      'destination host hooks.internal resolves to a private address 10.0.0.5; set VIGIL_ALERTS_ALLOW_PRIVATE_URLS=true to allow it',
    );
    assert.equal((priv.details as { field: string }).field, 'secrets.webhookUrl');

    const literal = await badRequestOf(checkUrl('https://[::1]:8443/', policy));
    assert.match(literal.message, /::1 is a loopback address/);

    const unknown = await badRequestOf(checkUrl('https://nowhere.test/', policy));
    assert.match(unknown.message, /nowhere\.test could not be resolved/);

    await badRequestOf(checkUrl('ftp://example.com/', policy));
    await badRequestOf(checkUrl('not a url', policy));

    await checkUrl('https://hooks.example.com/x', policy);
    await checkUrl('https://hooks.internal/x', { ...policy, allowPrivate: true });
    await checkUrl('http://hooks.example.com/x', { ...policy, allowHttp: true });
  });
});
