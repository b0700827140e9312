import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath, launchBrowser } from './support/browser.js';
import { checkPage, signIn } from './support/session.js';
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

  it("cites an answer stored before excerpts were kept by its fragment's text, or says it is gone", async () => {
    const text = 'The bicycle was repaired in May at the shop on Oak Road.';
    const added = await api('/v1/memory', { method: 'POST', body: JSON.stringify({ text }) });
    expect(added.status).toBe(201);
    const id = ((await added.json()) as { fragment: { id: string } }).fragment.id;
    await page.goto(`${url}/chat`);
    await page.getByLabel('Ask Luna').fill('When was the bicycle repaired?');
    await page.getByLabel('Ask Luna').press('Enter');
    await page.getByTestId('feedback').waitFor();
    expect((await citations(page))[0]?.text).toMatch(/repaired in May/);

    // The conversation as an answer stored before excerpts were kept gives it: ids only.
    await page.route(/\/v1\/conversations\/[^/]+\/messages/, async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as { items: Array<{ sources: unknown[] | null }> };
      for (const m of body.items) {
        m.sources = m.sources?.map((s) => ({ ...(s as object), excerpt: null })) ?? null;
      }
      await route.fulfill({ response, json: body });
    });
    await page.reload();
    await expect.poll(async () => (await citations(page))[0]?.text).toBe(text);
    const sources = page.getByRole('list', { name: 'Sources' });
    expect(await sources.locator(`a[data-source-id="${id}"]`).count()).toBe(1);

    // Deleted since, it is said to be gone, not cited by a bare id nor linked.
    const deleted = await api(`/v1/memory/${encodeURIComponent(id)}`, { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    await page.reload();
    await expect
      .poll(async () => (await sources.locator('li').first().textContent()) ?? '')
      .toMatch(/no longer in memory/);
    expect(await sources.first().textContent()).not.toContain(id);
    expect(await sources.locator(`a[data-source-id="${id}"]`).count()).toBe(0);
    await checkPage(page, 'chat-source-gone');
    await page.unroute(/\/v1\/conversations\/[^/]+\/messages/);
  });
});
