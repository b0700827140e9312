import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createEngine, type Memory, openMemory } from '@aios/carma';
import { percentile } from '../serve-process.js';
import { type BenchResult, figures, type Suite } from '../types.js';
import { generateCorpus, rng } from './carma.js';

const require = createRequire(import.meta.url);

/**
 * A memory under churn, as a notes folder kept in step by `aios ingest` makes it: N
 * fragments, then five rounds that each take half of the live fragments, delete half of
 * those and rewrite the other half, and add as many new ones as were deleted. Then the
 * memory is left alone while it compacts (searches go on meanwhile, timed), and it is
 * compared with a memory freshly built from the same texts: dead space of the vector
 * index and of the database file, search latency and recall@10. hnswlib-node under the
 * same churn (markDelete, no compaction) is the peer.
 */

const DIM = 384;
const K = 10;
const ROUNDS = 5;
const QUERIES = 200;
/** The dead share a memory compacts down to once its writes pause (COMPACT_IDLE_SHARE). */
const RESTING_DEAD_SHARE = 0.03;

interface Live {
  id: string;
  text: string;
}

/** Picks `count` distinct indexes of `length`, seeded. */
function pick(length: number, count: number, random: () => number): number[] {
  const order = Array.from({ length }, (_, i) => i);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(random() * (length - i));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  return order.slice(0, count);
}

/** What one round does: which live entries go, which get a new text, how many arrive. */
interface Round {
  deleted: number[];
  rewritten: number[];
}

function planRounds(n: number, seed: number): Round[] {
  const random = rng(seed);
  return Array.from({ length: ROUNDS }, () => {
    const chosen = pick(n, Math.floor(n / 2), random);
    const half = Math.floor(chosen.length / 2);
    return { deleted: chosen.slice(0, half), rewritten: chosen.slice(half) };
  });
}

const bytesIn = (dir: string, pattern: RegExp) =>
  readdirSync(dir)
    .filter((name) => pattern.test(name))
    .reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);

/** Free pages of the SQLite database files in `dir`, as a share of all its pages. */
function databaseDeadShare(dir: string): { deadShare: number; bytes: number } {
  const Database = require('better-sqlite3') as typeof import('better-sqlite3');
  let pages = 0;
  let free = 0;
  let bytes = 0;
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.db'))) {
    const db = new Database(join(dir, name), { readonly: true });
    pages += Number(db.pragma('page_count', { simple: true }));
    free += Number(db.pragma('freelist_count', { simple: true }));
    db.close();
    bytes += statSync(join(dir, name)).size;
  }
  return { deadShare: pages > 0 ? free / pages : 0, bytes };
}

/**
 * One turn of the event loop, as between two requests of a server: a js write or search
 * never waits on I/O, and back to back they would starve the timers and the slices of a
 * js compaction.
 */
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

async function timedSearches(memory: Memory, queries: string[]): Promise<number[]> {
  const times: number[] = [];
  for (const q of queries) {
    const t = performance.now();
    await memory.search(q, { k: K, mode: 'vector' });
    times.push(performance.now() - t);
    await nextTurn();
  }
  return times.sort((a, b) => a - b);
}

/** Recall@10 of the memory's vector search against its own exact scan. */
async function recallOf(memory: Memory, queries: string[]): Promise<number> {
  let hits = 0;
  for (const q of queries) {
    const want = new Set(
      (await memory.search(q, { k: K, mode: 'vector', exact: true })).map((r) => r.id),
    );
    const got = await memory.search(q, { k: K, mode: 'vector' });
    hits += got.filter((r) => want.has(r.id)).length;
  }
  return hits / (queries.length * K);
}

