import { isAiosError } from '@aios/utils';
import type { Command } from 'commander';
import { runUntilStopped } from '../lifecycle.js';
import { type EnterpriseApi, loadEnterprise, type RunningServer } from './enterprise.js';
import { type GlobalOptions, integerIn, loadCliConfig } from './shared.js';

interface UiOptions extends GlobalOptions {
  port?: number;
  offline?: boolean;
}

/** The web interface is served on loopback only: it is for the person at this machine. */
const LOOPBACK = '127.0.0.1';

/**
 * Listens on `port`; when that port is taken (another program, or a server of another
 * home), on any free port instead, so that `aios ui` always opens.
 */
async function listen(
  enterprise: EnterpriseApi,
  options: Parameters<EnterpriseApi['startServer']>[0],
): Promise<{ running: RunningServer; moved: boolean }> {
  try {
    return { running: await enterprise.startServer(options), moved: false };
  } catch (error) {
    if (!isAiosError(error) || error.code !== 'ADDRESS_IN_USE' || options.port === 0) throw error;
    return { running: await enterprise.startServer({ ...options, port: 0 }), moved: true };
  }
}

export function registerUi(program: Command): void {
  program
    .command('ui')
    .description(
      'open the web interface: serves it (and the HTTP API) on 127.0.0.1 and prints its address; SIGTERM stops it',
    )
    .option(
      '--port <n>',
      'port (default: server.port, 7711; any free port when that one is taken)',
      integerIn(0, 65535),
    )
    .action(async (_options: UiOptions, command: Command) => {
      const options = command.optsWithGlobals<UiOptions>();
      const { config } = loadCliConfig(options);
      const enterprise = await loadEnterprise();
      const port = options.port ?? config.server.port;
      const { running, moved } = await listen(enterprise, {
        config,
        host: LOOPBACK,
        port,
        ...(options.offline ? { offline: true } : {}),
      });
      if (moved) process.stderr.write(`aios ui: port ${port} is taken, using another one\n`);
      process.stdout.write(`AIOS web interface: ${running.url}/\n`);
      process.stderr.write(
        'aios ui: sign in with an API key (create one with `aios keys create --name web --scope admin`)\n',
      );
      await runUntilStopped(running);
      process.stderr.write('aios ui: stopped\n');
    });
}
