/**
 * The "dream cycle": clusters each namespace (spherical k-means, k-means++ seeding, in
 * the engine), then merges near-duplicates and links related fragments a cluster at a
 * time, so that other operations get their turn in between.
 */

import { setImmediate as nextTurn } from 'node:timers/promises';
import { consolidateCluster } from './consolidate-cluster.js';
import type { MemoryContext } from './context.js';
import type { ConsolidationReport } from './memory-types.js';
import type { ParsedConsolidation } from './validation.js';
import { checkpointIfDue } from './vector-index-file.js';

/** k-means iterations per namespace. */
const KMEANS_ITERATIONS = 25;
const DEFAULT_SEED = 42;

/** How a consolidation takes turns with the memory's other operations. */
export interface ConsolidationTurns {
  /** Runs one step while no other mutation runs. */
  exclusive<T>(step: () => Promise<T>): Promise<T>;
  /** Whether to stop before the next cluster (cancelled, or the memory closed). */
  stopped(): boolean;
}

/** Plans the clusters of every namespace, then consolidates them one by one. */
export async function runConsolidation(
  ctx: MemoryContext,
  parsed: ParsedConsolidation,
  turns: ConsolidationTurns,
): Promise<ConsolidationReport> {
  const namespaces =
    parsed.namespace === undefined
      ? [...ctx.fragments.namespaceLabels.keys()].sort()
      : [parsed.namespace];
  const report: ConsolidationReport = {
    namespaces: 0,
    clusters: 0,
    merged: [],
    linked: 0,
    cancelled: false,
  };
  if (ctx.indexes.dimension === undefined) return report;
  // Plan first (clusters of every namespace), then work cluster by cluster.
  const plan: number[][] = [];
  for (const ns of namespaces) {
    const clusters = await clusterNamespace(ctx, ns, parsed.clusters, parsed.seed);
    if (clusters === undefined) continue;
    report.namespaces++;
    plan.push(...clusters);
  }
  report.clusters = plan.length;
  parsed.onProgress?.({ phase: 'consolidate', done: 0, total: plan.length });
  for (let c = 0; c < plan.length; c++) {
    if (turns.stopped()) {
      report.cancelled = true;
      break;
    }
    await turns.exclusive(() => consolidateCluster(ctx, plan[c] as number[], parsed, report));
    parsed.onProgress?.({ phase: 'consolidate', done: c + 1, total: plan.length });
    // Yield to the event loop, so that requests are not held up by a long consolidation.
    await nextTurn();
  }
  await turns.exclusive(() => checkpointIfDue(ctx));
  return report;
}

/** The labels of each cluster of a namespace; undefined when it has fewer than two. */
async function clusterNamespace(
  ctx: MemoryContext,
  namespace: string,
  clusters: number | undefined,
  seed: number | undefined,
): Promise<number[][] | undefined> {
  const { dimension: dim, vectors } = ctx.indexes;
  const labels = [...(ctx.fragments.namespaceLabels.get(namespace) ?? [])].sort((a, b) => a - b);
  if (dim === undefined || vectors === undefined || labels.length < 2) return undefined;
  const matrix = new Float32Array(labels.length * dim);
  labels.forEach((l, i) => {
    matrix.set(vectors.get(l) as Float32Array, i * dim);
  });
  const k = Math.min(labels.length, clusters ?? Math.ceil(Math.sqrt(labels.length / 2)));
  const { assignments } = await ctx.engine.kmeans(
    matrix,
    dim,
    k,
    KMEANS_ITERATIONS,
    seed ?? DEFAULT_SEED,
  );
  const groups = new Map<number, number[]>();
  assignments.forEach((c, i) => {
    const g = groups.get(c);
    if (g) g.push(labels[i] as number);
    else groups.set(c, [labels[i] as number]);
  });
  return [...groups.values()];
}
