/** The browser SDK's logic (sdk/src/core.ts) with a fake clock, timers, storage and network. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import {
  BACKOFF_MAX_MS,
  KEY_SESSION,
  MAX_BATCH,
  MAX_BEACON_CHARS,
  MAX_QUEUE,
  SESSION_IDLE_MS,
  backoffMs,
  batchSize,
  createClient,
  touchSession,
  type Client,
  type Env,
  type KeyValue,
  type Message,
  type Options,
} from '../../sdk/src/core.js';
import { bundleSdk } from '../../sdk/build.mjs';
import { sdkSnippet } from '../../src/web/sdk-route.js';

const START = Date.parse('2026-03-02T10:00:00.000Z');
const HOST = 'https://vigil.example.com';
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

interface Sent {
  url: string;
  batch: Message[];
  sentAt: string;
  writeKey: string;
}

function memory(): KeyValue & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return { data, get: (k) => data.get(k) ?? null, set: (k, v) => void data.set(k, v) };
}

/** A fake browser: the clock moves only with advance(), which also fires the timers that fall due. */
function fakeEnv(shared: { local?: KeyValue; session?: KeyValue } = {}) {
  let clock = START;
  let ids = 0;
  let timers: { at: number; fn: () => void; id: number }[] = [];
  const posts: Sent[] = [];
  const beacons: Sent[] = [];
  /** answers for the next posts, in order; 200 once they run out */
  const answers: number[] = [];
  let beaconAccepts = true;
  const env: Env = {
    version: '9.9.9',
    now: () => clock,
    uuid: () => `00000000-0000-4000-8000-${String(++ids).padStart(12, '0')}`,
    random: () => 0.5,
    local: shared.local ?? memory(),
    session: shared.session ?? memory(),
    post: async (url, body) => {
      posts.push({ url, ...JSON.parse(body) });
      return answers.length ? answers.shift()! : 200;
    },
    beacon: (url, body) => {
      if (beaconAccepts) beacons.push({ url, ...JSON.parse(body) });
      return beaconAccepts;
    },
    setTimer(fn, ms) {
      const timer = { at: clock + ms, fn, id: ids++ };
      timers.push(timer);
      return () => void (timers = timers.filter((t) => t !== timer));
    },
    context: () => ({
      page: {
        path: '/pricing',
        referrer: 'https://search.example/',
        url: 'https://shop.example/pricing?plan=pro',
        title: 'Pricing',
        search: '?plan=pro',
      },
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0',
      locale: 'en-GB',
    }),
  };
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  return {
    env,
    posts,
    beacons,
    answers,
    refuseBeacons: () => void (beaconAccepts = false),
    pendingTimers: () => timers.length,
    /** moves the clock by ms, firing each due timer at its time and letting the sends it starts finish */
    async advance(ms: number) {
      const end = clock + ms;
      await settle();
      for (;;) {
        const due = timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
        if (!due) break;
        timers = timers.filter((t) => t !== due);
        clock = due.at;
        due.fn();
        await settle();
      }
      clock = end;
      await settle();
    },
    settle,
    events: () => posts.flatMap((p) => p.batch),
  };
}

function started(options: Options = {}, shared?: Parameters<typeof fakeEnv>[0]) {
  const fake = fakeEnv(shared);
  const client: Client = createClient(fake.env);
  client.init('wk_test', { host: HOST + '/', ...options });
  return { ...fake, client };
}

