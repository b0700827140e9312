import type { Command } from 'commander';
import { pc } from './colors.js';
import { printJson } from './shared.js';
import { checkQuestion, describeSources, sourceLine, withAios } from './system.js';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000) {
    throw new Error(`expected a whole number from 1 to 1000, got "${value}"`);
  }
  return n;
}

export function registerMemory(program: Command): void {
  const memory = program
    .command('memory')
    .description('search and inspect the long-term memory (CARMA)');

  memory
    .command('search')
    .description('the fragments that best match a query, with where they came from')
    .argument('<query>', 'what to look for')
    .option('-k, --limit <n>', 'how many results', positiveInt, 8)
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
}
