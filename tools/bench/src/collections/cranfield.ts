import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Collection } from './types.js';

/**
 * The Cranfield collection, read in place from ../shared/data/cranfield (or
 * AIOS_CRANFIELD_DIR); never copied into the project. Title and abstract make a document;
 * CARMA refuses empty fragments, so the two empty records are left out.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
export const CRANFIELD_DIR =
  process.env.AIOS_CRANFIELD_DIR ?? resolve(root, '..', 'shared', 'data', 'cranfield');

/** The collection's own plain-BM25 reference (its README). */
export const CRANFIELD_BM25_REFERENCE = { ndcg_at_10: 0.3276, recall_at_100: 0.6848 };

function readJsonl<T>(path: string): T[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

export function loadCranfield(dir = CRANFIELD_DIR): Collection | undefined {
  if (!existsSync(join(dir, 'corpus.jsonl'))) return undefined;
  const docs = readJsonl<{ id: string; title: string; text: string }>(join(dir, 'corpus.jsonl'))
    .map((d) => ({ id: d.id, text: `${d.title} ${d.text}` }))
    .filter((d) => d.text.trim() !== '');
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
  return { name: 'cranfield', docs, queries, qrels };
}
