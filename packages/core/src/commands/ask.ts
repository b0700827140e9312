import type { Command } from 'commander';
import { printJson } from './shared.js';
import { answerJson, askWithSources, checkQuestion, printAnswer, withAios } from './system.js';

export function registerAsk(program: Command): void {
  program
    .command('ask')
    .description('one answer from Luna, with the memory fragments it used as sources')
    .argument('<question>', 'the question')
    .option('--json', 'print machine-readable JSON')
    .action(async (question: string, options: { json?: boolean }, command: Command) => {
      const q = checkQuestion(question);
      await withAios(command, async (aios) => {
        const { answer, sources } = await askWithSources(aios, q);
        if (options.json) printJson(answerJson(answer, sources));
        else printAnswer(answer, sources);
      });
    });
}
