import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath, launchBrowser } from './support/browser.js';
import { signIn } from './support/session.js';
import { sharedServer, tenantKey } from './support/shared.js';

describe.skipIf(!chromiumPath)('Memories when a request fails', () => {
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    let key: string;
    [key, browser] = await Promise.all([tenantKey('memories-failure'), launchBrowser()]);
    const { url } = sharedServer();
    const res = await fetch(`${url}/v1/memory`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'The kettle descaled on the first of the month.' }),
    });
    expect(res.status).toBe(201);
    ({ page } = await signIn(browser, url, key, '/memories'));
  });
  afterAll(async () => {
    await browser?.close();
  });

  const count = () => page.getByTestId('result-count');
  const settled = async () => {
    await expect.poll(() => count().getAttribute('data-loading')).toBe('false');
    return (await count().textContent()) ?? '';
  };

  it('says the search failed instead of counting no result', async () => {
    await page.route('**/v1/memory/search', (route) => route.abort('connectionrefused'));
    await page.getByLabel('Search memories').fill('kettle');
    await page.getByRole('alert').getByText('NETWORK_ERROR').waitFor();
    const said = await settled();
    expect(said).not.toMatch(/^0 result/);
    expect(said).toMatch(/search failed/);
    await page.unroute('**/v1/memory/search');
  });

  it('says the list could not be read instead of counting no fragment', async () => {
    await page.route('**/v1/memory?*', (route) => route.abort('connectionrefused'));
    // The list itself, not the search the address keeps.
    await page.goto(new URL('/memories', page.url()).href);
    await page.getByRole('alert').getByText('NETWORK_ERROR').waitFor();
    const said = await settled();
    expect(said).not.toMatch(/^0 fragment/);
    expect(said).toMatch(/could not be read/);
    await page.unroute('**/v1/memory?*');
    // Once the server answers again, the list is back.
    await page.getByLabel('Importance at least').fill('0');
    await page
      .getByRole('list', { name: 'Fragments' })
      .getByText(/kettle descaled/)
      .waitFor();
  });
});
