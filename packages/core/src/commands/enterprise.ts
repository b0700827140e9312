/**
 * The Enterprise core (@aios/enterprise: `aios serve`, keys, tenants, audit) is loaded when
 * one of its commands runs. It builds on this package (the server opens tenants through
 * `createAios`), so this package cannot import it statically; it is an optional peer that
 * `npm i @aios/enterprise` adds. The shapes below are the part of its API the CLI calls.
 */
import { createRequire } from 'node:module';
import type { AiosConfig } from '@aios/utils';
import { AiosError } from '@aios/utils';
import type { Aios } from '../aios.js';

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

export interface AuditEntryView {
  seq: number;
  at: number;
  tenantId: string | null;
  keyId: string | null;
  action: string;
  outcome: string;
  status: number | null;
  requestId: string | null;
  target: string | null;
  details: Record<string, unknown>;
  hash: string;
}

export interface RunningServer {
  readonly url: string;
  close(): Promise<void>;
}

export interface EnterpriseApi {
  SCOPES: readonly string[];
  startServer(options: {
    config: AiosConfig;
    host?: string;
    port?: number;
    offline?: boolean;
  }): Promise<RunningServer>;
  /** `aios mcp`: the MCP memory tools over stdio, until the client closes stdin. */
  serveMcpStdio(options: { config: AiosConfig; offline?: boolean }): Promise<{
    readonly closed: Promise<void>;
    close(): Promise<void>;
  }>;
  cli: {
    keysCreate(
      aios: Aios,
      input: { name: string; scopes: string[]; tenant?: string; expires?: string },
    ): Promise<{ key: string; apiKey: KeyView }>;
    keysList(aios: Aios, input?: { tenant?: string }): Promise<KeyView[]>;
    keysRevoke(aios: Aios, id: string): Promise<KeyView>;
    tenantsCreate(
      aios: Aios,
      input: { id: string; name?: string },
    ): Promise<{ id: string; name: string; createdAt: number }>;
    tenantsList(aios: Aios): Promise<Array<{ id: string; name: string; createdAt: number }>>;
    auditList(
      aios: Aios,
      input?: { tenant?: string; after?: number; limit?: number },
    ): Promise<AuditEntryView[]>;
    auditVerify(aios: Aios): Promise<{
      ok: boolean;
      entries: number;
      firstBad?: { seq: number; problem: string; message: string };
    }>;
  };
}

// A variable specifier: the type checker and the bundler leave the import to run time.
const ENTERPRISE = '@aios/enterprise';

/**
 * Whether this is the CommonJS build (the one `aios` runs): it must take the Enterprise
 * core's CommonJS build too. An `import()` would load its ES build, and with it a second
 * copy of every core (whose errors this copy would not recognise as its own).
 */
const commonJs = typeof module !== 'undefined';

export async function loadEnterprise(): Promise<EnterpriseApi> {
  try {
    if (commonJs) return createRequire(import.meta.url)(ENTERPRISE) as EnterpriseApi;
    return (await import(ENTERPRISE)) as EnterpriseApi;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (
      (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
      String((error as Error).message).includes(ENTERPRISE)
    ) {
      throw new AiosError(
        'ENTERPRISE_NOT_INSTALLED',
        'this command needs the Enterprise core: npm install @aios/enterprise',
      );
    }
    throw error;
  }
}
