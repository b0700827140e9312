import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type CarmaEngine,
  createEngine,
  HNSW_AUTO_THRESHOLD,
  type HnswParams,
  type Memory,
  NO_LABEL,
  openMemory,
  type VectorIndex,
} from '@aios/carma';
import { measure } from '../measure.js';
import { figures, type Suite } from '../types.js';
import { providerIngest } from './carma-provider.js';
import { searchWhileAdding } from './carma-search-while-adding.js';

const require = createRequire(import.meta.url);

/**
 * CARMA's hot paths: exact top-k, HNSW build and QPS at a recall target, add throughput
 * and end-to-end search, native vs js vs npm peers. The vectors are the built-in
 * embedder's embeddings of a generated corpus (topic-clustered pseudo-words with Zipf
 * frequencies), so every subject indexes the same realistic sparse-ish vectors.
 */

const DIM = 384;
const K = 10;
/**
 * Bytes the native exact scan reads per row: an int8 code per dimension plus 12 bytes of
 * scale and error bounds (crates/carma/src/codes.rs). It then rescores with the f32 kernel
 * only the rows the bounds cannot rule out (about 2 k rows, negligible next to the scan).
 */
const NATIVE_SCAN_BYTES_PER_ROW = DIM + 12;
const HNSW: HnswParams = { m: 16, efConstruction: 100, seed: 42 };
const EF_SWEEP = [10, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512];
const RECALL_TARGET = 0.95;

/** A seeded generator of numbers in [0, 1): the same corpus and plans on every run. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    s ^= s >>> 12;
    return (s >>> 0) / 2 ** 32;
  };
}

const SYLLABLES = 'ka lo mi ne ru sa te vi do pa re li no ta mu se ga fi zo be'.split(' ');

/** `count` texts over 50 topics; each draws 8 to 40 words, half topical, half common. */
export function generateCorpus(count: number, seed: number, minWords = 8, maxWords = 40): string[] {
  const random = rng(seed);
  const vocab = Array.from({ length: 6000 }, (_, i) => {
    let w = '';
    let x = i + 7;
    for (let j = 0; j < 2 + (i % 3); j++) {
      w += SYLLABLES[x % SYLLABLES.length];
      x = Math.floor(x / SYLLABLES.length) + j * 3;
    }
    return `${w}${i % 97}`;
  });
  const zipf = (n: number) => Math.min(n - 1, Math.floor(n ** random() - 1));
  return Array.from({ length: count }, () => {
    const topic = Math.floor(random() * 50);
    const words = minWords + Math.floor(random() * (maxWords - minWords + 1));
    const out: string[] = [];
    for (let i = 0; i < words; i++) {
      out.push(
        random() < 0.5
          ? (vocab[1000 + topic * 100 + zipf(100)] as string)
          : (vocab[zipf(1000)] as string),
      );
    }
    return out.join(' ');
  });
}

/**
 * The longest the JS thread went without running a 1 ms interval until `stop`: how long
 * a request arriving meanwhile would have waited. (perf_hooks' monitorEventLoopDelay
 * recorded no samples at all around a js memory's adds, so it is measured by hand.)
 */
function watchThread(): { stop(): number } {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 1);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(longest, performance.now() - last);
    },
  };
}

function memoryBandwidth(bytes: number): number {
  const a = Buffer.alloc(bytes, 7);
  const b = Buffer.alloc(bytes, 7);
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    if (Buffer.compare(a, b) !== 0) throw new Error('buffers differ');
    best = Math.min(best, performance.now() - t);
  }
  return (2 * bytes) / 1e9 / (best / 1000);
}

/** Recall@k of `got` (k per query, padded) against `truth`. */
function recall(
  got: ArrayLike<number>,
  truth: ArrayLike<number>,
  queries: number,
  k: number,
): number {
  let hit = 0;
  for (let q = 0; q < queries; q++) {
    const t = new Set(Array.from({ length: k }, (_, i) => truth[q * k + i]));
    for (let i = 0; i < k; i++) if (t.has(got[q * k + i] as number)) hit++;
  }
  return hit / (queries * k);
}

function timeLoop(queries: number, fn: (q: number) => unknown, minMs: number): number {
  let done = 0;
  const start = performance.now();
  while (performance.now() - start < minMs || done < queries) {
    fn(done % queries);
    done++;
  }
  return done / ((performance.now() - start) / 1000);
}

