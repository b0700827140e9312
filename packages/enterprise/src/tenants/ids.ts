import { createHash } from 'node:crypto';
import { invalidInput } from '@aios/utils';

/** The tenant of the home itself: what the CLI works on. */
export const DEFAULT_TENANT = 'default';

/** Where the other tenants' homes are in the server's: `<home>/tenants/<id>`. */
export const TENANTS_DIR = 'tenants';

/** Tenant ids name directories: lowercase letters, digits and dashes, 1-63 characters. */
const TENANT_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

export function tenantId(value: unknown, field = 'tenant'): string {
  if (typeof value !== 'string' || !TENANT_ID.test(value)) {
    throw invalidInput(
      field,
      value,
      'lowercase letters, digits and dashes (1-63, not starting with a dash)',
    );
  }
  return value;
}

/** PostgreSQL's longest identifier (NAMEDATALEN - 1); a longer one would be cut silently. */
const MAX_IDENTIFIER = 63;

/**
 * The PostgreSQL schema of tenant `id` when the store is a PostgreSQL database:
 * `<prefix>_t_<id>` with dashes as underscores (ids have no underscores, so no two ids
 * meet), where `prefix` is the default tenant's schema (`data.schema`) or `aios`. An id
 * too long for that is named by its hash instead (`<prefix>_th_<32 hex>`), which no
 * short form can spell (theirs continue `_t_`).
 */
export function tenantSchema(id: string, base?: string): string {
  const prefix = base ?? 'aios';
  const plain = `${prefix}_t_${tenantId(id).replaceAll('-', '_')}`;
  if (plain.length <= MAX_IDENTIFIER) return plain;
  const hash = createHash('sha256').update(id).digest('hex').slice(0, 32);
  return `${prefix.slice(0, MAX_IDENTIFIER - 36)}_th_${hash}`;
}
