/**
 * Issue 16, item 2: every link inside every alert opens the page it names. A real incident (a
 * signal on a metric, as the detectors write it) is delivered by the job worker through one
 * destination of each kind to loopback receivers (HTTP fakes, and an SMTP server for e-mail);
 * every link to Vigil is taken out of each payload and opened in Chromium while signed in, where
 * the incident's or the metric's title must show. No VIGIL_PUBLIC_URL is set: links use the
 * address the server listens on.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { SMTPServer } from 'smtp-server';
import { startTestApp, postJson, type TestApp } from '../helpers/app.js';
import { browserSkip, launchBrowser } from '../helpers/browser.js';
import { startReceiver, type Receiver, type Reply } from '../helpers/receiver.js';
import type { Metric } from '../../src/metrics/service.js';
import { DESTINATION_KINDS, type DestinationKind } from '../../src/alerts/destinations/types.js';
import { screenshot, signIn, watchErrors } from './web-helpers.js';

const EMAIL = 'lena@example.com';
const PASSWORD = 'correct horse battery staple';
const HOUR = 3_600_000;

/** What each service's API answers when Vigil calls it (enough for the driver to call it a success). */
function fakeServices(path: string): Reply {
  if (path.startsWith('/rest/api/3/search/jql')) return { body: { issues: [], isLast: true } };
  if (path === '/rest/api/3/issue') return { status: 201, body: { id: '10001', key: 'OPS-1' } };
  if (path === '/graphql')
    return {
      body: { data: { issueCreate: { success: true, issue: { id: 'i-1', identifier: 'ENG-1', url: 'https://linear.example/ENG-1' } } } },
    };
  if (path.endsWith('/sendMessage')) return { body: { ok: true, result: { message_id: 7 } } };
  if (path === '/v2/enqueue') return { status: 202, body: { status: 'success', message: 'Event processed' } };
  return { body: 'ok' };
}

/** The text and HTML parts of a raw e-mail, decoded (quoted-printable or base64). */
function mailText(raw: string): string {
  return raw
    .split(/\r?\n--[^\r\n]+\r?\n/)
    .map((part) => {
      const [head, ...rest] = part.split(/\r?\n\r?\n/);
      const body = rest.join('\n\n');
      if (/content-transfer-encoding:\s*base64/i.test(head)) return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
      if (/content-transfer-encoding:\s*quoted-printable/i.test(head)) {
        return Buffer.from(
          body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))),
          'latin1',
        ).toString('utf8');
      }
      return part;
    })
    .join('\n');
}

