import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath, launchBrowser, screenshot } from './support/browser.js';
import { checkPage, signIn } from './support/session.js';
import { tenantKey as newTenantKey, sharedServer } from './support/shared.js';

describe.skipIf(!chromiumPath)('Backups in Chromium against aios serve', () => {
  const server = sharedServer();
  let browser: Browser;
  let page: Page;
  let tenantKey: string;
  const call = async (path: string, init: { method?: string; body?: unknown } = {}) => {
    const res = await fetch(`${server.url}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        authorization: `Bearer ${tenantKey}`,
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    expect(res.ok, `${path}: ${res.status}`).toBe(true);
    return res.json() as Promise<Record<string, unknown>>;
  };
  const texts = async () =>
    ((await call('/v1/memory')).items as Array<{ text: string }>).map((f) => f.text).sort();

  beforeAll(async () => {
    // A tenant of its own: the default tenant's home is restored with the server stopped.
    [tenantKey, browser] = await Promise.all([newTenantKey('harbour'), launchBrowser()]);
    await call('/v1/memory', {
      method: 'POST',
      body: { text: 'The lighthouse keeper logs the tide at six.' },
    });
    ({ page } = await signIn(browser, server.url, tenantKey, '/backups'));
  });
  afterAll(async () => {
    await browser?.close();
  });

  const createSnapshot = async (tags: string) => {
    await page.getByLabel(/Tags/).fill(tags);
    await page.getByRole('button', { name: 'Create snapshot' }).click();
    await page
      .locator('.job[data-job-status="succeeded"]')
      .filter({ hasText: 'Snapshot' })
      .waitFor();
  };

  it('creates snapshots with live progress, and compares two', async () => {
    await page.getByRole('heading', { level: 1, name: 'Backups' }).waitFor();
    await createSnapshot('first');
    const rows = page.getByRole('table', { name: /Snapshots/ }).locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(1);
    await call('/v1/memory', {
      method: 'POST',
      body: { text: 'The ferry leaves the harbour at noon.' },
    });
    await createSnapshot('second');
    await expect.poll(() => rows.count()).toBe(2);
    expect(await rows.nth(0).textContent()).toContain('first');
    await page.getByRole('button', { name: 'Compare' }).click();
    await page
      .getByTestId('diff')
      .getByText(/Changed|Added/)
      .first()
      .waitFor();
    expect(await page.getByTestId('diff').textContent()).toMatch(/aios\.db/);
  });

  it('verifies the repository', async () => {
    await page.getByRole('button', { name: 'Verify repository' }).click();
    await page.getByTestId('verify-result').getByText('repository verified').waitFor();
    await checkPage(page, 'backups');
  });

  it('restores the first snapshot after a confirmation', async () => {
    expect(await texts()).toHaveLength(2);
    const first = page
      .getByRole('table', { name: /Snapshots/ })
      .locator('tbody tr')
      .nth(0);
    await first.getByRole('button', { name: /Restore/ }).click();
    const dialog = page.getByRole('dialog', { name: 'Restore this snapshot?' });
    await dialog.waitFor();
    await screenshot(page, 'backups-restore-confirm');
    // Cancel changes nothing; confirming restores.
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(await texts()).toHaveLength(2);
    await first.getByRole('button', { name: /Restore/ }).click();
    await dialog.getByRole('button', { name: 'Restore' }).click();
    await page
      .locator('.job[data-job-status="succeeded"]')
      .filter({ hasText: 'Restore' })
      .waitFor();
    expect(await texts()).toEqual(['The lighthouse keeper logs the tide at six.']);
  });
});
