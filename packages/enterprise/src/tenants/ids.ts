import { invalidInput } from '@aios/utils';

/** The tenant of the home itself: what the CLI works on. */
export const DEFAULT_TENANT = 'default';

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