describe('sdk payloads', () => {
  test('a track call is a Segment message with the library, page, user agent, locale and session', async () => {
    const { client, posts } = started();
    client.track('Plan Chosen', { plan: 'pro' });
    await client.flush();
    assert.equal(posts.length, 1);
    const [sent] = posts;
    assert.equal(sent.url, HOST + '/v1/batch', 'the trailing slash of the host is dropped');
    assert.equal(sent.writeKey, 'wk_test', 'the write key travels in the body (beacons cannot set headers)');
    assert.match(sent.sentAt, ISO);
    const [m] = sent.batch;
    assert.deepEqual(Object.keys(m).sort(), ['anonymousId', 'context', 'event', 'messageId', 'properties', 'timestamp', 'type']);
    assert.equal(m.type, 'track');
    assert.equal(m.event, 'Plan Chosen');
    assert.deepEqual(m.properties, { plan: 'pro' });
    assert.equal(m.timestamp, new Date(START).toISOString());
    assert.match(String(m.messageId), UUID);
    assert.match(String(m.anonymousId), UUID);
    const context = m.context as Record<string, any>;
    assert.deepEqual(context.library, { name: 'vigil.js', version: '9.9.9' });
    assert.deepEqual(context.page, {
      path: '/pricing',
      referrer: 'https://search.example/',
      url: 'https://shop.example/pricing?plan=pro',
      title: 'Pricing',
      search: '?plan=pro',
    });
    assert.equal(context.userAgent, 'Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0');
    assert.equal(context.locale, 'en-GB');
    assert.match(context.sessionId, UUID);
  });

  test('page, identify and group calls; the userId goes on every later event', async () => {
    const { client, events } = started();
    client.page();
    client.page('Pricing', { experiment: 'b' });
    client.page({ section: 'docs' });
    client.identify('user-7', { email: 'seven@example.com' });
    client.track('Signed In');
    client.group('org-1', { plan: 'team' });
    client.identify({ theme: 'dark' });
    client.track('');
    await client.flush();
    const sent = events();
    assert.deepEqual(
      sent.map((m) => m.type),
      ['page', 'page', 'page', 'identify', 'track', 'group', 'identify'],
      'a track without a name is dropped',
    );
    const pageProps = {
      path: '/pricing',
      referrer: 'https://search.example/',
      url: 'https://shop.example/pricing?plan=pro',
      title: 'Pricing',
      search: '?plan=pro',
    };
    assert.deepEqual(sent[0].properties, pageProps);
    assert.equal(sent[0].name, undefined);
    assert.equal(sent[1].name, 'Pricing');
    assert.deepEqual(sent[1].properties, { ...pageProps, experiment: 'b' });
    assert.deepEqual(sent[2].properties, { ...pageProps, section: 'docs' });
    assert.equal(sent[2].userId, undefined);
    assert.equal(sent[3].userId, 'user-7');
    assert.deepEqual(sent[3].traits, { email: 'seven@example.com' });
    assert.equal(sent[4].userId, 'user-7');
    assert.equal(sent[5].groupId, 'org-1');
    assert.deepEqual(sent[5].traits, { plan: 'team' });
    assert.equal(sent[6].userId, 'user-7', 'identify(traits) keeps the known user');
    assert.deepEqual(sent[6].traits, { theme: 'dark' });
    assert.equal(new Set(sent.map((m) => m.anonymousId)).size, 1);
    assert.equal(new Set(sent.map((m) => m.messageId)).size, sent.length);
  });

  test('the anonymousId and userId survive a reload (local storage); reset() forgets both and starts a session', async () => {
    const local = memory();
    const session = memory();
    const first = started({}, { local, session });
    first.client.identify('user-7');
    await first.client.flush();
    const before = first.events()[0];

    const reloaded = started({}, { local, session });
    reloaded.client.track('Back Again');
    reloaded.client.reset();
    reloaded.client.track('Signed Out');
    await reloaded.client.flush();
    const [again, afterReset] = reloaded.events();
    assert.equal(again.anonymousId, before.anonymousId);
    assert.equal(again.userId, 'user-7');
    assert.equal((again.context as any).sessionId, (before.context as any).sessionId);
    assert.notEqual(afterReset.anonymousId, before.anonymousId);
    assert.equal(afterReset.userId, undefined);
    assert.notEqual((afterReset.context as any).sessionId, (before.context as any).sessionId);
  });

  test('calls made before init wait for it', async () => {
    const fake = fakeEnv();
    const client = createClient(fake.env);
    client.track('Early');
    client.unload();
    await fake.advance(10_000);
    assert.equal(fake.posts.length + fake.beacons.length, 0);
    client.init('wk_test', { host: HOST });
    await fake.advance(0);
    assert.deepEqual(
      fake.events().map((m) => m.event),
      ['Early'],
    );
  });
});

describe('sdk sessions', () => {
  test('touchSession keeps the id while events come within 30 minutes and renews it after 30 idle minutes', () => {
    const store = memory();
    let n = 0;
    const uuid = () => `s${++n}`;
    assert.equal(touchSession(store, START, uuid), 's1');
    // a long visit: one event every 20 minutes for 2 hours stays one session (idle time, not age)
    for (let t = 20; t <= 120; t += 20) assert.equal(touchSession(store, START + t * 60_000, uuid), 's1');
    const last = START + 120 * 60_000;
    assert.equal(touchSession(store, last + SESSION_IDLE_MS - 1, uuid), 's1');
    assert.equal(touchSession(store, last + SESSION_IDLE_MS - 1 + SESSION_IDLE_MS, uuid), 's2');
    assert.equal(store.data.get(KEY_SESSION), `s2|${last + 2 * SESSION_IDLE_MS - 1}`);
    store.set(KEY_SESSION, 'garbage');
    assert.equal(touchSession(store, last, uuid), 's3', 'an unreadable entry starts a session');
  });

  test('the client puts the renewed session on events', async () => {
    const { client, advance, events } = started();
    client.track('A');
    await advance(29 * 60_000);
    client.track('B');
    await advance(31 * 60_000);
    client.track('C');
    await client.flush();
    const [a, b, c] = events().map((m) => (m.context as any).sessionId);
    assert.equal(a, b);
    assert.notEqual(b, c);
  });
});

