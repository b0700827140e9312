import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath, launchBrowser } from './support/browser.js';
import { checkPage, openPage, signIn } from './support/session.js';
import { sharedServer, tenantKey } from './support/shared.js';

describe.skipIf(!chromiumPath)("The Admin page with a tenant's admin key", () => {
  let browser: Browser;
  let page: Page;
  /** Every answer of the API that refused something, as `status path`. */
  const refused: string[] = [];
  beforeAll(async () => {
    let key: string;
    [key, browser] = await Promise.all([tenantKey('tenant-admin'), launchBrowser()]);
    ({ page } = await signIn(browser, sharedServer().url, key));
    page.on('response', (response) => {
      if (response.status() >= 400) {
        refused.push(`${response.status()} ${new URL(response.url()).pathname}`);
      }
    });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('offers what the key may do in its tenant, without trying the server admin parts', async () => {
    await openPage(page, 'Admin');
    await page.getByRole('table', { name: 'API keys' }).waitFor();
    await page.getByRole('table', { name: /Audit entries/ }).waitFor();
    // Said at once, from the key's own description, not learnt from a refusal.
    await page.getByText(/administers tenant tenant-admin/).waitFor();
    await page.getByText(/Tenants are managed by the server admin/).waitFor();
    await page.getByText(/verified by the server admin/).waitFor();
    expect(await page.getByRole('form', { name: 'Create a tenant' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Verify again' }).count()).toBe(0);
    // Naming another tenant is the server admin's: the key acts on its own tenant.
    expect(await page.getByLabel(/^Tenant \(default/).count()).toBe(0);
    await page.getByRole('form', { name: 'Export a tenant' }).waitFor();
    await checkPage(page, 'admin-tenant');
    expect(refused).toEqual([]);
    expect(await page.getByRole('alert').count()).toBe(0);
  });
});
