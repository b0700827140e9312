import type { Fragment, Memory } from '@aios/carma';
import { AiosError } from '@aios/utils';
import type { Command } from 'commander';
import { checkQuestion, describeSources, sourceLine } from './answers.js';
import { pc } from './colors.js';
import { withAios } from './open-system.js';
import { integerIn, numberIn, printJson } from './shared.js';

/** A fragment by id, or by an unambiguous prefix of its id (as printed by `search`). */
function findFragment(memory: Memory, id: string): Fragment {
  const wanted = id.trim();
  if (wanted === '') throw new AiosError('INVALID_INPUT', 'id: expected a fragment id');
  const exact = memory.get(wanted);
  if (exact) return exact;
  const matches = memory.list().filter((f) => f.id.startsWith(wanted));
  if (matches.length === 1) return matches[0] as Fragment;
  if (matches.length > 1) {
    throw new AiosError(
      'INVALID_INPUT',
      `id "${wanted}" matches ${matches.length} fragments; give more characters`,
    );
  }
  throw new AiosError('FRAGMENT_NOT_FOUND', `no fragment "${wanted}" (see \`aios memory search\`)`);
}

function fragmentView(f: Fragment) {
  const meta = (f.metadata ?? {}) as Record<string, unknown>;
  return {
    id: f.id,
    namespace: f.namespace,
    text: f.text,
    importance: f.importance,
    core: f.core,
    version: f.version,
    createdAt: new Date(f.createdAt).toISOString(),
    updatedAt: new Date(f.updatedAt).toISOString(),
    source: typeof meta.source === 'string' ? meta.source : null,
    line: typeof meta.line === 'number' ? meta.line : null,
    metadata: meta,
  };
}

export function registerMemory(program: Command): void {
  const memory = program
    .command('memory')
    .description('search and inspect the long-term memory (CARMA)');

  memory
    .command('search')
    .description('the fragments that best match a query, with where they came from')
    .argument('<query>', 'what to look for')
    .option('-k, --limit <n>', 'how many results (1 to 1000)', integerIn(1, 1000), 8)
    .option('--json', 'print machine-readable JSON')
    .action(async (query: string, options: { limit: number; json?: boolean }, command: Command) => {
      const q = checkQuestion(query);
      await withAios(command, async (aios) => {
        const started = performance.now();
        const results = await aios.memory.search(q, { k: options.limit });
        aios.metrics.observeSearch(
          'carma',
          aios.config.carma.search.mode,
          (performance.now() - started) / 1000,
        );
        const views = await describeSources(
          aios.memory,
          results.map((r) => ({ id: r.id, score: r.score })),
        );
        if (options.json) return printJson({ query: q, results: views });
        if (views.length === 0) console.log(pc.dim('no matching fragments'));
        views.forEach((v, i) => {
          console.log(sourceLine(v, i + 1));
        });
      });
    });

  memory
    .command('stats')
    .description('how much the memory holds: fragments per namespace, embedder, implementation')
    .option('--json', 'print machine-readable JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      await withAios(command, async (aios) => {
        const carma = aios.memory.stats();
        const stats = {
          fragments: carma.fragments,
          namespaces: carma.namespaces,
          embedder: carma.embedder,
          dimension: carma.dimension ?? null,
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
        console.log(`embedder       ${stats.embedder} (${stats.dimension ?? '-'} dimensions)`);
        console.log(`implementation ${stats.implementation}`);
        console.log(`location       ${stats.location ?? '(in memory)'}`);
        console.log(`conversations  ${stats.conversations} (${stats.messages} messages)`);
      });
    });

  memory
    .command('show')
    .description('one fragment: its text, where it came from, importance and history')
    .argument('<id>', 'the fragment id (or an unambiguous prefix)')
    .option('--json', 'print machine-readable JSON')
    .action(async (id: string, options: { json?: boolean }, command: Command) => {
      await withAios(command, async (aios) => {
        const f = findFragment(aios.memory, id);
        const history = (await aios.memory.history(f.id)).map((c) => ({
          type: c.kind,
          version: c.version,
          at: new Date(c.at).toISOString(),
        }));
        const view = { ...fragmentView(f), history };
        if (options.json) return printJson(view);
        console.log(`${pc.bold(view.id)} ${pc.dim(`(${view.namespace}, v${view.version})`)}`);
        if (view.source)
          console.log(`source      ${view.source}${view.line ? `:${view.line}` : ''}`);
        console.log(`importance  ${view.importance.toFixed(2)}${view.core ? ' (core)' : ''}`);
        console.log(`updated     ${view.updatedAt}`);
        console.log(`history     ${history.map((h) => h.type).join(', ')}`);
        console.log('');
        console.log(view.text);
      });
    });

  memory
    .command('edit')
    .description(
      'change the text (re-embedded) or importance of a fragment; the old version stays in its history',
    )
    .argument('<id>', 'the fragment id (or an unambiguous prefix)')
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
        await withAios(command, async (aios) => {
          const f = findFragment(aios.memory, id);
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
    .argument('<id>', 'the fragment id (or an unambiguous prefix)')
    .option('--json', 'print machine-readable JSON')
    .action(async (id: string, options: { json?: boolean }, command: Command) => {
      await withAios(command, async (aios) => {
        const f = findFragment(aios.memory, id);
        await aios.memory.delete(f.id);
        if (options.json) return printJson({ deleted: f.id });
        console.log(`fragment ${pc.bold(f.id)} deleted`);
      });
    });

  memory
    .command('consolidate')
    .description('cluster the memory, merge near-duplicates and link related fragments')
    .option('--namespace <ns>', 'only this namespace')
    .option('--json', 'print machine-readable JSON')
    .action(async (options: { namespace?: string; json?: boolean }, command: Command) => {
      await withAios(command, async (aios) => {
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
        const mergedCount = report.merged.reduce((n, m) => n + m.from.length, 0);
        console.log(
          `consolidated ${report.namespaces} namespaces, ${report.clusters} clusters: ${mergedCount} fragments merged, ${report.linked} linked`,
        );
      });
    });
}