export const churnSuite: Suite = {
  name: 'churn',
  description:
    'a memory after five rounds of deletes, rewrites and adds: dead space after the background compaction, search latency and recall against a fresh build, hnswlib-node markDelete as the peer',
  async run({ quick, scratch, log }) {
    const { results, push } = figures('churn');
    const queries = generateCorpus(QUERIES, 77);
    const queryVectors = await createEngine({ native: 'native' }).embedAsync(queries, DIM);
    const sizes = quick
      ? ([
          ['native', 10_000],
          ['js', 2_000],
        ] as const)
      : ([
          ['native', 100_000],
          ['js', 10_000],
        ] as const);
    for (const [subject, n] of sizes) {
      const label = n >= 1000 ? `${n / 1000}k` : String(n);
      const c = `churn-${label}`;
      const params = { n, rounds: ROUNDS, dim: DIM, k: K };
      const corpus = generateCorpus(n * 4, 5);
      let nextText = 0;
      const fresh = () => corpus[nextText++] as string;
      const dir = join(scratch, `churn-${subject}`);
      mkdirSync(dir, { recursive: true });
      const memory = await openMemory({ dir, native: subject });
      log(`${subject}: adding ${n} fragments`);
      let live: Live[] = [];
      for (let i = 0; i < n; i += 5000) {
        const texts = Array.from({ length: Math.min(5000, n - i) }, fresh);
        const added = await memory.addMany(texts);
        added.forEach((r, j) => {
          live.push({ id: r.fragment.id, text: texts[j] as string });
        });
      }
      let mutations = 0;
      const churnStart = performance.now();
      let deadPeak = 0;
      for (const [r, round] of planRounds(n, 11 + n).entries()) {
        for (const i of round.deleted) {
          await memory.delete((live[i] as Live).id);
          await nextTurn();
        }
        for (const i of round.rewritten) {
          const text = fresh();
          await memory.update((live[i] as Live).id, { text });
          (live[i] as Live).text = text;
          await nextTurn();
        }
        const gone = new Set(round.deleted);
        live = live.filter((_, i) => !gone.has(i));
        const texts = Array.from({ length: round.deleted.length }, fresh);
        for (let i = 0; i < texts.length; i += 5000) {
          const part = texts.slice(i, i + 5000);
          const added = await memory.addMany(part);
          added.forEach((res, j) => {
            live.push({ id: res.fragment.id, text: part[j] as string });
          });
        }
        mutations += round.deleted.length * 2 + round.rewritten.length;
        const stats = memory.stats();
        deadPeak = Math.max(deadPeak, stats.deadRows / (stats.fragments + stats.deadRows));
        log(`${subject}: round ${r + 1}: ${stats.fragments} live, ${stats.deadRows} dead rows`);
      }
      const churnSeconds = (performance.now() - churnStart) / 1000;
      push(c, subject, 'mutations_per_s', mutations / churnSeconds, {
        ...params,
        includes: 'delete, update (re-embed) and addMany, each through SQLite',
      });
      push(c, subject, 'dead_share_peak', deadPeak, {
        ...params,
        at: 'the end of a round, while writes go on (compaction starts at 10%)',
      });

      // Left alone: the memory compacts; searches meanwhile are timed.
      const during: number[] = [];
      const settleStart = performance.now();
      const resting = () => {
        const { deadRows, fragments } = memory.stats();
        return deadRows <= RESTING_DEAD_SHARE * (deadRows + fragments);
      };
      while (!resting() && performance.now() - settleStart < 600_000) {
        during.push(...(await timedSearches(memory, queries.slice(0, 20))));
      }
      const settleSeconds = (performance.now() - settleStart) / 1000;
      during.sort((a, b) => a - b);
      if (during.length > 0) {
        push(c, subject, 'search_during_compaction_p99_ms', percentile(during, 0.99), {
          ...params,
          searches: during.length,
          max_ms: during.at(-1),
        });
      }
      push(c, subject, 'compaction_settle_s', settleSeconds, {
        ...params,
        includes:
          'from the last write until at most 3% of the rows are dead (the last compaction starts once writes paused 2 s)',
      });
      const stats = memory.stats();
      push(c, subject, 'index_dead_share', stats.deadRows / (stats.fragments + stats.deadRows), {
        ...params,
        at: 'after the compaction',
      });
      const churnedLatency = await timedSearches(memory, queries);
      const churnedRecall = await recallOf(memory, queries);
      await memory.close();
      const db = databaseDeadShare(dir);
      push(c, subject, 'database_dead_share', db.deadShare, {
        ...params,
        bytes: db.bytes,
        measure: 'SQLite free pages / pages',
      });
      push(c, subject, 'index_file_bytes', bytesIn(dir, /^index-\d+\.bin$/), params);
      push(c, subject, 'search_p50_ms', percentile(churnedLatency, 0.5), {
        ...params,
        index: 'after churn',
      });
      push(c, subject, 'recall_at_10', churnedRecall, { ...params, index: 'after churn' });
      log(
        `${subject}: after churn, dead ${(stats.deadRows / stats.fragments).toFixed(4)}, db free ${db.deadShare.toFixed(4)}, p50 ${percentile(churnedLatency, 0.5).toFixed(2)} ms, recall ${churnedRecall.toFixed(3)}`,
      );

      // The same texts in a memory built at once.
      const freshDir = join(scratch, `churn-${subject}-fresh`);
      mkdirSync(freshDir, { recursive: true });
      const rebuilt = await openMemory({ dir: freshDir, native: subject });
      for (let i = 0; i < live.length; i += 5000) {
        await rebuilt.addMany(live.slice(i, i + 5000).map((l) => l.text));
      }
      const freshLatency = await timedSearches(rebuilt, queries);
      const freshRecall = await recallOf(rebuilt, queries);
      await rebuilt.close();
      push(c, `${subject} (fresh build)`, 'search_p50_ms', percentile(freshLatency, 0.5), params);
      push(c, `${subject} (fresh build)`, 'recall_at_10', freshRecall, params);
      push(
        c,
        `${subject} (fresh build)`,
        'index_file_bytes',
        bytesIn(freshDir, /^index-\d+\.bin$/),
        params,
      );
      log(
        `${subject}: fresh build p50 ${percentile(freshLatency, 0.5).toFixed(2)} ms, recall ${freshRecall.toFixed(3)}`,
      );
      if (subject === 'native')
        results.push(...(await hnswlibUnderChurn(n, queries, queryVectors, log)));
    }
    return results;
  },
};

