import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { termRuns, unspacedTerms } from '@aios/utils';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CarmaEngine, createEngine, NO_LABEL } from './engine/index.js';

/** Deterministic synthetic vectors for index tests (they test the index, not embeddings). */
function synthetic(rows: number, dim: number, seed = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(rows * dim);
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = (s >>> 8) / 2 ** 24 - 0.5;
  }
  return out;
}

function bruteTopK(data: Float32Array, dim: number, q: Float32Array, k: number): number[] {
  const qn = Math.hypot(...q);
  const scores: Array<[number, number]> = [];
  for (let r = 0; r < data.length / dim; r++) {
    let dot = 0;
    let sq = 0;
    for (let i = 0; i < dim; i++) {
      dot += (q[i] as number) * (data[r * dim + i] as number);
      sq += (data[r * dim + i] as number) ** 2;
    }
    scores.push([dot / (qn * Math.sqrt(sq)), r]);
  }
  scores.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  return scores.slice(0, k).map((s) => s[1]);
}

const cosine = (a: Float32Array, b: Float32Array) =>
  a.reduce((s, v, i) => s + v * (b[i] as number), 0);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'carma-engine-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(testImplementations())('engine (%s)', (impl) => {
  let engine: CarmaEngine;
  beforeAll(() => {
    engine = createEngine({ native: impl });
  });

  it('runs the requested implementation', () => {
    expect(engine.implementation).toBe(impl);
    expect(engine.report.core).toBe('@aios/carma');
  });

  it('tokenizes lowercase alphanumeric runs', () => {
    expect(engine.tokenize("Hello, World! l'été 2024 x-ray")).toEqual([
      'hello',
      'world',
      'l',
      'été',
      '2024',
      'x',
      'ray',
    ]);
    expect(engine.tokenize(' ... ')).toEqual([]);
  });

  it('gives BM25 the pairs of characters of unspaced runs and whole words with their marks, the embedder its runs', () => {
    // The rule of @aios/utils' termRuns and unspacedTerms, which the Rust twin follows too.
    for (const text of [
      '東京は日本の首都です',
      "iPhone16は人気 서울의 Москва 𠀋x 々々 l'été",
      'plain',
      'फ्रांस की राजधानी क्या है? தமிழ்நாட்டின் தலைநகரம்',
      'กรุงเทพมหานครเป็นเมืองหลวงของประเทศไทย ລາວ ខ្មែរ မြန်မာ',
      'e\u0301 a\u0301\u0301 \u0301',
    ]) {
      expect(engine.lexicalTokens(text), text).toEqual(unspacedTerms(termRuns(text.toLowerCase())));
    }
    expect(engine.lexicalTokens('फ्रांस')).toEqual(['फ्रांस']);
    expect(engine.tokenize('फ्रांस')).toEqual(['फ', 'रांस']);
    expect(engine.lexicalTokens('日本の首都')).toEqual(['日本', '本の', 'の首', '首都']);
    expect(engine.tokenize('東京は日本')).toEqual(['東京は日本']);
    const lex = engine.createLexicalIndex();
    lex.add(Uint32Array.of(1, 2, 3), [
      '東京は日本の首都です',
      '北京是中国的首都',
      '서울은 한국의 수도',
    ]);
    expect(new Set(lex.search('首都', 3).labels)).toEqual(new Set([1, 2]));
    expect(lex.search('中国', 3).labels[0]).toBe(2);
    expect(lex.search('日本の首都', 3).labels[0]).toBe(1);
    expect(lex.search('한국', 3).labels[0]).toBe(3);
    lex.add(Uint32Array.of(4, 5), [
      'กรุงเทพมหานครเป็นเมืองหลวงของประเทศไทย',
      'पेरिस फ्रांस की राजधानी है',
    ]);
    expect(lex.search('เมืองหลวง', 3).labels[0]).toBe(4);
    expect([...lex.search('फ्रांस', 3).labels]).toEqual([5]);
  });

  it('embeds deterministically, unit length, capturing lexical similarity', () => {
    const texts = [
      'boundary layer flow over a flat plate',
      'flows in the boundary layers of flat plates',
      'income tax rules for small businesses',
    ];
    const m = engine.embed(texts, 384);
    expect(m.length).toBe(3 * 384);
    expect(engine.embed(texts, 384)).toEqual(m);
    const [a, b, c] = [0, 1, 2].map((i) => m.subarray(i * 384, (i + 1) * 384)) as [
      Float32Array,
      Float32Array,
      Float32Array,
    ];
    expect(cosine(a, a)).toBeCloseTo(1, 5);
    expect(cosine(a, b)).toBeGreaterThan(0.3);
    expect(cosine(a, c)).toBeLessThan(0.15);
    expect(engine.embed(['!!!'], 16).every((v) => v === 0)).toBe(true);
    expect(() => engine.embed(['x'], 0)).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
  });

  it('weights query tokens', async () => {
    const plain = engine.embed(['wing flutter'], 64);
    expect(engine.embedWeighted('wing flutter', 64, Float64Array.of(1, 1))).toEqual(plain);
    const heavy = engine.embedWeighted('wing flutter', 64, Float64Array.of(5, 0.1));
    const wing = engine.embed(['wing'], 64);
    expect(cosine(heavy, wing)).toBeGreaterThan(cosine(plain, wing));
    expect(await engine.embedAsync(['wing flutter'], 64)).toEqual(plain);
  });

  it('exact search matches brute force, in batches, with filters and deletes', () => {
    const dim = 24;
    const data = synthetic(3000, dim);
    const index = engine.createVectorIndex(dim);
    index.add(
      Uint32Array.from({ length: 3000 }, (_, i) => i),
      data,
    );
    expect(index.size).toBe(3000);
    const queries = data.slice(0, 3 * dim);
    const res = index.search(queries, 5);
    for (let q = 0; q < 3; q++) {
      expect(Array.from(res.labels.subarray(q * 5, q * 5 + 5))).toEqual(
        bruteTopK(data, dim, queries.subarray(q * dim, (q + 1) * dim), 5),
      );
    }
    expect(res.scores[0]).toBeCloseTo(1, 5);
    const filtered = index.search(queries.subarray(0, dim), 3, {
      filter: Uint32Array.of(7, 8, 9999),
    });
    expect(Array.from(filtered.labels).slice(0, 2).sort()).toEqual([7, 8]);
    expect(filtered.labels[2]).toBe(NO_LABEL);
    expect(filtered.scores[2]).toBe(Number.NEGATIVE_INFINITY);
    expect(index.remove(Uint32Array.of(0, 1, 5000))).toBe(2);
    expect(index.has(0)).toBe(false);
    expect(index.search(queries.subarray(0, dim), 1).labels[0]).not.toBe(0);
  });

  it('rejects bad input and stays consistent', () => {
    const index = engine.createVectorIndex(4, 'dot');
    index.add(Uint32Array.of(1), Float32Array.of(1, 0, 0, 0));
    expect(() => index.add(Uint32Array.of(2), Float32Array.of(1, 2, 3))).toThrow(
      expect.objectContaining({ code: 'DIMENSION_MISMATCH' }),
    );
    expect(() => index.add(Uint32Array.of(2), Float32Array.of(1, Number.NaN, 0, 0))).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
    expect(() =>
      index.add(Uint32Array.of(3), Float32Array.of(1, Number.POSITIVE_INFINITY, 0, 0)),
    ).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(() => index.add(Uint32Array.of(4, 4), new Float32Array(8))).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
    const q = Float32Array.of(1, 0, 0, 0);
    expect(() => index.search(q, 0)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(() => index.search(q, 1e9)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(() => index.search(Float32Array.of(1, 0), 1)).toThrow(
      expect.objectContaining({ code: 'DIMENSION_MISMATCH' }),
    );
    expect(index.size).toBe(1);
    expect(Array.from(index.get(1) ?? [])).toEqual([1, 0, 0, 0]);
    expect(() => engine.createVectorIndex(0)).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
    expect(() =>
      engine.createVectorIndex(4, 'cosine', { m: 1, efConstruction: 10, seed: 1 }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });

  it('HNSW reaches high recall, honours filters and deletes, and persists its graph', async () => {
    const dim = 16;
    const n = 2000;
    const data = synthetic(n, dim, 3);
    const index = engine.createVectorIndex(dim, 'cosine', { m: 12, efConstruction: 80, seed: 7 });
    const labels = Uint32Array.from({ length: n }, (_, i) => i * 2);
    index.add(labels.subarray(0, 1000), data.subarray(0, 1000 * dim));
    index.add(labels.subarray(1000), data.subarray(1000 * dim));
    const queries = data.slice(0, 50 * dim);
    const approx = index.search(queries, 10, { ef: 80 });
    const exact = index.search(queries, 10, { exact: true });
    let hit = 0;
    for (let q = 0; q < 50; q++) {
      const truth = new Set(exact.labels.subarray(q * 10, q * 10 + 10));
      for (const l of approx.labels.subarray(q * 10, q * 10 + 10)) if (truth.has(l)) hit++;
    }
    expect(hit / 500).toBeGreaterThan(0.9);
    index.remove(Uint32Array.of(0));
    expect(index.search(queries.subarray(0, dim), 5, { ef: 80 }).labels).not.toContain(0);
    const allowed = Uint32Array.from({ length: 1500 }, (_, i) => i * 2 + 2);
    const filtered = index.search(queries.subarray(0, dim), 5, { filter: allowed });
    expect(Array.from(filtered.labels).every((l) => l % 2 === 0 && l >= 2 && l <= 3000)).toBe(true);

    const path = join(dir, `${impl}.idx`);
    await index.save(path);
    const back = await engine.loadVectorIndex(path);
    expect(back.size).toBe(index.size);
    expect(back.hnsw).toEqual({ m: 12, efConstruction: 80, seed: 7 });
    expect(back.search(queries, 10, { ef: 80 })).toEqual(index.search(queries, 10, { ef: 80 }));
  });

  it('searches off the JS thread with the same answers, while rows are added and removed', async () => {
    const dim = 16;
    const n = 3000;
    const data = synthetic(n, dim, 5);
    const index = engine.createVectorIndex(dim, 'cosine', { m: 12, efConstruction: 80, seed: 7 });
    index.add(
      Uint32Array.from({ length: n }, (_, i) => i),
      data,
    );
    const queries = data.slice(0, 20 * dim);
    const sync = index.search(queries, 10, { ef: 80 });
    expect(await index.searchAsync(queries, 10, { ef: 80 })).toEqual(sync);
    const allowed = Uint32Array.from({ length: 500 }, (_, i) => i * 3);
    expect(await index.searchAsync(queries, 5, { filter: allowed, exact: true })).toEqual(
      index.search(queries, 5, { filter: allowed, exact: true }),
    );
    // Writes between searches in flight: every search settles with labels that existed.
    const inFlight = Array.from({ length: 8 }, (_, i) =>
      index.searchAsync(data.slice(i * dim, (i + 1) * dim), 5, { ef: 80 }),
    );
    index.add(Uint32Array.of(n), synthetic(1, dim, 9));
    index.remove(Uint32Array.of(1));
    for (const hits of await Promise.all(inFlight)) {
      expect(hits.labels.length).toBe(5);
      for (const label of hits.labels) expect(label <= n).toBe(true);
    }
    await expect(index.searchAsync(queries, 0)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('reports unreadable index files with codes', async () => {
    const bad = join(dir, `${impl}-bad.idx`);
    writeFileSync(bad, 'not an index');
    await expect(engine.loadVectorIndex(bad)).rejects.toMatchObject({ code: 'INDEX_CORRUPT' });
    await expect(engine.loadVectorIndex(join(dir, 'missing.idx'))).rejects.toMatchObject({
      code: 'IO_NOT_FOUND',
    });
  });

  it('ranks with BM25, deletes and replaces documents', () => {
    const lex = engine.createLexicalIndex();
    lex.add(Uint32Array.of(1, 2, 3), [
      'the boundary layer on a flat plate',
      'heat transfer in a boundary layer with boundary suction',
      'aircraft wing flutter',
    ]);
    const hits = lex.search('boundary layer', 10);
    expect(Array.from(hits.labels)).toEqual([2, 1]);
    expect(hits.scores[0]).toBeGreaterThan(hits.scores[1] as number);
    expect(Array.from(lex.search('boundary', 5, Uint32Array.of(1)).labels)).toEqual([1]);
    const idf = lex.idf(['boundary', 'flutter', 'unknown']);
    expect(idf[1]).toBeGreaterThan(idf[0] as number);
    expect(idf[2]).toBeGreaterThan(idf[1] as number);
    expect(lex.remove(Uint32Array.of(2, 9))).toBe(1);
    expect(Array.from(lex.search('boundary layer', 10).labels)).toEqual([1]);
    lex.add(Uint32Array.of(1), ['wing']);
    expect(lex.search('boundary', 10).labels.length).toBe(0);
    expect(lex.size).toBe(2);
    expect(() => lex.search('x', 0)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(() => engine.createLexicalIndex({ k1: -1, b: 0.4 })).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
  });

  it('removes documents given their texts as without them, whatever texts it is given', () => {
    const texts = [
      'the boundary layer on a flat plate',
      'heat transfer in a boundary layer with boundary suction',
      'aircraft wing flutter',
      'Wing flutter of a FLAT plate, café Σίσυφος',
    ];
    const withTexts = engine.createLexicalIndex();
    const without = engine.createLexicalIndex();
    for (const lex of [withTexts, without]) lex.add(Uint32Array.of(1, 2, 3, 4), texts);
    // Label 4 is given another text than its own, label 9 none is held.
    expect(
      withTexts.remove(Uint32Array.of(2, 4, 9), [texts[1] as string, 'another text', 'x']),
    ).toBe(2);
    expect(without.remove(Uint32Array.of(2, 4, 9))).toBe(2);
    expect(withTexts.size).toBe(2);
    for (const query of ['boundary layer', 'flat plate', 'wing flutter café', 'suction']) {
      expect(withTexts.search(query, 5)).toEqual(without.search(query, 5));
    }
    expect(withTexts.idf(['boundary', 'plate', 'suction'])).toEqual(
      without.idf(['boundary', 'plate', 'suction']),
    );
    expect(() => withTexts.remove(Uint32Array.of(1), [])).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
  });

  it('adds documents off the JS thread as add does, in batches tokenized on every core', async () => {
    // Enough documents for one add to tokenize in parallel; repeated, mixed-case and
    // non-ASCII terms, long documents, an empty one.
    const words = ['Wing', 'flutter', 'boundary', 'layer', 'café', 'Σίσυφος', '日本語', 'x2'];
    const docs = Array.from({ length: 1500 }, (_, i) =>
      Array.from({ length: (i % 40) + 1 }, (_, w) => words[(i * 7 + w * w) % words.length]).join(
        i % 3 ? ' ' : ', ',
      ),
    );
    docs[17] = '';
    const labels = Uint32Array.from(docs, (_, i) => i * 3 + 1);
    const whole = engine.createLexicalIndex();
    whole.add(labels, docs);
    const inParts = engine.createLexicalIndex();
    await Promise.all(
      [0, 700, 1400].map((from) =>
        inParts.addAsync(labels.slice(from, from + 700), docs.slice(from, from + 700)),
      ),
    );
    expect(inParts.size).toBe(whole.size);
    expect(inParts.idf(words.map((w) => w.toLowerCase()))).toEqual(
      whole.idf(words.map((w) => w.toLowerCase())),
    );
    for (const q of ['wing flutter', 'CAFÉ layer', 'σίσυφος 日本語', 'x2 x2 boundary']) {
      expect(inParts.search(q, 20)).toEqual(whole.search(q, 20));
    }
    await expect(inParts.addAsync(Uint32Array.of(5, 5), ['a', 'b'])).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    expect(inParts.size).toBe(whole.size);
  });
});

describe('native and js agree', () => {
  const impls = testImplementations();
  const both = impls.length === 2;
  const texts = [
    'Experimental investigation of the aerodynamics of a wing in a slipstream.',
    'Ünïcödé façade — 日本語のテキスト 😀 x2, naïve café',
    'boundary-layer flows; flows!! FLOW flowing',
    'a',
    '',
  ];

  it.runIf(both)('on tokens and embeddings', () => {
    const [n, j] = [createEngine({ native: 'native' }), createEngine({ native: 'js' })];
    for (const t of texts) expect(n.tokenize(t)).toEqual(j.tokenize(t));
    for (const dim of [7, 384, 1000]) {
      const a = n.embed(texts, dim);
      const b = j.embed(texts, dim);
      for (let i = 0; i < a.length; i++)
        expect(Math.abs((a[i] as number) - (b[i] as number))).toBeLessThan(1e-6);
    }
    const w = Float64Array.of(2, 0.5, 1, 3, 0, 7, 1, 1, 1, 1, 1);
    const a = n.embedWeighted(texts[0] as string, 64, w);
    const b = j.embedWeighted(texts[0] as string, 64, w);
    for (let i = 0; i < a.length; i++)
      expect(Math.abs((a[i] as number) - (b[i] as number))).toBeLessThan(1e-6);
  });

  it.runIf(both)('on BM25 and exact rankings, and read each other index files', async () => {
    const [n, j] = [createEngine({ native: 'native' }), createEngine({ native: 'js' })];
    const docs = [
      'the boundary layer on a flat plate',
      'heat transfer in a boundary layer',
      'aircraft wing flutter at supersonic speed',
      'supersonic flow past a wedge',
      'flutter of panels in supersonic flow',
    ];
    const labels = Uint32Array.from(docs, (_, i) => i + 10);
    const [ln, lj] = [n.createLexicalIndex(), j.createLexicalIndex()];
    ln.add(labels, docs);
    lj.add(labels, docs);
    for (const q of ['supersonic flutter', 'boundary layer heat', 'wing']) {
      const a = ln.search(q, 5);
      const b = lj.search(q, 5);
      expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
      for (let i = 0; i < a.scores.length; i++)
        expect(a.scores[i]).toBeCloseTo(b.scores[i] as number, 5);
    }
    const dim = 32;
    const data = synthetic(1500, dim, 9);
    const ids = Uint32Array.from({ length: 1500 }, (_, i) => i);
    const params = { m: 8, efConstruction: 40, seed: 5 };
    const [vn, vj] = [
      n.createVectorIndex(dim, 'cosine', params),
      j.createVectorIndex(dim, 'cosine', params),
    ];
    vn.add(ids, data);
    vj.add(ids, data);
    const queries = synthetic(20, dim, 77);
    const en = vn.search(queries, 10, { exact: true });
    const ej = vj.search(queries, 10, { exact: true });
    expect(Array.from(en.labels)).toEqual(Array.from(ej.labels));
    for (let i = 0; i < en.scores.length; i++)
      expect(en.scores[i]).toBeCloseTo(ej.scores[i] as number, 5);
    // Graphs cross over: native-written files load in js and the reverse, same answers.
    const pn = join(dir, 'cross-native.idx');
    const pj = join(dir, 'cross-js.idx');
    await vn.save(pn);
    await vj.save(pj);
    const fromNative = await j.loadVectorIndex(pn);
    const fromJs = await n.loadVectorIndex(pj);
    expect(Array.from(fromNative.search(queries, 10, { ef: 50 }).labels)).toEqual(
      Array.from(vn.search(queries, 10, { ef: 50 }).labels),
    );
    expect(Array.from(fromJs.search(queries, 10, { ef: 50 }).labels)).toEqual(
      Array.from(vj.search(queries, 10, { ef: 50 }).labels),
    );
  });
});
