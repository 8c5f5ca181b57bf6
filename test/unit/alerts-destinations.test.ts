import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { SMTPServer } from 'smtp-server';
import { digestMessage, incidentMessage, type ComposeContext } from '../../src/alerts/compose.js';
import type { AlertEvent, AlertMessage } from '../../src/alerts/message.js';
import { createOutboundHttp } from '../../src/alerts/outbound.js';
import { checkDestination, driverFor, sendTo, verifyWebhookSignature } from '../../src/alerts/destinations/index.js';
import { splitTelegramHtml, telegramHtml } from '../../src/alerts/destinations/telegram.js';
import { slackText } from '../../src/alerts/destinations/slack.js';
import { jiraLabel } from '../../src/alerts/destinations/jira.js';
import { emailContent } from '../../src/alerts/destinations/email.js';
import type { Destination, DestinationKind, SendContext } from '../../src/alerts/destinations/types.js';
import { VigilError } from '../../src/errors.js';
import type { Incident } from '../../src/incidents/types.js';
import type { Signal } from '../../src/signals/store.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { SnapshotFile } from '../helpers/snapshot.js';

const NOW = Date.parse('2026-05-01T10:05:00.000Z');
const DEDUP = 'vigil:shop:incident:12';

function message(event: AlertEvent = 'opened', over: Partial<AlertMessage> = {}): AlertMessage {
  return {
    event,
    project: { id: 1, slug: 'shop', name: 'Shop' },
    rule: { id: 3, name: 'Checkout alerts' },
    incident: {
      id: 12,
      title: 'Checkouts dropped 40%',
      status: event === 'resolved' ? 'resolved' : 'open',
      severity: 'critical',
      startedAt: '2026-05-01T10:00:00.000Z',
      dedupKey: DEDUP,
      url: 'https://vigil.example.com/shop/incidents/12',
    },
    items: [
      {
        scopeKey: 'metric:7',
        kind: 'drop',
        label: 'checkouts',
        direction: 'down',
        bucket: '2026-05-01T10:00:00.000Z',
        actual: 120,
        expected: 200,
        delta: -80,
        percentDelta: -40,
        severity: 'critical',
        link: 'https://vigil.example.com/shop/metrics/7',
      },
      {
        scopeKey: 'event:signup',
        kind: 'level_shift',
        label: 'signup <beta> & co',
        direction: 'up',
        bucket: '2026-05-01T10:00:00.000Z',
        actual: 5,
        expected: 0,
        delta: 5,
        percentDelta: null,
        severity: 'warning',
        link: null,
      },
    ],
    title: 'Checkouts dropped 40% (120 vs 200 expected)',
    text: 'checkouts fell below the expected range.\nStarted 10:00 UTC.',
    createdAt: '2026-05-01T10:05:00.000Z',
    ...over,
  };
}

function ctx(over: Partial<SendContext> = {}): SendContext {
  return {
    http: createOutboundHttp({ allowPrivate: true, allowHttp: true, timeoutMs: 3000 }),
    idempotencyKey: 'delivery-42',
    allowPrivate: true,
    now: () => NOW,
    ...over,
  };
}

function destination(kind: DestinationKind, config: Record<string, unknown>, secrets: Record<string, string>): Destination {
  return { id: 5, projectId: 1, name: `${kind} test`, kind, config, secrets };
}

/** throws unless `fn` throws a 400 whose details name `field` */
function assertBadField(fn: () => unknown, field: string) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof VigilError, String(err));
    assert.equal(err.status, 400);
    assert.equal((err.details as { field?: string }).field, field, err.message);
    return true;
  });
}

/** Every tag closed in order, every & an entity Telegram knows. */
function wellFormedTelegramHtml(html: string): boolean {
  const stack: string[] = [];
  for (const m of html.matchAll(/<(\/?)([a-z]+)[^>]*>/g)) {
    if (m[1]) {
      if (stack.pop() !== m[2]) return false;
    } else stack.push(m[2]);
  }
  return stack.length === 0 && !/&(?!(amp|lt|gt|quot);)/.test(html) && !/<[^>]*$/.test(html);
}

const visible = (html: string) =>
  html
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');

let receiver: Receiver;
before(async () => {
  receiver = await startReceiver();
});
after(() => receiver.close());

/** the requests the shared receiver got during `fn` */
async function capture<T>(fn: () => Promise<T>) {
  const from = receiver.requests.length;
  const value = await fn();
  return { value, requests: receiver.requests.slice(from) };
}

