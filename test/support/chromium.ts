import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'puppeteer-core';

/**
 * Headless Chromium for the page tests, driven by puppeteer-core (which downloads no browser of its
 * own). Debian: `apt-get install chromium`; .ci/run installs it. Without one the tests skip.
 */
function findChromium(): string | undefined {
  const explicit = process.env.CHROMIUM_PATH ?? process.env.PUPPETEER_EXECUTABLE_PATH;
  if (explicit) return existsSync(explicit) ? explicit : undefined;
  const names = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];
  for (const directory of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean))
    for (const name of names) if (existsSync(path.join(directory, name))) return path.join(directory, name);
  return undefined;
}

const CHROMIUM = findChromium();

/** The `skip` option of a describe that needs Chromium. */
export const SKIP_WITHOUT_CHROMIUM: string | false = CHROMIUM
  ? false
  : 'no Chromium found: install it (Debian: apt-get install chromium) or set CHROMIUM_PATH to run the page test';

/** Starts headless Chromium with the flags a root CI container needs, plus the test's own. */
export async function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  const { launch } = await import('puppeteer-core');
  return launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30000,
    args: [
      '--no-sandbox', // CI runs as root
      '--disable-dev-shm-usage',
      '--disable-gpu',
      '--autoplay-policy=no-user-gesture-required',
      ...extraArgs,
    ],
  });
}
