import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath, launchBrowser, screenshot } from './support/browser.js';
import { openPage, signIn } from './support/session.js';
import { sharedServer } from './support/shared.js';

/** A phone's width in CSS pixels. */
const PHONE = { width: 375, height: 740 };

describe.skipIf(!chromiumPath)('Every page on a phone-wide screen', () => {
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    browser = await launchBrowser();
    const { url, adminKey } = sharedServer();
    // The admin key of the default tenant sees every table: keys, audit, health checks.
    ({ page } = await signIn(browser, url, adminKey, '/system'));
    await page.setViewportSize(PHONE);
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** How far the page reaches past the right edge of the screen, in CSS pixels. */
  const overflow = () =>
    page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

  it.each([
    ['System', 'Health checks'],
    ['Admin', 'API keys'],
    ['Memories', null],
  ])('%s keeps to the width of the screen', async (title, table) => {
    await openPage(page, title);
    if (table) await page.getByRole('table', { name: table }).waitFor();
    else await page.getByLabel('Or choose files').waitFor();
    await screenshot(page, `narrow-${title.toLowerCase()}`);
    expect(await overflow()).toBe(0);
  });

  it('scrolls a wide table by itself, from the keyboard too', async () => {
    await openPage(page, 'Admin');
    // The table's own scrolling region, around it.
    const region = page.getByRole('table', { name: 'API keys' }).locator('..');
    expect(await region.getAttribute('tabindex')).toBe('0');
    await region.focus();
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => region.evaluate((el) => el.scrollLeft)).toBeGreaterThan(0);
  });
});