describe('webhook', () => {
  const SECRET = 'whsec_test_secret_0123456789';
  const dest = () => destination('webhook', { url: `${receiver.url}/hooks/vigil`, headers: { 'X-Team': 'payments' } }, { secret: SECRET });

  test('POSTs the JSON a receiver expects, signed so that verifyWebhookSignature accepts it', async () => {
    receiver.respond({ status: 200, body: 'thanks' });
    const { value: result, requests } = await capture(() => sendTo(dest(), message(), ctx()));
    assert.deepEqual(result, { ok: true, status: 200, body: 'thanks', retryable: false });
    assert.equal(requests.length, 1);
    const req = requests[0];
    assert.equal(req.method, 'POST');
    assert.equal(req.path, '/hooks/vigil');
    assert.equal(req.headers['content-type'], 'application/json');
    assert.equal(req.headers['x-team'], 'payments');
    assert.equal(req.headers['x-vigil-idempotency-key'], 'delivery-42');
    assert.equal(req.headers['x-vigil-timestamp'], String(NOW / 1000));
    const signature = String(req.headers['x-vigil-signature']);
    assert.match(signature, /^v1=[0-9a-f]{64}$/);
    assert.equal(verifyWebhookSignature(SECRET, String(req.headers['x-vigil-timestamp']), req.body, signature, 300, NOW), true);
    // what a receiver must refuse
    assert.equal(
      verifyWebhookSignature('another-secret-0123456789', String(req.headers['x-vigil-timestamp']), req.body, signature, 300, NOW),
      false,
    );
    assert.equal(
      verifyWebhookSignature(SECRET, String(req.headers['x-vigil-timestamp']), req.body.replace('120', '121'), signature, 300, NOW),
      false,
    );
    assert.equal(
      verifyWebhookSignature(SECRET, String(req.headers['x-vigil-timestamp']), req.body, signature, 300, NOW + 301_000),
      false,
      'too old',
    );
    assert.equal(
      verifyWebhookSignature(SECRET, String(req.headers['x-vigil-timestamp']), req.body, `v1=${'0'.repeat(64)}, ${signature}`, 300, NOW),
      true,
      'one of several signatures',
    );

    const body = req.json();
    assert.deepEqual(Object.keys(body).sort(), ['createdAt', 'event', 'incident', 'items', 'project', 'rule', 'text', 'title']);
    assert.equal(body.event, 'opened');
    assert.equal(body.incident.dedupKey, DEDUP);
    assert.deepEqual(body.project, { id: 1, slug: 'shop', name: 'Shop' });
    assert.equal(body.items.length, 2);
    assert.deepEqual(
      {
        actual: body.items[0].actual,
        expected: body.items[0].expected,
        delta: body.items[0].delta,
        percentDelta: body.items[0].percentDelta,
      },
      { actual: 120, expected: 200, delta: -80, percentDelta: -40 },
    );
    assert.equal(body.items[1].percentDelta, null, 'null when expected is 0');
    assert.deepEqual(body.items[0].links, {
      item: 'https://vigil.example.com/shop/metrics/7',
      incident: 'https://vigil.example.com/shop/incidents/12',
    });
  });

  test("5xx, 429 and timeouts are retryable; other 4xx are not and carry the receiver's message", async () => {
    receiver.enqueue(
      { status: 503, body: 'maintenance' },
      { status: 429, body: { error: 'slow down' } },
      { status: 400, body: { message: 'unknown event type' } },
    );
    const r503 = await sendTo(dest(), message(), ctx());
    assert.deepEqual([r503.ok, r503.status, r503.retryable], [false, 503, true]);
    const r429 = await sendTo(dest(), message(), ctx());
    assert.deepEqual([r429.ok, r429.status, r429.retryable], [false, 429, true]);
    const r400 = await sendTo(dest(), message(), ctx());
    assert.deepEqual([r400.ok, r400.status, r400.retryable], [false, 400, false]);
    assert.equal(r400.error, 'HTTP 400: unknown event type');

    receiver.enqueue({ hang: true });
    const slow = await sendTo(
      dest(),
      message(),
      ctx({ http: createOutboundHttp({ allowPrivate: true, allowHttp: true, timeoutMs: 200 }) }),
    );
    assert.deepEqual([slow.ok, slow.status, slow.retryable], [false, null, true]);
    assert.match(slow.error!, /did not answer within 200 ms/);
  });

  test('keeps at most 2,000 characters of the answer', async () => {
    receiver.enqueue({ status: 200, body: 'x'.repeat(5000) });
    const result = await sendTo(dest(), message(), ctx());
    assert.equal(result.body.length, 2000);
  });

  test("validate names the field: custom headers cannot override Vigil's", () => {
    const driver = driverFor('webhook');
    assertBadField(
      () => driver.validate({ url: 'https://example.com', headers: { 'X-Vigil-Signature': 'forged' } }, { secret: SECRET }),
      'config.headers.X-Vigil-Signature',
    );
    assertBadField(
      () => driver.validate({ url: 'https://example.com', headers: { 'Content-Type': 'text/plain' } }, { secret: SECRET }),
      'config.headers.Content-Type',
    );
    assertBadField(
      () => driver.validate({ url: 'https://example.com', headers: { 'X-Ok': 'a\r\nInjected: 1' } }, { secret: SECRET }),
      'config.headers.X-Ok',
    );
    assertBadField(() => driver.validate({ url: 'not a url' }, { secret: SECRET }), 'config.url');
    assertBadField(() => driver.validate({ url: 'https://example.com' }, {}), 'secrets.secret');
    driver.validate({ url: 'https://example.com', headers: { Authorization: 'Bearer x' } }, { secret: SECRET });
  });
});

describe('slack', () => {
  const url = () => `${receiver.url}/services/T000/B000/XXXX`;

  test('blocks: a header, a section per item with links, the context and an "Open incident" button', async () => {
    receiver.respond({ status: 200, body: 'ok' });
    const { value: result, requests } = await capture(() =>
      sendTo(destination('slack', { format: 'blocks' }, { webhookUrl: url() }), message(), ctx()),
    );
    assert.equal(result.ok, true);
    const req = requests[0];
    assert.equal(req.path, '/services/T000/B000/XXXX');
    const body = req.json();
    assert.equal(body.text, 'Checkouts dropped 40% (120 vs 200 expected)', 'the notification fallback');
    const types = body.blocks.map((b: { type: string }) => b.type);
    assert.deepEqual(types, ['header', 'section', 'section', 'section', 'context', 'actions']);
    assert.equal(body.blocks[0].text.type, 'plain_text');
    assert.match(body.blocks[0].text.text, /Checkouts dropped 40%/);
    assert.equal(body.blocks[2].text.type, 'mrkdwn');
    assert.equal(
      body.blocks[2].text.text,
      '*<https://vigil.example.com/shop/metrics/7|checkouts>*: 120 (expected 200, −40%) · drop, critical',
    );
    assert.match(body.blocks[3].text.text, /signup &lt;beta&gt; &amp; co/, 'mrkdwn control characters escaped');
    assert.equal(body.blocks[5].elements[0].url, 'https://vigil.example.com/shop/incidents/12');
  });

  test('text: one mrkdwn text', async () => {
    const { requests } = await capture(() =>
      sendTo(destination('slack', { format: 'text' }, { webhookUrl: url() }), message('resolved'), ctx()),
    );
    const body = requests[0].json();
    assert.deepEqual(Object.keys(body).sort(), ['mrkdwn', 'text']);
    assert.match(body.text, /^:white_check_mark: \*Checkouts dropped 40%/);
    assert.match(body.text, /<https:\/\/vigil\.example\.com\/shop\/incidents\/12\|Open incident>/);
  });

  test("Slack's 404 no_service is not retryable and says so", async () => {
    receiver.enqueue({ status: 404, body: 'no_service' });
    const result = await sendTo(destination('slack', {}, { webhookUrl: url() }), message(), ctx());
    assert.deepEqual([result.ok, result.retryable, result.error], [false, false, 'HTTP 404: no_service']);
  });

  test('validate: the webhook URL is a secret; format is text or blocks', () => {
    const driver = driverFor('slack');
    assert.deepEqual(driver.secretFields, ['webhookUrl']);
    assertBadField(() => driver.validate({}, {}), 'secrets.webhookUrl');
    assertBadField(() => driver.validate({ format: 'html' }, { webhookUrl: 'https://hooks.slack.com/services/x' }), 'config.format');
  });
});

