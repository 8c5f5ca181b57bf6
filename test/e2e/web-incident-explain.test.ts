/**
 * An incident's page says why each signal fired, in a real browser: observed, expected, band,
 * sample size, the detector, and the sentence (src/signals/explain.ts), for an event's outage
 * with the detector's sample size and model.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { browserSkip, launchBrowser } from '../helpers/browser.js';
import type { SignalInput } from '../../src/signals/store.js';
import { screenshot, watchErrors, signIn } from './web-helpers.js';

const EMAIL = 'noor@example.com';
const PASSWORD = 'correct horse battery staple';
const HOUR = 3_600_000;

describe('web app: why a signal fired', { skip: browserSkip() }, () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let incidentId: number;

  before(async () => {
    t = await startTestApp();
    const owner = await t.ctx.users.create({ email: EMAIL, password: PASSWORD, name: 'Noor', isAdmin: true });
    await t.ctx.memberships.grant(t.project.id, owner.id, 'owner');
    const bucket = Math.floor(Date.now() / HOUR) * HOUR - 4 * HOUR;
    const outage: SignalInput = {
      scope: 'event',
      scopeKey: 'event:Order Completed',
      metricId: null,
      bucket,
      endBucket: bucket + 2 * HOUR,
      kind: 'outage',
      direction: 'down',
      value: 12,
      expected: 118,
      lower: 84,
      upper: 152,
      z: -9.8,
      score: 0.7,
      severity: 'critical',
      details: { event: 'Order Completed', interval: '1h', threshold: 4, flagged: 3, samples: 12, model: 'poisson' },
    };
    await t.ctx.signals.upsert(t.project.id, [outage]);
    const open = await t.ctx.incidents.list(t.project, { status: 'open', limit: 10 });
    assert.equal(open.incidents.length, 1, JSON.stringify(open.incidents));
    incidentId = open.incidents[0].id;
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  test('the incident page: observed, expected, band, sample size, detector and the sentence', async () => {
    page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    errors = watchErrors(page);
    await signIn(page, t.url + '/sign-in', EMAIL, PASSWORD);
    await page.goto(`${t.url}/p/shop/incidents/${incidentId}`);
    await page.getByRole('heading', { name: 'event Order Completed volume outage' }).waitFor();
    const why = page.getByRole('list', { name: 'Why the signals fired' });
    const sentence =
      'Order Completed: 12 events in the hour against 118 expected (band 84–152, Poisson); 3 hours in a row below the band: an outage.';
    await why.getByText(sentence, { exact: true }).waitFor();
    const text = await why.innerText();
    for (const [label, value] of [
      ['Observed', '12 events'],
      ['Expected', '118'],
      ['Band', '84–152'],
      ['Sample size', '12'],
      ['Detector', 'seasonal baseline, Poisson'],
    ]) {
      assert.match(text, new RegExp(`${label}\\s+${value.replace(/[()]/g, '\\$&')}`), text);
    }
    await screenshot(page, 'incident-why-it-fired');
    assert.deepEqual(errors, []);
  });

  test("a threshold rule's breach: the rule, and the compared value against its limit in the metric's unit", async () => {
    const metric = await t.ctx.catalog.create(t.project, {
      name: 'checkout_p95',
      kind: 'event',
      status: 'draft',
      unit: 'ms',
      definition: { event: 'Checkout' },
    } as never);
    const bucket = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;
    await t.ctx.signals.upsert(t.project.id, [
      {
        scope: 'threshold',
        scopeKey: 'rule:41',
        metricId: metric.id,
        bucket,
        endBucket: bucket,
        kind: 'breach',
        direction: 'up',
        value: 912,
        expected: null,
        lower: null,
        upper: null,
        z: 0,
        score: 1,
        severity: 'critical',
        details: { ruleId: 41, ruleName: 'p95 latency above 800', compared: 912, condition: { operator: '>', value: 800 }, interval: '1h' },
      },
    ]);
    const [incident] = (await t.ctx.incidents.list(t.project, { status: 'open', scope: 'rule:41', limit: 10 })).incidents;
    await page.goto(`${t.url}/p/shop/incidents/${incident.id}`);
    const why = page.getByRole('list', { name: 'Why the signals fired' });
    await why.getByText('rule "p95 latency above 800" breached: 912 ms > 800 ms', { exact: true }).waitFor();
    const text = await why.innerText();
    assert.match(text, /Observed\s+912 ms/);
    assert.match(text, /Expected\s+–/);
    assert.match(text, /Sample size\s+not recorded/);
    assert.match(text, /Detector\s+threshold rule "p95 latency above 800"/);
    assert.deepEqual(errors, []);
  });
});
