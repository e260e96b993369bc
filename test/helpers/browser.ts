import { after, before } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's chromium (installed with apt by .ci/run); playwright-core downloads no browser. */
export const CHROMIUM_PATH = process.env.MFTG_HOOKS_CHROMIUM ?? '/usr/bin/chromium';

/** A page with the log of every request it made (to prove it loads nothing from another host). */
export interface LoggedPage {
  page: Page;
  requests: string[];
  errors: string[];
}

/**
 * One headless Chromium per test file: launched in `before`, closed in `after`. `browser()` gives it
 * to the tests.
 */
export function useBrowser(): { browser: () => Browser; open: (url: string) => Promise<LoggedPage> } {
  let instance: Browser | null = null;
  before(async () => {
    instance = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--no-sandbox'] });
  });
  after(async () => {
    await instance?.close();
  });
  const browser = (): Browser => {
    if (!instance) throw new Error('the browser is not started');
    return instance;
  };
  return {
    browser,
    async open(url: string) {
      const context = await browser().newContext({ viewport: { width: 1400, height: 900 } });
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(url).origin });
      const page = await context.newPage();
      const requests: string[] = [];
      const errors: string[] = [];
      page.on('request', (request) => requests.push(request.url()));
      page.on('pageerror', (error) => errors.push(String(error)));
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(message.text());
      });
      await page.goto(url);
      return { page, requests, errors };
    },
  };
}
