import { text } from 'node:stream/consumers';
import { snippet } from '@aios/luna';
import { AiosError } from '@aios/utils';
import type { Command } from 'commander';
import { pc } from './colors.js';
import { shortFragmentId } from './memory-find.js';
import { fragmentView } from './memory-show.js';
import { withWritableAios } from './open-system.js';
import { numberIn, printJson } from './shared.js';

const STATUS = {
  added: 'remembered',
  duplicate: 'already remembered',
  merged: 'merged into a note that says nearly the same',
} as const;

/** The note given: its words joined, or standard input for `-`. */
async function noteText(words: string[]): Promise<string> {
  const note = words.length === 1 && words[0] === '-' ? await text(process.stdin) : words.join(' ');
  if (note.trim() === '') {
    throw new AiosError('INVALID_INPUT', 'text: expected a note, got nothing to remember');
  }
  return note.trim();
}

/** `aios memory add`: one note, as `POST /v1/memory` and the MCP `add` tool store it. */
export function registerMemoryAdd(memory: Command): void {
  memory
    .command('add')
    .description(
      'remember a note: stored as a fragment (the same text is not stored twice), with the id that show, edit and delete take',
    )
    .argument('<text...>', 'the note (the words are joined), or - to read it from standard input')
    .option('--namespace <ns>', 'the namespace to keep it in (default: default)')
    .option('--importance <n>', 'from 0 to 1 (default 0.5)', numberIn(0, 1))
    .option('--json', 'print machine-readable JSON')
    .action(
      async (
        words: string[],
        options: { namespace?: string; importance?: number; json?: boolean },
        command: Command,
      ) => {
        const note = await noteText(words);
        await withWritableAios(command, async (aios) => {
          const result = await aios.memory.add({
            text: note,
            ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
            ...(options.importance === undefined ? {} : { importance: options.importance }),
          });
          if (options.json) {
            return printJson({
              status: result.status,
              fragment: fragmentView(result.fragment),
              nearDuplicates: result.nearDuplicates,
            });
          }
          const { fragment } = result;
          console.log(
            `${STATUS[result.status]}: ${pc.bold(shortFragmentId(fragment.id))} ${pc.dim(`(namespace ${fragment.namespace})`)}`,
          );
          for (const near of result.nearDuplicates) {
            const other = await aios.memory.get(near.id);
            if (!other || near.id === fragment.id) continue;
            console.log(
              pc.dim(
                `  similar: ${shortFragmentId(near.id)} (${near.similarity.toFixed(2)}) ${snippet(other.text, 72)}`,
              ),
            );
          }
        });
      },
    );
}
