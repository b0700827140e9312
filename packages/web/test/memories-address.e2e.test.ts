import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath, launchBrowser } from './support/browser.js';
import { signIn } from './support/session.js';
import { sharedServer, tenantKey } from './support/shared.js';

/** 120 fragments: three pages of the list (50, 50, 20). */
const COUNT = 120;

describe.skipIf(!chromiumPath)('The Memories page in the address', () => {
  let url: string;
  let key: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  beforeAll(async () => {
    [key, browser] = await Promise.all([tenantKey('memories-address'), launchBrowser()]);
    url = sharedServer().url;
    const items = Array.from({ length: COUNT }, (_, i) => ({
      text: `Shelf ${i}: the ${i % 2 ? 'atlas' : 'almanac'} number ${i} stands here.`,
    }));
    const added = await fetch(`${url}/v1/memory/batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ items }),
    });
    expect(added.status).toBe(200);
    ({ context, page } = await signIn(browser, url, key, '/memories'));
  });
  afterAll(async () => {
    await browser?.close();
  });

  const count = () => page.getByTestId('result-count');
  const settledCount = async () => {
    await page.locator('[data-testid="result-count"][data-loading="false"]').waitFor();
    return count().textContent();
  };
  const filter = (label: string) =>
    page.getByRole('group', { name: 'Filters' }).getByLabel(label, { exact: true });
  const firstFragment = () =>
    page
      .getByRole('list', { name: 'Fragments' })
      .locator('li')
      .first()
      .getAttribute('data-fragment-id');

  it('keeps the page number over reload, Back and Forward', async () => {
    expect(await settledCount()).toBe('50 fragment(s) on this page');
    const first = await firstFragment();
    await page.getByRole('button', { name: 'Next page' }).click();
    await expect.poll(() => page.url()).toMatch(/[?&]page=2\b/);
    await expect.poll(firstFragment).not.toBe(first);
    const second = await firstFragment();
    await page.getByRole('button', { name: 'Next page' }).click();
    await expect.poll(() => page.url()).toMatch(/[?&]page=3\b/);
    expect(await settledCount()).toBe('20 fragment(s) on this page');

    await page.reload();
    expect(await settledCount()).toBe('20 fragment(s) on this page');
    expect(await page.getByRole('button', { name: 'Previous page' }).isEnabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Next page' }).isDisabled()).toBe(true);

    await page.goBack();
    await expect.poll(firstFragment).toBe(second);
    await page.goBack();
    await expect.poll(firstFragment).toBe(first);
    await page.goForward();
    await expect.poll(firstFragment).toBe(second);
    await page.getByRole('button', { name: 'Previous page' }).click();
    await expect.poll(firstFragment).toBe(first);
  });

  it('keeps the search over reload, and a shared link opens it', async () => {
    await page.getByLabel('Search memories').fill('almanac');
    await expect.poll(() => page.url()).toMatch(/[?&]q=almanac\b/);
    expect(await settledCount()).toMatch(/^\d+ result\(s\) for “almanac”/);
    await page.reload();
    expect(await page.getByLabel('Search memories').inputValue()).toBe('almanac');
    expect(await settledCount()).toMatch(/^\d+ result\(s\) for “almanac”/);

    // A new tab has no key yet: the link is kept while one is entered.
    const shared = await context.newPage();
    await shared.goto(`${url}/memories?q=atlas`);
    await shared.getByLabel('API key').fill(key);
    await shared.getByRole('button', { name: 'Use this key' }).click();
    await shared.getByRole('list', { name: 'Search results' }).getByText(/atlas/).first().waitFor();
    expect(await shared.getByLabel('Search memories').inputValue()).toBe('atlas');
    await shared.close();
    await page.getByLabel('Search memories').fill('');
    await expect.poll(() => page.url()).not.toMatch(/q=/);
  });

  it('goes back from a fragment to the list it was opened from, with its page and search', async () => {
    await page.goto(`${url}/memories?page=2`);
    const second = await firstFragment();
    await page.getByRole('list', { name: 'Fragments' }).getByRole('link').nth(3).click();
    await page.getByRole('heading', { name: /^Fragment / }).waitFor();
    await page.getByRole('button', { name: 'Back to the list' }).click();
    await expect.poll(() => page.url()).toMatch(/\/memories\?page=2$/);
    await expect.poll(firstFragment).toBe(second);
    // The fragment is not an entry after the list: Forward goes to it, Back leaves the list.
    await page.goForward();
    await page.getByRole('heading', { name: /^Fragment / }).waitFor();
    await page.goBack();
    await expect.poll(() => page.url()).toMatch(/\/memories\?page=2$/);

    await page.getByLabel('Search memories').fill('atlas');
    const results = page.getByRole('list', { name: 'Search results' });
    await results.getByRole('link').first().click();
    await page.getByRole('button', { name: 'Back to the list' }).click();
    await results.getByRole('link').first().waitFor();
    expect(await page.getByLabel('Search memories').inputValue()).toBe('atlas');
    expect(page.url()).toMatch(/[?&]q=atlas\b/);
  });

  it('goes to the list from a fragment opened directly', async () => {
    const id = await page
      .getByRole('list', { name: 'Search results' })
      .locator('li')
      .first()
      .getAttribute('data-fragment-id');
    await page.goto(`${url}/memories/${id}`);
    await page.getByRole('button', { name: 'Back to the list' }).click();
    await expect.poll(() => new URL(page.url()).pathname).toBe('/memories');
    expect(await settledCount()).toBe('50 fragment(s) on this page');
  });

  it('keeps the search mode and the filters over reload, Back and Forward', async () => {
    const added = await fetch(`${url}/v1/memory/batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        items: [1, 2, 3].map((i) => ({
          text: `Garden bed ${i}: the almanac says sow beans.`,
          namespace: 'garden',
        })),
      }),
    });
    expect(added.status).toBe(200);
    await page.goto(`${url}/memories`);
    await expect.poll(settledCount).toBe('50 fragment(s) on this page');
    await filter('Namespace').selectOption('garden');
    await expect.poll(() => page.url()).toMatch(/[?&]namespace=garden\b/);
    await expect.poll(settledCount).toBe('3 fragment(s) on this page');
    await page.getByLabel('Mode', { exact: true }).selectOption('lexical');
    await expect.poll(() => page.url()).toMatch(/[?&]mode=lexical\b/);
    await page.getByLabel('Search memories').fill('almanac');
    await expect.poll(() => page.url()).toMatch(/[?&]q=almanac\b/);
    await expect.poll(settledCount).toMatch(/^3 result\(s\) for “almanac”/);

    // A reload searches as before: the same mode, in the same namespace.
    const [searched] = await Promise.all([
      page.waitForRequest((r) => r.url().endsWith('/v1/memory/search')),
      page.reload(),
    ]);
    expect(searched.postDataJSON()).toMatchObject({ mode: 'lexical', namespace: 'garden' });
    expect(await page.getByLabel('Mode', { exact: true }).inputValue()).toBe('lexical');
    expect(await filter('Namespace').inputValue()).toBe('garden');
    await expect.poll(settledCount).toMatch(/^3 result\(s\) for “almanac”/);

    // Back undoes one choice at a time (the search typed with the mode is one step).
    await page.goBack();
    await expect.poll(() => page.getByLabel('Mode', { exact: true }).inputValue()).toBe('hybrid');
    expect(await filter('Namespace').inputValue()).toBe('garden');
    await expect.poll(settledCount).toBe('3 fragment(s) on this page');
    await page.goBack();
    await expect.poll(() => filter('Namespace').inputValue()).toBe('');
    await expect.poll(settledCount).toBe('50 fragment(s) on this page');
    await page.goForward();
    await expect.poll(() => filter('Namespace').inputValue()).toBe('garden');
    await page.goForward();
    await expect.poll(() => page.getByLabel('Mode', { exact: true }).inputValue()).toBe('lexical');
    expect(await page.getByLabel('Search memories').inputValue()).toBe('almanac');

    // Letters typed in a filter are one step, not one each.
    await page.getByLabel('Search memories').fill('');
    await expect.poll(() => page.url()).not.toMatch(/q=/);
    const before = await page.evaluate(() => history.length);
    await filter('Source').pressSequentially('seed');
    await expect.poll(() => page.url()).toMatch(/[?&]source=seed\b/);
    expect(await page.evaluate(() => history.length)).toBe(before + 1);
  });

  it('leaves out of the address what is no mode or filter, and shows a namespace it does not list', async () => {
    await page.goto(
      `${url}/memories?mode=fuzzy&namespace=garden&from=2026-13-45&minImportance=lots&page=0`,
    );
    await expect.poll(() => page.url()).toBe(`${url}/memories?namespace=garden`);
    await expect.poll(settledCount).toBe('3 fragment(s) on this page');
    expect(await page.getByLabel('Mode', { exact: true }).inputValue()).toBe('hybrid');
    expect(await filter('Created from').inputValue()).toBe('');
    expect(await filter('Importance at least').inputValue()).toBe('');
    expect(await page.getByRole('alert').count()).toBe(0);

    await page.goto(`${url}/memories?namespace=nowhere`);
    await expect.poll(settledCount).toBe('0 fragment(s) on this page');
    expect(await filter('Namespace').inputValue()).toBe('nowhere');
  });
});
