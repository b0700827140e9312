import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath, launchBrowser } from './support/browser.js';
import { checkPage, signIn } from './support/session.js';
import { sharedServer, tenantKey } from './support/shared.js';

describe.skipIf(!chromiumPath)('Personality in Chromium against aios serve', () => {
  /** The shared server, with an admin key of this suite's own tenant. */
  let server: { url: string; adminKey: string };
  let browser: Browser;
  let page: Page;
  const call = async (path: string, body?: unknown) => {
    const res = await fetch(`${server.url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        authorization: `Bearer ${server.adminKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    expect(res.ok, `${path}: ${res.status}`).toBe(true);
    return (await res.json()) as Record<string, unknown>;
  };

  beforeAll(async () => {
    let key: string;
    [key, browser] = await Promise.all([tenantKey('personality'), launchBrowser()]);
    server = { url: sharedServer().url, adminKey: key };
    await call('/v1/memory', { text: 'The boiler was repaired on the fourth of June.' });
    const answer = await call('/v1/ask', { question: 'When was the boiler repaired?' });
    await call(`/v1/answers/${answer.id as string}/feedback`, {
      vote: 'up',
      comment: 'more detail please',
    });
    ({ page } = await signIn(browser, server.url, server.adminKey, '/personality'));
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('shows the Big Five and the feedback that moved them, and undoes it', async () => {
    await page.getByRole('list', { name: 'The Big Five now' }).waitFor();
    expect(await page.getByRole('list', { name: 'The Big Five now' }).locator('li').count()).toBe(
      5,
    );
    const rows = page
      .getByRole('table', { name: /Versions of the personality/ })
      .locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().textContent()).toMatch(/feedback[\s\S]*more detail please/);
    const before = (await call('/v1/personality')).traits;
    await rows
      .first()
      .getByRole('button', { name: /Undo feedback/ })
      .click();
    await page
      .getByRole('status')
      .getByText(/taken back/)
      .waitFor();
    await expect.poll(() => rows.count()).toBe(2);
    expect(await rows.first().getAttribute('data-version-cause')).toBe('undo');
    expect(await rows.nth(1).textContent()).toMatch(/taken back/);
    expect((await call('/v1/personality')).traits).not.toEqual(before);
    await page.getByRole('img', { name: /The Big Five over time/ }).waitFor();
    await checkPage(page, 'personality');
    // Nothing is left to undo: the API's refusal is shown with its code.
    await page.getByRole('button', { name: 'Undo the latest feedback' }).click();
    await page.getByRole('alert').getByText('LUNA_NOTHING_TO_UNDO').waitFor();
  });
});