describe('sdk batching', () => {
  test('sends when flushAt events wait, else after flushIntervalMs', async () => {
    const { client, posts, advance } = started();
    for (let i = 0; i < 9; i++) client.track('E' + i);
    await advance(1999);
    assert.equal(posts.length, 0, 'nine events wait for the interval');
    client.track('E9');
    await advance(0);
    assert.equal(posts.length, 1);
    assert.equal(posts[0].batch.length, 10);

    client.track('Lonely');
    await advance(1999);
    assert.equal(posts.length, 1);
    await advance(1);
    assert.equal(posts.length, 2);
    assert.deepEqual(
      posts[1].batch.map((m) => m.event),
      ['Lonely'],
    );
  });

  test('flushAt and flushIntervalMs are options', async () => {
    const { client, posts, advance } = started({ flushAt: 2, flushIntervalMs: 500 });
    client.track('A');
    client.track('B');
    await advance(0);
    assert.equal(posts.length, 1);
    client.track('C');
    await advance(500);
    assert.equal(posts.length, 2);
  });

  test('a big queue goes in requests of at most MAX_BATCH events', async () => {
    const { client, posts, answers, advance } = started();
    answers.push(0);
    for (let i = 0; i < 250; i++) client.track('E' + i);
    await advance(BACKOFF_MAX_MS);
    assert.deepEqual(
      posts.slice(1).map((p) => p.batch.length),
      [MAX_BATCH, MAX_BATCH, 50],
    );
    assert.deepEqual(
      posts.slice(1).flatMap((p) => p.batch.map((m) => m.event)),
      Array.from({ length: 250 }, (_, i) => 'E' + i),
      'in order, none twice',
    );
  });

  test('batchSize keeps a request under the character limit, with at least one message', () => {
    const big = (n: number) => ({ blob: 'x'.repeat(n) });
    assert.equal(batchSize([big(100), big(100), big(100)], 1000), 3);
    assert.equal(batchSize([big(400), big(400), big(400)], 1000), 2);
    assert.equal(batchSize([big(5000), big(10)], 1000), 1, 'one message too large still goes (the server says why)');
    assert.equal(batchSize([], 1000), 0);
    assert.equal(
      batchSize(
        Array.from({ length: 300 }, () => big(1)),
        1e9,
      ),
      MAX_BATCH,
    );
  });
});

describe('sdk retries', () => {
  test('backoff doubles from 1 s to a 1 minute ceiling, with ±25% jitter', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 10].map((a) => backoffMs(a, 0.5)),
      [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000],
    );
    assert.equal(backoffMs(1, 0), 750);
    assert.equal(backoffMs(3, 0.999999), 4000 * 1.2499995);
  });

  test('network errors, 429 and 5xx keep the events and retry with growing delays; other events wait meanwhile', async () => {
    const { client, posts, answers, advance, events } = started();
    answers.push(0, 503, 429);
    for (let i = 0; i < 10; i++) client.track('E' + i);
    await advance(0);
    assert.equal(posts.length, 1);
    for (let i = 10; i < 25; i++) client.track('E' + i);
    await advance(999);
    assert.equal(posts.length, 1, 'no send before the first retry (1 s), even with 10+ events waiting');
    await advance(1);
    assert.equal(posts.length, 2);
    await advance(1999);
    assert.equal(posts.length, 2);
    await advance(1);
    assert.equal(posts.length, 3);
    await advance(4000);
    assert.equal(posts.length, 4, 'the fourth attempt succeeds');
    const delivered = posts[3].batch.map((m) => m.event);
    assert.deepEqual(
      delivered,
      Array.from({ length: 25 }, (_, i) => 'E' + i),
    );
    assert.equal(
      new Set(posts.map((p) => p.batch[0].messageId)).size,
      1,
      'a retry sends the same messageIds (the server stores them once)',
    );
    // back to normal: the next event waits for the interval, not a backoff
    client.track('Later');
    await advance(2000);
    assert.deepEqual(
      events()
        .slice(-1)
        .map((m) => m.event),
      ['Later'],
    );
  });

  test('a 400 or 401 is not retried', async () => {
    const { client, posts, answers, advance } = started();
    answers.push(400, 401);
    client.track('Bad');
    await client.flush();
    client.track('Unauthorized');
    await client.flush();
    await advance(10 * 60_000);
    assert.equal(posts.length, 2);
  });

  test(`while the server is down the queue keeps the newest ${MAX_QUEUE} events`, async () => {
    const { client, posts, answers, advance } = started();
    answers.push(...Array(8).fill(503));
    for (let i = 0; i < 1500; i++) client.track('E' + i);
    await advance(0);
    assert.equal(posts.length, 1);
    assert.equal(posts[0].batch.length, 10, 'the tenth event started a send');
    await advance(10 * 60_000);
    const delivered = posts.slice(8).flatMap((p) => p.batch.map((m) => m.event));
    assert.equal(delivered.length, MAX_QUEUE);
    assert.equal(delivered[0], 'E500');
    assert.equal(delivered.at(-1), 'E1499');
  });

  test('flush() during a backoff tries at once', async () => {
    const { client, posts, answers, advance } = started();
    answers.push(503);
    client.track('A');
    await client.flush();
    await client.flush();
    assert.equal(posts.length, 2);
    await advance(60_000);
    assert.equal(posts.length, 2, 'the retry timer was cancelled: nothing is left to send');
  });
});