describe('telegram', () => {
  const TOKEN = '123456789:AAH-test_token';
  const dest = (config: Record<string, unknown> = {}) =>
    destination('telegram', { chatId: -1001234567890, baseUrl: receiver.url, ...config }, { botToken: TOKEN });

  test('calls sendMessage with HTML parse mode and escaped text', async () => {
    receiver.respond({ status: 200, body: { ok: true, result: { message_id: 77 } } });
    const { value: result, requests } = await capture(() => sendTo(dest(), message(), ctx()));
    assert.equal(result.ok, true);
    assert.equal(result.externalId, '77');
    assert.equal(requests.length, 1);
    assert.equal(requests[0].path, `/bot${TOKEN}/sendMessage`);
    const body = requests[0].json();
    assert.equal(body.chat_id, -1001234567890);
    assert.equal(body.parse_mode, 'HTML');
    assert.match(body.text, /<b>Checkouts dropped 40% \(120 vs 200 expected\)<\/b>/);
    assert.match(body.text, /<a href="https:\/\/vigil\.example\.com\/shop\/metrics\/7">checkouts<\/a>/);
    assert.match(body.text, /signup &lt;beta&gt; &amp; co/);
    assert.ok(wellFormedTelegramHtml(body.text));
  });

  /** ten items whose labels run to hundreds of characters of text to escape */
  const longMessage = () =>
    message('opened', {
      items: Array.from({ length: 10 }, (_, i) => ({
        ...message().items[0],
        label: `item ${i}: ${Array.from({ length: 30 }, (_, j) => `a < b && c > d "quoted" — ${'x'.repeat((i + j) % 40)}`).join(' ')}`,
      })),
    });

  test('a long message goes out as several well-formed parts of at most 4,096 characters, nothing lost', async () => {
    const long = longMessage();
    const { value: result, requests } = await capture(() => sendTo(dest(), long, ctx()));
    assert.equal(result.ok, true);
    const parts = requests.map((r) => r.json().text as string);
    assert.ok(parts.length >= 3, `${parts.length} parts`);
    for (const part of parts) {
      assert.ok(part.length <= 4096, `part of ${part.length} characters`);
      assert.ok(wellFormedTelegramHtml(part), part.slice(0, 80));
    }
    assert.equal(visible(parts.join('\n')), visible(telegramHtml(long)));
  });

  test('splitTelegramHtml closes and reopens a tag that spans a cut, and never cuts an entity', () => {
    const html = `<b>${'a&amp;b '.repeat(2000)}</b>`;
    const parts = splitTelegramHtml(html, 4096);
    assert.ok(parts.length >= 4);
    for (const part of parts) {
      assert.ok(part.length <= 4096);
      assert.ok(part.startsWith('<b>') && part.endsWith('</b>'));
      assert.ok(wellFormedTelegramHtml(part));
    }
    assert.equal(parts.map(visible).join(''), visible(html));
  });

  test("Telegram's error description is reported; a failing part stops the rest", async () => {
    receiver.enqueue({ status: 400, body: { ok: false, error_code: 400, description: 'Bad Request: chat not found' } });
    const { value: result, requests } = await capture(() => sendTo(dest(), longMessage(), ctx()));
    assert.deepEqual([result.ok, result.retryable], [false, false]);
    assert.match(result.error!, /part 1 of \d+: HTTP 400: Bad Request: chat not found/);
    assert.equal(requests.length, 1);
  });

  test('validate names the field', () => {
    const driver = driverFor('telegram');
    assertBadField(() => driver.validate({ chatId: 1 }, { botToken: 'nope' }), 'secrets.botToken');
    assertBadField(() => driver.validate({}, { botToken: TOKEN }), 'config.chatId');
    assertBadField(() => driver.validate({ chatId: 'general' }, { botToken: TOKEN }), 'config.chatId');
    driver.validate({ chatId: '@vigil_alerts' }, { botToken: TOKEN });
  });
});

