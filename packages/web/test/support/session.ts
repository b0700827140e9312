import type { Browser, BrowserContext, Page } from 'playwright-core';
import { expect } from 'vitest';
import { screenshot, seriousViolations, unreachableByKeyboard } from './browser.js';

/** A browser tab signed in with `key` at `url`: the key entered in the form, as a person does. */
export async function signIn(
  browser: Browser,
  url: string,
  key: string,
  path = '/system',
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  // Anything the Content-Security-Policy blocks is recorded, and checkPage fails on it.
  await context.addInitScript(() => {
    const w = window as unknown as { __cspViolations: string[] };
    w.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      w.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  const page = await context.newPage();
  page.on('pageerror', (error) => {
    throw error;
  });
  await page.goto(`${url}${path}`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Use this key' }).click();
  await page.getByRole('navigation', { name: 'Pages' }).waitFor();
  return { context, page };
}

/** Goes to a page by its navigation link. */
export async function openPage(page: Page, title: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: title }).click();
  await page.getByRole('heading', { level: 1, name: title }).waitFor();
}

/**
 * The checks every page gets: a screenshot, nothing blocked by the Content-Security-Policy,
 * axe (0 serious/critical), every control reached by Tab.
 */
export async function checkPage(page: Page, name: string): Promise<void> {
  await screenshot(page, name);
  const blocked = await page.evaluate(
    () => (window as unknown as { __cspViolations?: string[] }).__cspViolations ?? [],
  );
  expect(blocked, `CSP on ${name}`).toEqual([]);
  expect(await seriousViolations(page), `axe on ${name}`).toEqual([]);
  expect(await unreachableByKeyboard(page), `keyboard on ${name}`).toEqual([]);
}
