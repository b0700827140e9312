import { snippet } from '@aios/luna';
import type { Command } from 'commander';
import { fragmentPage } from '../fragment-page.js';
import { pc } from './colors.js';
import { displaySource } from './display-path.js';
import { shortFragmentId } from './memory-find.js';
import { fragmentView } from './memory-show.js';
import { withAios } from './open-system.js';
import { plural } from './plural.js';
import { integerIn, printJson } from './shared.js';

/** `aios memory list`: the fragments a page at a time, as `GET /v1/memory` pages them. */
export function registerMemoryList(memory: Command): void {
  memory
    .command('list')
    .description(
      'the fragments in the order they were made, a page at a time, with the ids that show, edit and delete take',
    )
    .option('--namespace <ns>', 'only this namespace')
    .option('--source <file>', 'only what was ingested from this file')
    .option('-n, --limit <n>', 'fragments per page, 1 to 1000 (default 20)', integerIn(1, 1000))
    .option('--after <id>', 'start after this fragment (the last line of a page says which)')
    .option('--json', 'print machine-readable JSON')
    .action(
      async (
        options: {
          namespace?: string;
          source?: string;
          limit?: number;
          after?: string;
          json?: boolean;
        },
        command: Command,
      ) => {
        await withAios(command, async (aios) => {
          const page = await fragmentPage(aios, {
            limit: options.limit ?? 20,
            ...(options.after === undefined ? {} : { after: options.after }),
            ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
            ...(options.source === undefined ? {} : { source: options.source }),
          });
          if (options.json) {
            return printJson({ items: page.items.map(fragmentView), next: page.next });
          }
          if (page.items.length === 0 && page.next === null) {
            console.log(pc.dim(options.after ? 'no more fragments' : 'no fragments'));
            return;
          }
          for (const f of page.items) {
            const view = fragmentView(f);
            const where = view.source
              ? displaySource(view.source, view.line, 0, view.chapter)
              : `${view.namespace} ${view.createdAt.slice(0, 10)}`;
            console.log(
              `  ${pc.bold(shortFragmentId(f.id))}  ${pc.cyan(where)}  ${snippet(f.text, 80)}`,
            );
          }
          const more = page.next === null ? '' : `; more: aios memory list --after ${page.next}`;
          console.log(pc.dim(`${plural(page.items.length, 'fragment')}${more}`));
        });
      },
    );
}
