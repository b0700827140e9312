import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath, launchBrowser } from './support/browser.js';
import { checkPage, signIn } from './support/session.js';
import { sharedServer, tenantKey } from './support/shared.js';

const NOTES = `# Garden

The heron fished at dawn by the quiet pond behind the willow.

# Car

The car was serviced in March at the garage on Elm Street.
`;

/** Drops a file on the drop zone, as dragging it from the desktop does. */
async function dropFile(page: Page, name: string, text: string): Promise<void> {
  const dataTransfer = await page.evaluateHandle(
    ({ name, text }) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([text], name, { type: 'text/markdown' }));
      return transfer;
    },
    { name, text },
  );
  await page.getByTestId('dropzone').dispatchEvent('drop', { dataTransfer });
}

describe.skipIf(!chromiumPath)('Memories in Chromium against aios serve', () => {
  /** The shared server, with an admin key of this suite's own tenant. */
  let server: { url: string; adminKey: string };
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    let key: string;
    [key, browser] = await Promise.all([tenantKey('memories'), launchBrowser()]);
    server = { url: sharedServer().url, adminKey: key };
    ({ page } = await signIn(browser, server.url, server.adminKey, '/memories'));
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('imports a dropped file with progress, and finds it by search with why it matched', async () => {
    await page.getByRole('heading', { level: 1, name: 'Memories' }).waitFor();
    await dropFile(page, 'notes.md', NOTES);
    await page.locator('[data-job-status="succeeded"]').waitFor();
    await page.getByLabel('Search memories').fill('heron');
    const results = page.getByRole('list', { name: 'Search results' });
    await results.getByText(/heron fished at dawn/).waitFor();
    await expect.poll(() => results.locator('li').count()).toBeGreaterThan(0);
    expect(await results.locator('li').first().textContent()).toMatch(/Why: lexical/);
    await checkPage(page, 'memories-search');
    // Lexical mode finds it too; a word it does not hold finds nothing there.
    await page.getByLabel('Mode').selectOption('lexical');
    await results.getByText(/heron fished/).waitFor();
    await page.getByLabel('Search memories').fill('zeppelin');
    await expect.poll(() => page.getByTestId('result-count').textContent()).toMatch(/^0 result/);
    await page.getByLabel('Mode').selectOption('hybrid');
  });

  it('imports with the file picker (the keyboard path) into a namespace of its choice', async () => {
    await page.getByLabel('Into namespace (default: documents)').fill('imports');
    await page.getByLabel('Or choose files').setInputFiles({
      name: 'tasks.jsonl',
      mimeType: 'application/jsonl',
      buffer: Buffer.from(
        '{"text":"Renew the passport before the trip to Lisbon."}\n{"text":"Call the plumber about the dripping tap."}\n',
      ),
    });
    const namespace = page.getByLabel('Namespace', { exact: true });
    await namespace.locator('option', { hasText: 'imports (2)' }).waitFor({ state: 'attached' });
    await namespace.selectOption({ label: 'imports (2)' });
    await page.getByLabel('Search memories').fill('passport Lisbon');
    const results = page.getByRole('list', { name: 'Search results' });
    await results.getByText(/Renew the passport/).waitFor();
    // The best match first, and nothing from another namespace.
    expect(await results.locator('li').first().textContent()).toMatch(/Renew the passport/);
    for (const meta of await results.locator('.meta').allTextContents()) {
      expect(meta).toMatch(/^imports/);
    }
    await namespace.selectOption({ label: 'All' });
  });

  it('edits a fragment (embedded again) and shows its history as a timeline', async () => {
    await page.getByLabel('Search memories').fill('heron');
    await page.getByRole('link', { name: /heron fished at dawn/ }).click();
    await page.getByRole('heading', { name: /Fragment/ }).waitFor();
    const text = page.getByLabel('Text');
    await text.fill('The heron fished at dawn by the quiet pond, and caught a silver carp.');
    await page.getByRole('button', { name: /Save/ }).click();
    const timeline = page.getByRole('list', { name: /History of this fragment/ });
    await expect.poll(() => timeline.locator('li').count()).toBe(2);
    const entries = await timeline.locator('li').allTextContents();
    expect(entries[0]).toMatch(
      /v1 add[\s\S]*heron fished at dawn by the quiet pond behind the willow/,
    );
    expect(entries[1]).toMatch(/v2 update[\s\S]*silver carp/);
    await checkPage(page, 'memory-detail');
    // Found by its new words.
    await page.getByRole('button', { name: 'Back to the list' }).click();
    await page.getByLabel('Search memories').fill('silver carp');
    await page
      .getByRole('list', { name: 'Search results' })
      .getByText(/silver carp/)
      .waitFor();
  });

  it('browses a page at a time with filters, and deletes in bulk', async () => {
    await page.getByLabel('Search memories').fill('');
    const list = page.getByRole('list', { name: 'Fragments' });
    await expect.poll(() => list.locator('li').count()).toBeGreaterThanOrEqual(2);
    await page.getByLabel('Importance at least').fill('1');
    await expect.poll(() => list.locator('li').count()).toBe(0);
    await page.getByLabel('Importance at least').fill('');
    await expect.poll(() => list.locator('li').count()).toBeGreaterThanOrEqual(2);
    await checkPage(page, 'memories');
    for (const box of await list.getByRole('checkbox').all()) await box.check();
    await page.getByRole('button', { name: /Delete selected/ }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => list.locator('li').count()).toBe(0);
    const res = await fetch(`${server.url}/v1/memory`, {
      headers: { authorization: `Bearer ${server.adminKey}` },
    });
    expect(((await res.json()) as { items: unknown[] }).items).toEqual([]);
  });
});