interface AnnSubject {
  subject: string;
  n: number;
  build(): Promise<void> | void;
  /** k labels per query for all queries, at breadth `ef`. */
  searchAll(ef: number): Promise<ArrayLike<number>> | ArrayLike<number>;
  prepare(ef: number): Promise<void> | void;
  one(q: number): unknown;
}

export const carmaSuite: Suite = {
  name: 'carma',
  description:
    'CARMA: exact top-10, HNSW build + QPS at recall 0.95, add and end-to-end search, ingest through a model server',
  async run({ quick, scratch, log }) {
    const { results, push } = figures('carma');
    const native = createEngine({ native: 'native' });
    const js = createEngine({ native: 'js' });
    const N = quick ? 5_000 : 100_000;
    const NJ = quick ? 2_000 : 10_000; // js HNSW builds sequentially: a smaller set
    const NQ = quick ? 50 : 200;
    const label = (n: number) => (n >= 1000 ? `${n / 1000}k` : String(n));

    log(`generating and embedding ${N} texts`);
    const texts = generateCorpus(N, 1);
    const queryTexts = generateCorpus(NQ, 2, 4, 12);
    const data = await native.embedAsync(texts, DIM);
    const queries = native.embed(queryTexts, DIM);
    const labels = Uint32Array.from({ length: N }, (_, i) => i);
    const q1 = (q: number) => queries.subarray(q * DIM, (q + 1) * DIM);

    // ---- exact top-10 ----
    const bandwidth = memoryBandwidth(quick ? 64 * 2 ** 20 : 256 * 2 ** 20);
    const exactCase = `exact-top10-${label(N)}-${DIM}`;
    const nativeFlat = native.createVectorIndex(DIM, 'dot');
    nativeFlat.add(labels, data);
    const jsFlat = js.createVectorIndex(DIM, 'dot');
    jsFlat.add(labels, data);
    const truth = nativeFlat.search(queries, K, { exact: true }).labels;
    const jsTruth = jsFlat.search(queries, K, { exact: true }).labels;
    log(
      `exact: native and js agree on ${(recall(jsTruth, truth, NQ, K) * 100).toFixed(2)}% of top-10`,
    );
    let qi = 0;
    const candidates: Array<{ subject: string; fn: () => unknown }> = [
      { subject: 'native', fn: () => nativeFlat.search(q1(qi++ % NQ), K, { exact: true }) },
      { subject: 'js', fn: () => jsFlat.search(q1(qi++ % NQ), K, { exact: true }) },
    ];
    try {
      const usearch = require('usearch') as typeof import('usearch');
      const got = usearch.exactSearch(
        data,
        queries,
        DIM,
        K,
        usearch.MetricKind.IP,
        0,
      ) as unknown as {
        keys: BigUint64Array;
      };
      log(
        `exact: usearch agrees on ${(recall(Array.from(got.keys, Number), truth, NQ, K) * 100).toFixed(2)}%`,
      );
      candidates.push({
        subject: 'usearch',
        fn: () => usearch.exactSearch(data, q1(qi++ % NQ), DIM, K, usearch.MetricKind.IP, 0),
      });
    } catch (error) {
      log(`usearch unavailable: ${(error as Error).message.split('\n')[0]}`);
    }
    const f32Bytes = N * DIM * 4;
    const scannedBytes = (subject: string) =>
      subject === 'native' ? N * NATIVE_SCAN_BYTES_PER_ROW : f32Bytes;
    log(
      `exact: native scans int8 codes (${NATIVE_SCAN_BYTES_PER_ROW} bytes a row, ` +
        `${(scannedBytes('native') / 1e6).toFixed(1)} MB a query instead of ${(f32Bytes / 1e6).toFixed(1)} MB) ` +
        'and rescores the rows their error bounds cannot rule out with the exact f32 kernel: ' +
        'same results as the f32 scan; gb_per_s counts the f32 matrix, scanned_gb_per_s the bytes read',
    );
    log(`exact top-10 over ${N} x ${DIM}`);
    for (const m of await measure(candidates, { timeMs: quick ? 300 : 3000 })) {
      const params = {
        n: N,
        dim: DIM,
        k: K,
        metric: 'dot',
        threads: m.subject === 'js' ? 1 : 'all',
        scans: m.subject === 'native' ? 'int8 codes + exact f32 rescoring' : 'f32 matrix',
      };
      const seconds = m.p50_ms / 1000;
      push(exactCase, m.subject, 'p50_ms', m.p50_ms, params);
      push(exactCase, m.subject, 'gb_per_s', f32Bytes / 1e9 / seconds, {
        ...params,
        bytes: 'f32 matrix (n x dim x 4), whatever the subject reads',
      });
      push(exactCase, m.subject, 'scanned_bytes', scannedBytes(m.subject), {
        ...params,
        per: 'query',
      });
      push(exactCase, m.subject, 'scanned_gb_per_s', scannedBytes(m.subject) / 1e9 / seconds, {
        ...params,
        bytes: 'bytes the subject reads per query',
      });
    }
    for (const metric of ['gb_per_s', 'scanned_gb_per_s']) {
      push(exactCase, 'memory-bandwidth', metric, bandwidth, {
        method: 'Buffer.compare of two buffers (read rate)',
      });
    }
    const batchCase = `exact-top10-batch${NQ}-${label(N)}-${DIM}`;
    for (const m of await measure(
      [{ subject: 'native', fn: () => nativeFlat.search(queries, K, { exact: true }) }],
      { timeMs: quick ? 300 : 2000 },
    )) {
      push(batchCase, m.subject, 'queries_per_s', NQ / (m.p50_ms / 1000), {
        n: N,
        dim: DIM,
        k: K,
        batch: NQ,
      });
    }

    // ---- HNSW build and QPS at recall >= 0.95 ----
    const ann: AnnSubject[] = [];
    const ours = (engine: CarmaEngine, subject: string, n: number): AnnSubject => {
      let index: VectorIndex | undefined;
      let ef = 64;
      return {
        subject,
        n,
        async build() {
          index = engine.createVectorIndex(DIM, 'dot', HNSW);
          await index.addAsync(labels.subarray(0, n), data.subarray(0, n * DIM));
        },
        searchAll: (e) => {
          const out = new Uint32Array(NQ * K);
          for (let q = 0; q < NQ; q++)
            out.set((index as VectorIndex).search(q1(q), K, { ef: e }).labels, q * K);
          return out;
        },
        prepare(e) {
          ef = e;
        },
        one: (q) => (index as VectorIndex).search(q1(q), K, { ef }),
      };
    };
    ann.push(ours(native, 'native', N), ours(js, 'js', NJ));
    try {
      const { HierarchicalNSW } = require('hnswlib-node') as typeof import('hnswlib-node');
      let index: InstanceType<typeof HierarchicalNSW> | undefined;
      const qs = Array.from({ length: NQ }, (_, q) => Array.from(q1(q)));
      ann.push({
        subject: 'hnswlib-node',
        n: N,
        build() {
          index = new HierarchicalNSW('ip', DIM);
          index.initIndex(N, HNSW.m, HNSW.efConstruction, HNSW.seed);
          for (let i = 0; i < N; i++)
            index.addPoint(Array.from(data.subarray(i * DIM, (i + 1) * DIM)), i);
        },
        searchAll(ef) {
          const h = index as InstanceType<typeof HierarchicalNSW>;
          h.setEf(ef);
          const out = new Uint32Array(NQ * K).fill(NO_LABEL);
          qs.forEach((q, i) => {
            out.set(h.searchKnn(q, K).neighbors.slice(0, K), i * K);
          });
          return out;
        },
        prepare(ef) {
          index?.setEf(ef);
        },
        one: (q) => index?.searchKnn(qs[q] as number[], K),
      });
    } catch (error) {
      log(
        `hnswlib-node unavailable (its native addon must be built from source): ${(error as Error).message.split('\n')[0]}`,
      );
    }
    try {
      const usearch = require('usearch') as typeof import('usearch');
      const path = join(scratch, 'usearch.idx');
      let index: InstanceType<typeof usearch.Index> | undefined;
      const keys = BigUint64Array.from({ length: N }, (_, i) => BigInt(i));
      const open = (ef: number) => {
        const view = new usearch.Index({
          dimensions: DIM,
          metric: usearch.MetricKind.IP,
          connectivity: HNSW.m,
          expansion_add: HNSW.efConstruction,
          expansion_search: ef,
          quantization: usearch.ScalarKind.F32,
          multi: false,
        });
        view.view(path);
        return view;
      };
      ann.push({
        subject: 'usearch',
        n: N,
        build() {
          const build = new usearch.Index({
            dimensions: DIM,
            metric: usearch.MetricKind.IP,
            connectivity: HNSW.m,
            expansion_add: HNSW.efConstruction,
            expansion_search: 64,
            quantization: usearch.ScalarKind.F32,
            multi: false,
          });
          build.add(keys, data, 0);
          build.save(path);
          index = build;
        },
        searchAll(ef) {
          const view = open(ef);
          const got = view.search(queries, K, 1) as unknown as { keys: BigUint64Array };
          return Array.from(got.keys, (k) => Number(k));
        },
        prepare(ef) {
          index = open(ef);
        },
        one: (q) => index?.search(q1(q), K, 1),
      });
    } catch (error) {
      log(`usearch unavailable: ${(error as Error).message.split('\n')[0]}`);
    }
    for (const s of ann) {
      const buildCase = `hnsw-build-${label(s.n)}-${DIM}`;
      log(`${s.subject}: building HNSW over ${s.n} vectors`);
      const t = performance.now();
      await s.build();
      const seconds = (performance.now() - t) / 1000;
      const threads = s.subject === 'js' || s.subject === 'hnswlib-node' ? 1 : 'all';
      push(buildCase, s.subject, 'build_s', seconds, { n: s.n, dim: DIM, ...HNSW, threads });
      // Truth over the same rows this subject indexed.
      const subjectTruth =
        s.n === N
          ? truth
          : (() => {
              const flat = native.createVectorIndex(DIM, 'dot');
              flat.add(labels.subarray(0, s.n), data.subarray(0, s.n * DIM));
              return flat.search(queries, K, { exact: true }).labels;
            })();
      let chosen: { ef: number; recall: number } | undefined;
      for (const ef of EF_SWEEP) {
        const r = recall(await s.searchAll(ef), subjectTruth, NQ, K);
        if (r >= RECALL_TARGET) {
          chosen = { ef, recall: r };
          break;
        }
      }
      const qpsCase = `hnsw-qps-at-recall95-${label(s.n)}-${DIM}`;
      if (!chosen) {
        log(`${s.subject}: recall ${RECALL_TARGET} not reached up to ef ${EF_SWEEP.at(-1)}`);
        continue;
      }
      await s.prepare(chosen.ef);
      const qps = timeLoop(NQ, (q) => s.one(q), quick ? 300 : 2000);
      const params = { n: s.n, dim: DIM, k: K, ef: chosen.ef, ...HNSW, threads: 1 };
      push(qpsCase, s.subject, 'ops_per_s', qps, params);
      push(qpsCase, s.subject, 'recall_at_10', chosen.recall, params);
      log(
        `${s.subject}: ${qps.toFixed(0)} QPS at recall ${chosen.recall.toFixed(3)} (ef ${chosen.ef})`,
      );
    }

    // ---- searches while rows are added ----
    for (const [subject, engine, n] of [
      ['native', native, N],
      ['js', js, NJ],
    ] as const) {
      const base = n / 2;
      log(`${subject}: searches while ${n - base} rows are added to ${base}`);
      const r = await searchWhileAdding(
        engine,
        { data, dim: DIM, base, rows: n - base, hnsw: HNSW },
        queries,
      );
      const c = `search-while-adding-${label(n)}`;
      const params = { base, added: n - base, batch: 5000, dim: DIM, k: K, ...HNSW };
      push(c, subject, 'search_p50_ms', r.p50Ms, params);
      push(c, subject, 'search_p99_ms', r.p99Ms, params);
      push(c, subject, 'search_max_ms', r.maxMs, params);
      push(c, subject, 'searches', r.searches, params);
      push(c, subject, 'rows_per_s', r.rowsPerS, params);
      log(
        `${subject}: ${r.searches} searches while adding, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms, max ${r.maxMs.toFixed(1)} ms; ${r.rowsPerS.toFixed(0)} rows/s`,
      );
    }

    // ---- memory: add throughput and end-to-end search ----
    const dir = join(scratch, 'carma-memory');
    mkdirSync(dir, { recursive: true });
    const memories: Array<{ subject: string; n: number; memory: Memory }> = [];
    for (const [subject, n] of [
      ['native', N],
      ['js', NJ],
    ] as const) {
      log(`${subject}: adding ${n} fragments to a memory kept in SQLite`);
      // Through the store a user's memory lives in: SQLite rows with their history, the
      // index files checkpointed as they grow.
      const memory = await openMemory({ native: subject, dir: join(dir, subject) });
      // How long the adds hold the JS thread at most: what a server answering requests
      // meanwhile would wait.
      const held = watchThread();
      const t = performance.now();
      const batch = 5000;
      for (let i = 0; i < n; i += batch) {
        await memory.addMany(
          texts
            .slice(i, Math.min(n, i + batch))
            .map((text, j) => ({ text, metadata: { group: (i + j) % 10 } })),
        );
      }
      // Natively the first graph is built in the background: the clock stops once it is in.
      const deadline = performance.now() + 600_000;
      while (n >= HNSW_AUTO_THRESHOLD && memory.stats().hnsw === null) {
        if (performance.now() > deadline) throw new Error(`${subject}: no graph after 10 min`);
        await sleep(5);
      }
      const seconds = (performance.now() - t) / 1000;
      const heldMs = held.stop();
      const params = {
        n,
        batch,
        includes:
          'embed + content hash + near-duplicates + SQLite rows and history + BM25 + vectors (+ HNSW from 10k) + index file checkpoints',
      };
      push(`memory-add-${label(n)}`, subject, 'ops_per_s', n / seconds, params);
      push(`memory-add-${label(n)}`, subject, 'event_loop_max_ms', heldMs, params);
      log(
        `${subject}: ${(n / seconds).toFixed(0)} fragments/s, the JS thread held up to ${heldMs.toFixed(0)} ms`,
      );
      memories.push({ subject, n, memory });
    }
    try {
      const orama = await import('@orama/orama');
      const schema = { text: 'string', group: 'number', embedding: `vector[${DIM}]` } as const;
      const db = orama.create({ schema });
      // Inserted at both sizes, the larger into a database of its own (the smaller one is
      // searched below, beside the js memory of the same size).
      for (const n of [N, NJ]) {
        const into = n === NJ ? db : orama.create({ schema });
        const docs = texts.slice(0, n).map((text, i) => ({
          text,
          group: i % 10,
          embedding: Array.from(data.subarray(i * DIM, (i + 1) * DIM)),
        }));
        const t = performance.now();
        await orama.insertMultiple(into, docs, 5000);
        const seconds = (performance.now() - t) / 1000;
        push(`memory-add-${label(n)}`, '@orama/orama', 'ops_per_s', n / seconds, {
          n,
          includes: 'BM25 + vector in memory, nothing persisted (embeddings precomputed by CARMA)',
        });
        log(`@orama/orama: ${(n / seconds).toFixed(0)} documents/s at ${n}`);
      }
      let q = 0;
      const [m] = await measure(
        [
          {
            subject: '@orama/orama',
            fn: () =>
              orama.search(db, {
                mode: 'hybrid',
                term: queryTexts[q % NQ] as string,
                vector: { value: Array.from(q1(q++ % NQ)), property: 'embedding' },
                similarity: 0,
                limit: K,
              }),
          },
        ],
        { timeMs: quick ? 300 : 2000 },
      );
      if (m) {
        push(`search-e2e-hybrid-${label(NJ)}`, m.subject, 'p50_ms', m.p50_ms, {
          n: NJ,
          k: K,
          note: 'query vector precomputed (orama has no built-in embedder)',
        });
      }
    } catch (error) {
      log(`@orama/orama unavailable: ${(error as Error).message.split('\n')[0]}`);
    }
    for (const { subject, n, memory } of memories) {
      for (const mode of ['hybrid', 'vector'] as const) {
        let q = 0;
        const [m] = await measure(
          [{ subject, fn: () => memory.search(queryTexts[q++ % NQ] as string, { k: K, mode }) }],
          { timeMs: quick ? 300 : 2000 },
        );
        if (m)
          push(`search-e2e-${mode}-${label(n)}`, subject, 'p50_ms', m.p50_ms, { n, k: K, mode });
        q = 0;
        const [f] = await measure(
          [
            {
              subject,
              fn: () =>
                memory.search(queryTexts[q++ % NQ] as string, {
                  k: K,
                  mode,
                  filter: { group: { $lt: 5 } },
                }),
            },
          ],
          { timeMs: quick ? 300 : 2000 },
        );
        if (f) {
          push(`search-e2e-${mode}-filtered-${label(n)}`, subject, 'p50_ms', f.p50_ms, {
            n,
            k: K,
            mode,
            filter: 'group < 5 (half)',
          });
        }
      }
      await memory.close();
    }
    await providerIngest({ quick, scratch, log }, (c, subject, metric, value, params) =>
      push(c, subject, metric, value, params as Record<string, unknown>),
    );
    return results;
  },
};