describe('sdk unload', () => {
  test('the queue, and the batch in flight, leave by beacon in chunks under the beacon limit', async () => {
    const fake = fakeEnv();
    let release: (status: number) => void = () => {};
    fake.env.post = (url, body) => {
      fake.posts.push({ url, ...JSON.parse(body) });
      return new Promise((resolve) => (release = resolve));
    };
    const client = createClient(fake.env);
    client.init('wk_test', { host: HOST });
    for (let i = 0; i < 10; i++) client.track('F' + i, { pad: 'y'.repeat(1000) });
    await fake.settle();
    assert.equal(fake.posts.length, 1, 'ten events are in flight');
    for (let i = 10; i < 40; i++) client.track('F' + i, { pad: 'y'.repeat(1000) });
    client.unload();
    const beaconed = fake.beacons.flatMap((b) => b.batch.map((m) => m.event));
    assert.deepEqual(
      beaconed,
      Array.from({ length: 40 }, (_, i) => 'F' + i),
    );
    assert.ok(fake.beacons.length >= 2);
    for (const b of fake.beacons) {
      assert.equal(b.url, HOST + '/v1/batch');
      assert.equal(b.writeKey, 'wk_test');
      assert.ok(JSON.stringify(b).length < MAX_BEACON_CHARS + 2000);
    }
    release(200);
    await fake.advance(60_000);
    assert.equal(fake.posts.length, 1, 'nothing is left to send');
  });

  test('events the browser refuses to beacon stay queued for the next send', async () => {
    const { client, refuseBeacons, posts, advance } = started();
    client.track('Kept');
    refuseBeacons();
    client.unload();
    await advance(2000);
    assert.deepEqual(
      posts.flatMap((p) => p.batch.map((m) => m.event)),
      ['Kept'],
    );
  });

  test('after a beacon during a backoff, new events are sent normally', async () => {
    const { client, answers, posts, beacons, advance } = started();
    answers.push(503);
    client.track('A');
    await client.flush();
    client.unload();
    assert.deepEqual(
      beacons.map((p) => p.batch.map((m) => m.event)),
      [['A']],
    );
    await advance(60_000);
    client.track('B');
    await advance(2000);
    assert.deepEqual(
      posts.map((p) => p.batch.map((m) => m.event)),
      [['A'], ['B']],
    );
  });
});

describe('sdk bundle and snippet', () => {
  test('sdk.js is at most 5 KB minified and gzipped', async () => {
    const code = await bundleSdk();
    const gzipped = zlib.gzipSync(code, { level: 9 }).length;
    assert.ok(gzipped <= 5 * 1024, `sdk.js is ${gzipped} bytes gzipped`);
    assert.doesNotMatch(code, /__VIGIL_VERSION__|\brequire\(|\bimport\b/);
  });

  test('the snippet loads /sdk.js from the host and escapes what could end the script', () => {
    const html = sdkSnippet('https://vigil.example.com/', 'wk_"</script><b>');
    assert.match(html, /^<script>\n[\s\S]*\n<\/script>$/);
    assert.equal(html.match(/<\/script>/g)?.length, 1);
    assert.ok(html.includes('"https://vigil.example.com"'));
    assert.ok(html.includes(String.raw`"wk_\"\u003c/script>\u003cb>"`));
    // the stub queues calls in order until the SDK replaces it
    const window: Record<string, any> = {};
    const appended: { src?: string; async?: boolean }[] = [];
    const document = { createElement: () => ({}), head: { appendChild: (s: { src?: string }) => appended.push(s) } };
    new Function('window', 'document', html.replace(/<\/?script>/g, ''))(window, document);
    window.vigil.track('Clicked', { id: 1 });
    assert.equal(appended[0].src, 'https://vigil.example.com/sdk.js');
    assert.equal(appended[0].async, true);
    assert.deepEqual(
      [...window.vigil],
      [
        ['init', 'wk_"</script><b>', { host: 'https://vigil.example.com' }],
        ['track', 'Clicked', { id: 1 }],
      ],
    );
  });
});
