import type { AuditEntry } from '@aios/data';
import { iso } from '../http/time.js';

/** An audit entry as the API, the CLI's export and the compliance archive show it. */
export function auditView(e: AuditEntry) {
  return {
    seq: e.seq,
    at: iso(e.at),
    tenant: e.tenantId,
    keyId: e.keyId,
    action: e.action,
    outcome: e.outcome,
    status: e.status,
    requestId: e.requestId,
    target: e.target,
    details: e.details,
    hash: e.hash,
  };
}