describe('email', () => {
  interface Mail {
    from: string;
    to: string[];
    user: string | undefined;
    data: string;
  }
  const mails: Mail[] = [];
  let connections = 0;
  let smtp: SMTPServer;
  let port: number;

  before(async () => {
    smtp = new SMTPServer({
      logger: false,
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      onConnect(_session, cb) {
        connections++;
        cb();
      },
      onAuth(auth, _session, cb) {
        if (auth.username === 'vigil' && auth.password === 'smtp-pass') cb(null, { user: 'vigil' });
        else cb(new Error('Invalid username or password'));
      },
      onData(stream, session, cb) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            user: session.user as string | undefined,
            data: Buffer.concat(chunks).toString('utf8'),
          });
          cb();
        });
      },
    });
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
    port = (smtp.server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((r) => smtp.close(() => r())));

  const dest = (over: Record<string, unknown> = {}, password = 'smtp-pass') =>
    destination(
      'email',
      {
        host: '127.0.0.1',
        port,
        secure: false,
        from: 'Vigil <alerts@example.com>',
        to: ['oncall@example.com', 'lead@example.com'],
        user: 'vigil',
        ...over,
      },
      { password },
    );

  /** the decoded text of a quoted-printable MIME body */
  const unQuote = (s: string) =>
    Buffer.from(
      s.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
      'latin1',
    ).toString('utf8');

  test('sends a text and an HTML part, authenticated, to every recipient', async () => {
    const result = await sendTo(dest(), message(), ctx());
    assert.equal(result.ok, true, result.error);
    assert.equal(result.status, 250);
    const mail = mails.at(-1)!;
    assert.equal(mail.from, 'alerts@example.com');
    assert.deepEqual(mail.to, ['oncall@example.com', 'lead@example.com']);
    assert.equal(mail.user, 'vigil');
    assert.match(
      mail.data,
      /^Subject: Checkouts dropped 40% \(120 vs 200 expected\)\r?$/m,
      'the title as it is (compose names the project in it)',
    );
    assert.match(mail.data, /^Message-ID: <delivery-42@example\.com>\r?$/m);
    assert.match(mail.data, /^X-Vigil-Idempotency-Key: delivery-42\r?$/m);
    assert.match(mail.data, /Content-Type: multipart\/alternative/);
    assert.match(mail.data, /Content-Type: text\/plain; charset=utf-8/);
    assert.match(mail.data, /Content-Type: text\/html; charset=utf-8/);
    const decoded = unQuote(mail.data);
    assert.match(decoded, /• checkouts: 120 \(expected 200, −40%\) — drop, critical <https:\/\/vigil\.example\.com\/shop\/metrics\/7>/);
    assert.match(decoded, /<a href="https:\/\/vigil\.example\.com\/shop\/incidents\/12">Open incident<\/a>/);
    assert.match(decoded, /signup &lt;beta&gt; &amp; co/, 'escaped in the HTML part');
  });

  test('a wrong password is not retryable and reports the SMTP code', async () => {
    const result = await sendTo(dest({}, 'wrong'), message(), ctx());
    assert.deepEqual([result.ok, result.retryable, result.status], [false, false, 535]);
    assert.match(result.error!, /EAUTH/);
  });

  test('a private SMTP host is refused without allowPrivate, before connecting', async () => {
    const before = connections;
    const result = await sendTo(dest(), message(), ctx({ allowPrivate: false }));
    assert.deepEqual([result.ok, result.retryable], [false, false]);
    assert.match(result.error!, /127\.0\.0\.1 is a loopback address; set VIGIL_ALERTS_ALLOW_PRIVATE_URLS=true/);
    assert.equal(connections, before);
  });

  test('validate names the field', () => {
    const driver = driverFor('email');
    const ok = { host: 'smtp.example.com', port: 587, from: 'alerts@example.com', to: ['a@example.com'] };
    driver.validate(ok, {});
    assertBadField(() => driver.validate({ ...ok, to: ['a@example.com', 'not an address'] }, {}), 'config.to[1]');
    assertBadField(() => driver.validate({ ...ok, to: [] }, {}), 'config.to');
    assertBadField(() => driver.validate({ ...ok, port: 70000 }, {}), 'config.port');
    assertBadField(() => driver.validate({ ...ok, host: 'smtp example' }, {}), 'config.host');
    assertBadField(() => driver.validate({ ...ok, user: 'vigil' }, {}), 'secrets.password');
  });
});

