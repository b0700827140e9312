import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath, launchBrowser } from './support/browser.js';
import { signIn } from './support/session.js';
import { sharedServer, tenantKey } from './support/shared.js';

/** What the citations of the first turn show: each link's text and its detail. */
async function citations(page: Page) {
  const items = page
    .getByRole('list', { name: 'Conversation' })
    .locator('li.turn')
    .first()
    .getByRole('list', { name: 'Sources' })
    .locator('li');
  await items.first().waitFor();
  return items.evaluateAll((lis) =>
    lis.map((li) => ({
      text: li.querySelector('a')?.textContent ?? '',
      detail: li.querySelector('.muted')?.textContent?.trim() ?? '',
    })),
  );
}

describe.skipIf(!chromiumPath)('A conversation opened again, in Chromium (offline)', () => {
  let url: string;
  let key: string;
  let browser: Browser;
  let page: Page;
  let fragmentId: string;
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    });

  beforeAll(async () => {
    [key, browser] = await Promise.all([tenantKey('chat-reopen'), launchBrowser()]);
    url = sharedServer().url;
    const res = await api('/v1/memory', {
      method: 'POST',
      body: JSON.stringify({
        text: '# Car\n\nThe car was serviced in March at the garage on Elm Street.',
        metadata: { source: 'notes/car.md', line: 1, kind: 'markdown' },
      }),
    });
    expect(res.status).toBe(201);
    fragmentId = ((await res.json()) as { fragment: { id: string } }).fragment.id;
    ({ page } = await signIn(browser, url, key, '/chat'));
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('cites as the live answer did, titled by its first question, the fragment deleted since', async () => {
    await page.getByRole('heading', { level: 1, name: 'Chat' }).waitFor();
    await page.getByLabel('Ask Luna').fill('When was the car\nserviced?');
    await page.getByLabel('Ask Luna').press('Enter');
    await page.getByTestId('feedback').waitFor();
    const live = await citations(page);
    expect(live[0]?.text).toMatch(/serviced in March/);
    expect(live[0]?.detail).toMatch(/^notes\/car\.md · relevance .* · holds the answer$/);

    const conversations = page.getByRole('navigation', { name: 'Conversations' });
    await conversations.getByRole('button', { name: 'When was the car serviced?' }).waitFor();
    expect(await conversations.getByText('Untitled').count()).toBe(0);

    const deleted = await api(`/v1/memory/${encodeURIComponent(fragmentId)}`, {
      method: 'DELETE',
    });
    expect(deleted.status).toBe(200);
    expect(new URL(page.url()).pathname).toMatch(/^\/chat\/.+/);
    await page.reload();
    await page.getByText('When was the car serviced?', { exact: false }).first().waitFor();
    expect(await citations(page)).toEqual(live);
  });
});
