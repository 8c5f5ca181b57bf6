/** Shared by the browser tests of the web app. */
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';

/** Screenshots go here (git-ignored); CI keeps them as artifacts. */
export const RESULTS_DIR = 'test-results';

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * Script errors and CSP violations on the page, collected for a final `assert.deepEqual(errors, [])`
 * (failed requests are expected: a 401 before sign-in, a 400 a form shows).
 */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource') && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  return errors;
}

/** Opens `url` (the sign-in form, or a page that asks for it) and signs in. */
export async function signIn(page: Page, url: string, email: string, password: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText(`Signed in as ${email}`).waitFor();
}
