import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath, launchBrowser } from './support/browser.js';
import { signIn } from './support/session.js';
import { sharedServer, tenantKey } from './support/shared.js';

describe.skipIf(!chromiumPath)('Opening a fragment that is gone', () => {
  let url: string;
  let deletedId: string;
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    let key: string;
    [key, browser] = await Promise.all([tenantKey('fragment-gone'), launchBrowser()]);
    url = sharedServer().url;
    const authorization = `Bearer ${key}`;
    const added = await fetch(`${url}/v1/memory`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'The spare key hangs behind the pantry door.' }),
    });
    deletedId = ((await added.json()) as { fragment: { id: string } }).fragment.id;
    const removed = await fetch(`${url}/v1/memory/${deletedId}`, {
      method: 'DELETE',
      headers: { authorization },
    });
    expect(removed.status).toBe(200);
    ({ page } = await signIn(browser, url, key, '/memories'));
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('shows a deleted fragment as deleted, with its history, and no error', async () => {
    await page.goto(`${url}/memories/${deletedId}`);
    await page
      .getByRole('status')
      .getByText(/Deleted\. Its history stays readable/)
      .waitFor();
    const timeline = page.getByRole('list', { name: /History of this fragment/ });
    await expect.poll(() => timeline.locator('li').count()).toBe(2);
    expect(await timeline.locator('li').nth(1).textContent()).toMatch(/v2 delete[\s\S]*pantry/);
    expect(await page.getByRole('alert').count()).toBe(0);
  });

  it('says once that a fragment that never existed is not found', async () => {
    await page.goto(`${url}/memories/no-such-fragment`);
    await page.getByRole('alert').first().waitFor();
    // The fragment and its history have both answered.
    await page.waitForLoadState('networkidle');
    const alerts = await page.getByRole('alert').allTextContents();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatch(/FRAGMENT_NOT_FOUND/);
  });
});
