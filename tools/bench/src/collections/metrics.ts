/** nDCG@k with graded judgements as linear gains. */
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

/** The share of the judged documents found in the top k. */
export function recallAt(ranked: string[], rel: Map<string, number>, k: number): number {
  const top = new Set(ranked.slice(0, k));
  let hit = 0;
  for (const d of rel.keys()) if (top.has(d)) hit++;
  return rel.size > 0 ? hit / rel.size : 0;
}
