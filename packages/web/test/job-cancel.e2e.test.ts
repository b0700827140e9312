import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath, launchBrowser } from './support/browser.js';
import { signIn } from './support/session.js';
import { sharedServer, tenantKey } from './support/shared.js';

const WORDS = 'river stone lantern harbour meadow copper falcon orchard glacier violet'.split(' ');

/** A Markdown file of many sections: its import runs for seconds, long enough to stop it. */
function bigNotes(sections: number): Buffer {
  const parts: string[] = [];
  for (let i = 0; i < sections; i++) {
    const words = Array.from({ length: 60 }, (_, j) => WORDS[(i * 7 + j * 3) % WORDS.length]);
    parts.push(`## Section ${i}\n\n${words.join(' ')} ${i}.\n`);
  }
  return Buffer.from(parts.join('\n'));
}

describe.skipIf(!chromiumPath)('Stopping a running job', () => {
  let url: string;
  let key: string;
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    [key, browser] = await Promise.all([tenantKey('job-cancel'), launchBrowser()]);
    url = sharedServer().url;
    ({ page } = await signIn(browser, url, key, '/memories'));
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('cancels an import while it runs, and keeps what it stored', async () => {
    await page.getByLabel('Or choose files').setInputFiles({
      name: 'big.md',
      mimeType: 'text/markdown',
      buffer: bigNotes(20_000),
    });
    await page.locator('[data-job-status="running"]').waitFor();
    // Cancelled once it reported a stored batch, never on a timer: cancelled before its
    // first batch, it would rightly have stored nothing.
    await page.waitForFunction(() => {
      const bar = document.querySelector<HTMLProgressElement>('.job progress');
      return bar !== null && bar.value > 0;
    });
    await page.getByRole('button', { name: 'Cancel import' }).click();
    await page.locator('[data-job-status="cancelled"]').waitFor();
    expect(await page.locator('.job [role="status"]').textContent()).toBe('Import: cancelled');
    expect(await page.getByRole('button', { name: 'Cancel import' }).count()).toBe(0);
    const summary = page.getByRole('region', { name: 'Import', exact: true }).locator('p.muted');
    expect(await summary.textContent()).toMatch(/added [1-9]/);
    const res = await fetch(`${url}/v1/jobs?kind=ingest`, {
      headers: { authorization: `Bearer ${key}` },
    });
    const jobs = ((await res.json()) as { items: Array<{ status: string }> }).items;
    expect(jobs.map((j) => j.status)).toEqual(['cancelled']);
  });
});
