import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath, launchBrowser } from './support/browser.js';
import { signIn } from './support/session.js';
import { sharedServer, tenantKey } from './support/shared.js';

/** A Markdown file of a few MB: its import reports its progress in bytes for a while. */
function bigNotes(sections: number): Buffer {
  const line = 'the heron fished at dawn by the quiet pond behind the willow '.repeat(8);
  const parts: string[] = [];
  for (let i = 0; i < sections; i++) parts.push(`## Section ${i}\n\n${line}${i}.\n`);
  return Buffer.from(parts.join('\n'));
}

describe.skipIf(!chromiumPath)('The progress of a running import', () => {
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    let key: string;
    [key, browser] = await Promise.all([tenantKey('job-progress'), launchBrowser()]);
    ({ page } = await signIn(browser, sharedServer().url, key, '/memories'));
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('counts the bytes read in units a person reads', async () => {
    await page.getByLabel('Or choose files').setInputFiles({
      name: 'big.md',
      mimeType: 'text/markdown',
      buffer: bigNotes(20_000),
    });
    const status = page.locator('[data-job-status="running"] [role="status"]');
    await status.getByText(/ of /).waitFor();
    expect(await status.textContent()).toMatch(/^Import: [\d.]+ (B|KB|MB) of [\d.]+ MB: big\.md$/);
    await page.getByRole('button', { name: 'Cancel import' }).click();
    await page.locator('[data-job-status="cancelled"]').waitFor();
  });
});
