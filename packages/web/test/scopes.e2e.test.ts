import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath, launchBrowser } from './support/browser.js';
import { checkPage, openPage, signIn } from './support/session.js';
import { sharedServer, tenantKey } from './support/shared.js';

describe.skipIf(!chromiumPath)('A key with fewer scopes', () => {
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    let adminKey: string;
    [adminKey, browser] = await Promise.all([tenantKey('scopes'), launchBrowser()]);
    const { url } = sharedServer();
    const headers = { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' };
    const added = await fetch(`${url}/v1/memory`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ text: 'The bicycle pump lives in the garden shed.' }),
    });
    expect(added.status).toBe(201);
    const created = await fetch(`${url}/v1/keys`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: 'reader', scopes: ['memory:read'] }),
    });
    const reader = ((await created.json()) as { key: string }).key;
    ({ page } = await signIn(browser, url, reader, '/memories'));
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('reads memories without the controls that change them, and is told why', async () => {
    const list = page.getByRole('list', { name: 'Fragments' });
    await list.getByText(/bicycle pump/).waitFor();
    await page.getByText(/needs the memory:write scope/).waitFor();
    expect(await page.getByRole('button', { name: /Delete selected/ }).count()).toBe(0);
    expect(await list.getByRole('checkbox').count()).toBe(0);
    expect(await page.getByRole('heading', { name: 'Remember a note' }).count()).toBe(0);
    expect(await page.getByRole('heading', { name: 'Import' }).count()).toBe(0);
    expect(await page.getByText(/needs the ingest scope/).count()).toBe(1);
    await checkPage(page, 'memories-read-only');

    await list.getByRole('link', { name: /bicycle pump/ }).click();
    await page.getByRole('heading', { name: /^Fragment / }).waitFor();
    await page.getByText('The bicycle pump lives in the garden shed.').first().waitFor();
    await page.getByText(/needs the memory:write scope/).waitFor();
    expect(await page.getByRole('button', { name: /^Save/ }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Delete fragment' }).count()).toBe(0);
  });

  it('is told on Chat, Personality, Backups, System and Admin which scope it lacks, with none of their controls', async () => {
    const refused: string[] = [];
    page.on('response', (response) => {
      if (response.status() === 403) refused.push(new URL(response.url()).pathname);
    });
    await openPage(page, 'Chat');
    await page.getByText(/needs the chat scope/).waitFor();
    expect(await page.getByLabel('Ask Luna').count()).toBe(0);
    await openPage(page, 'Personality');
    await page.getByText(/needs the chat scope/).waitFor();
    await openPage(page, 'Backups');
    await page.getByText(/needs the backup scope/).waitFor();
    expect(await page.getByRole('button', { name: 'Create snapshot' }).count()).toBe(0);
    await openPage(page, 'System');
    await page.getByText(/Reading the metrics needs the admin scope/).waitFor();
    // The health and status sections are any key's.
    await page.getByRole('heading', { name: /^Health/ }).waitFor();
    await openPage(page, 'Admin');
    await page.getByText(/needs the admin scope/).waitFor();
    expect(await page.getByRole('button', { name: 'Create key' }).count()).toBe(0);
    // Nothing was tried and refused.
    expect(await page.getByRole('alert').count()).toBe(0);
    expect(refused).toEqual([]);
  });
});
