import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CarmaEngine, createEngine, type VectorIndex } from './engine/index.js';

const DIM = 24;
const HNSW = { m: 8, efConstruction: 40, seed: 3 };

function row(label: number, version = 0): Float32Array {
  let s = (label * 2654435761 + version * 97 + 1) >>> 0;
  return Float32Array.from({ length: DIM }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) / 2 ** 24 - 0.5;
  });
}

function rows(labels: number[], version = 0): Float32Array {
  const out = new Float32Array(labels.length * DIM);
  labels.forEach((l, i) => {
    out.set(row(l, version), i * DIM);
  });
  return out;
}

const sorted = (labels: Uint32Array) => [...labels].sort((a, b) => a - b);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'carma-compaction-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(testImplementations())('compactAsync (%s)', (impl) => {
  let engine: CarmaEngine;
  beforeAll(() => {
    engine = createEngine({ native: impl });
  });

  /** An index with a graph over `n` rows, a third of them deleted. */
  function churned(n: number): { index: VectorIndex; model: Map<number, Float32Array> } {
    const index = engine.createVectorIndex(DIM, 'cosine', HNSW);
    const model = new Map<number, Float32Array>();
    const labels = Array.from({ length: n }, (_, i) => i);
    index.add(Uint32Array.from(labels), rows(labels));
    for (const l of labels) model.set(l, row(l));
    const gone = labels.filter((l) => l % 3 === 0);
    index.remove(Uint32Array.from(gone));
    for (const l of gone) model.delete(l);
    return { index, model };
  }

  /** What a fresh index of the model's rows holds: the reference for every comparison. */
  function reference(model: Map<number, Float32Array>): VectorIndex {
    const fresh = engine.createVectorIndex(DIM, 'cosine', null);
    const labels = [...model.keys()];
    const data = new Float32Array(labels.length * DIM);
    labels.forEach((l, i) => {
      data.set(model.get(l) as Float32Array, i * DIM);
    });
    fresh.add(Uint32Array.from(labels), data);
    return fresh;
  }

  it('drops the deleted rows while searches and writes go on, keeping the writes', async () => {
    const { index, model } = churned(1500);
    expect(index.slots - index.size).toBe(500);
    let settled = false;
    const compaction = index.compactAsync().finally(() => {
      settled = true;
    });
    let next = 10_000;
    let writes = 0;
    do {
      // A new row, a replaced row, a deleted row, and a search that sees a whole index.
      index.add(Uint32Array.of(next), row(next));
      model.set(next, row(next));
      const replaced = 1 + ((writes * 3) % 1497);
      if (model.has(replaced)) {
        index.add(Uint32Array.of(replaced), row(replaced, 1));
        model.set(replaced, row(replaced, 1));
      }
      const deleted = 2 + ((writes * 3) % 1497);
      index.remove(Uint32Array.of(deleted));
      model.delete(deleted);
      const hits = await index.searchAsync(row(next), 5);
      expect(hits.labels[0]).toBe(next);
      next++;
      writes++;
      await sleep(1);
    } while (!settled);
    expect(await compaction).toBe(true);
    expect(writes).toBeGreaterThan(0);

    const fresh = reference(model);
    expect(sorted(index.labels())).toEqual(sorted(fresh.labels()));
    expect(index.size).toBe(model.size);
    // The 500 deleted rows are gone; only rows deleted or replaced while it ran (two per
    // write round) may remain as tombstones, until the next compaction.
    expect(index.slots - index.size).toBeLessThanOrEqual(2 * writes);
    for (const l of [1, 4, next - 1]) {
      if (model.has(l)) expect(index.get(l)).toEqual(fresh.get(l));
    }
    const probes = rows([7_001, 7_002, 7_003]);
    const exact = index.search(probes, 10, { exact: true });
    const truth = fresh.search(probes, 10, { exact: true });
    expect([...exact.labels]).toEqual([...truth.labels]);
    const graph = index.search(probes, 10, { ef: 64 });
    const found = [...graph.labels].filter((l) => truth.labels.includes(l)).length;
    expect(found).toBeGreaterThanOrEqual(27);

    // The compacted index saves and loads like any other.
    const path = join(dir, `compacted-${impl}.bin`);
    await index.save(path);
    const loaded = await engine.loadVectorIndex(path);
    expect(loaded.slots).toBe(index.slots);
    expect([...loaded.search(probes, 10, { exact: true }).labels]).toEqual([...truth.labels]);
  });

  it('changes nothing when aborted or when the index is renumbered meanwhile', async () => {
    const { index } = churned(900);
    const aborted = new AbortController();
    aborted.abort();
    expect(await index.compactAsync({ signal: aborted.signal })).toBe(false);
    expect(index.slots).toBe(900);

    const stopped = new AbortController();
    const running = index.compactAsync({ signal: stopped.signal });
    stopped.abort();
    expect(await running).toBe(false);
    expect(index.slots).toBe(900);

    const overtaken = index.compactAsync();
    index.compact();
    expect(await overtaken).toBe(false);
    expect(index.slots).toBe(600);
    expect(index.size).toBe(600);
  });
  it('gives an index without a graph its first one, keeping what was added meanwhile', async () => {
    const index = engine.createVectorIndex(DIM, 'cosine', null);
    const labels = Array.from({ length: 1200 }, (_, i) => i);
    index.add(Uint32Array.from(labels), rows(labels));
    await expect(index.compactAsync({ hnsw: { ...HNSW, m: 1 } })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    let settled = false;
    const build = index.compactAsync({ hnsw: HNSW }).finally(() => {
      settled = true;
    });
    // The swap at the end (natively on another thread) is the first change anyone sees.
    expect(index.hnsw).toBeNull();
    let next = 20_000;
    do {
      // Answered (exactly until the swap) while rows are added; the rows added are kept.
      index.add(Uint32Array.of(next), row(next));
      expect((await index.searchAsync(row(next), 1)).labels[0]).toBe(next);
      next++;
      await sleep(1);
    } while (!settled);
    expect(await build).toBe(true);
    expect(index.hnsw).toEqual(HNSW);
    expect(index.size).toBe(1200 + (next - 20_000));
    const probes = rows([20_000, next - 1, 5]);
    const truth = index.search(probes, 10, { exact: true });
    const graph = index.search(probes, 10, { ef: 64 });
    expect(graph.labels[0]).toBe(20_000);
    expect(graph.labels[10]).toBe(next - 1);
    const found = [...graph.labels].filter((l) => truth.labels.includes(l)).length;
    expect(found).toBeGreaterThanOrEqual(27);
  });
});