describe('jira', () => {
  interface Issue {
    key: string;
    fields: { project: { key: string }; summary: string; issuetype: { name: string }; labels: string[]; description: any };
  }
  /** a Jira that keeps the issues it is given and searches them by label */
  function fakeJira(jira: Receiver, issues: Issue[]) {
    jira.respond((req) => {
      if (req.headers.authorization !== `Basic ${Buffer.from('ops@example.com:jira-token').toString('base64')}`)
        return { status: 401, body: { errorMessages: ['Client must be authenticated to access this resource.'] } };
      if (req.method === 'GET' && req.pathname === '/rest/api/3/search/jql') {
        const label = /labels = "([^"]+)"/.exec(req.query.get('jql') ?? '')?.[1];
        const hits = issues.filter((i) => label && i.fields.labels.includes(label));
        return { status: 200, body: { issues: hits.map((i, n) => ({ id: String(10000 + n), key: i.key })), isLast: true } };
      }
      if (req.method === 'POST' && req.pathname === '/rest/api/3/issue') {
        const { fields } = req.json();
        if (fields.issuetype.name !== 'Task')
          return { status: 400, body: { errorMessages: [], errors: { issuetype: 'Specify a valid issue type' } } };
        const key = `${fields.project.key}-${issues.length + 1}`;
        issues.push({ key, fields });
        return { status: 201, body: { id: String(10000 + issues.length), key, self: `${jira.url}/rest/api/3/issue/${key}` } };
      }
      return { status: 404, body: { errorMessages: ['not found'] } };
    });
  }

  let jira: Receiver;
  const issues: Issue[] = [];
  before(async () => {
    jira = await startReceiver();
    fakeJira(jira, issues);
  });
  after(() => jira.close());
  const dest = (over: Record<string, unknown> = {}) =>
    destination('jira', { baseUrl: `${jira.url}/`, projectKey: 'OPS', email: 'ops@example.com', ...over }, { apiToken: 'jira-token' });

  test('creates one issue with a label from the dedup key and an ADF description', async () => {
    const from = jira.requests.length;
    const result = await sendTo(dest(), message(), ctx());
    assert.equal(result.ok, true, result.error);
    assert.equal(result.status, 201);
    assert.equal(result.externalId, 'OPS-1');
    const [search, create] = jira.requests.slice(from);
    assert.equal(search.method, 'GET');
    assert.equal(search.query.get('jql'), `project = "OPS" AND labels = "${jiraLabel(DEDUP)}"`);
    assert.equal(create.path, '/rest/api/3/issue');

    const { fields } = create.json();
    assert.deepEqual(fields.project, { key: 'OPS' });
    assert.deepEqual(fields.issuetype, { name: 'Task' });
    assert.equal(fields.summary, 'Checkouts dropped 40% (120 vs 200 expected)');
    assert.deepEqual(fields.labels, [jiraLabel(DEDUP)]);
    assert.match(fields.labels[0], /^vigil-[A-Za-z0-9_.-]+$/, 'a label Jira accepts: no spaces');

    const doc = fields.description;
    assert.deepEqual([doc.type, doc.version], ['doc', 1]);
    assert.deepEqual(
      doc.content.map((n: { type: string }) => n.type),
      ['paragraph', 'bulletList', 'paragraph', 'paragraph'],
    );
    // the lead: the text's first line (its other lines list the items, which the bullet list shows)
    assert.deepEqual(doc.content[0].content, [{ type: 'text', text: 'checkouts fell below the expected range.' }]);
    const list = doc.content[1];
    assert.equal(list.content.length, 2);
    const first = list.content[0];
    assert.equal(first.type, 'listItem');
    assert.equal(first.content[0].type, 'paragraph');
    assert.deepEqual(first.content[0].content[0], {
      type: 'text',
      text: 'checkouts',
      marks: [{ type: 'strong' }, { type: 'link', attrs: { href: 'https://vigil.example.com/shop/metrics/7' } }],
    });
    assert.equal(first.content[0].content[1].text, ': 120 (expected 200, −40%) · drop, critical');
    assert.deepEqual(doc.content[2].content[0].marks, [{ type: 'link', attrs: { href: 'https://vigil.example.com/shop/incidents/12' } }]);
    // every text node non-empty and single-line, as Jira's ADF validation wants
    const texts: string[] = [];
    const walk = (n: { type: string; text?: string; content?: unknown[] }) => {
      if (n.type === 'text') texts.push(n.text!);
      (n.content as (typeof n)[] | undefined)?.forEach(walk);
    };
    walk(doc);
    assert.ok(texts.every((t) => t.length > 0 && !t.includes('\n')));
  });

  test('a second send finds the existing issue and does not create another', async () => {
    const from = jira.requests.length;
    const result = await sendTo(dest(), message(), ctx({ idempotencyKey: 'delivery-43' }));
    assert.equal(result.ok, true);
    assert.equal(result.externalId, 'OPS-1');
    assert.deepEqual(
      jira.requests.slice(from).map((r) => r.method),
      ['GET'],
    );
    assert.equal(issues.length, 1);
  });

  test('only opened and test create; other events are skipped without a request', async () => {
    const from = jira.requests.length;
    for (const event of ['repeat', 'resolved', 'digest'] as const) {
      assert.deepEqual(await sendTo(dest(), message(event), ctx()), { ok: true, skipped: true, status: null, body: '', retryable: false });
    }
    assert.equal(jira.requests.length, from);
    const test = await sendTo(dest(), message('test', { incident: null }), ctx({ idempotencyKey: 'test-delivery-1' }));
    assert.equal(test.ok, true);
    assert.equal(test.externalId, 'OPS-2');
  });

  test("Jira's field errors are reported and not retried; bad credentials neither", async () => {
    const bad = await sendTo(
      dest({ issueType: 'Incident' }),
      message('opened', { incident: { ...message().incident!, dedupKey: 'other' } }),
      ctx(),
    );
    assert.deepEqual([bad.ok, bad.status, bad.retryable], [false, 400, false]);
    assert.equal(bad.error, 'HTTP 400: issuetype: Specify a valid issue type');
    const denied = await sendTo(
      destination('jira', { baseUrl: jira.url, projectKey: 'OPS', email: 'ops@example.com' }, { apiToken: 'wrong' }),
      message(),
      ctx(),
    );
    assert.deepEqual([denied.ok, denied.status, denied.retryable], [false, 401, false]);
    assert.match(denied.error!, /searching for an existing issue: HTTP 401: Client must be authenticated/);
  });

  test('validate names the field', () => {
    const driver = driverFor('jira');
    assertBadField(
      () => driver.validate({ baseUrl: 'https://acme.atlassian.net', projectKey: 'ops', email: 'a@b.c' }, { apiToken: 't' }),
      'config.projectKey',
    );
    assertBadField(
      () => driver.validate({ baseUrl: 'https://acme.atlassian.net', projectKey: 'OPS', email: 'a@b.c' }, {}),
      'secrets.apiToken',
    );
    assertBadField(() => driver.validate({ projectKey: 'OPS', email: 'a@b.c' }, { apiToken: 't' }), 'config.baseUrl');
  });
});

