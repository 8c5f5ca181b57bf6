/** Chromium for the browser tests: Debian's package, driven by playwright-core. */
import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Whether the browser tests can run here; in CI a missing browser is a failure, not a skip. */
export function browserSkip(): string | false {
  if (fs.existsSync(CHROMIUM)) return false;
  if (process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run installs it with apt-get install -y chromium`);
  return `no ${CHROMIUM} here (apt-get install -y chromium); CI runs these tests`;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
    ],
  });
}
