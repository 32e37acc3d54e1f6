/** Chromium for the web page tests: where it is, where screenshots go, and one way to start it. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.VIDX_CHROMIUM || '/usr/bin/chromium';
export const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'web');
export const haveChromium = existsSync(CHROMIUM);

/** Headless Chromium with a fresh profile (playwright passes it as --user-data-dir), on `url`. */
export async function openPage(profileDir: string, url: string): Promise<{ browser: BrowserContext; page: Page }> {
  const browser = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  });
  const page = browser.pages()[0] ?? (await browser.newPage());
  await page.goto(url);
  return { browser, page };
}
