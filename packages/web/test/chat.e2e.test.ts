import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath, launchBrowser } from './support/browser.js';
import { type LiveServer, startLiveServer } from './support/serve.js';
import { checkPage, signIn } from './support/session.js';

describe.skipIf(!chromiumPath)('Chat in Chromium against aios serve (offline)', () => {
  let server: LiveServer;
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    [server, browser] = await Promise.all([startLiveServer(), launchBrowser()]);
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
    await server?.stop();
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
});
