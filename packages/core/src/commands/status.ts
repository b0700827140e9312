import type { Command } from 'commander';
import { systemStatus } from '../status.js';
import { pc } from './colors.js';
import { type GlobalOptions, loadCliConfig, printJson } from './shared.js';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show each core, its version, the implementation it runs and why')
    .option('--json', 'print machine-readable JSON')
    .action((options: { json?: boolean }, command: Command) => {
      const status = systemStatus(loadCliConfig(command.optsWithGlobals<GlobalOptions>()));
      if (options.json) {
        printJson(status);
      } else {
        console.log(
          `${pc.bold('AIOS')} ${status.version}  node ${status.node}  ${status.platform}`,
        );
        console.log(`home    ${status.home}`);
        console.log(`config  ${status.configFile ?? '(defaults and environment only)'}`);
        console.log(`native  ${status.native}`);
        console.log('');
        const width = Math.max(...status.cores.map((c) => c.name.length));
        for (const core of status.cores) {
          const impl =
            core.implementation === 'native'
              ? pc.green('native')
              : core.implementation === 'js'
                ? pc.yellow('js    ')
                : pc.red('unavailable');
          console.log(
            `${core.name.padEnd(width)}  ${core.version.padEnd(8)}  ${impl}  ${pc.dim(core.reason)}`,
          );
        }
      }
      if (status.cores.some((c) => c.implementation === 'unavailable')) process.exitCode = 1;
    });
}
