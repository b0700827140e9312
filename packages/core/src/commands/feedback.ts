import type { FeedbackResult } from '@aios/luna';
import { Argument, type Command } from 'commander';
import { pc } from './colors.js';
import { withWritableAios } from './open-system.js';
import { numberIn, printJson } from './shared.js';

/** `openness 0.70, conscientiousness 0.70, ...` */
export function traitsLine(traits: FeedbackResult['traits']): string {
  return Object.entries(traits)
    .map(([k, v]) => `${k} ${(v as number).toFixed(2)}`)
    .join(', ');
}

/** What an undo did, in one line (the chat prints it too). */
export function undoneLine({ feedback }: FeedbackResult): string {
  const rated = feedback.rating > 0 ? `+${feedback.rating}` : String(feedback.rating);
  const text = feedback.text ? ` "${feedback.text}"` : '';
  return `feedback ${feedback.id} undone (rating ${rated}${text} on answer ${feedback.exchangeId})`;
}

interface FeedbackOptions {
  text?: string;
  undo?: string | boolean;
  json?: boolean;
}

export function registerFeedback(program: Command): void {
  program
    .command('feedback')
    .summary('rate an answer, or take feedback back with --undo')
    .usage('[options] <answer-id> <rating>\n       aios feedback [options] --undo [feedback-id]')
    .description(
      "rate an answer (its id from `aios ask --json`): nudges Luna's personality and reinforces the memories it used; --undo takes feedback back",
    )
    .argument('[answer-id]', 'the id of the answer')
    .addArgument(
      new Argument('[rating]', 'from -1 (bad) to 1 (good)').argParser(numberIn(-1, 1, 'a rating')),
    )
    .option('--text <comment>', 'what was good or bad ("too long", "more detail", ...)')
    .option(
      '--undo [feedback-id]',
      'take back the latest feedback still in effect (or the one given): traits and memory as before it',
    )
    .option('--json', 'print machine-readable JSON')
    .action(
      async (
        id: string | undefined,
        value: number | undefined,
        options: FeedbackOptions,
        command: Command,
      ) => {
        if (options.undo !== undefined) {
          if (id !== undefined || options.text !== undefined) {
            command.error('error: --undo takes no answer id, rating or --text', { exitCode: 1 });
          }
          const feedbackId = typeof options.undo === 'string' ? options.undo : undefined;
          await withWritableAios(command, async (aios) => {
            const result = await aios.undoFeedback(feedbackId);
            if (options.json) return printJson(result);
            console.log(undoneLine(result));
            console.log(pc.dim(`traits now: ${traitsLine(result.traits)}`));
          });
          return;
        }
        if (id === undefined) command.error("error: missing required argument 'answer-id'");
        if (value === undefined) command.error("error: missing required argument 'rating'");
        const r = value as number;
        await withWritableAios(command, async (aios) => {
          const result = await aios.feedback(id as string, {
            rating: r,
            ...(options.text ? { text: options.text } : {}),
          });
          if (options.json) return printJson(result);
          console.log(`feedback ${pc.bold(result.feedback.id)} recorded`);
          console.log(pc.dim(`traits now: ${traitsLine(result.traits)}`));
          console.log(pc.dim('(to take it back: aios feedback --undo)'));
        });
      },
    );
}
