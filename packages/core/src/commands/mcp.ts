import type { Command } from 'commander';
import { runUntilStopped } from '../lifecycle.js';
import { loadEnterprise } from './enterprise.js';
import { type GlobalOptions, loadCliConfig } from './shared.js';

interface McpOptions extends GlobalOptions {
  offline?: boolean;
}

/**
 * `aios mcp`: the memory tools for an MCP client (a desktop assistant, an editor) over
 * stdio. Stdout carries the protocol only (logs go to stderr). The session ends when the
 * client closes stdin, or on SIGTERM/SIGINT; the system is closed either way.
 */
export function registerMcp(program: Command): void {
  program
    .command('mcp')
    .description(
      'serve the memory tools (add, search, get, update, delete, history, list, ask Luna) to an MCP client over stdio',
    )
    .action(async (_options: McpOptions, command: Command) => {
      const options = command.optsWithGlobals<McpOptions>();
      const { config } = loadCliConfig(options);
      const enterprise = await loadEnterprise();
      const running = await enterprise.serveMcpStdio({
        config,
        ...(options.offline ? { offline: true } : {}),
      });
      // Until a signal, or the client closing stdin.
      await runUntilStopped(running, { ended: running.closed });
    });
}
