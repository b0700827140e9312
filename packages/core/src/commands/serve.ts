import type { Command } from 'commander';
import { runUntilStopped } from '../lifecycle.js';
import { loadEnterprise } from './enterprise.js';
import { type GlobalOptions, integerIn, loadCliConfig } from './shared.js';

interface ServeOptions extends GlobalOptions {
  host?: string;
  port?: number;
  offline?: boolean;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(
      'serve the HTTP API (OpenAPI at /openapi.json) on 127.0.0.1 unless told otherwise; SIGTERM stops it cleanly',
    )
    .option('--host <address>', 'address to listen on (default: server.host, 127.0.0.1)')
    .option(
      '--port <n>',
      'port (default: server.port, 7711; 0: any free port)',
      integerIn(0, 65535),
    )
    .action(async (_options: ServeOptions, command: Command) => {
      const options = command.optsWithGlobals<ServeOptions>();
      const { config } = loadCliConfig(options);
      const enterprise = await loadEnterprise();
      const running = await enterprise.startServer({
        config,
        ...(options.host === undefined ? {} : { host: options.host }),
        ...(options.port === undefined ? {} : { port: options.port }),
        ...(options.offline ? { offline: true } : {}),
      });
      process.stdout.write(
        `AIOS listening on ${running.url} (OpenAPI: ${running.url}/openapi.json)\n`,
      );
      // SIGTERM/SIGINT: stop taking connections, finish what runs, close.
      await runUntilStopped(running, {
        onStop: () => process.stderr.write('aios serve: stopping (finishing requests and jobs)…\n'),
      });
      process.stderr.write('aios serve: stopped\n');
    });
}
