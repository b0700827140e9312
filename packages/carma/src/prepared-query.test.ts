import { testImplementations } from '@aios/utils/testing';
import { describe, expect, it } from 'vitest';
import { createEngine, type LexicalIndex } from './engine/index.js';

const DOCS = [
  'the boundary layer on a flat plate',
  'heat transfer in a boundary layer with boundary suction',
  'aircraft wing flutter at supersonic speed',
  'supersonic flow past a wedge',
  'flutter of panels in supersonic flow',
];
const QUERIES = [
  'Boundary layer of the WING, boundary again; unknownword',
  'supersonic flutter',
  'nothing known here',
  'Ünïcödé façade — 日本語 😀',
  '',
];

function lexicalOf(impl: 'native' | 'js'): LexicalIndex {
  const lex = createEngine({ native: impl }).createLexicalIndex();
  lex.add(
    Uint32Array.from(DOCS, (_, i) => i + 10),
    DOCS,
  );
  return lex;
}

describe.each(testImplementations())('a query prepared in one call (%s)', (impl) => {
  const engine = createEngine({ native: impl });

  it('gives the vector of tokenize + idf + embedWeighted and the hits of search', () => {
    const lex = lexicalOf(impl);
    for (const query of QUERIES) {
      const prepared = lex.prepareQuery(query, 96);
      const idf = lex.idf(engine.tokenize(query));
      expect(prepared.vector).toEqual(engine.embedWeighted(query, 96, idf));
      // Every term's IDF, unknown ones included (summed in order): BM25's terms, which
      // split the CJK run of one query into pairs.
      const termIdf = lex.idf(engine.lexicalTokens(query));
      expect(prepared.idfMass).toBe(termIdf.reduce((a, b) => a + b, 0));
      for (const filter of [undefined, Uint32Array.of(11, 13, 14)]) {
        expect(lex.searchTerms(prepared.terms, 5, filter)).toEqual(lex.search(query, 5, filter));
      }
    }
  });

  it('searches off the JS thread with the same hits, while documents are added and removed', async () => {
    const lex = lexicalOf(impl);
    const query = 'boundary layer wing';
    const prepared = lex.prepareQuery(query);
    const expected = lex.searchTerms(prepared.terms, 5);
    // Writes while searches are in flight: neither waits for the other to be collected.
    const inFlight = Array.from({ length: 20 }, () => lex.searchTermsAsync(prepared.terms, 5));
    lex.add(Uint32Array.of(900), ['boundary layer of the wing, added while searching']);
    expect(lex.remove(Uint32Array.of(900))).toBe(1);
    for (const hits of await Promise.all(inFlight)) {
      expect(Array.from(hits.labels).filter((l) => l !== 900)).toEqual(
        Array.from(expected.labels).filter((l) => l !== 900),
      );
    }
    expect(await lex.searchTermsAsync(prepared.terms, 5)).toEqual(expected);
    await expect(lex.searchTermsAsync(Uint32Array.of(4_000_000), 5)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
  });

  it('keeps repeated terms, drops unknown ones, and embeds only when asked', () => {
    const lex = lexicalOf(impl);
    const prepared = lex.prepareQuery('boundary wing boundary unknownword');
    expect(prepared.vector).toBeUndefined();
    expect(prepared.terms).toHaveLength(3);
    expect(prepared.terms[0]).toBe(prepared.terms[2]);
    expect(lex.prepareQuery('', 8).terms).toHaveLength(0);
  });

  it('refuses term ids the index never handed out, and bad arguments', () => {
    const lex = lexicalOf(impl);
    expect(() => lex.searchTerms(Uint32Array.of(0, 4_000_000), 5)).toThrow(
      expect.objectContaining({
        code: 'INVALID_INPUT',
        message: expect.stringMatching(
          /^terms: 4000000 is not a term id of this index \(\d+ terms\)$/,
        ),
      }),
    );
    const bad: Array<() => unknown> = [
      () => lex.searchTerms([1, 2] as unknown as Uint32Array, 5),
      () => lex.searchTerms(Uint32Array.of(0), 0),
      () => lex.prepareQuery(7 as unknown as string),
      () => lex.prepareQuery('x', 2.5),
      () => lex.prepareQuery('x', 0),
    ];
    for (const call of bad) {
      expect(call).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    }
  });
});

describe('a prepared query: native and js agree', () => {
  it.runIf(testImplementations().length === 2)('on term ids, vectors and hits', () => {
    const [n, j] = [lexicalOf('native'), lexicalOf('js')];
    for (const query of QUERIES) {
      const a = n.prepareQuery(query, 384);
      const b = j.prepareQuery(query, 384);
      expect(Array.from(a.terms)).toEqual(Array.from(b.terms));
      expect(a.idfMass).toBe(b.idfMass);
      const [va, vb] = [a.vector as Float32Array, b.vector as Float32Array];
      expect(va).toHaveLength(384);
      for (let i = 0; i < va.length; i++) {
        expect(Math.abs((va[i] as number) - (vb[i] as number))).toBeLessThan(1e-6);
      }
      const [ha, hb] = [n.searchTerms(a.terms, 5), j.searchTerms(b.terms, 5)];
      expect(Array.from(ha.labels)).toEqual(Array.from(hb.labels));
      for (let i = 0; i < ha.scores.length; i++) {
        expect(ha.scores[i]).toBeCloseTo(hb.scores[i] as number, 5);
      }
    }
    expect(() => n.searchTerms(Uint32Array.of(999), 5)).toThrow(
      (() => {
        try {
          j.searchTerms(Uint32Array.of(999), 5);
        } catch (error) {
          return (error as Error).message;
        }
        return 'js accepted a foreign term id';
      })(),
    );
  });
});
