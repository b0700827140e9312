#!/usr/bin/env node
import { isAiosError } from '@aios/utils';
import { Command, CommanderError, Option } from 'commander';
import packageJson from '../package.json' with { type: 'json' };
import { registerAsk } from './commands/ask.js';
import { registerBackup } from './commands/backup.js';
import { registerChat } from './commands/chat.js';
import { registerConfig } from './commands/config.js';
import { registerDemo } from './commands/demo.js';
import { registerFeedback } from './commands/feedback.js';
import { registerHealth } from './commands/health.js';
import { registerIngest } from './commands/ingest.js';
import { registerMemory } from './commands/memory.js';
import { registerStatus } from './commands/status.js';
import { shuttingDown } from './lifecycle.js';

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
  .option('--offline', 'never call a language model: answers are quoted from memory')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

registerDemo(program);
registerAsk(program);
registerChat(program);
registerFeedback(program);
registerIngest(program);
registerMemory(program);
registerHealth(program);
registerBackup(program);
registerStatus(program);
registerConfig(program);

// Every subcommand reports errors the same way (exit codes, one line, no stack trace).
const usageError = (message: string, write: (text: string) => void) => {
  const [first, ...rest] = message
    .trim()
    .replace(/^error: /, '')
    .split('\n');
  write(`aios: ${first} [USAGE_ERROR]\n${rest.map((line) => `${line}\n`).join('')}`);
};
for (const command of [program, ...allCommands(program)]) {
  command
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ outputError: usageError });
}

function allCommands(root: Command): Command[] {
  return root.commands.flatMap((c) => [c, ...allCommands(c)]);
}

async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    reportError(error);
  }
}

function reportError(error: unknown): void {
  if (shuttingDown()) return; // the signal handler closes the cores and sets the exit code
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
