/**
 * Scoring of search candidates: a single-mode score, or the fusion of the lexical and
 * vector scores (weighted sum of min-max normalised scores, with BM25's weight adapted to
 * the query or fixed, or reciprocal rank fusion), plus the opt-in recency and importance
 * terms. Every step is kept for `explain`.
 *
 * Why adapt: min-max normalisation gives each list's best hit a 1, however weak it is. A
 * question worded otherwise than the notes that answer it ("which food is my friend
 * allergic to?" for "Alice cannot eat peanuts") shares only minor words with them; BM25
 * still ranks something first, and a fixed weight lets that noise outvote a model that
 * found the answer. How much of the query the best lexical hit matches says how much
 * BM25's ranking is worth: its score over the query's IDF mass (the score of a document
 * holding every query token once, at average length; unknown tokens count at full IDF,
 * since no document can match them). From half the IDF mass on, BM25 has its full
 * weight; below, its weight shrinks in proportion. Nothing here is fitted to a
 * collection: the measure is BM25's own scale, computed per query from the memory's own
 * statistics. The full weight depends only on the embedder: 0.7 for the built-in one,
 * whose hashed words mostly repeat BM25's evidence, 0.4 for a model.
 */

import type { FragmentRecord } from './fragment-store.js';
import type { Explanation, FusionOptions, SearchMode, SearchOptions } from './memory-types.js';

/** A candidate's score and 0-based rank in each list that returned it. */
export interface Candidate {
  lexical?: [score: number, rank: number];
  vector?: [score: number, rank: number];
}

/** The best and worst score of one list, for min-max normalisation. */
export interface ScoreRange {
  max: number;
  min: number;
}

/** Share of the query's IDF mass at which lexical evidence counts in full. */
export const FULL_LEXICAL_EVIDENCE = 0.5;

/** BM25's weight for one query, and what it came from. */
export interface QueryFusion {
  lexicalWeight: number;
  /** The best lexical hit's score over the query's IDF mass, capped at 1. */
  coverage?: number;
  /** 0 to 1: how far `coverage` is towards full evidence. */
  evidence?: number;
}

/**
 * BM25's weight for a query: fixed (`weighted`), or (`adaptive`) the full weight scaled
 * by the evidence of the best lexical hit (`lexicalTop`, its BM25 score) against the
 * query's IDF mass.
 */
export function queryFusion(
  fusion: FusionOptions,
  lexicalTop: number,
  idfMass: number,
): QueryFusion {
  if (fusion.method !== 'adaptive') return { lexicalWeight: fusion.lexicalWeight };
  const coverage = idfMass > 0 ? Math.min(1, Math.max(0, lexicalTop) / idfMass) : 0;
  const evidence = Math.min(1, coverage / FULL_LEXICAL_EVIDENCE);
  return { lexicalWeight: fusion.lexicalWeight * evidence, coverage, evidence };
}

export interface ScoringOptions {
  mode: SearchMode;
  fusion: FusionOptions;
  /** BM25's weight for this query (`queryFusion`). */
  query: QueryFusion;
  recency: SearchOptions['recency'];
  importance: SearchOptions['importance'];
  /** The time recency is measured from. */
  now: number;
}

/** 0 to 1 within the list's range; a list whose scores are all equal counts as 1. */
function normalize(score: number, range: ScoreRange): number {
  return range.max > range.min ? (score - range.min) / (range.max - range.min) : 1;
}

/** The fused (or single-mode) score of a candidate, before the opt-in terms. */
export function baseScore(
  candidate: Candidate,
  lexicalRange: ScoreRange,
  vectorRange: ScoreRange,
  options: ScoringOptions,
): number {
  const { mode, fusion } = options;
  if (mode === 'lexical') return candidate.lexical?.[0] ?? 0;
  if (mode === 'vector') return candidate.vector?.[0] ?? 0;
  if (fusion.method === 'rrf') {
    return (
      (candidate.lexical ? 1 / (fusion.rrfK + candidate.lexical[1] + 1) : 0) +
      (candidate.vector ? 1 / (fusion.rrfK + candidate.vector[1] + 1) : 0)
    );
  }
  const w = options.query.lexicalWeight;
  const lexical = candidate.lexical ? normalize(candidate.lexical[0], lexicalRange) : 0;
  const vector = candidate.vector ? normalize(candidate.vector[0], vectorRange) : 0;
  return w * lexical + (1 - w) * vector;
}

/** The recency term: core memories do not decay, they count as just written. */
function recencyTerm(f: FragmentRecord, options: ScoringOptions): number {
  const recency = options.recency as NonNullable<ScoringOptions['recency']>;
  const age = Math.max(0, options.now - f.createdAt);
  return recency.weight * (f.core ? 1 : 0.5 ** (age / recency.halfLifeMs));
}

/** Whether a score needs the candidate's record (its age or importance), not only its ranks. */
export function scoreNeedsRecord(options: ScoringOptions): boolean {
  return options.recency !== undefined || options.importance !== undefined;
}

/**
 * The score of one candidate, what `explainScore(...).final` is, without building the
 * explanation: a search scores every candidate of both lists and explains only those it
 * returns. Without the opt-in terms (`scoreNeedsRecord`) it is `baseScore`.
 */
export function finalScore(
  candidate: Candidate,
  f: FragmentRecord,
  lexicalRange: ScoreRange,
  vectorRange: ScoreRange,
  options: ScoringOptions,
): number {
  let score = baseScore(candidate, lexicalRange, vectorRange, options);
  if (options.recency) score += recencyTerm(f, options);
  if (options.importance) score += importanceTerm(f.importance, options);
  return score;
}

/** The importance term of a fragment of this importance (0 without the option). */
export function importanceTerm(importance: number, options: ScoringOptions): number {
  return options.importance ? options.importance.weight * importance : 0;
}

/** The score of one candidate with how it came about; the score is `final`. */
export function explainScore(
  candidate: Candidate,
  f: FragmentRecord,
  lexicalRange: ScoreRange,
  vectorRange: ScoreRange,
  options: ScoringOptions,
): Explanation {
  const { mode, fusion, recency, importance } = options;
  const explain: Explanation = {
    base: baseScore(candidate, lexicalRange, vectorRange, options),
    final: 0,
  };
  if (candidate.lexical)
    explain.lexical = {
      score: candidate.lexical[0],
      rank: candidate.lexical[1] + 1,
      normalized: normalize(candidate.lexical[0], lexicalRange),
    };
  if (candidate.vector)
    explain.vector = {
      score: candidate.vector[0],
      rank: candidate.vector[1] + 1,
      normalized: normalize(candidate.vector[0], vectorRange),
    };
  if (mode === 'hybrid') {
    explain.fusion = {
      method: fusion.method,
      ...(fusion.method === 'rrf' ? {} : options.query),
    };
  }
  let score = explain.base;
  if (recency) {
    explain.recency = recencyTerm(f, options);
    score += explain.recency;
  }
  if (importance) {
    explain.importance = importanceTerm(f.importance, options);
    score += explain.importance;
  }
  explain.final = score;
  return explain;
}
