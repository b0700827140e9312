import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath, launchBrowser } from './support/browser.js';
import { checkPage, signIn } from './support/session.js';
import { sharedServer, tenantKey } from './support/shared.js';

describe.skipIf(!chromiumPath)('Chat in Chromium against aios serve (offline)', () => {
  /** The shared server, with an admin key of this suite's own tenant. */
  let server: { url: string; adminKey: string };
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    let key: string;
    [key, browser] = await Promise.all([tenantKey('chat'), launchBrowser()]);
    server = { url: sharedServer().url, adminKey: key };
    for (const text of [
      'The car was serviced in March at the garage on Elm Street.',
      'The tomatoes in the garden need water every second evening.',
    ]) {
      const res = await fetch(`${server.url}/v1/memory`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ text }),
      });
      expect(res.status).toBe(201);
    }
    ({ page } = await signIn(browser, server.url, server.adminKey, '/chat'));
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('answers offline from memory, with a clear badge and its sources as citations', async () => {
    await page.getByRole('heading', { level: 1, name: 'Chat' }).waitFor();
    await page.getByLabel('Ask Luna').fill('When was the car serviced?');
    await page.getByLabel('Ask Luna').press('Enter');
    const turn = page.getByRole('list', { name: 'Conversation' }).locator('li.turn').first();
    await turn.getByTestId('offline-badge').waitFor();
    // The answer came as a stream of pieces (server-sent token events), not one JSON body.
    const pieces = await turn.locator('.answer-text').getAttribute('data-pieces');
    expect(Number(pieces)).toBeGreaterThan(3);
    expect(await turn.locator('.answer-text').textContent()).toMatch(/March/);
    const sources = turn.getByRole('list', { name: 'Sources' });
    await sources.getByRole('link', { name: /serviced in March/ }).waitFor();
    await checkPage(page, 'chat');
  });

  it('opens the fragment a citation names', async () => {
    const turn = page.getByRole('list', { name: 'Conversation' }).locator('li.turn').first();
    await turn
      .getByRole('list', { name: 'Sources' })
      .getByRole('link', { name: /serviced in March/ })
      .click();
    await page.getByRole('heading', { name: /Fragment/ }).waitFor();
    expect(await page.getByLabel('Text').inputValue()).toContain('serviced in March');
    expect(new URL(page.url()).pathname).toMatch(/^\/memories\//);
  });

  const feedbackList = async () => {
    const res = await fetch(`${server.url}/v1/feedback`, {
      headers: { authorization: `Bearer ${server.adminKey}` },
    });
    return ((await res.json()) as { items: Array<{ rating: number; undone: boolean }> }).items;
  };

  it('rates an answer, and takes the rating back', async () => {
    await page.goBack();
    const turn = page.getByRole('list', { name: 'Conversation' }).locator('li.turn').first();
    await turn.getByRole('button', { name: 'Good answer' }).click();
    await turn.getByTestId('feedback').getByText('Thanks: rated good').waitFor();
    expect(await feedbackList()).toMatchObject([{ rating: 1, undone: false }]);
    await turn.getByRole('button', { name: 'Undo feedback' }).click();
    await turn.getByTestId('feedback').getByText('Feedback taken back.').waitFor();
    expect(await feedbackList()).toMatchObject([{ rating: 1, undone: true }]);
  });

  it('lists conversations, and opens and continues one', async () => {
    await page.getByRole('button', { name: 'New conversation' }).click();
    const turns = page.getByRole('list', { name: 'Conversation' }).locator('li.turn');
    await expect.poll(() => turns.count()).toBe(0);
    await page.getByLabel('Ask Luna').fill('What do the tomatoes need?');
    await page.getByLabel('Ask Luna').press('Enter');
    await turns.first().getByTestId('feedback').waitFor();
    const list = page.getByRole('navigation', { name: 'Conversations' }).getByRole('button');
    await expect.poll(() => list.count()).toBe(2);
    // The older one (the car) is second: most recently active first.
    await list.nth(1).click();
    await turns.first().getByText('When was the car serviced?').waitFor();
    expect(await turns.first().locator('.answer-text').textContent()).toMatch(/March/);
    await page.getByLabel('Ask Luna').fill('And where?');
    await page.getByLabel('Ask Luna').press('Enter');
    await expect.poll(() => turns.count()).toBe(2);
    await turns.nth(1).getByTestId('feedback').waitFor();
    await expect.poll(() => list.count()).toBe(2);
  });
});
