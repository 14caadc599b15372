/**
 * Headless Chromium for the dashboard tests: Debian's binary with the flags this machine needs
 * (no sandbox as root, no background networking on a closed network), and a page that records
 * every dialog (an alert() from injected markup) and every uncaught page error, for the tests
 * to assert there were none.
 */
import { chromium, type Browser, type Page } from 'playwright-core';

const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

export function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({ executablePath, args: CHROMIUM_FLAGS });
}

/** A 1600×1000 page whose dialogs are dismissed into `dialogs` and whose errors land in `pageErrors`. */
export async function watchedPage(browser: Browser, dialogs: string[], pageErrors: string[]): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  return page;
}
