import type { Answer, AskOptions } from '@aios/luna';
import type { Command } from 'commander';
import type { Aios } from '../aios.js';
import { answerJson, checkQuestion, printAnswer, type SourceView } from './answers.js';
import { withAios } from './open-system.js';
import { printJson } from './shared.js';

const text = (value: unknown) => (typeof value === 'string' ? value : null);
const number = (value: unknown) => (typeof value === 'number' ? value : null);

/** What the CLI shows of an answer's sources: what Luna retrieved, carried by the answer. */
export function sourceViews(answer: Answer): SourceView[] {
  return answer.sources.map((s) => ({
    id: s.id,
    score: s.score,
    source: text(s.metadata.source),
    line: number(s.metadata.line),
    offset: number(s.metadata.offset),
    namespace: s.namespace,
    text: s.text,
  }));
}

/** Asks Luna (`aios.ask` records the metrics); the sources are printed from the answer. */
export async function askWithSources(aios: Aios, question: string, options?: AskOptions) {
  const answer = await aios.ask(question, options);
  return { answer, sources: sourceViews(answer) };
}

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
