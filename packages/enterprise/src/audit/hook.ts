import type { FastifyInstance } from 'fastify';
import type { AuditWriter } from './writer.js';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** `memory.add` style name of a route: its URL's words, without `/v1` and parameters. */
export function actionOf(method: string, url: string): string {
  const words = url
    .split('/')
    .filter((part) => part && part !== 'v1' && !part.startsWith(':'))
    .join('.');
  return `${words || 'root'}.${method.toLowerCase()}`;
}

/**
 * Every mutating request and every admin request (and a route that asks for it) leaves an audit
 * entry once answered: who (key, tenant), what (the route's action and the id it named),
 * when, the status and the request id. Never bodies, prompts, memory text or keys.
 * Authentication failures are recorded by authentication itself.
 */
export function installAuditHook(app: FastifyInstance, audit: AuditWriter): void {
  app.addHook('onResponse', async (request, reply) => {
    const url = request.routeOptions.url;
    const config = request.routeOptions.config;
    if (!url || !request.principal) return;
    // Every change, and every admin action (reading keys or the log is one too).
    const audited = config.audit ?? (MUTATING.has(request.method) || config.access === 'admin');
    if (!audited) return;
    const params = (request.params ?? {}) as Record<string, unknown>;
    const id = typeof params.id === 'string' ? params.id : undefined;
    audit.record({
      action: config.action ?? actionOf(request.method, url),
      outcome: reply.statusCode < 400 ? 'ok' : reply.statusCode < 500 ? 'refused' : 'failed',
      status: reply.statusCode,
      requestId: request.id,
      keyId: request.principal.keyId,
      tenantId: request.principal.tenantId,
      target: id ? `${url} ${id}` : url,
    });
  });
}
