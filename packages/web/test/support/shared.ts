import { inject } from 'vitest';

/** The shared server of the browser suites (started by global-server.ts). */
export function sharedServer(): { url: string; adminKey: string } {
  return { url: inject('aiosUrl'), adminKey: inject('aiosAdminKey') };
}

/** A tenant of the shared server for one suite, and an admin key of it. */
export async function tenantKey(tenant: string): Promise<string> {
  const { url, adminKey } = sharedServer();
  const headers = { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' };
  const created = await fetch(`${url}/v1/tenants`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ id: tenant, name: tenant }),
  });
  if (created.status !== 201) throw new Error(`tenant ${tenant}: ${created.status}`);
  const key = await fetch(`${url}/v1/keys`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ name: tenant, scopes: ['admin'], tenant }),
  });
  if (key.status !== 201) throw new Error(`key of ${tenant}: ${key.status}`);
  return ((await key.json()) as { key: string }).key;
}
