#!/usr/bin/env node
import { isAiosError } from '@aios/utils';
import { Command, CommanderError, Option } from 'commander';
import packageJson from '../package.json' with { type: 'json' };
import { registerStatus } from './commands/status.js';

const program = new Command('aios')
  .description('AIOS: a local-first AI system (Luna answers with the help of CARMA memory)')
  .version(packageJson.version, '-v, --version')
  .option('--home <dir>', 'data directory (default: $AIOS_HOME or ~/.aios)')
  .option('--config <file>', 'config file (default: ./aios.config.json or <home>/config.json)')
  .addOption(
    new Option('--native <mode>', 'implementation of hybrid cores').choices([
      'auto',
      'js',
      'native',
    ]),
  )
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

registerStatus(program);

async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    reportError(error);
  }
}

function reportError(error: unknown): void {
  if (error instanceof CommanderError) {
    // Commander already printed the message (or the help / version text).
    process.exitCode = error.exitCode;
  } else if (isAiosError(error)) {
    process.stderr.write(`aios: ${error.message} [${error.code}]\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write(
      `aios: unexpected error: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    if (process.env.AIOS_DEBUG) console.error(error);
    process.exitCode = 70;
  }
}

void main();