describe('linear', () => {
  interface LinearIssue {
    id: string;
    identifier: string;
    url: string;
    input: Record<string, unknown>;
  }
  let linear: Receiver;
  const issues = new Map<string, LinearIssue>();
  before(async () => {
    linear = await startReceiver((req) => {
      if (req.headers.authorization !== 'lin_api_test')
        return {
          status: 400,
          body: { errors: [{ message: 'Authentication required, not authenticated', extensions: { code: 'AUTHENTICATION_ERROR' } }] },
        };
      const { query, variables } = req.json();
      if (query.includes('issueCreate')) {
        const input = variables.input;
        if (input.teamId !== 'team-1')
          return {
            status: 200,
            body: {
              data: null,
              errors: [
                { message: 'Argument Validation Error', extensions: { code: 'INVALID_INPUT', userPresentableMessage: 'Team not found' } },
              ],
            },
          };
        if (issues.has(input.id))
          return {
            status: 200,
            body: {
              data: null,
              errors: [{ message: 'duplicate key value violates unique constraint', extensions: { code: 'INVALID_INPUT' } }],
            },
          };
        const issue = {
          id: input.id,
          identifier: `ENG-${issues.size + 1}`,
          url: `https://linear.app/acme/issue/ENG-${issues.size + 1}`,
          input,
        };
        issues.set(input.id, issue);
        return {
          status: 200,
          body: { data: { issueCreate: { success: true, issue: { id: issue.id, identifier: issue.identifier, url: issue.url } } } },
        };
      }
      const found = issues.get(variables.id);
      return found
        ? { status: 200, body: { data: { issue: { id: found.id, identifier: found.identifier, url: found.url } } } }
        : { status: 200, body: { data: null, errors: [{ message: 'Entity not found: Issue' }] } };
    });
  });
  after(() => linear.close());
  const dest = (teamId = 'team-1', apiKey = 'lin_api_test') => destination('linear', { teamId, baseUrl: linear.url }, { apiKey });

  test('issueCreate with the team, title and a markdown description, as GraphQL variables', async () => {
    const from = linear.requests.length;
    const result = await sendTo(dest(), message(), ctx());
    assert.equal(result.ok, true, result.error);
    assert.equal(result.externalId, 'ENG-1');
    const [req] = linear.requests.slice(from);
    assert.equal(req.method, 'POST');
    assert.equal(req.path, '/graphql');
    assert.equal(req.headers.authorization, 'lin_api_test', 'a personal API key, without "Bearer"');
    const { query, variables } = req.json();
    assert.match(query, /mutation \w+\(\$input: IssueCreateInput!\) \{\s*issueCreate\(input: \$input\)/);
    const input = variables.input;
    assert.equal(input.teamId, 'team-1');
    assert.equal(input.title, 'Checkouts dropped 40% (120 vs 200 expected)');
    assert.match(input.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(input.priority, 1, 'critical → urgent');
    assert.match(
      input.description,
      /^- \*\*\[checkouts\]\(https:\/\/vigil\.example\.com\/shop\/metrics\/7\)\*\*: 120 \(expected 200, −40%\) · drop, critical$/m,
    );
    assert.match(input.description, /\[Open incident in Vigil\]\(https:\/\/vigil\.example\.com\/shop\/incidents\/12\)/);
  });

  test('a second send for the same incident answers with the existing issue', async () => {
    const result = await sendTo(dest(), message(), ctx({ idempotencyKey: 'delivery-43' }));
    assert.equal(result.ok, true, result.error);
    assert.equal(result.externalId, 'ENG-1');
    assert.equal(issues.size, 1);
  });

  test("GraphQL errors are not ok, with Linear's message; other events are skipped", async () => {
    const result = await sendTo(dest('team-x'), message('opened', { incident: { ...message().incident!, dedupKey: 'another' } }), ctx());
    assert.deepEqual([result.ok, result.retryable], [false, false]);
    assert.equal(result.error, 'Linear: Team not found');
    const from = linear.requests.length;
    assert.equal((await sendTo(dest(), message('resolved'), ctx())).skipped, true);
    assert.equal(linear.requests.length, from);
  });
});

describe('pagerduty', () => {
  const ROUTING_KEY = 'R0123456789abcdef0123456789abcde';
  const dest = () => destination('pagerduty', { baseUrl: receiver.url }, { routingKey: ROUTING_KEY });

  test('trigger on opened, then resolve with the same dedup key', async () => {
    receiver.respond((req) => ({ status: 202, body: { status: 'success', message: 'Event processed', dedup_key: req.json().dedup_key } }));
    const {
      value: opened,
      requests: [trigger],
    } = await capture(() => sendTo(dest(), message('opened'), ctx()));
    const {
      value: resolved,
      requests: [resolve],
    } = await capture(() => sendTo(dest(), message('resolved'), ctx()));
    assert.deepEqual([opened.ok, opened.status, opened.externalId], [true, 202, DEDUP]);
    assert.equal(resolved.ok, true);
    assert.equal(trigger.path, '/v2/enqueue');
    const t = trigger.json();
    const r = resolve.json();
    assert.equal(t.routing_key, ROUTING_KEY);
    assert.equal(t.event_action, 'trigger');
    assert.equal(r.event_action, 'resolve');
    assert.equal(t.dedup_key, DEDUP);
    assert.equal(r.dedup_key, t.dedup_key);
    assert.equal(r.payload, undefined);
    assert.equal(t.payload.summary, 'Checkouts dropped 40% (120 vs 200 expected)');
    assert.equal(t.payload.severity, 'critical');
    assert.equal(t.payload.source, 'vigil/shop');
    assert.equal(t.payload.custom_details.items[0].percentDelta, -40);
    assert.deepEqual(t.links[0], { href: 'https://vigil.example.com/shop/incidents/12', text: 'Vigil incident' });
  });

  test('severity mapping, repeat re-triggers the same key, digest is not paged', async () => {
    const { requests } = await capture(async () => {
      await sendTo(dest(), message('repeat', { incident: { ...message().incident!, severity: 'info' } }), ctx());
      await sendTo(dest(), message('opened', { incident: { ...message().incident!, severity: 'warning' } }), ctx());
      assert.equal((await sendTo(dest(), message('digest'), ctx())).skipped, true);
    });
    assert.deepEqual(
      requests.map((r) => [r.json().event_action, r.json().dedup_key, r.json().payload.severity]),
      [
        ['trigger', DEDUP, 'info'],
        ['trigger', DEDUP, 'error'],
      ],
    );
  });

  test('an invalid event is not retried; 429 is', async () => {
    receiver.enqueue(
      {
        status: 400,
        body: {
          status: 'invalid event',
          message: 'Event object is invalid',
          errors: ["Length of 'routing_key' is incorrect (should be 32 characters)"],
        },
      },
      { status: 429, body: '' },
    );
    const invalid = await sendTo(dest(), message(), ctx());
    assert.deepEqual([invalid.ok, invalid.retryable], [false, false]);
    assert.match(invalid.error!, /Event object is invalid; Length of 'routing_key' is incorrect/);
    const limited = await sendTo(dest(), message(), ctx());
    assert.deepEqual([limited.ok, limited.retryable], [false, true]);
  });
});

describe('teams', () => {
  test('posts a message with one Adaptive Card 1.4', async () => {
    receiver.respond({ status: 202, body: '' });
    const { value: result, requests } = await capture(() =>
      sendTo(destination('teams', {}, { webhookUrl: `${receiver.url}/workflows/abc` }), message(), ctx()),
    );
    assert.equal(result.ok, true);
    const body = requests[0].json();
    assert.equal(body.type, 'message');
    assert.equal(body.attachments.length, 1);
    const attachment = body.attachments[0];
    assert.equal(attachment.contentType, 'application/vnd.microsoft.card.adaptive');
    const card = attachment.content;
    assert.deepEqual([card.type, card.version], ['AdaptiveCard', '1.4']);
    assert.deepEqual(
      card.body.map((b: { type: string }) => b.type),
      ['TextBlock', 'TextBlock', 'FactSet', 'TextBlock'],
    );
    assert.equal(card.body[0].text, 'Checkouts dropped 40% (120 vs 200 expected)');
    assert.deepEqual(card.body[2].facts[0], { title: 'checkouts', value: '120 (expected 200, −40%) · drop, critical' });
    assert.deepEqual(card.actions, [
      { type: 'Action.OpenUrl', title: 'Open incident', url: 'https://vigil.example.com/shop/incidents/12' },
    ]);
  });
});

describe('driverFor, sendTo and checkDestination', () => {
  test('an unknown kind is a 400 on the field kind', () => {
    assertBadField(() => driverFor('sms'), 'kind');
  });

  test('sendTo never throws: settings that no longer validate are a failure that is not retried', async () => {
    const result = await sendTo(destination('webhook', { url: 'https://example.com' }, {}), message(), ctx());
    assert.deepEqual([result.ok, result.retryable, result.status], [false, false, null]);
    assert.equal(result.error, 'secrets.secret is required');
  });

  test('checkDestination applies the https and private-address rules to each URL, naming the field', async () => {
    const strict = { allowPrivate: false, allowHttp: false };
    await assert.rejects(checkDestination('slack', {}, { webhookUrl: 'http://hooks.slack.test/x' }, strict), (err: VigilError) => {
      assert.equal(err.status, 400);
      assert.equal((err.details as { field: string }).field, 'secrets.webhookUrl');
      assert.match(err.message, /must use https/);
      return true;
    });
    await assert.rejects(
      checkDestination('email', { host: 'localhost', port: 25, from: 'a@example.com', to: ['b@example.com'] }, {}, strict),
      (err: VigilError) => {
        assert.equal((err.details as { field: string }).field, 'config.host');
        assert.match(err.message, /localhost resolves to a loopback address/);
        return true;
      },
    );
    await assert.rejects(
      checkDestination('webhook', { url: 'https://example.com' }, { secret: 'short' }, strict),
      (err: VigilError) => (err.details as { field: string }).field === 'secrets.secret',
    );
    await checkDestination(
      'webhook',
      { url: `${receiver.url}/x` },
      { secret: 'whsec_0123456789abcdef' },
      { allowPrivate: true, allowHttp: true },
    );
  });
});

/**
 * What each destination receives for the messages compose.ts builds (an incident opened,
 * reopened and resolved, and a digest), snapshotted in __snapshots__/alert-payloads.snap.txt so a
 * change in any alert text shows in review. Record again with UPDATE_SNAPSHOTS=1.
 */
describe('rendered payloads (snapshots)', () => {
  const snapshots = new SnapshotFile(fileURLToPath(new URL('./__snapshots__/alert-payloads.snap.txt', import.meta.url)));
  after(() => snapshots.save());

  const HOUR = 3_600_000;
  const STARTED = Date.parse('2026-05-01T08:00:00.000Z');
  const project = { id: 1, slug: 'demo', name: 'Demo shop' };
  const context: ComposeContext = {
    project,
    rule: { id: 3, name: 'Checkout alerts' },
    origin: 'https://vigil.example.com',
    now: NOW,
    metrics: new Map([[7, { name: 'checkout_conversion', displayName: 'Checkout conversion', tags: ['checkout'] }]]),
  };
  const signal = (over: Partial<Signal>): Signal => ({
    id: 1,
    projectId: 1,
    scope: 'metric',
    scopeKey: 'metric:7',
    metricId: 7,
    bucket: STARTED,
    endBucket: STARTED + 2 * HOUR,
    kind: 'drop',
    direction: 'down',
    value: 0.0118,
    expected: 0.0215,
    lower: 0.0151,
    upper: 0.0279,
    z: -6.1,
    score: 0.6,
    severity: 'critical',
    details: { interval: '1h' },
    createdAt: STARTED,
    updatedAt: STARTED,
    ...over,
  });
  const signals = [
    signal({}),
    signal({
      id: 2,
      scopeKey: 'event:Order Completed',
      metricId: null,
      scope: 'event',
      kind: 'outage',
      value: 0,
      expected: 140,
      lower: 92,
      upper: 188,
      severity: 'critical',
    }),
    signal({
      id: 3,
      scopeKey: 'rule:4',
      scope: 'threshold',
      kind: 'breach',
      direction: 'down',
      value: 0.0118,
      expected: null,
      lower: null,
      upper: null,
      severity: 'warning',
      details: { ruleName: 'conversion floor', condition: { operator: '<', value: 0.0115 } },
    }),
  ];
  const incident = (over: Partial<Incident> = {}): Incident => ({
    id: 12,
    projectId: 1,
    scopeKey: 'metric:7',
    breakdown: '',
    direction: 'down',
    metricId: 7,
    title: 'Checkout conversion dropped 45% below expected',
    status: 'open',
    resolution: null,
    severity: 'critical',
    rootSignalId: 1,
    assigneeId: null,
    mutedUntil: null,
    startedBucket: STARTED,
    lastBucket: STARTED + 2 * HOUR,
    openedAt: STARTED + 3 * HOUR,
    acknowledgedAt: null,
    resolvedAt: null,
    createdAt: STARTED + 3 * HOUR,
    updatedAt: STARTED + 3 * HOUR,
    ...over,
  });
  const messages: Record<string, AlertMessage> = {
    opened: incidentMessage('opened', incident(), signals, context),
    reopened: incidentMessage('reopened', incident({ openedAt: STARTED + 30 * HOUR }), signals, context),
    resolved: incidentMessage(
      'resolved',
      incident({ status: 'resolved', resolution: 'recovered', resolvedAt: STARTED + 6 * HOUR }),
      signals,
      context,
    ),
    digest: digestMessage(
      [
        { incident: incident(), root: signals[0] },
        {
          incident: incident({
            id: 13,
            scopeKey: 'event:Order Completed',
            metricId: null,
            title: 'event Order Completed volume outage',
            severity: 'warning',
          }),
          root: signals[1],
        },
      ],
      { from: Date.parse('2026-05-01T00:00:00.000Z'), to: Date.parse('2026-05-02T00:00:00.000Z') },
      context,
    ),
  };

  /** the bodies a destination sent for a message ("skipped" when it sends nothing for that event) */
  async function sent(
    kind: DestinationKind,
    config: Record<string, unknown>,
    secrets: Record<string, string>,
    m: AlertMessage,
  ): Promise<string> {
    const { value: result, requests } = await capture(() => sendTo(destination(kind, config, secrets), m, ctx()));
    assert.equal(result.ok, true, result.error);
    if (result.skipped) return 'skipped';
    return requests
      .filter((r) => r.method === 'POST')
      .map((r) => JSON.stringify(r.json(), null, 2))
      .join('\n');
  }

  before(() =>
    receiver.respond((req) => {
      if (req.path.startsWith('/rest/api/3/search/jql')) return { status: 200, body: { issues: [] } };
      if (req.path === '/rest/api/3/issue') return { status: 201, body: { key: 'OPS-1' } };
      if (req.path === '/graphql')
        return { status: 200, body: { data: { issueCreate: { success: true, issue: { id: 'x', identifier: 'ENG-1' } } } } };
      if (req.path.includes('/sendMessage')) return { status: 200, body: { ok: true, result: { message_id: 1 } } };
      return { status: 200, body: 'ok' };
    }),
  );
  after(() => receiver.respond({ status: 200, body: 'ok' }));

  for (const [event, m] of Object.entries(messages)) {
    test(`${event}: what each destination receives`, async () => {
      snapshots.check(`${event}: message title and text`, `${m.title}\n\n${m.text}`);
      snapshots.check(
        `${event}: webhook`,
        await sent('webhook', { url: `${receiver.url}/hook` }, { secret: 'whsec_test_secret_0123456789' }, m),
      );
      snapshots.check(`${event}: slack blocks`, await sent('slack', { format: 'blocks' }, { webhookUrl: `${receiver.url}/slack` }, m));
      snapshots.check(`${event}: slack text`, await sent('slack', { format: 'text' }, { webhookUrl: `${receiver.url}/slack` }, m));
      snapshots.check(
        `${event}: telegram`,
        await sent('telegram', { chatId: -100123, baseUrl: receiver.url }, { botToken: '123456789:AAH-test_token' }, m),
      );
      const email = emailContent(m);
      snapshots.check(`${event}: email subject and text`, `Subject: ${email.subject}\n\n${email.text}`);
      snapshots.check(`${event}: email html`, email.html);
      snapshots.check(`${event}: teams`, await sent('teams', {}, { webhookUrl: `${receiver.url}/teams` }, m));
      snapshots.check(
        `${event}: jira`,
        await sent('jira', { baseUrl: receiver.url, projectKey: 'OPS', email: 'ops@example.com' }, { apiToken: 'jira-token' }, m),
      );
      snapshots.check(`${event}: linear`, await sent('linear', { teamId: 'team-1', baseUrl: receiver.url }, { apiKey: 'lin_api_test' }, m));
      snapshots.check(
        `${event}: pagerduty`,
        await sent('pagerduty', { baseUrl: receiver.url }, { routingKey: 'R0UT1NGKEY0123456789abcdef01234567' }, m),
      );
    });
  }

  test('every channel says why each signal fired (its explanation), as a loopback receiver gets it', async () => {
    const m = messages.opened;
    const why = 'Order Completed: 0 events in the hour against 140 expected (band 92–188, z -6.1); below the band: an outage.';
    assert.equal(m.items[1].explanation, why);
    assert.equal(m.items[2].explanation, 'rule "conversion floor" breached: 0.0118 < 0.0115');
    assert.match(
      m.items[0].explanation!,
      /^Checkout conversion: 0\.0118 in the hour against 0\.0215 expected \(band 0\.0151–0\.0279, z -6\.1\); below the band: a drop\.$/,
    );
    const bodies: [string, string][] = [
      ['webhook', await sent('webhook', { url: `${receiver.url}/hook` }, { secret: 'whsec_test_secret_0123456789' }, m)],
      ['slack blocks', await sent('slack', { format: 'blocks' }, { webhookUrl: `${receiver.url}/slack` }, m)],
      ['slack text', await sent('slack', { format: 'text' }, { webhookUrl: `${receiver.url}/slack` }, m)],
      ['telegram', await sent('telegram', { chatId: -100123, baseUrl: receiver.url }, { botToken: '123456789:AAH-test_token' }, m)],
      ['email text', emailContent(m).text],
      ['email html', emailContent(m).html],
      ['teams', await sent('teams', {}, { webhookUrl: `${receiver.url}/teams` }, m)],
      ['jira', await sent('jira', { baseUrl: receiver.url, projectKey: 'OPS', email: 'ops@example.com' }, { apiToken: 'jira-token' }, m)],
      ['linear', await sent('linear', { teamId: 'team-1', baseUrl: receiver.url }, { apiKey: 'lin_api_test' }, m)],
      ['pagerduty', await sent('pagerduty', { baseUrl: receiver.url }, { routingKey: 'R0UT1NGKEY0123456789abcdef01234567' }, m)],
    ];
    for (const [channel, body] of bodies) assert.ok(body.includes(why), `${channel} lacks the explanation:\n${body}`);
    const hook = JSON.parse(bodies[0][1]) as { items: { explanation: string | null }[] };
    assert.deepEqual(
      hook.items.map((i) => i.explanation),
      m.items.map((i) => i.explanation),
    );
  });

  test('Slack shows an explanation with "_" in its names as a quote, not in italics that the "_" would end early', () => {
    const m = messages.opened;
    const why = 'checkout_conversion: 0.0118 in the hour against 0.0215 expected (band 0.0151–0.0279, z -6.1); below the band: a drop.';
    const text = slackText({ ...m, items: [{ ...m.items[0], explanation: why }] });
    assert.ok(text.includes(`\n>${why}`), text);
    assert.ok(!text.includes(`_${why}`), text);
  });

  test('the e-mail subject names the project once', () => {
    for (const m of Object.values(messages))
      assert.equal(emailContent(m).subject.split('[Demo shop]').length - 1, 1, emailContent(m).subject);
  });

  test('every stored snapshot is still produced', () => {
    assert.deepEqual(snapshots.unchecked(), [], 'stored snapshots no test produces any more: remove them with UPDATE_SNAPSHOTS=1');
  });
});
