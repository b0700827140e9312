import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import packageJson from '../../package.json' with { type: 'json' };
import type { McpAccess } from './access.js';
import { registerMemoryTools } from './tools.js';

export const MCP_SERVER_NAME = 'aios-memory';

const INSTRUCTIONS =
  "AIOS memory: the user's long-term memory (CARMA) and Luna, who answers from it. Search " +
  'before answering questions about the user; add what the user wants remembered; lists and ' +
  'searches are paginated and their texts cut (memory_get gives a whole fragment).';

/** An MCP server (the official SDK's) with AIOS's memory tools, not yet connected. */
export function createMcpServer(access: McpAccess): McpServer {
  const server = new McpServer(
    { name: MCP_SERVER_NAME, title: 'AIOS memory', version: packageJson.version },
    { instructions: INSTRUCTIONS, capabilities: { tools: {} } },
  );
  registerMemoryTools(server, access);
  return server;
}
