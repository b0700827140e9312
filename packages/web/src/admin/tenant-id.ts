import { inputPattern } from '../api/input-pattern';
import { PATTERN } from '../api/pattern.gen';

/** The ids the server takes for a tenant (those a tenant is created with), as an input's `pattern`. */
export const TENANT_ID_PATTERN = inputPattern(PATTERN['POST /v1/tenants'].id);
