/**
 * Search: gather candidates from the lexical and vector indexes (within the allow-list
 * of a namespace and filter), score them, and record the access of what is returned.
 */
import type { MemoryContext } from './context.js';
import { HashingEmbedder } from './embedder.js';
import { MAX_K, NO_LABEL, type PreparedQuery } from './engine/index.js';
import type { FragmentRecord } from './fragment-store.js';
import type { SearchOptions, SearchResult } from './memory-types.js';
import { publicFragment } from './records.js';
import {
  baseScore,
  type Candidate,
  explainScore,
  finalScore,
  importanceTerm,
  queryFusion,
  type ScoreRange,
  scoreNeedsRecord,
} from './scoring.js';
import { type ParsedSearch, parseSearch } from './validation.js';

/** Candidates per list in hybrid mode: at least this many, so that fusion has overlap. */
const HYBRID_MIN_DEPTH = 100;
/** HNSW search breadth when `efSearch` is not set. */
const DEFAULT_EF_SEARCH = 128;

/**
 * Finds the fragments that best answer `query` (the body of `Memory.search`).
 * `allRecords` reads every record of a memory that has not (a filter or a score term
 * reads the candidates' records; without them only the results' are read).
 */
export async function searchFragments(
  ctx: MemoryContext,
  query: string,
  options: SearchOptions,
  allRecords: () => Promise<void>,
): Promise<SearchResult[]> {
  const parsed = parseSearch(query, options, ctx.fusion);
  const { fragments } = ctx;
  if (fragments.size === 0) return [];
  // A filter or the recency term reads records: the label map has only the importance.
  if (fragments.onDemand && (parsed.predicate || parsed.recency)) await allRecords();
  const allowed = ctx.allowLists.labels(parsed.namespace, parsed.filter, parsed.predicate);
  if (allowed && allowed.length === 0) return [];
  const { candidates, lexicalRange, vectorRange, idfMass } = await gatherCandidates(
    ctx,
    query,
    parsed,
    allowed,
  );
  const now = ctx.now();
  const scoring = {
    mode: parsed.mode,
    fusion: parsed.fusion,
    query: queryFusion(parsed.fusion, lexicalRange.max, idfMass),
    recency: parsed.recency,
    importance: parsed.importance,
    now,
  };
  // A candidate's record is looked up only when its score needs it (recency, importance),
  // else only for the k it returns: the records are spread over a large heap, and reaching
  // each of a few hundred candidates' costs more than scoring them.
  const needsRecord = scoreNeedsRecord(scoring);
  const onDemand = fragments.onDemand;
  const scored: Array<{ label: number; score: number; candidate: Candidate }> = [];
  for (const [label, candidate] of candidates) {
    let score: number;
    if (needsRecord && onDemand) {
      // Only the importance term (a search with the recency term read every record).
      const importance = onDemand.importanceOf(label);
      if (importance === undefined) continue;
      score =
        baseScore(candidate, lexicalRange, vectorRange, scoring) +
        importanceTerm(importance, scoring);
    } else if (needsRecord) {
      const f = fragments.byLabel.get(label);
      if (!f) continue;
      score = finalScore(candidate, f, lexicalRange, vectorRange, scoring);
    } else {
      score = baseScore(candidate, lexicalRange, vectorRange, scoring);
    }
    scored.push({ label, score, candidate });
  }
  scored.sort((a, b) => b.score - a.score || a.label - b.label);
  const top = await topRecords(ctx, scored, parsed.k);
  for (const r of top) {
    r.f.accessedAt = now;
    r.f.accessCount++;
    ctx.store.touch(r.f);
  }
  return top.map((r) => ({
    id: r.f.id,
    score: r.score,
    fragment: publicFragment(r.f),
    ...(parsed.explain
      ? { explain: explainScore(r.candidate, r.f, lexicalRange, vectorRange, scoring) }
      : {}),
  }));
}

/**
 * The first `k` scored candidates whose fragment is held, with its record. An index may
 * still hold a label whose fragment is gone: it is passed over.
 */
async function topRecords(
  ctx: MemoryContext,
  scored: ReadonlyArray<{ label: number; score: number; candidate: Candidate }>,
  k: number,
): Promise<Array<{ f: FragmentRecord; score: number; candidate: Candidate }>> {
  const { fragments } = ctx;
  const top: Array<{ f: FragmentRecord; score: number; candidate: Candidate }> = [];
  const onDemand = fragments.onDemand;
  if (!onDemand) {
    for (const { label, score, candidate } of scored) {
      if (top.length === k) break;
      const f = fragments.byLabel.get(label);
      if (f) top.push({ f, score, candidate });
    }
    return top;
  }
  // The records of the first k held, read together (one read from the store).
  const chosen: Array<{ label: number; score: number; candidate: Candidate }> = [];
  for (const hit of scored) {
    if (chosen.length === k) break;
    if (onDemand.has(hit.label)) chosen.push(hit);
  }
  const records = await onDemand.records(
    ctx.store,
    chosen.map((hit) => hit.label),
  );
  chosen.forEach(({ score, candidate }, i) => {
    const f = records[i];
    if (f) top.push({ f, score, candidate });
  });
  return top;
}

