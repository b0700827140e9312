import { AiosError } from '@aios/utils';
import type { Command } from 'commander';
import { pc } from './colors.js';
import { printJson } from './shared.js';
import { withAios } from './system.js';

function rating(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < -1 || n > 1) {
    throw new AiosError(
      'INVALID_INPUT',
      `rating: expected a number from -1 (bad) to 1 (good), got "${value}"`,
    );
  }
  return n;
}

export function registerFeedback(program: Command): void {
  program
    .command('feedback')
    .description(
      "rate an answer (its id from `aios ask --json`): nudges Luna's personality and reinforces the memories it used",
    )
    .argument('<answer-id>', 'the id of the answer')
    .argument('<rating>', 'from -1 (bad) to 1 (good)')
    .option('--text <comment>', 'what was good or bad ("too long", "more detail", ...)')
    .option('--json', 'print machine-readable JSON')
    .action(
      async (
        id: string,
        value: string,
        options: { text?: string; json?: boolean },
        command: Command,
      ) => {
        const r = rating(value);
        await withAios(command, async (aios) => {
          const result = await aios.luna.feedback(id, {
            rating: r,
            ...(options.text ? { text: options.text } : {}),
          });
          if (options.json) return printJson(result);
          console.log(`feedback ${pc.bold(result.feedback.id)} recorded`);
          const traits = Object.entries(result.traits)
            .map(([k, v]) => `${k} ${(v as number).toFixed(2)}`)
            .join(', ');
          console.log(pc.dim(`traits now: ${traits}`));
        });
      },
    );
}
