import { Command, Option } from 'commander';
import packageJson from '../../package.json' with { type: 'json' };
import { registerAsk } from './ask.js';
import { registerAudit } from './audit.js';
import { registerBackup } from './backup.js';
import { registerChat } from './chat.js';
import { registerConfig } from './config.js';
import { registerConversations } from './conversations.js';
import { registerDemo } from './demo.js';
import { registerDoctor } from './doctor.js';
import { registerFeedback } from './feedback.js';
import { registerForget } from './forget.js';
import { registerHealth } from './health.js';
import { registerIngest } from './ingest.js';
import { registerKeys } from './keys.js';
import { registerMcp } from './mcp.js';
import { registerMemory } from './memory.js';
import { registerModels } from './models.js';
import { registerServe } from './serve.js';
import { registerStatus } from './status.js';
import { registerUi } from './ui.js';

/**
 * The `aios` command tree. Commander never prints errors or exits by itself: every command
 * throws a `CommanderError`, which the CLI reports like any other error (one line, a code).
 */
export function buildProgram(): Command {
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
    .option('--offline', 'never call a language model: answers are quoted from memory');

  registerDemo(program);
  registerAsk(program);
  registerChat(program);
  registerConversations(program);
  registerModels(program);
  registerFeedback(program);
  registerIngest(program);
  registerForget(program);
  registerMemory(program);
  registerHealth(program);
  registerBackup(program);
  registerStatus(program);
  registerConfig(program);
  registerDoctor(program);
  registerServe(program);
  registerMcp(program);
  registerUi(program);
  registerKeys(program);
  registerAudit(program);

  for (const command of [program, ...allCommands(program)]) {
    command.exitOverride().configureOutput({ outputError: () => undefined });
  }
  return program;
}

/** Every subcommand of `root`, depth first. */
export function allCommands(root: Command): Command[] {
  return root.commands.flatMap((c) => [c, ...allCommands(c)]);
}
