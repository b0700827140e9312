import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath, launchBrowser, screenshot, seriousViolations } from './support/browser.js';
import { checkPage, openPage, signIn } from './support/session.js';
import { sharedServer } from './support/shared.js';

describe.skipIf(!chromiumPath)('key entry, System and Admin in Chromium against aios serve', () => {
  const server = sharedServer();
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('asks for a key, refuses a wrong one, and keeps a good one for the session only', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.url}/admin`);
    await screenshot(page, 'key-entry');
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByLabel('API key').fill('aios_sk_nothere_0000000000000000');
    await page.getByLabel('API key').press('Enter');
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('UNAUTHENTICATED');
    await page.getByLabel('API key').fill(server.adminKey);
    await page.getByLabel('API key').press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Admin' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('aios.apiKey'))).toBe(server.adminKey);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    // A reload keeps the session; another tab (a new session) asks again.
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Admin' }).waitFor();
    const other = await context.newPage();
    await other.goto(`${server.url}/admin`);
    await other.getByLabel('API key').waitFor();
    await context.close();
  });

  it('shows health, implementations and metrics on the System page', async () => {
    const { context, page } = await signIn(browser, server.url, server.adminKey);
    await openPage(page, 'System');
    await page.getByRole('table', { name: 'Health checks' }).waitFor();
    await page.getByRole('table', { name: 'The implementation each core runs' }).waitFor();
    const cores = await page
      .getByRole('table', { name: 'The implementation each core runs' })
      .locator('tbody th')
      .allTextContents();
    expect(cores).toEqual(expect.arrayContaining(['@aios/data', '@aios/carma']));
    // Two scrapes of /metrics five seconds apart make the first points of the charts.
    await page
      .getByRole('img', { name: /Requests per minute over time/ })
      .waitFor({ timeout: 20_000 });
    await checkPage(page, 'system');
    await context.close();
  });

  it('creates a key (shown once), which works until it is revoked', async () => {
    const admin = await signIn(browser, server.url, server.adminKey);
    await openPage(admin.page, 'Admin');
    await checkPage(admin.page, 'admin');
    const form = admin.page.getByRole('form', { name: 'Create a key' });
    await form.getByLabel('Name').fill('reader');
    await form.getByRole('button', { name: 'Create key' }).click();
    const secret = (await admin.page.getByTestId('new-key').textContent())?.trim() ?? '';
    expect(secret).toMatch(/^aios_sk_/);
    const id = /^aios_sk_([A-Za-z0-9]+)_/.exec(secret)?.[1] as string;
    await admin.page.locator(`tr[data-key-id="${id}"]`).waitFor();
    await admin.page.getByRole('button', { name: 'I have saved it' }).click();
    expect(await admin.page.getByTestId('new-key').count()).toBe(0);

    // The new key signs in and reads.
    const reader = await signIn(browser, server.url, secret);
    await reader.page.getByRole('table', { name: 'The implementation each core runs' }).waitFor();

    // Revoked (with a confirmation), it is refused from its next request on.
    await admin.page.getByRole('button', { name: new RegExp(`Revoke key ${id}`) }).click();
    const dialog = admin.page.getByRole('dialog', { name: 'Revoke this key?' });
    await screenshot(admin.page, 'admin-revoke-confirm');
    await dialog.getByRole('button', { name: 'Revoke' }).click();
    await admin.page
      .locator(`tr[data-key-id="${id}"]`)
      .getByText(/revoked/)
      .waitFor();
    await reader.page.reload();
    await reader.page.getByText('The server refused the key').waitFor();
    const refused = await fetch(`${server.url}/v1/status`, {
      headers: { authorization: `Bearer ${secret}` },
    });
    expect(refused.status).toBe(401);
    await admin.context.close();
    await reader.context.close();
  });

  it('lists tenants, creates and erases one, and shows the audit log verified', async () => {
    const { context, page } = await signIn(browser, server.url, server.adminKey, '/admin');
    const form = page.getByRole('form', { name: 'Create a tenant' });
    // The browser holds back an id the server would refuse, here and in the key form.
    const refusedId = async (field: ReturnType<Page['getByLabel']>, id: string) => {
      await field.fill(id);
      return field.evaluate((input) => (input as HTMLInputElement).validity.patternMismatch);
    };
    const keyTenant = page
      .getByRole('form', { name: 'Create a key' })
      .getByLabel(/^Tenant \(default/);
    for (const field of [form.getByLabel('Id'), keyTenant]) {
      expect(await refusedId(field, '-Acme')).toBe(true);
      expect(await refusedId(field, 'acme-eu-2')).toBe(false);
    }
    await keyTenant.fill('');
    await form.getByLabel('Id').fill('acme');
    await form.getByLabel('Name').fill('Acme');
    await form.getByRole('button', { name: 'Create tenant' }).click();
    await page.getByText('acme', { exact: true }).waitFor();
    await expect
      .poll(() => page.getByTestId('audit-verify').textContent())
      .toMatch(/chain verified/);
    const actions = await page
      .getByRole('table', { name: /Audit entries/ })
      .locator('tbody td:nth-child(3)')
      .allTextContents();
    expect(actions).toContain('keys.create');
    // Erased (after typing its id), the tenant is gone.
    await page.getByRole('button', { name: 'Erase tenant acme' }).click();
    const dialog = page.getByRole('dialog', { name: 'Erase this tenant for good?' });
    await dialog.getByLabel('Tenant to erase').fill('acme');
    // Cancelled, it opens again with nothing typed, its button disabled until the id is.
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'Erase tenant acme' }).click();
    expect(await dialog.getByLabel('Tenant to erase').inputValue()).toBe('');
    expect(await dialog.getByRole('button', { name: 'Erase tenant' }).isDisabled()).toBe(true);
    await dialog.getByLabel('Tenant to erase').fill('acme');
    await dialog.getByRole('button', { name: 'Erase tenant' }).click();
    await page
      .getByRole('status')
      .getByText(/Tenant acme erased/)
      .waitFor();
    const res = await fetch(`${server.url}/v1/tenants`, {
      headers: { authorization: `Bearer ${server.adminKey}` },
    });
    const ids = ((await res.json()) as { items: Array<{ id: string }> }).items.map((t) => t.id);
    expect(ids).not.toContain('acme');
    await context.close();
  });

  it('exports a tenant as one JSON archive, and erases a namespace (confirmed by its name)', async () => {
    const auth = { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/json' };
    for (const text of ['Scratch note one about the kiln.', 'Scratch note two about the glaze.']) {
      const res = await fetch(`${server.url}/v1/memory`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ text, namespace: 'scratch' }),
      });
      expect(res.status).toBe(201);
    }
    const { context, page } = await signIn(browser, server.url, server.adminKey, '/admin');
    const exportForm = page.getByRole('form', { name: 'Export a tenant' });
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      exportForm.getByRole('button', { name: /Export everything/ }).click(),
    ]);
    const archive = JSON.parse(await streamText(await download.createReadStream()));
    expect(JSON.stringify(archive)).toContain('Scratch note one about the kiln.');

    const form = page.getByRole('form', { name: 'Erase a namespace' });
    await form.getByLabel('Namespace', { exact: true }).fill('scratch');
    await form.getByRole('button', { name: /Erase namespace/ }).click();
    const dialog = page.getByRole('dialog', { name: 'Erase this namespace for good?' });
    const confirm = dialog.getByRole('button', { name: 'Erase' });
    expect(await confirm.isDisabled()).toBe(true);
    await dialog.getByLabel('Namespace to erase').fill('scratch');
    await screenshot(page, 'admin-erase-confirm');
    await confirm.click();
    await page
      .getByTestId('erase-report')
      .getByText(/2 fragment\(s\)/)
      .waitFor();
    const list = await fetch(`${server.url}/v1/memory?namespace=scratch`, { headers: auth });
    expect(((await list.json()) as { items: unknown[] }).items).toEqual([]);
    const search = await fetch(`${server.url}/v1/memory/search`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ query: 'kiln glaze scratch note' }),
    });
    expect(JSON.stringify(await search.json())).not.toContain('Scratch note');
    await context.close();
  });
});

async function streamText(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text;
}
