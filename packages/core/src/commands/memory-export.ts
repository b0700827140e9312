import { Readable } from 'node:stream';
import type { Command } from 'commander';
import type { Aios } from '../aios.js';
import { fragmentPage } from '../fragment-page.js';
import { pc } from './colors.js';
import { fragmentView } from './memory-show.js';
import { withAios } from './open-system.js';
import { plural } from './plural.js';
import { writeOutput } from './write-output.js';

/** Fragments read per page while exporting. */
const PAGE = 500;

/**
 * Every fragment (of one namespace when asked) as JSON Lines, in the order they were made,
 * read a page at a time (`fragmentPage`): a memory of any size in constant memory.
 */
function exportLines(
  aios: Aios,
  namespace: string | undefined,
  counted: { fragments: number },
): Readable {
  return Readable.from(
    (async function* () {
      let after: string | undefined;
      do {
        const page = await fragmentPage(aios, {
          limit: PAGE,
          ...(after === undefined ? {} : { after }),
          ...(namespace === undefined ? {} : { namespace }),
        });
        const lines = page.items.map((f) => `${JSON.stringify(fragmentView(f))}\n`);
        counted.fragments += lines.length;
        if (lines.length > 0) yield lines.join('');
        after = page.next ?? undefined;
      } while (after !== undefined);
    })(),
  );
}

/** `aios memory export`: the memory in an open format, to keep, read or ingest elsewhere. */
export function registerMemoryExport(memory: Command): void {
  memory
    .command('export')
    .description(
      'write every fragment as JSON Lines (text, namespace, importance, metadata, times), which aios memory import reads back',
    )
    .argument('[file]', 'the file to write (atomically); "-" or omitted for stdout')
    .option('--namespace <ns>', 'only this namespace')
    .action(async (file: string | undefined, options: { namespace?: string }, command: Command) => {
      await withAios(command, async (aios) => {
        const counted = { fragments: 0 };
        const target = await writeOutput(() => exportLines(aios, options.namespace, counted), file);
        if (target) {
          console.log(`exported ${plural(counted.fragments, 'fragment')} to ${pc.bold(target)}`);
        }
      });
    });
}
