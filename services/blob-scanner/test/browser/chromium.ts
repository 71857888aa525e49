// Debian's Chromium driven by playwright-core, as every browser test here uses it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
/** Screenshots are kept here as test artifacts (look at them: the page must really look right). */
export const ARTIFACTS = fileURLToPath(new URL('../../../../test-artifacts/blob-scanner/', import.meta.url));
/** Deadline of every wait on the page (playwright's own waiting: no fixed sleeps). */
export const WAIT_MS = 30_000;

/**
 * Launch it before starting what the test needs: a test that starts servers alongside the launch and then
 * fails on a missing browser never learns their handles, cannot stop them, and the run hangs instead of failing.
 */
export async function launchChromium(): Promise<Browser> {
  // CI installs Debian's chromium; a missing browser is a broken environment, not a reason to skip.
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install it with \`apt-get install -y chromium\``);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
