import type { Scope } from './keys.js';

/** Who a request comes from: the key, its tenant and its scopes. */
export interface Principal {
  keyId: string;
  tenantId: string;
  scopes: readonly string[];
}

/**
 * What a route requires: a scope, any valid key (`authenticated`: the handler then checks
 * what the resource needs, as jobs do by their kind), or nothing (`public`).
 */
export type RouteAccess = Scope | 'authenticated' | 'public';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by authentication on every non-public route. */
    principal?: Principal;
  }
  interface FastifyContextConfig {
    /** The scope a key needs (`public`: no key). Every route must say. */
    access?: RouteAccess;
    /** Only a server administrator (an `admin` key of the default tenant) may call it. */
    serverAdmin?: boolean;
    /** The audit action of the route (default: derived from method and URL). */
    action?: string;
    /** Mutating routes are audited; a POST that only reads (a search) says `false`. */
    audit?: boolean;
  }
}
