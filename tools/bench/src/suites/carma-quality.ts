import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openMemory, type SearchMode } from '@aios/carma';
import type { BenchResult, Suite } from '../types.js';

/**
 * Retrieval quality of CARMA on the Cranfield collection, read in place from
 * ../shared/data/cranfield (or AIOS_CRANFIELD_DIR); never copied into the project.
 * nDCG@10 uses the graded judgements as linear gains; Recall@100 counts any judged doc.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
export const CRANFIELD_DIR =
  process.env.AIOS_CRANFIELD_DIR ?? resolve(root, '..', 'shared', 'data', 'cranfield');

/** The collection's own plain-BM25 reference (its README). */
const REFERENCE = { ndcg_at_10: 0.3276, recall_at_100: 0.6848 };

interface Collection {
  docs: Array<{ id: string; text: string }>;
  queries: Array<{ id: string; text: string }>;
  qrels: Map<string, Map<string, number>>;
}

function readJsonl<T>(path: string): T[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

export function loadCranfield(dir = CRANFIELD_DIR): Collection | undefined {
  if (!existsSync(join(dir, 'corpus.jsonl'))) return undefined;
  const docs = readJsonl<{ id: string; title: string; text: string }>(
    join(dir, 'corpus.jsonl'),
  ).map((d) => ({ id: d.id, text: `${d.title} ${d.text}` }));
  const queries = readJsonl<{ id: string; text: string }>(join(dir, 'queries.jsonl'));
  const qrels = new Map<string, Map<string, number>>();
  for (const line of readFileSync(join(dir, 'qrels.tsv'), 'utf8').split('\n')) {
    const [q, d, r] = line.trim().split('\t');
    if (!q || !d || !r) continue;
    let m = qrels.get(q);
    if (!m) {
      m = new Map();
      qrels.set(q, m);
    }
    m.set(d, Number(r));
  }
  return { docs, queries, qrels };
}

export function ndcgAt(ranked: string[], rel: Map<string, number>, k: number): number {
  let dcg = 0;
  ranked.slice(0, k).forEach((d, i) => {
    dcg += (rel.get(d) ?? 0) / Math.log2(i + 2);
  });
  let idcg = 0;
  [...rel.values()]
    .sort((a, b) => b - a)
    .slice(0, k)
    .forEach((r, i) => {
      idcg += r / Math.log2(i + 2);
    });
  return idcg > 0 ? dcg / idcg : 0;
}

export function recallAt(ranked: string[], rel: Map<string, number>, k: number): number {
  const top = new Set(ranked.slice(0, k));
  let hit = 0;
  for (const d of rel.keys()) if (top.has(d)) hit++;
  return rel.size > 0 ? hit / rel.size : 0;
}

export const carmaQualitySuite: Suite = {
  name: 'quality',
  description:
    'CARMA retrieval quality on Cranfield: nDCG@10, Recall@100 (lexical, vector, hybrid)',
  async run({ log }) {
    const data = loadCranfield();
    if (!data) {
      log(`skipped: no Cranfield collection at ${CRANFIELD_DIR} (set AIOS_CRANFIELD_DIR)`);
      return [];
    }
    const results: BenchResult[] = [];
    const runs: Array<{ case: string; mode: SearchMode; fusion?: 'weighted' | 'rrf' }> = [
      { case: 'quality-cranfield-lexical', mode: 'lexical' },
      { case: 'quality-cranfield-vector', mode: 'vector' },
      { case: 'quality-cranfield-hybrid', mode: 'hybrid', fusion: 'weighted' },
      { case: 'quality-cranfield-hybrid-rrf', mode: 'hybrid', fusion: 'rrf' },
    ];
    for (const subject of ['native', 'js'] as const) {
      const memory = await openMemory({ native: subject, hnsw: false });
      // CARMA refuses empty fragments: the collection's two empty records are left out.
      const docs = data.docs.filter((d) => d.text.trim() !== '');
      const added = await memory.addMany(
        docs.map((d) => ({ text: d.text, metadata: { doc: d.id } })),
      );
      const docOf = new Map(added.map((a, i) => [a.fragment.id, docs[i]?.id as string]));
      for (const run of runs) {
        let ndcg = 0;
        let recall = 0;
        for (const q of data.queries) {
          const rel = data.qrels.get(q.id);
          if (!rel) continue;
          const hits = await memory.search(q.text, {
            k: 100,
            mode: run.mode,
            ...(run.fusion ? { fusion: { method: run.fusion } } : {}),
          });
          const ranked = hits.map((h) => docOf.get(h.id) as string);
          ndcg += ndcgAt(ranked, rel, 10);
          recall += recallAt(ranked, rel, 100);
        }
        const n = data.queries.length;
        const params = {
          queries: n,
          docs: docs.length,
          mode: run.mode,
          ...(run.fusion ? { fusion: run.fusion } : {}),
          bm25: 'k1=0.9 b=0.4',
          embedder: 'carma-hash-v1, 384',
          reference_bm25: REFERENCE,
        };
        log(
          `${subject} ${run.case}: nDCG@10 ${(ndcg / n).toFixed(4)}, Recall@100 ${(recall / n).toFixed(4)}`,
        );
        results.push(
          {
            suite: 'quality',
            case: run.case,
            subject,
            metric: 'ndcg_at_10',
            value: ndcg / n,
            params,
          },
          {
            suite: 'quality',
            case: run.case,
            subject,
            metric: 'recall_at_100',
            value: recall / n,
            params,
          },
        );
      }
      await memory.close();
    }
    return results;
  },
};
