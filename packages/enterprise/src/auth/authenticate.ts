import type { DataStore } from '@aios/data';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuditWriter } from '../audit/writer.js';
import { apiError } from '../http/errors.js';
import { DEFAULT_TENANT } from '../tenants/ids.js';
import { hasScope, parseKey, secretMatches } from './keys.js';
import type { Principal } from './principal.js';
import { KeyTouches } from './touches.js';

type Failure = 'missing' | 'malformed' | 'unknown' | 'revoked' | 'expired';

const MESSAGES: Record<Failure, string> = {
  missing: 'an API key is required: send "Authorization: Bearer aios_sk_..."',
  malformed: 'the API key is not of the form aios_sk_<id>_<secret>',
  unknown: 'the API key is not valid',
  revoked: 'the API key was revoked',
  expired: 'the API key has expired',
};

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  return match?.[1]?.trim();
}

/**
 * Authentication and authorization of every route that is not `public`: the bearer key is
 * looked up on each request, so a revocation takes effect on the next one (the store reads
 * the key again only once the database has changed, here or in another process), then the
 * route's scope is checked. A failure answers 401 (no usable key) or 403 (a key without the
 * scope), and is audited, never with the key itself.
 */
export function installAuthentication(
  app: FastifyInstance,
  deps: { control: DataStore; audit: AuditWriter },
): void {
  const touches = new KeyTouches();
  const fail = (request: FastifyRequest, reason: Failure, keyId?: string) => {
    deps.audit.record({
      action: 'auth.failed',
      outcome: 'denied',
      status: 401,
      requestId: request.id,
      keyId: keyId ?? null,
      target: `${request.method} ${request.routeOptions.url ?? request.url}`,
      details: { reason },
    });
    return apiError('UNAUTHENTICATED', MESSAGES[reason], { reason });
  };

  app.addHook('onRequest', async (request, reply) => {
    const config = request.routeOptions.config;
    // Unknown routes answer 404 whoever asks; public routes need no key.
    if (!request.routeOptions.url || config.access === undefined || config.access === 'public') {
      return;
    }
    const given = bearer(request);
    if (!given) {
      void reply.header('www-authenticate', 'Bearer realm="aios"');
      throw fail(request, 'missing');
    }
    const parsed = parseKey(given);
    if (!parsed) throw fail(request, 'malformed');
    const key = await deps.control.apiKeys.get(parsed.id);
    if (!key || !secretMatches(parsed.secret, key.secretHash)) {
      throw fail(request, 'unknown', key ? key.id : undefined);
    }
    const now = Date.now();
    if (key.revokedAt !== null) throw fail(request, 'revoked', key.id);
    if (key.expiresAt !== null && key.expiresAt <= now) throw fail(request, 'expired', key.id);
    const principal: Principal = { keyId: key.id, tenantId: key.tenantId, scopes: key.scopes };
    request.principal = principal;
    if (touches.due(key.id, now)) {
      void deps.control.apiKeys.touch(key.id, now).catch(() => undefined);
    }
    const needsServerAdmin = config.serverAdmin === true;
    const scopeMissing = config.access !== 'authenticated' && !hasScope(key.scopes, config.access);
    if (scopeMissing || (needsServerAdmin && !isServerAdmin(principal))) {
      deps.audit.record({
        action: 'auth.forbidden',
        outcome: 'denied',
        status: 403,
        requestId: request.id,
        keyId: key.id,
        tenantId: key.tenantId,
        target: `${request.method} ${request.routeOptions.url}`,
        details: { needed: needsServerAdmin ? 'server admin' : config.access },
      });
      throw apiError(
        'FORBIDDEN',
        needsServerAdmin
          ? 'this route needs an admin key of the default tenant'
          : `this key lacks the scope ${config.access}`,
        { scope: config.access },
      );
    }
  });
}

/** An `admin` key of the default tenant administers the whole server. */
export function isServerAdmin(principal: Principal): boolean {
  return principal.tenantId === DEFAULT_TENANT && principal.scopes.includes('admin');
}

/** The principal of an authenticated request (routes that are not public always have one). */
export function principalOf(request: FastifyRequest): Principal {
  const principal = request.principal;
  if (!principal) throw apiError('UNAUTHENTICATED', 'no API key');
  return principal;
}
