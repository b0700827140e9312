import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath, launchBrowser } from './support/browser.js';
import { checkPage, signIn } from './support/session.js';
import { sharedServer, tenantKey } from './support/shared.js';

/** A note with markup and script in it, and text of several scripts: shown as typed. */
const NOTE = 'Le café <b>ouvre</b> à 7h 🎉 <img src=x onerror="window.__hit=1"> 東京';

describe.skipIf(!chromiumPath)('Remembering a note from the Memories page', () => {
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    let key: string;
    [key, browser] = await Promise.all([tenantKey('add-note'), launchBrowser()]);
    ({ page } = await signIn(browser, sharedServer().url, key, '/memories'));
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('remembers a typed note, lists it as typed, and opens it', async () => {
    await page.getByLabel('Note', { exact: true }).fill(NOTE);
    await page.getByLabel('Into namespace (default: default)').fill('cafes');
    await page.getByRole('button', { name: 'Remember' }).click();
    await page.getByRole('status').getByText('Remembered in cafes').waitFor();
    expect(await page.getByLabel('Note', { exact: true }).inputValue()).toBe('');
    const list = page.getByRole('list', { name: 'Fragments' });
    const link = list.getByRole('link', { name: NOTE });
    await link.waitFor();
    expect(await list.locator('b, img').count()).toBe(0);
    expect(await page.evaluate(() => (window as { __hit?: number }).__hit)).toBeUndefined();
    await checkPage(page, 'memories-add-note');
    await page.getByRole('link', { name: 'open it' }).click();
    await page.getByRole('heading', { name: /Fragment/ }).waitFor();
    expect(await page.getByLabel('Text').inputValue()).toBe(NOTE);
    await page.getByRole('button', { name: 'Back to the list' }).click();
  });

  it("holds the server's limits of a note's text and namespace", async () => {
    const served = (await (await fetch(`${sharedServer().url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, Record<string, unknown>>>;
    };
    const body = served.paths['/v1/memory']?.post?.requestBody as {
      content: {
        'application/json': { schema: { properties: Record<string, { maxLength: number }> } };
      };
    };
    const { text, namespace } = body.content['application/json'].schema.properties;
    const maxLength = (label: string) =>
      page.getByLabel(label, { exact: true }).evaluate((e) => (e as HTMLInputElement).maxLength);
    expect(await maxLength('Note')).toBe(text?.maxLength);
    expect(await maxLength('Into namespace (default: default)')).toBe(namespace?.maxLength);
  });

  it('says a note it already holds is already remembered', async () => {
    await page.getByLabel('Note', { exact: true }).fill(NOTE);
    await page.getByLabel('Into namespace (default: default)').fill('cafes');
    await page.getByRole('button', { name: 'Remember' }).click();
    await page.getByRole('status').getByText('Already remembered in cafes').waitFor();
    await expect
      .poll(() => page.getByRole('list', { name: 'Fragments' }).locator('li').count())
      .toBe(1);
  });
});
