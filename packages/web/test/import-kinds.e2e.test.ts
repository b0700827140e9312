import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath, launchBrowser } from './support/browser.js';
import { signIn } from './support/session.js';
import { sharedServer, tenantKey } from './support/shared.js';

describe.skipIf(!chromiumPath)('The kinds of files the import takes', () => {
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    let key: string;
    [key, browser] = await Promise.all([tenantKey('import-kinds'), launchBrowser()]);
    ({ page } = await signIn(browser, sharedServer().url, key, '/memories'));
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('are named in the drop zone, EPUB and OpenDocument included, as the file picker takes them', async () => {
    const zone = page.getByTestId('dropzone');
    await zone.waitFor();
    const text = (await zone.locator('p').first().textContent()) ?? '';
    for (const kind of ['text', 'Markdown', 'HTML', 'PDF', 'Word', 'EPUB', 'OpenDocument']) {
      expect(text).toContain(kind);
    }
    expect(text).toMatch(/JSON.*JSONL.*ChatGPT export \(conversations\.json\)/);
    const accept = (await page.getByLabel('Or choose files').getAttribute('accept')) ?? '';
    expect(accept.split(',')).toEqual(expect.arrayContaining(['.epub', '.odt', '.docx', '.pdf']));
  });
});
