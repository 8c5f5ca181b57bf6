/** Where alert links point: VIGIL_PUBLIC_URL, else the address the server listens on. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppLinks, incidentPageUrl, metricPageUrl } from '../../src/http/app-links.js';

test('VIGIL_PUBLIC_URL wins, without its trailing slash', () => {
  const links = new AppLinks({ publicUrl: 'https://vigil.example.com/', host: '0.0.0.0', port: 3000 });
  links.listeningOn({ address: '0.0.0.0', family: 'IPv4', port: 3000 });
  assert.equal(links.origin(), 'https://vigil.example.com');
  assert.equal(incidentPageUrl(links.origin(), 'shop', 12), 'https://vigil.example.com/p/shop/incidents/12');
  assert.equal(metricPageUrl(links.origin(), 'my shop', 7), 'https://vigil.example.com/p/my%20shop/metrics/7');
});

test('without it: the configured host and the port the server listens on (a wildcard host is localhost)', () => {
  const wildcard = new AppLinks({ publicUrl: undefined, host: '0.0.0.0', port: 3000 });
  assert.equal(wildcard.origin(), 'http://localhost:3000', 'before listening: the configured port');
  const ephemeral = new AppLinks({ publicUrl: undefined, host: '127.0.0.1', port: 0 });
  ephemeral.listeningOn({ address: '127.0.0.1', family: 'IPv4', port: 41234 });
  assert.equal(ephemeral.origin(), 'http://127.0.0.1:41234');
  assert.equal(new AppLinks({ publicUrl: undefined, host: '::1', port: 8080 }).origin(), 'http://[::1]:8080');
  assert.equal(new AppLinks({ publicUrl: undefined, host: 'vigil.internal', port: 80 }).origin(), 'http://vigil.internal:80');
});
