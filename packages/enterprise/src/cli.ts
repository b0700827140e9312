import type { Aios } from '@aios/core';
import type { AuditEntry, AuditVerification } from '@aios/data';
import {
  createKey,
  ensureDefaultTenant,
  type KeyView,
  keyView,
  parseExpiry,
} from './access/keys.js';
import { apiError } from './http/errors.js';
import { DEFAULT_TENANT, tenantId } from './tenants/ids.js';

/**
 * What `aios keys`, `aios tenants` and `aios audit` do, on a system the CLI opened. Every
 * change made here is audited like one made over HTTP (no key: `details.via = "cli"`).
 */
async function audited(aios: Aios, action: string, target: string | null, tenant: string | null) {
  await aios.data.audit.append([
    { action, outcome: 'ok', target, tenantId: tenant, details: { via: 'cli' } },
  ]);
}

export async function keysCreate(
  aios: Aios,
  input: { name: string; scopes: string[]; tenant?: string; expires?: string },
): Promise<{ key: string; apiKey: KeyView }> {
  const { key, view } = await createKey(aios.data, {
    name: input.name,
    scopes: input.scopes,
    tenant: input.tenant ?? DEFAULT_TENANT,
    expiresAt: input.expires === undefined ? null : parseExpiry(input.expires),
  });
  await audited(aios, 'keys.create', view.id, view.tenant);
  return { key, apiKey: view };
}

export async function keysList(aios: Aios, input: { tenant?: string } = {}): Promise<KeyView[]> {
  const options = input.tenant === undefined ? {} : { tenantId: tenantId(input.tenant) };
  return (await aios.data.apiKeys.list(options)).map(keyView);
}

export async function keysRevoke(aios: Aios, id: string): Promise<KeyView> {
  if (!(await aios.data.apiKeys.revoke(id))) {
    throw apiError('KEY_NOT_FOUND', `no API key ${JSON.stringify(id)}`, { id });
  }
  const record = await aios.data.apiKeys.get(id);
  if (!record) throw apiError('KEY_NOT_FOUND', `no API key ${JSON.stringify(id)}`, { id });
  await audited(aios, 'keys.revoke', id, record.tenantId);
  return keyView(record);
}

export async function tenantsCreate(aios: Aios, input: { id: string; name?: string }) {
  await ensureDefaultTenant(aios.data);
  const tenant = await aios.data.tenants.create({
    id: tenantId(input.id),
    name: input.name ?? input.id,
  });
  await audited(aios, 'tenants.create', tenant.id, tenant.id);
  return tenant;
}

export async function tenantsList(aios: Aios) {
  await ensureDefaultTenant(aios.data);
  return aios.data.tenants.list();
}

export async function auditList(
  aios: Aios,
  input: { tenant?: string; after?: number; limit?: number } = {},
): Promise<AuditEntry[]> {
  return aios.data.audit.list({
    ...(input.tenant === undefined ? {} : { tenantId: tenantId(input.tenant) }),
    afterSeq: input.after ?? 0,
    limit: input.limit ?? 1_000_000,
  });
}

export async function auditVerify(aios: Aios): Promise<AuditVerification> {
  return aios.data.audit.verify();
}