describe('links in alerts open the incident and the metric', { skip: browserSkip() }, () => {
  let t: TestApp;
  let services: Receiver;
  let smtp: SMTPServer;
  const mails: string[] = [];
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let metric: Metric;
  let incident: { id: number; title: string };
  /** per destination kind, the links to Vigil found in what it sent */
  const linksByKind = new Map<DestinationKind, Set<string>>();

  before(async () => {
    services = await startReceiver((req) => fakeServices(req.pathname));
    smtp = new SMTPServer({
      logger: false,
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData(stream, _session, cb) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          mails.push(Buffer.concat(chunks).toString('utf8'));
          cb();
        });
      },
    });
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
    t = await startTestApp({ config: { alertsAllowPrivateUrls: 'true' } });
    const owner = await t.ctx.users.create({ email: EMAIL, password: PASSWORD, name: 'Lena', isAdmin: true });
    await t.ctx.memberships.grant(t.project.id, owner.id, 'owner');
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    errors = watchErrors(page);
  });
  after(async () => {
    await browser?.close();
    await t?.close();
    await services?.close();
    await new Promise<void>((r) => (smtp ? smtp.close(() => r()) : r()));
  });

  test('an incident is delivered through one destination of each kind', async () => {
    const headers = { authorization: `Bearer ${(await t.ctx.apiKeys.create({ projectId: t.project.id, scopes: ['write'] })).secret}` };
    const smtpPort = (smtp.server.address() as AddressInfo).port;
    const settings: Record<DestinationKind, { config: Record<string, unknown>; secrets: Record<string, string> }> = {
      webhook: { config: { url: `${services.url}/hook` }, secrets: { secret: 'whsec-links-0123456789' } },
      slack: { config: { format: 'blocks' }, secrets: { webhookUrl: `${services.url}/slack` } },
      telegram: { config: { chatId: -1001234567890, baseUrl: services.url }, secrets: { botToken: '123456:telegram-token' } },
      email: {
        config: { host: '127.0.0.1', port: smtpPort, secure: false, from: 'Vigil <alerts@example.com>', to: ['oncall@example.com'] },
        secrets: {},
      },
      jira: { config: { baseUrl: services.url, projectKey: 'OPS', email: 'ops@example.com' }, secrets: { apiToken: 'jira-token' } },
      linear: { config: { teamId: 'team-1', baseUrl: services.url }, secrets: { apiKey: 'lin_api_test' } },
      pagerduty: { config: { baseUrl: services.url }, secrets: { routingKey: 'R0UT1NGKEY0123456789abcdef01234567' } },
      teams: { config: {}, secrets: { webhookUrl: `${services.url}/teams` } },
    };
    const kindOf = new Map<number, DestinationKind>();
    for (const kind of DESTINATION_KINDS) {
      const res = await postJson(
        `${t.url}/api/projects/shop/alert-destinations`,
        { name: `${kind} of the on-call`, kind, ...settings[kind] },
        headers,
      );
      assert.equal(res.status, 201, `${kind}: ${JSON.stringify(res.body)}`);
      kindOf.set(res.body.id, kind);
    }
    const rule = await postJson(
      `${t.url}/api/projects/shop/alert-rules`,
      { name: 'everything', destinationIds: [...kindOf.keys()] },
      headers,
    );
    assert.equal(rule.status, 201, JSON.stringify(rule.body));

    metric = await t.ctx.catalog.create(t.project, {
      name: 'checkouts',
      displayName: 'Completed checkouts',
      kind: 'event',
      definition: { event: 'Order Completed' },
    });
    const bucket = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;
    await t.ctx.signals.upsert(t.project.id, [
      {
        scope: 'metric',
        scopeKey: `metric:${metric.id}`,
        metricId: metric.id,
        bucket,
        endBucket: bucket,
        kind: 'drop',
        direction: 'down',
        value: 20,
        expected: 100,
        lower: 80,
        upper: 120,
        z: -8,
        score: 0.8,
        severity: 'critical',
        details: { interval: '1h', threshold: 4 },
      },
    ]);
    const [opened] = (await t.ctx.incidents.list(t.project, { status: 'open', metricId: metric.id, limit: 5 })).incidents;
    assert.ok(opened, 'the signal opened an incident');
    incident = opened;
    while (await t.ctx.worker.runOnce()) {
      // until every delivery has been tried
    }
    const deliveries = await t.ctx.alerts.listDeliveries(t.project, { incidentId: incident.id, limit: 50 });
    assert.deepEqual(
      deliveries.map((d) => [kindOf.get(d.destinationId!), d.status, d.lastError]).sort(),
      [...DESTINATION_KINDS].sort().map((k) => [k, 'sent', null]),
    );

    // every request each destination made, as text; e-mails decoded
    const sent: [DestinationKind, string][] = [
      ...services.requests.map((r): [DestinationKind, string] => {
        const kind =
          r.pathname === '/hook'
            ? 'webhook'
            : r.pathname === '/slack'
              ? 'slack'
              : r.pathname === '/teams'
                ? 'teams'
                : r.pathname.endsWith('/sendMessage')
                  ? 'telegram'
                  : r.pathname.startsWith('/rest/api/3')
                    ? 'jira'
                    : r.pathname === '/graphql'
                      ? 'linear'
                      : 'pagerduty';
        return [kind, r.body];
      }),
      ...mails.map((m): [DestinationKind, string] => ['email', mailText(m)]),
    ];
    for (const [kind, text] of sent) {
      assert.doesNotMatch(text, /\/projects\/shop\//, `${kind} still links to /projects/...`);
      for (const [link] of text.matchAll(/https?:\/\/[^\s"'<>()|\\\]]+/g)) {
        if (link.startsWith(t.url)) linksByKind.set(kind, (linksByKind.get(kind) ?? new Set()).add(link));
      }
    }
    const incidentLink = `${t.url}/p/shop/incidents/${incident.id}`;
    const metricLink = `${t.url}/p/shop/metrics/${metric.id}`;
    for (const kind of DESTINATION_KINDS) {
      const links = [...(linksByKind.get(kind) ?? [])].sort();
      // Teams' card lists the items as facts, without links; every other kind links the metric too
      assert.deepEqual(links, kind === 'teams' ? [incidentLink] : [incidentLink, metricLink], `${kind}'s links`);
    }
  });

  test('each link, opened in the browser while signed in, shows the incident or the metric', async () => {
    await signIn(page, `${t.url}/sign-in`, EMAIL, PASSWORD);
    const links = new Set([...linksByKind.values()].flatMap((s) => [...s]));
    assert.ok(links.size > 0, 'the first test found links');
    for (const link of links) {
      await page.goto(link);
      const title = link.includes('/incidents/') ? incident.title : 'Completed checkouts';
      await page
        .getByRole('heading', { name: title })
        .first()
        .waitFor({ timeout: 10_000 })
        .catch(async (err: Error) => {
          throw new Error(`${link} does not show "${title}" (saved as ${await screenshot(page, 'alert-link-failed')}): ${err.message}`);
        });
      assert.equal(await page.getByText('Page not found').count(), 0, `${link} says "Page not found"`);
    }
    assert.deepEqual(errors, []);
  });

  test('a link of an alert sent before the fix (/projects/<slug>/...) is redirected to the page', async () => {
    await page.goto(`${t.url}/projects/shop/incidents/${incident.id}`);
    await page.getByRole('heading', { name: incident.title }).first().waitFor();
    assert.equal(new URL(page.url()).pathname, `/p/shop/incidents/${incident.id}`);
    await page.goto(`${t.url}/projects/shop/metrics/${metric.id}`);
    await page.getByRole('heading', { name: 'Completed checkouts' }).first().waitFor();
    assert.equal(new URL(page.url()).pathname, `/p/shop/metrics/${metric.id}`);
  });
});
