export {
  type CreateKeyInput,
  createKey,
  ensureDefaultTenant,
  type KeyView,
  keyView,
  parseExpiry,
} from './access/keys.js';
export { type AiosServer, buildServer, type ServerOptions } from './app.js';
export { generateKey, hashSecret, KEY_PREFIX, parseKey, SCOPES, type Scope } from './auth/keys.js';
export type { Principal } from './auth/principal.js';
export * as cli from './cli.js';
export type { Api, RouteModule, ServerContext } from './context.js';
export { type ErrorBody, errorResponse, statusOf } from './http/errors.js';
export { JobRegistry, type JobView } from './jobs/registry.js';
export type { McpAccess } from './mcp/access.js';
export { createMcpServer, MCP_SERVER_NAME } from './mcp/server.js';
export { type McpStdioOptions, type RunningMcpStdio, serveMcpStdio } from './mcp/stdio.js';
export { isLoopback, type RunningServer, type StartOptions, startServer } from './serve.js';
export { DEFAULT_TENANT } from './tenants/ids.js';
export { TenantRegistry } from './tenants/registry.js';
