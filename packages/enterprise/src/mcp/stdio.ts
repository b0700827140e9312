import type { Readable, Writable } from 'node:stream';
import { type Aios, type AiosConfig, createAios } from '@aios/core';
import { createLogger } from '@aios/utils';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { createMcpServer } from './server.js';

export interface McpStdioOptions {
  config: AiosConfig;
  /** Never call a language model (ask_luna answers offline). */
  offline?: boolean;
  /** Default: the process's stdin and stdout (stdout carries the protocol only). */
  input?: Readable;
  output?: Writable;
}

export interface RunningMcpStdio {
  readonly system: Aios;
  /** Resolves once the client closed the session (its end of stdin) and all is closed. */
  readonly closed: Promise<void>;
  /** Ends the session and closes the system; later calls return the same promise. */
  close(): Promise<void>;
}

/**
 * `aios mcp`: the memory tools over stdio for the local user (every tool, no key: whoever
 * can start the process owns the home). The system is opened through `createAios` like any
 * other door, so the CLI and `aios serve` keep working on the same home, and CARMA takes in
 * what they change before each search, get and list.
 */
export async function serveMcpStdio(options: McpStdioOptions): Promise<RunningMcpStdio> {
  const log = createLogger('mcp');
  const system = await createAios({
    config: options.config,
    ...(options.offline ? { offline: true } : {}),
  });
  const input = options.input ?? process.stdin;
  const server = createMcpServer({ system: async () => system, authorize: () => undefined });
  const transport = new StdioServerTransport(input, options.output ?? process.stdout);
  // A line that is not JSON-RPC is reported and skipped: the session goes on.
  transport.onerror = (error) => log.warn({ error: error.message }, 'unreadable MCP message');
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      try {
        await server.close();
      } finally {
        await system.close();
      }
    })();
    return closing;
  };
  try {
    await server.connect(transport);
  } catch (error) {
    await system.close().catch(() => undefined);
    throw error;
  }
  const pending = trackRequests(transport);
  const ended = new Promise<void>((resolve) => {
    input.once('end', resolve);
    input.once('close', resolve);
  });
  // A client may send its last calls and close stdin at once: they are answered first.
  return { system, closed: ended.then(pending.drained).then(close), close };
}

/**
 * Counts the requests read and not yet answered on `transport` (wrapping what `connect` set
 * up), so that the end of input can wait for their answers.
 */
function trackRequests(transport: StdioServerTransport): { drained: () => Promise<void> } {
  const open = new Set<string | number>();
  let idle: (() => void) | undefined;
  const receive = transport.onmessage;
  transport.onmessage = (message: JSONRPCMessage) => {
    if ('method' in message && 'id' in message) open.add(message.id);
    receive?.(message);
  };
  const send = transport.send.bind(transport);
  transport.send = async (message: JSONRPCMessage) => {
    await send(message);
    const id = 'method' in message ? undefined : (message as { id?: string | number }).id;
    if (id !== undefined && open.delete(id) && open.size === 0) idle?.();
  };
  return {
    drained: () =>
      open.size === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            idle = resolve;
          }),
  };
}
