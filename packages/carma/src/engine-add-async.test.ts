import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CarmaEngine, createEngine, type VectorIndex } from './engine/index.js';

const DIM = 24;
const HNSW = { m: 16, efConstruction: 100, seed: 5 };

function rows(from: number, count: number): Float32Array {
  const out = new Float32Array(count * DIM);
  let s = (from * 2654435761 + 1) >>> 0;
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = (s >>> 8) / 2 ** 24 - 0.5;
  }
  return out;
}

const range = (from: number, count: number) =>
  Uint32Array.from({ length: count }, (_, i) => from + i);

/** The share of `labels` (rows of `data`) that a graph search returns first for their own row. */
function foundByGraph(index: VectorIndex, labels: Uint32Array, data: Float32Array): number {
  let found = 0;
  labels.forEach((label, i) => {
    const hits = index.search(data.subarray(i * DIM, (i + 1) * DIM), 1, { ef: 64 });
    if (hits.labels[0] === label) found++;
  });
  return found / labels.length;
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'carma-add-async-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(testImplementations())('addAsync with a graph (%s)', (impl) => {
  let engine: CarmaEngine;
  beforeAll(() => {
    engine = createEngine({ native: impl });
  });

  it('reports the nearest earlier live rows of each row it links, as an exact search would', async () => {
    const index = engine.createVectorIndex(DIM, 'cosine', HNSW);
    const first = rows(0, 600);
    index.add(range(0, 600), first);
    index.remove(range(0, 50));
    // Near copies of rows 100..199: each must find rows held before its batch (the one it
    // was copied from first), never a deleted row or a row of its own batch.
    const batch = first.slice(100 * DIM, 200 * DIM).map((v, i) => v + ((i % 7) - 3) * 1e-3);
    const k = 5;
    const exact = engine.createVectorIndex(DIM, 'cosine');
    exact.add(range(50, 550), first.subarray(50 * DIM));
    const truth = exact.search(batch, k, { exact: true });
    const near = await index.addAsync(range(1000, 100), batch, { nearest: k });
    expect(near?.labels.length).toBe(100 * k);
    let agree = 0;
    let sourceFirst = 0;
    for (let i = 0; i < 100; i++) {
      // The row it was copied from comes first, with its exact score (the walk is a graph
      // search: approximate, and in parallel natively).
      if (near?.labels[i * k] === 100 + i) {
        sourceFirst++;
        expect(near?.scores[i * k]).toBeCloseTo(truth.scores[i * k] as number, 5);
      }
      for (let j = 0; j < k; j++) {
        const label = near?.labels[i * k + j] as number;
        expect(label >= 50 && label < 600).toBe(true);
        if (truth.labels.subarray(i * k, (i + 1) * k).includes(label)) agree++;
      }
    }
    expect(sourceFirst).toBeGreaterThanOrEqual(97);
    expect(agree / (100 * k)).toBeGreaterThan(0.95);
    // Asked for nothing, or no graph to walk: null.
    expect(await index.addAsync(range(2000, 1), rows(2000, 1))).toBeNull();
    const flat = engine.createVectorIndex(DIM, 'cosine');
    expect(await flat.addAsync(range(0, 3), rows(0, 3), { nearest: 2 })).toBeNull();
    for (const nearest of [0, 1.5, 10_001, Number.NaN]) {
      await expect(
        index.addAsync(range(3000, 1), rows(3000, 1), { nearest }),
      ).rejects.toMatchObject({
        code: 'INVALID_INPUT',
      });
    }
  });

  it('answers searches while a large batch is linked into the graph', async () => {
    const index = engine.createVectorIndex(DIM, 'cosine', HNSW);
    const first = rows(0, 2000);
    index.add(range(0, 2000), first);
    const batch = rows(2000, 8000);
    let added = false;
    const adding = index.addAsync(range(2000, 8000), batch).then(() => {
      added = true;
    });
    const hits = await index.searchAsync(first.subarray(5 * DIM, 6 * DIM), 3);
    expect(hits.labels[0]).toBe(5);
    // The rows are linked under a read lock natively, a slice of the event loop at a time
    // in js: the search did not wait for them (it used to wait for the whole batch).
    expect(added).toBe(false);
    await adding;
    expect(index.size).toBe(10_000);
    expect(foundByGraph(index, range(2000, 400), batch)).toBeGreaterThanOrEqual(0.95);
    expect(
      foundByGraph(index, range(9600, 400), batch.subarray(7600 * DIM)),
    ).toBeGreaterThanOrEqual(0.95);
  });

  it('finds the rows of a batch by exact scan while it is linked', async () => {
    const index = engine.createVectorIndex(DIM, 'cosine', HNSW);
    index.add(range(0, 1000), rows(0, 1000));
    const batch = rows(1000, 8000);
    let added = false;
    const adding = index.addAsync(range(1000, 8000), batch).then(() => {
      added = true;
    });
    const last = batch.subarray(7999 * DIM);
    // Natively the add starts on a pool thread: asked again until its rows are stored.
    let found = false;
    while (!found && !added) {
      found = (await index.searchAsync(last, 1, { exact: true })).labels[0] === 8999;
    }
    expect({ found, added }).toEqual({ found: true, added: false });
    await adding;
    expect(index.search(last, 1, { exact: true }).labels[0]).toBe(8999);
  });

  it('saves either before a batch or with all of it linked', async () => {
    const index = engine.createVectorIndex(DIM, 'cosine', HNSW);
    index.add(range(0, 1000), rows(0, 1000));
    const batch = rows(1000, 6000);
    const path = join(dir, `during-add-${impl}.bin`);
    await Promise.all([index.addAsync(range(1000, 6000), batch), index.save(path)]);
    const loaded = await engine.loadVectorIndex(path);
    expect([1000, 7000]).toContain(loaded.size);
    if (loaded.size === 7000) {
      expect(foundByGraph(loaded, range(1000, 400), batch)).toBeGreaterThanOrEqual(0.95);
      expect(
        foundByGraph(loaded, range(6600, 400), batch.subarray(5600 * DIM)),
      ).toBeGreaterThanOrEqual(0.95);
    }
  });
});

