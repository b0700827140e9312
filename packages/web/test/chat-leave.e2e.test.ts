import type { Browser, Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath, launchBrowser } from './support/browser.js';
import { openPage, signIn } from './support/session.js';
import { sharedServer, tenantKey } from './support/shared.js';

/** Holds the answers to /v1/ask until `release` is called: a slow model, as seen by the page. */
async function holdAnswers(page: Page): Promise<() => void> {
  const held: Route[] = [];
  let released = false;
  await page.route('**/v1/ask', (route) => {
    if (released) return route.continue();
    held.push(route);
    return undefined;
  });
  return () => {
    released = true;
    for (const route of held.splice(0)) void route.continue();
  };
}

describe.skipIf(!chromiumPath)('Leaving the chat while an answer is on its way', () => {
  let url: string;
  let key: string;
  let browser: Browser;
  beforeAll(async () => {
    [key, browser] = await Promise.all([tenantKey('chat-leave'), launchBrowser()]);
    url = sharedServer().url;
    const res = await fetch(`${url}/v1/memory`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'The bicycle tyre was patched on Tuesday.' }),
    });
    expect(res.status).toBe(201);
  });
  afterAll(async () => {
    await browser?.close();
  });

  const ask = async (page: Page, question: string) => {
    await page.getByLabel('Ask Luna').fill(question);
    await page.getByLabel('Ask Luna').press('Enter');
    await page.getByRole('button', { name: 'Answering…' }).waitFor();
  };

  it('stays on the page the person went to when the answer ends', async () => {
    const { context, page } = await signIn(browser, url, key, '/chat');
    const release = await holdAnswers(page);
    await ask(page, 'When was the tyre patched?');
    await openPage(page, 'Memories');
    const answered = page.waitForResponse('**/v1/ask');
    release();
    await (await answered).finished();
    // The answer's end is handled after its last byte: give the page a moment for it.
    await page.waitForTimeout(500);
    expect(new URL(page.url()).pathname).toBe('/memories');
    await page.getByRole('heading', { level: 1, name: 'Memories' }).waitFor();
    await context.close();
  });

  it('stays in the new conversation started while the answer was on its way', async () => {
    const { context, page } = await signIn(browser, url, key, '/chat');
    const release = await holdAnswers(page);
    await ask(page, 'What was patched?');
    await page.getByRole('button', { name: 'New conversation' }).click();
    const answered = page.waitForResponse('**/v1/ask');
    release();
    await (await answered).finished();
    await page.getByRole('button', { name: 'Send' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/chat');
    const turns = page.getByRole('list', { name: 'Conversation' }).locator('li.turn');
    expect(await turns.count()).toBe(0);
    await context.close();
  });
});
