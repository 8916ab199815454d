// SPDX-License-Identifier: Apache-2.0
/**
 * Drives the system's Chromium (Debian package `chromium`) with playwright-core for the
 * tests that need a real browser: sign-in pages, cookies, redirects.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';

const SCREENSHOTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'results', 'screenshots');

/**
 * Launches headless Chromium from `$CHROMIUM` (default /usr/bin/chromium). The caller closes it.
 * @throws Error naming the missing binary and the package to install when it is absent.
 */
export async function launchBrowser(): Promise<Browser> {
  const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    throw new Error(`no Chromium at ${executablePath}: install it (Debian/Ubuntu: apt-get install chromium) or set CHROMIUM to its path`);
  }
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      // Chromium refuses to start its sandbox as root (the tests run as root in CI containers);
      // the pages it opens here are our own local servers only.
      ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
      // Containers have a small /dev/shm; without this, Chromium's renderers crash on larger pages.
      '--disable-dev-shm-usage',
    ],
  });
}

/** A path for the screenshot `name` (.png added) under test/results/screenshots/, which it creates. */
export function screenshotPath(name: string): string {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return join(SCREENSHOTS, `${name.replace(/[^A-Za-z0-9._-]/g, '-')}.png`);
}
