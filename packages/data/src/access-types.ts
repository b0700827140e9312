/** Types of the access tables: tenants, API keys and the audit log (schema version 5). */
import type { JsonObject } from './types.js';

export interface Tenant {
  id: string;
  name: string;
  createdAt: number;
  settings: JsonObject;
}

export interface TenantRepository {
  /** Creates a tenant; `TENANT_EXISTS` when the id is taken. */
  create(tenant: {
    id: string;
    name: string;
    settings?: JsonObject;
    createdAt?: number;
  }): Promise<Tenant>;
  get(id: string): Promise<Tenant | undefined>;
  /** Oldest first. */
  list(): Promise<Tenant[]>;
  /** Removes the tenant and its API keys; whether it existed. */
  delete(id: string): Promise<boolean>;
}

export interface ApiKeyRecord {
  /** The visible, non-secret part of the key: how it is named everywhere. */
  id: string;
  tenantId: string;
  name: string;
  /** Hex SHA-256 of the secret part; the secret itself is never stored. */
  secretHash: string;
  scopes: string[];
  createdAt: number;
  expiresAt: number | null;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

export interface ApiKeyRepository {
  create(
    key: Omit<ApiKeyRecord, 'lastUsedAt' | 'revokedAt' | 'createdAt'> & {
      createdAt?: number;
    },
  ): Promise<ApiKeyRecord>;
  get(id: string): Promise<ApiKeyRecord | undefined>;
  /** Oldest first; of one tenant when given. */
  list(options?: { tenantId?: string }): Promise<ApiKeyRecord[]>;
  /** Records a use (never moves `lastUsedAt` back). */
  touch(id: string, at: number): Promise<void>;
  /** Revokes the key (idempotent: the first revocation time stays); whether it exists. */
  revoke(id: string, at?: number): Promise<boolean>;
}

export interface AuditEntryInput {
  tenantId?: string | null;
  keyId?: string | null;
  /** What was done, e.g. `memory.add`, `auth.failed`, `keys.create`. */
  action: string;
  /** `ok`, `denied`, `failed`... */
  outcome: string;
  /** HTTP status when the entry is about a request. */
  status?: number | null;
  requestId?: string | null;
  /** What it was done to (an id or a route), never content. */
  target?: string | null;
  /** Small, content-free facts (counts, codes). */
  details?: JsonObject;
  at?: number;
}

export interface AuditEntry {
  seq: number;
  at: number;
  tenantId: string | null;
  keyId: string | null;
  action: string;
  outcome: string;
  status: number | null;
  requestId: string | null;
  target: string | null;
  details: JsonObject;
  prevHash: string;
  hash: string;
}

export type AuditProblem = 'edited' | 'deleted' | 'inserted' | 'reordered';

export interface AuditVerification {
  ok: boolean;
  /** Entries read. */
  entries: number;
  /** The first entry that breaks the chain, and how. */
  firstBad?: { seq: number; problem: AuditProblem; message: string };
}

export interface AuditRepository {
  /** Appends entries, chained, in one transaction; returns them as stored. */
  append(entries: readonly AuditEntryInput[]): Promise<AuditEntry[]>;
  /** Oldest first, from `afterSeq` (exclusive); of one tenant when given. */
  list(options?: { tenantId?: string; afterSeq?: number; limit?: number }): Promise<AuditEntry[]>;
  /** Walks the whole chain and the recorded head. */
  verify(): Promise<AuditVerification>;
}
