/**
 * Scoring of search candidates: a single-mode score, or the fusion of the lexical and
 * vector scores (weighted sum of min-max normalised scores, or reciprocal rank fusion),
 * plus the opt-in recency and importance terms. Every step is kept for `explain`.
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

export interface ScoringOptions {
  mode: SearchMode;
  fusion: FusionOptions;
  recency: SearchOptions['recency'];
  importance: SearchOptions['importance'];
  /** The time recency is measured from. */
  now: number;
}

/** 0 to 1 within the list's range; a list whose scores are all equal counts as 1. */
function normalize(score: number, range: ScoreRange): number {
  return range.max > range.min ? (score - range.min) / (range.max - range.min) : 1;
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
  const explain: Explanation = { base: 0, final: 0 };
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
  if (mode === 'lexical') explain.base = candidate.lexical?.[0] ?? 0;
  else if (mode === 'vector') explain.base = candidate.vector?.[0] ?? 0;
  else if (fusion.method === 'rrf') {
    explain.base =
      (candidate.lexical ? 1 / (fusion.rrfK + candidate.lexical[1] + 1) : 0) +
      (candidate.vector ? 1 / (fusion.rrfK + candidate.vector[1] + 1) : 0);
  } else {
    explain.base =
      fusion.lexicalWeight * (explain.lexical?.normalized ?? 0) +
      (1 - fusion.lexicalWeight) * (explain.vector?.normalized ?? 0);
  }
  let score = explain.base;
  if (recency) {
    // Core memories do not decay: they count as just written.
    const age = Math.max(0, options.now - f.createdAt);
    explain.recency = recency.weight * (f.core ? 1 : 0.5 ** (age / recency.halfLifeMs));
    score += explain.recency;
  }
  if (importance) {
    explain.importance = importance.weight * f.importance;
    score += explain.importance;
  }
  explain.final = score;
  return explain;
}
