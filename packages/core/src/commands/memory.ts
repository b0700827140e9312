import { describeRoles, INDEX_FILE_SETTLED_MS } from '@aios/carma';
import { AiosError } from '@aios/utils';
import type { Command } from 'commander';
import { pc } from './colors.js';
import { registerMemoryAdd } from './memory-add.js';
import { registerMemoryConflicts } from './memory-conflicts.js';
import { registerMemoryExport } from './memory-export.js';
import { findFragment } from './memory-find.js';
import { registerMemoryImport } from './memory-import.js';
import { registerMemoryList } from './memory-list.js';
import { registerMemoryReembed } from './memory-reembed.js';
import { registerMemorySearch } from './memory-search.js';
import { fragmentView, registerMemoryShow } from './memory-show.js';
import { withAios, withWritableAios } from './open-system.js';
import { plural } from './plural.js';
import { numberIn, printJson } from './shared.js';

const CHECKPOINT_MESSAGES = {
  written: 'index files written: the next commands open them with no change to replay',
  current: 'the index files are up to date',
  busy: 'another process is writing the index files',
  none: 'no index files to write (the memory has no vectors, or keeps no files)',
} as const;

export function registerMemory(program: Command): void {
  const memory = program
    .command('memory')
    .description('search and inspect the long-term memory (CARMA)');

  registerMemoryAdd(memory);
  registerMemorySearch(memory);
  registerMemoryList(memory);
  registerMemoryExport(memory);
  registerMemoryImport(memory);
  registerMemoryReembed(memory);
  registerMemoryConflicts(memory);

  memory
    .command('stats')
    .description('how much the memory holds: fragments per namespace, embedder, implementation')
    .option('--json', 'print machine-readable JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      await withAios(command, async (aios) => {
        const carma = aios.memory.stats();
        const stats = {
          fragments: carma.fragments,
          deadRows: carma.deadRows,
          namespaces: carma.namespaces,
          embedder: carma.embedder,
          dimension: carma.dimension ?? null,
          roles: carma.roles,
          implementation: carma.implementation,
          location: carma.location ?? null,
          conversations: await aios.data.conversations.count(),
          messages: await aios.data.messages.count(),
        };
        if (options.json) return printJson(stats);
        console.log(`fragments      ${pc.bold(String(stats.fragments))}`);
        for (const [ns, n] of Object.entries(stats.namespaces)) {
          console.log(`  ${ns.padEnd(12)} ${n}`);
        }
        console.log(
          `dead rows      ${stats.deadRows} (of deleted and replaced fragments, until the index is compacted)`,
        );
        console.log(`embedder       ${stats.embedder} (${stats.dimension ?? '-'} dimensions)`);
        console.log(`query/document ${describeRoles(stats.roles ?? undefined)}`);
        console.log(`implementation ${stats.implementation}`);
        console.log(`location       ${stats.location ?? '(in memory)'}`);
        console.log(`conversations  ${stats.conversations} (${stats.messages} messages)`);
      });
    });

  registerMemoryShow(memory);

  memory
    .command('edit')
    .description(
      'change the text (re-embedded) or importance of a fragment; the old version stays in its history',
    )
    .argument(
      '<id>',
      'the fragment id (or the end of it that search prints, or any unambiguous end or start)',
    )
    .option('--text <text>', 'the new text')
    .option('--importance <n>', 'the new importance, from 0 to 1', numberIn(0, 1))
    .option('--json', 'print machine-readable JSON')
    .action(
      async (
        id: string,
        options: { text?: string; importance?: number; json?: boolean },
        command: Command,
      ) => {
        if (options.text === undefined && options.importance === undefined) {
          throw new AiosError(
            'INVALID_INPUT',
            'nothing to change: give --text and/or --importance',
          );
        }
        if (options.text !== undefined && options.text.trim() === '') {
          throw new AiosError('INVALID_INPUT', 'text: expected some text, got an empty string');
        }
        const importance = options.importance;
        await withWritableAios(command, async (aios) => {
          const f = await findFragment(aios.memory, id);
          const next = await aios.memory.update(f.id, {
            ...(options.text !== undefined ? { text: options.text } : {}),
            ...(importance !== undefined ? { importance } : {}),
          });
          const view = fragmentView(next);
          if (options.json) return printJson(view);
          console.log(`fragment ${pc.bold(view.id)} updated (v${view.version})`);
        });
      },
    );

  memory
    .command('delete')
    .description('delete a fragment (its history stays readable)')
    .argument(
      '<id>',
      'the fragment id (or the end of it that search prints, or any unambiguous end or start)',
    )
    .option('--json', 'print machine-readable JSON')
    .action(async (id: string, options: { json?: boolean }, command: Command) => {
      await withWritableAios(command, async (aios) => {
        const f = await findFragment(aios.memory, id);
        await aios.memory.delete(f.id);
        if (options.json) return printJson({ deleted: f.id });
        console.log(`fragment ${pc.bold(f.id)} deleted`);
        console.log(pc.dim(`(its history stays readable: aios memory show ${f.id})`));
      });
    });

  memory
    .command('checkpoint')
    .description(
      'write the index files now, so that the next commands replay no change (a command on a large memory starts this in the background)',
    )
    .option('--json', 'print machine-readable JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const outcome = await withWritableAios(command, (aios) => aios.memory.writeIndexFiles(), {
        deferCheckpoints: false,
      });
      if (outcome === 'written') {
        // The first open of new files checks them in full (2-3 s at 1M fragments) and
        // records it once they settled: done here, the commands at the prompt need not.
        await new Promise((resolve) => setTimeout(resolve, INDEX_FILE_SETTLED_MS + 100));
        await withAios(command, async () => undefined, { deferCheckpoints: false });
      }
      if (options.json) return printJson({ outcome });
      console.log(CHECKPOINT_MESSAGES[outcome]);
    });

  memory
    .command('consolidate')
    .description('cluster the memory, merge near-duplicates and link related fragments')
    .option('--namespace <ns>', 'only this namespace')
    .option('--json', 'print machine-readable JSON')
    .action(async (options: { namespace?: string; json?: boolean }, command: Command) => {
      await withWritableAios(command, async (aios) => {
        const tty = process.stderr.isTTY === true;
        const task = aios.memory.consolidate({
          ...(options.namespace ? { namespace: options.namespace } : {}),
          onProgress: (e) => {
            if (options.json) return;
            const line = `consolidating: ${e.done}/${e.total} clusters`;
            if (tty) process.stderr.write(`\r${line}${e.done === e.total ? '\n' : ''}`);
            else process.stderr.write(`${line}\n`);
          },
        });
        const report = await task.done;
        if (options.json) return printJson(report);
        if (report.skipped) {
          console.log('skipped: another server sharing the store is consolidating it');
          return;
        }
        const mergedCount = report.merged.reduce((n, m) => n + m.from.length, 0);
        console.log(
          `consolidated ${plural(report.namespaces, 'namespace')}, ${plural(report.clusters, 'cluster')}: ${plural(mergedCount, 'fragment')} merged, ${report.linked} linked`,
        );
      });
    });
}
