import type { ApiKeyRecord, DataStore } from '@aios/data';
import { invalidInput } from '@aios/utils';
import { generateKey, isScope, SCOPES, type Scope } from '../auth/keys.js';
import { apiError } from '../http/errors.js';
import { iso, isoOrNull } from '../http/time.js';
import { DEFAULT_TENANT, tenantId } from '../tenants/ids.js';

/** A key as shown to people and programs: never its hash. */
export interface KeyView {
  id: string;
  tenant: string;
  name: string;
  scopes: string[];
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export function keyView(record: ApiKeyRecord): KeyView {
  return {
    id: record.id,
    tenant: record.tenantId,
    name: record.name,
    scopes: record.scopes,
    createdAt: iso(record.createdAt),
    expiresAt: isoOrNull(record.expiresAt),
    lastUsedAt: isoOrNull(record.lastUsedAt),
    revokedAt: isoOrNull(record.revokedAt),
  };
}

export function checkScopes(scopes: readonly string[]): Scope[] {
  if (scopes.length === 0)
    throw invalidInput('scopes', scopes, `one or more of ${SCOPES.join(', ')}`);
  for (const scope of scopes) {
    if (!isScope(scope)) throw invalidInput('scopes', scope, `one of ${SCOPES.join(', ')}`);
  }
  return [...new Set(scopes)] as Scope[];
}

/** The default tenant's row: keys refer to it (the CLI and the server both make sure). */
export async function ensureDefaultTenant(control: DataStore): Promise<void> {
  if (await control.tenants.get(DEFAULT_TENANT)) return;
  await control.tenants.create({ id: DEFAULT_TENANT, name: 'Default' }).catch((error: unknown) => {
    // Another process created it at the same time.
    if ((error as { code?: string }).code !== 'TENANT_EXISTS') throw error;
  });
}

export interface CreateKeyInput {
  tenant?: string;
  name: string;
  scopes: readonly string[];
  /** Absolute expiry (ms since the epoch). */
  expiresAt?: number | null;
}

/** Creates a key; the whole key is in the result, once, and stored nowhere. */
export async function createKey(
  control: DataStore,
  input: CreateKeyInput,
): Promise<{ key: string; view: KeyView }> {
  const tenant = tenantId(input.tenant ?? DEFAULT_TENANT);
  const scopes = checkScopes(input.scopes);
  const expiresAt = input.expiresAt ?? null;
  if (expiresAt !== null && (!Number.isFinite(expiresAt) || expiresAt <= Date.now())) {
    // Said as a date, as it is given (an ISO date or `30d`), not as milliseconds.
    const given = Number.isFinite(expiresAt) ? new Date(expiresAt).toISOString() : 'no date';
    throw apiError('INVALID_INPUT', `expiresAt: expected a time in the future, got ${given}`, {
      field: 'expiresAt',
    });
  }
  await ensureDefaultTenant(control);
  if (!(await control.tenants.get(tenant))) {
    throw apiError('TENANT_NOT_FOUND', `no tenant ${JSON.stringify(tenant)}`, { id: tenant });
  }
  const generated = generateKey();
  const record = await control.apiKeys.create({
    id: generated.id,
    tenantId: tenant,
    name: input.name,
    secretHash: generated.secretHash,
    scopes,
    expiresAt,
  });
  return { key: generated.key, view: keyView(record) };
}

/** Parses `30d`, `12h`, `90m` or an ISO date into an absolute time. */
export function parseExpiry(text: string, now = Date.now()): number {
  const relative = /^(\d{1,6})([dhm])$/.exec(text.trim());
  if (relative?.[1] && relative[2]) {
    const unit = { d: 86_400_000, h: 3_600_000, m: 60_000 }[relative[2] as 'd' | 'h' | 'm'];
    return now + Number(relative[1]) * unit;
  }
  const at = Date.parse(text);
  if (Number.isNaN(at))
    throw invalidInput('expires', text, 'a duration such as 30d, 12h, 90m, or an ISO date');
  return at;
}
