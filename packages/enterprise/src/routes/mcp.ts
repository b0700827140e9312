import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { principalOf } from '../auth/authenticate.js';
import { hasScope } from '../auth/keys.js';
import type { RouteModule } from '../context.js';
import { apiError } from '../http/errors.js';
import { rebindingRefusal } from '../mcp/hosts.js';
import { createMcpServer } from '../mcp/server.js';
import { systemOf } from './tenant.js';

/** A JSON-RPC error outside any request (the MCP transport's own refusals look the same). */
function jsonRpcError(reply: FastifyReply, status: number, message: string) {
  // Sent as text: the route's error schema (the AIOS shape, for authentication) is not this one.
  return reply
    .status(status)
    .type('application/json')
    .send(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

/**
 * MCP over the streamable HTTP transport at `/mcp` (the official SDK's, stateless: each
 * POST carries its own JSON-RPC messages and gets JSON back). The key's tenant is the
 * memory the tools see, each tool needs its scope (memory:read, memory:write or chat),
 * tools that change the memory are audited, and ask_luna counts against the token budget.
 * Host and Origin are checked against DNS rebinding. There is no server-to-client stream:
 * GET and DELETE answer 405, as the protocol lets a stateless server.
 */
export const mcpRoutes: RouteModule = (api, ctx) => {
  api.post(
    '/mcp',
    {
      // The tools check their own scopes; the route only needs a valid key.
      config: { access: 'authenticated', audit: false },
      schema: {
        hide: true,
        summary: 'Model Context Protocol (streamable HTTP): the memory tools',
        tags: ['mcp'],
        body: Type.Unknown(),
      },
    },
    async (request, reply) => {
      const refusal = rebindingRefusal(request, ctx.config.server.allowedHosts ?? []);
      if (refusal) return jsonRpcError(reply, 403, refusal);
      const principal = principalOf(request);
      const server = createMcpServer({
        system: () => systemOf(ctx, request),
        authorize: (scope) => {
          if (!hasScope(principal.scopes, scope)) {
            throw apiError('FORBIDDEN', `this key lacks the scope ${scope}`, { scope });
          }
        },
        beforeModelCall: (system) => ctx.budget.check(system.data),
        // One entry per tool call that changes the memory (the request itself is not audited).
        changed: (action, target, outcome, code) =>
          ctx.audit.record({
            action,
            outcome,
            requestId: request.id,
            keyId: principal.keyId,
            tenantId: principal.tenantId,
            target,
            details: code === undefined ? { via: 'mcp' } : { via: 'mcp', code },
          }),
      });
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: undefined,
        enableJsonResponse: true,
      });
      reply.hijack();
      reply.raw.setHeader('x-request-id', request.id);
      reply.raw.on('close', () => {
        void transport.close().catch(() => undefined);
        void server.close().catch(() => undefined);
      });
      await server.connect(transport);
      await transport.handleRequest(request.raw, reply.raw, request.body);
    },
  );
  for (const method of ['GET', 'DELETE'] as const) {
    api.route({
      method,
      url: '/mcp',
      config: { access: 'authenticated', audit: false },
      schema: { hide: true, summary: 'Not offered: this MCP server is stateless', tags: ['mcp'] },
      handler: async (_request, reply) =>
        jsonRpcError(reply.header('allow', 'POST'), 405, 'Method not allowed: POST only'),
    });
  }
};