describe.each(testImplementations())('async engine calls on a batch (%s)', (impl) => {
  /** Whether a callback queued before `work` began ran before `work` settled. */
  async function letsOthersRun<T>(work: () => Promise<T>): Promise<{ ran: boolean; value: T }> {
    let ran = false;
    setImmediate(() => {
      ran = true;
    });
    const value = await work();
    return { ran, value };
  }

  it('let other work run (natively off the thread, in js a slice at a time), with the results of the synchronous calls', async () => {
    const engine = await createEngine({ native: impl });
    const texts = Array.from({ length: 300 }, (_, i) => `note ${i} about topic ${i % 17}`);
    const embedded = await letsOthersRun(() => engine.embedAsync(texts, DIM));
    expect(embedded.ran).toBe(true);
    expect(embedded.value).toEqual(engine.embed(texts, DIM));

    const index = engine.createVectorIndex(DIM, 'cosine', null);
    const data = rows(0, 2000);
    index.add(range(0, 2000), data);
    const queries = rows(7, 40);
    const searched = await letsOthersRun(() => index.searchAsync(queries, 5));
    expect(searched.ran).toBe(true);
    expect(searched.value).toEqual(index.search(queries, 5));

    const lexical = engine.createLexicalIndex();
    const twin = engine.createLexicalIndex();
    const labels = range(0, texts.length);
    const added = await letsOthersRun(() => lexical.addAsync(labels, texts));
    expect(added.ran).toBe(true);
    twin.add(labels, texts);
    const query = lexical.prepareQuery('topic 5 note');
    expect(lexical.searchTerms(query.terms, 10)).toEqual(twin.searchTerms(query.terms, 10));
    // A bad batch is refused whole, before anything is added.
    await expect(
      lexical.addAsync(Uint32Array.from([900, 901]), ['one text']),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(lexical.size).toBe(texts.length);
  });
});
