import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { aiosCli } from './cli.js';

/** The MCP SDK's own client, on `aios mcp` (spawned on `home`) or on `/mcp` of a server. */
export interface McpTestClient {
  client: Client;
  /** Calls a tool; the result as the client got it (an error result is not thrown). */
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  /** Calls a tool that must succeed; its structured content. */
  ok<T = Record<string, unknown>>(name: string, args?: Record<string, unknown>): Promise<T>;
  /** Calls a tool that must fail; the text of its error result. */
  error(name: string, args?: Record<string, unknown>): Promise<string>;
  /** What `aios mcp` wrote on stderr (stdio only). */
  stderr(): string;
  close(): Promise<void>;
}

function wrap(client: Client, stderr: () => string): McpTestClient {
  const call = async (name: string, args: Record<string, unknown> = {}) =>
    (await client.callTool({ name, arguments: args })) as CallToolResult;
  return {
    client,
    call,
    async ok<T>(name: string, args: Record<string, unknown> = {}) {
      const result = await call(name, args);
      if (result.isError) {
        throw new Error(`${name} failed: ${JSON.stringify(result.content)} ${stderr()}`);
      }
      return result.structuredContent as T;
    },
    async error(name: string, args: Record<string, unknown> = {}) {
      const result = await call(name, args);
      if (!result.isError) throw new Error(`${name} did not fail: ${JSON.stringify(result)}`);
      const first = result.content[0];
      return first?.type === 'text' ? first.text : JSON.stringify(result.content);
    },
    stderr,
    close: () => client.close(),
  };
}

/** Spawns `aios mcp` (the built CLI) on `home` and connects the SDK's client over stdio. */
export async function mcpOverStdio(
  home: string,
  env: Record<string, string> = {},
  args: string[] = [],
): Promise<McpTestClient> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [aiosCli, 'mcp', ...args],
    cwd: home,
    env: { PATH: process.env.PATH ?? '', AIOS_HOME: home, AIOS_LOG_LEVEL: 'warn', ...env },
    stderr: 'pipe',
  });
  let err = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const client = new Client({ name: 'aios-test', version: '1.0.0' });
  await client.connect(transport);
  return wrap(client, () => err);
}

/** Connects the SDK's client to `/mcp` of a server at `url` with an API key. */
export async function mcpOverHttp(url: string, key: string): Promise<McpTestClient> {
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', url), {
    requestInit: { headers: { authorization: `Bearer ${key}` } },
  });
  const client = new Client({ name: 'aios-test', version: '1.0.0' });
  await client.connect(transport);
  return wrap(client, () => '');
}
