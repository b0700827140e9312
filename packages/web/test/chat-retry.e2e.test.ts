import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath, launchBrowser } from './support/browser.js';
import { signIn } from './support/session.js';
import { sharedServer, tenantKey } from './support/shared.js';

describe.skipIf(!chromiumPath)('Asking again after the server could not be reached', () => {
  let url: string;
  let key: string;
  let browser: Browser;
  beforeAll(async () => {
    [key, browser] = await Promise.all([tenantKey('chat-retry'), launchBrowser()]);
    url = sharedServer().url;
    const res = await fetch(`${url}/v1/memory`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'The library closes at eight on Thursdays.' }),
    });
    expect(res.status).toBe(201);
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('keeps the question in the box after a failed answer, and sends it again', async () => {
    const { context, page } = await signIn(browser, url, key, '/chat');
    await page.route('**/v1/ask', (route) => route.abort('connectionrefused'));
    const box = page.getByLabel('Ask Luna');
    await box.fill('When does the library close on Thursdays?');
    await box.press('Enter');
    const turns = page.getByRole('list', { name: 'Conversation' }).locator('li.turn');
    await turns.first().getByRole('alert').getByText('NETWORK_ERROR').waitFor();
    expect(await box.inputValue()).toBe('When does the library close on Thursdays?');
    await page.unroute('**/v1/ask');
    await page.getByRole('button', { name: 'Send' }).click();
    await turns.nth(1).getByTestId('feedback').waitFor();
    expect(await turns.nth(1).locator('.answer-text').textContent()).toMatch(/eight/);
    await context.close();
  });
});