/** The hits of each list the mode asks for, by label, with each list's score range. */
async function gatherCandidates(
  ctx: MemoryContext,
  query: string,
  parsed: ParsedSearch,
  allowed: Uint32Array | undefined,
): Promise<{
  candidates: Map<number, Candidate>;
  lexicalRange: ScoreRange;
  vectorRange: ScoreRange;
  /** The query's IDF mass (0 when the lexical side was not asked). */
  idfMass: number;
}> {
  const { mode, k } = parsed;
  const { indexes } = ctx;
  const depth = mode === 'hybrid' ? Math.min(MAX_K, Math.max(2 * k, HYBRID_MIN_DEPTH)) : k;
  const candidates = new Map<number, Candidate>();
  const lexicalRange: ScoreRange = { max: 0, min: 0 };
  const vectorRange: ScoreRange = { max: 0, min: 0 };
  const prepared = prepareQuery(ctx, query, mode);
  // Both halves off the JS thread natively, side by side: the walk of the graph and the
  // scoring of the postings are most of a search's time, and a server answers other
  // requests meanwhile. What changes in the memory until they end is handled by the
  // caller: a label no longer live is skipped.
  const lexical =
    prepared && mode !== 'vector'
      ? indexes.lexical.searchTermsAsync(prepared.terms, depth, allowed)
      : undefined;
  const vectorHits =
    mode !== 'lexical' && indexes.dimension !== undefined && indexes.hasVectors
      ? // The built-in embedder's vector came with the terms; a remote embedder is asked.
        Promise.resolve(prepared?.vector ?? ctx.queryVectors.get(ctx, query)).then((q) =>
          indexes.searchVectors(q, Math.min(depth, Math.max(1, indexes.vectorCount)), {
            ...(allowed ? { filter: allowed } : {}),
            ef: Math.max(ctx.options.efSearch ?? DEFAULT_EF_SEARCH, depth),
            exact: parsed.exact,
          }),
        )
      : undefined;
  // Both settle before either is read, so that a failure of one never leaves the other
  // running unobserved.
  const [lexicalSettled, vectorSettled] = await Promise.allSettled([lexical, vectorHits]);
  if (lexicalSettled.status === 'rejected') throw lexicalSettled.reason;
  if (vectorSettled.status === 'rejected') throw vectorSettled.reason;
  if (lexicalSettled.value) {
    const hits = lexicalSettled.value;
    hits.labels.forEach((label, rank) => {
      candidates.set(label, { lexical: [hits.scores[rank] as number, rank] });
    });
    lexicalRange.max = hits.scores[0] ?? 0;
    lexicalRange.min = hits.scores[hits.scores.length - 1] ?? 0;
  }
  if (vectorSettled.value) {
    const hits = vectorSettled.value;
    let last = 0;
    hits.labels.forEach((label, rank) => {
      if (label === NO_LABEL) return;
      const score = hits.scores[rank] as number;
      const candidate = candidates.get(label) ?? {};
      candidate.vector = [score, rank];
      candidates.set(label, candidate);
      last = score;
    });
    vectorRange.max = hits.labels[0] === NO_LABEL ? 0 : (hits.scores[0] ?? 0);
    vectorRange.min = last;
  }
  return { candidates, lexicalRange, vectorRange, idfMass: prepared?.idfMass ?? 0 };
}

/**
 * The query tokenised once for what the mode needs, in one engine call (one crossing into
 * Rust natively): its terms for BM25 and, for the built-in embedder, its vector with each
 * token weighted by its IDF in the memory. Undefined when neither is needed (a vector
 * search with a remote embedder).
 */
function prepareQuery(
  ctx: MemoryContext,
  query: string,
  mode: ParsedSearch['mode'],
): PreparedQuery | undefined {
  const { indexes, embedder } = ctx;
  const hashing =
    mode !== 'lexical' &&
    indexes.dimension !== undefined &&
    indexes.hasVectors &&
    embedder instanceof HashingEmbedder;
  if (mode === 'vector' && !hashing) return undefined;
  return indexes.lexical.prepareQuery(query, hashing ? embedder.dimension : undefined);
}