/** hnswlib-node under the same churn: deletes and old versions marked deleted, kept. */
async function hnswlibUnderChurn(
  n: number,
  queries: string[],
  queryVectors: Float32Array,
  log: (message: string) => void,
): Promise<BenchResult[]> {
  let HierarchicalNSW: typeof import('hnswlib-node').HierarchicalNSW;
  try {
    ({ HierarchicalNSW } = require('hnswlib-node') as typeof import('hnswlib-node'));
  } catch (error) {
    log(`hnswlib-node unavailable: ${(error as Error).message.split('\n')[0]}`);
    return [];
  }
  const engine = createEngine({ native: 'native' });
  const corpus = generateCorpus(n * 4, 5);
  const vectors = await engine.embedAsync(corpus, DIM);
  const row = (i: number) => Array.from(vectors.subarray(i * DIM, (i + 1) * DIM));
  const capacity = n * 4;
  const index = new HierarchicalNSW('cosine', DIM);
  index.initIndex(capacity, 16, 100, 42);
  let next = 0;
  for (; next < n; next++) index.addPoint(row(next), next);
  let live = Array.from({ length: n }, (_, i) => i);
  const start = performance.now();
  let mutations = 0;
  for (const round of planRounds(n, 11 + n)) {
    for (const i of round.deleted) index.markDelete(live[i] as number);
    for (const i of round.rewritten) {
      index.markDelete(live[i] as number);
      index.addPoint(row(next), next);
      live[i] = next++;
    }
    const gone = new Set(round.deleted);
    live = live.filter((_, i) => !gone.has(i));
    for (let j = 0; j < round.deleted.length; j++) {
      index.addPoint(row(next), next);
      live.push(next++);
    }
    mutations += round.deleted.length * 2 + round.rewritten.length;
  }
  const seconds = (performance.now() - start) / 1000;
  const params = { n, rounds: ROUNDS, dim: DIM, k: K, m: 16, efConstruction: 100, ef: 128 };
  const c = `churn-${n / 1000}k`;
  index.setEf(128);
  const exact = engine.createVectorIndex(DIM, 'cosine', null);
  const liveVectors = new Float32Array(live.length * DIM);
  live.forEach((v, i) => {
    liveVectors.set(vectors.subarray(v * DIM, (v + 1) * DIM), i * DIM);
  });
  exact.add(Uint32Array.from(live.keys()), liveVectors);
  const truth = exact.search(queryVectors, K, { exact: true });
  const times: number[] = [];
  let hits = 0;
  for (let q = 0; q < queries.length; q++) {
    const qv = Array.from(queryVectors.subarray(q * DIM, (q + 1) * DIM));
    const t = performance.now();
    const found = index.searchKnn(qv, K).neighbors;
    times.push(performance.now() - t);
    const want = new Set([...truth.labels.subarray(q * K, (q + 1) * K)].map((i) => live[i]));
    hits += found.filter((id) => want.has(id)).length;
  }
  times.sort((a, b) => a - b);
  const dead = index.getCurrentCount() - live.length;
  log(
    `hnswlib-node: ${dead} of ${index.getCurrentCount()} marked deleted, p50 ${percentile(times, 0.5).toFixed(3)} ms, recall ${(hits / (queries.length * K)).toFixed(3)}`,
  );
  const { results, push } = figures('churn');
  const out = (metric: string, value: number, extra: object = {}) =>
    push(c, 'hnswlib-node', metric, value, { ...params, ...extra });
  out('mutations_per_s', mutations / seconds, { includes: 'markDelete and addPoint only' });
  out('index_dead_share', dead / index.getCurrentCount(), { at: 'no compaction' });
  out('search_p50_ms', percentile(times, 0.5), { includes: 'the graph search only' });
  out('recall_at_10', hits / (queries.length * K));
  return results;
}
