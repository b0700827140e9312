import type { SearchMode } from '@aios/carma';
import { carmaMemory, snippet } from '@aios/luna';
import { type Command, Option } from 'commander';
import type { Aios } from '../aios.js';
import { checkQuestion } from './answers.js';
import { pc } from './colors.js';
import { displaySource } from './display-path.js';
import { shortFragmentId } from './memory-find.js';
import { withAios } from './open-system.js';
import { plural } from './plural.js';
import { integerIn, printJson } from './shared.js';

export interface SearchHit {
  id: string;
  /** The retrieval score, on the scale of the mode that found it. */
  score: number;
  /** Relevance from 0 to 1, the same scale in every mode, when the memory provider gives one. */
  relevance: number | null;
  namespace: string | null;
  source: string | null;
  line: number | null;
  /** The chapter of the book it is in (an EPUB's fragments), else null. */
  chapter: string | null;
  offset: number | null;
  text: string;
}

/**
 * What `ask` would retrieve for `query`: the same memory provider Luna is wired with
 * (`carmaMemory` with config `carma.search.mode`, the lexical fallback when a remote
 * embedder is down) and `carma.search.k` fragments unless told otherwise.
 */
export async function searchLikeAsk(
  aios: Aios,
  query: string,
  options: { k?: number; mode?: SearchMode; namespace?: string } = {},
): Promise<{ k: number; mode: SearchMode; hits: SearchHit[] }> {
  const k = options.k ?? aios.config.carma.search.k;
  const mode = options.mode ?? aios.config.carma.search.mode;
  const provider = carmaMemory(aios.memory, {
    mode,
    ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
  });
  const started = performance.now();
  const found = await provider.search(query, { k });
  aios.metrics.observeSearch('carma', mode, (performance.now() - started) / 1000);
  const hits = found.map((f): SearchHit => {
    const meta = f.metadata ?? {};
    const relevance = (f as { relevance?: unknown }).relevance;
    return {
      id: f.id,
      score: f.score,
      relevance:
        typeof relevance === 'number' && relevance >= 0 && relevance <= 1 ? relevance : null,
      namespace: f.namespace ?? null,
      source: typeof meta.source === 'string' ? meta.source : null,
      line: typeof meta.line === 'number' ? meta.line : null,
      chapter: typeof meta.chapter === 'string' ? meta.chapter : null,
      offset: typeof meta.offset === 'number' ? meta.offset : null,
      text: f.text,
    };
  });
  return { k, mode, hits };
}

/** `[1] 3f2a9c1e  notes/car.md:4  relevance 0.82  The car is serviced every spring...` */
export function hitLine(hit: SearchHit, n: number): string {
  const where = hit.source
    ? displaySource(hit.source, hit.line, 0, hit.chapter)
    : (hit.namespace ?? 'memory');
  const score =
    hit.relevance === null
      ? `score ${hit.score.toFixed(3)}`
      : `relevance ${hit.relevance.toFixed(2)}`;
  return `  [${n}] ${pc.bold(shortFragmentId(hit.id))}  ${pc.cyan(where)}  ${pc.dim(score)}  ${snippet(hit.text, 80)}`;
}

export function registerMemorySearch(memory: Command): void {
  memory
    .command('search')
    .description(
      'the fragments `aios ask` would retrieve for a query (config carma.search.k and mode), with the ids that show, edit and delete take',
    )
    .argument('<query...>', 'what to look for (the words are joined)')
    .option(
      '-k, --limit <n>',
      'how many results, 1 to 1000 (default: config carma.search.k)',
      integerIn(1, 1000),
    )
    .addOption(
      new Option('--mode <mode>', 'retrieval mode (default: config carma.search.mode)').choices([
        'hybrid',
        'vector',
        'lexical',
      ]),
    )
    .option('--namespace <ns>', 'only this namespace')
    .option('--json', 'print machine-readable JSON')
    .action(
      async (
        words: string[],
        options: { limit?: number; mode?: SearchMode; namespace?: string; json?: boolean },
        command: Command,
      ) => {
        const q = checkQuestion(words.join(' '));
        await withAios(command, async (aios) => {
          const { k, mode, hits } = await searchLikeAsk(aios, q, {
            ...(options.limit === undefined ? {} : { k: options.limit }),
            ...(options.mode === undefined ? {} : { mode: options.mode }),
            ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
          });
          if (options.json) return printJson({ query: q, k, mode, results: hits });
          if (hits.length === 0) {
            console.log(pc.dim('no matching fragments'));
            return;
          }
          hits.forEach((hit, i) => {
            console.log(hitLine(hit, i + 1));
          });
          console.log(
            pc.dim(
              `${plural(hits.length, 'fragment')} (k ${k}, ${mode}); \`aios memory show <id>\` for one with its history`,
            ),
          );
        });
      },
    );
}
