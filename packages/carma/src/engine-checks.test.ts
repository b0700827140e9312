import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AiosError } from '@aios/utils';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CarmaEngine, createEngine, MAX_EF, NO_LABEL } from './engine/index.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'carma-checks-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Call = (engine: CarmaEngine) => unknown;

const q = Float32Array.of(1, 0, 0, 0);
/** An index of 4 dimensions holding labels 1 and 2, with a graph. */
function index(engine: CarmaEngine) {
  const v = engine.createVectorIndex(4, 'cosine', { m: 4, efConstruction: 10, seed: 1 });
  v.add(Uint32Array.of(1, 2), Float32Array.of(1, 0, 0, 0, 0, 1, 0, 0));
  return v;
}
function lexical(engine: CarmaEngine) {
  const l = engine.createLexicalIndex();
  l.add(Uint32Array.of(1, 2), ['green tea', 'black coffee']);
  return l;
}
const notIntegers = [2.5, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 32 + 1, '3', null];

/** Bad calls of every engine entry point, with the field each error must name. */
const BAD: Array<[string, string, Call]> = [
  ...notIntegers.map((k): [string, string, Call] => [
    `vector search k=${String(k)}`,
    'k',
    (e) => index(e).search(q, k as number),
  ]),
  ...[0, 10_001, 1e9].map((k): [string, string, Call] => [
    `vector search k=${k}`,
    'k',
    (e) => index(e).search(q, k),
  ]),
  ...[...notIntegers, 0, MAX_EF + 1].map((ef): [string, string, Call] => [
    `vector search ef=${String(ef)}`,
    'ef',
    (e) => index(e).search(q, 1, { ef: ef as number }),
  ]),
  ['vector search exact="yes"', 'exact', (e) => index(e).search(q, 1, { exact: 'yes' as never })],
  ['vector search filter array', 'filter', (e) => index(e).search(q, 1, { filter: [1] as never })],
  ['vector search options null', 'options', (e) => index(e).search(q, 1, null as never)],
  ['vector search queries array', 'queries', (e) => index(e).search([1, 0, 0, 0] as never, 1)],
  [
    'vector search NaN query',
    'queries',
    (e) => index(e).search(Float32Array.of(1, Number.NaN, 0, 0), 1),
  ],
  ...[2.5, -1, Number.NaN, 2 ** 32, '1'].flatMap(
    (label): Array<[string, string, Call]> => [
      [`vector has ${String(label)}`, 'label', (e) => index(e).has(label as number)],
      [`vector get ${String(label)}`, 'label', (e) => index(e).get(label as number)],
      [`lexical has ${String(label)}`, 'label', (e) => lexical(e).has(label as number)],
    ],
  ),
  ['vector add labels array', 'labels', (e) => index(e).add([3] as never, q)],
  [
    'vector add vectors array',
    'vectors',
    (e) => index(e).add(Uint32Array.of(3), [1, 0, 0, 0] as never),
  ],
  ['vector add reserved label', 'labels', (e) => index(e).add(Uint32Array.of(NO_LABEL), q)],
  [
    'vector add label twice',
    'labels',
    (e) => index(e).add(Uint32Array.of(3, 3), new Float32Array(8).fill(1)),
  ],
  [
    'vector add Infinity',
    'vectors',
    (e) => index(e).add(Uint32Array.of(3), Float32Array.of(1, Number.POSITIVE_INFINITY, 0, 0)),
  ],
  ['vector remove array', 'labels', (e) => index(e).remove([1] as never)],
  [
    'vector setHnsw m=2.5',
    'hnsw',
    (e) => index(e).setHnsw({ m: 2.5, efConstruction: 10, seed: 1 }),
  ],
  [
    'vector setHnsw seed=-1',
    'hnsw',
    (e) => index(e).setHnsw({ m: 4, efConstruction: 10, seed: -1 }),
  ],
  [
    'vector setHnsw seed=2^32',
    'hnsw',
    (e) => index(e).setHnsw({ m: 4, efConstruction: 10, seed: 2 ** 32 }),
  ],
  [
    'vector setHnsw efConstruction=NaN',
    'hnsw',
    (e) => index(e).setHnsw({ m: 4, efConstruction: Number.NaN, seed: 1 }),
  ],
  ['vector save ""', 'path', (e) => index(e).save('')],
  ...[2.5, -1, 0, Number.NaN, 2 ** 32 + 4, 65_537].map((dim): [string, string, Call] => [
    `createVectorIndex dimension=${dim}`,
    'dimension',
    (e) => e.createVectorIndex(dim),
  ]),
  ['createVectorIndex metric=l2', 'metric', (e) => e.createVectorIndex(4, 'l2' as never)],
  [
    'createVectorIndex seed=1.5',
    'hnsw',
    (e) => e.createVectorIndex(4, 'cosine', { m: 4, efConstruction: 10, seed: 1.5 }),
  ],
  ['loadVectorIndex ""', 'path', (e) => e.loadVectorIndex('')],
  ['embed dimension=2.5', 'dimension', (e) => e.embed(['a'], 2.5)],
  ['embed texts string', 'texts', (e) => e.embed('a' as never, 4)],
  ['embed texts of numbers', 'texts[0]', (e) => e.embed([1] as never, 4)],
  ['embedAsync dimension=-1', 'dimension', (e) => e.embedAsync(['a'], -1)],
  ['embedWeighted weights array', 'tokenWeights', (e) => e.embedWeighted('a', 4, [1] as never)],
  ['embedWeighted text number', 'text', (e) => e.embedWeighted(1 as never, 4, Float64Array.of(1))],
  ['tokenize number', 'text', (e) => e.tokenize(42 as never)],
  ['lexical search k=2.5', 'k', (e) => lexical(e).search('tea', 2.5)],
  ['lexical search k=NaN', 'k', (e) => lexical(e).search('tea', Number.NaN)],
  ['lexical search query number', 'query', (e) => lexical(e).search(42 as never, 1)],
  ['lexical search filter array', 'filter', (e) => lexical(e).search('tea', 1, [1] as never)],
  ['lexical add one text short', 'texts', (e) => lexical(e).add(Uint32Array.of(3, 4), ['x'])],
  ['lexical add label twice', 'labels', (e) => lexical(e).add(Uint32Array.of(3, 3), ['x', 'y'])],
  ['lexical remove array', 'labels', (e) => lexical(e).remove([1] as never)],
  ['lexical idf string', 'terms', (e) => lexical(e).idf('tea' as never)],
  ['lexical prepareQuery query number', 'query', (e) => lexical(e).prepareQuery(42 as never)],
  ['lexical prepareQuery dimension=2.5', 'dimension', (e) => lexical(e).prepareQuery('tea', 2.5)],
  ['lexical prepareQuery dimension=0', 'dimension', (e) => lexical(e).prepareQuery('tea', 0)],
  ['lexical searchTerms terms array', 'terms', (e) => lexical(e).searchTerms([0] as never, 1)],
  ['lexical searchTerms k=2.5', 'k', (e) => lexical(e).searchTerms(Uint32Array.of(0), 2.5)],
  [
    'lexical searchTerms filter array',
    'filter',
    (e) => lexical(e).searchTerms(Uint32Array.of(0), 1, [1] as never),
  ],
  ['createLexicalIndex k1=NaN', 'bm25', (e) => e.createLexicalIndex({ k1: Number.NaN, b: 0.4 })],
  ['createLexicalIndex null', 'bm25', (e) => e.createLexicalIndex(null as never)],
  ...(
    [
      ['dimension', [new Float32Array(8), 0, 1, 10, 1]],
      ['k', [new Float32Array(8), 4, 2.5, 10, 1]],
      ['k', [new Float32Array(8), 4, 3, 10, 1]],
      ['maxIter', [new Float32Array(8), 4, 1, -1, 1]],
      ['seed', [new Float32Array(8), 4, 1, 10, Number.NaN]],
      ['seed', [new Float32Array(8), 4, 1, 10, 2 ** 32]],
      ['data', [[1, 2, 3, 4], 4, 1, 10, 1]],
      ['data', [Float32Array.of(1, Number.NaN, 0, 0), 4, 1, 10, 1]],
    ] as const
  ).map(([field, args]): [string, string, Call] => [
    `kmeans ${field} (${args.slice(1).map(String).join(', ')})`,
    field,
    (e) => e.kmeans(...(args as unknown as Parameters<CarmaEngine['kmeans']>)),
  ]),
];

/** The error a call fails with (sync or async), as plain data. */
async function failure(engine: CarmaEngine, call: Call) {
  try {
    await call(engine);
  } catch (error) {
    expect(error).toBeInstanceOf(AiosError);
    const e = error as AiosError;
    return { code: e.code, message: e.message };
  }
  return undefined;
}

describe.each(testImplementations())('engine arguments (%s)', (impl) => {
  const engine = createEngine({ native: impl });

  it.each(BAD)('refuses %s naming %s', async (_, field, call) => {
    const error = await failure(engine, call);
    expect(error).toMatchObject({ code: 'INVALID_INPUT' });
    expect(error?.message.startsWith(`${field}: expected `)).toBe(true);
  });

  it('accepts the limits', () => {
    const v = index(engine);
    expect(v.has(NO_LABEL)).toBe(false);
    expect(v.get(0)).toBeNull();
    expect(v.search(q, 10_000, { ef: MAX_EF, exact: false }).labels[0]).toBe(1);
    expect(lexical(engine).has(0)).toBe(false);
  });
});

describe('native and js refuse the same input the same way', () => {
  const impls = testImplementations();
  it.runIf(impls.length === 2)('with the same code and message', async () => {
    const [native, js] = [createEngine({ native: 'native' }), createEngine({ native: 'js' })];
    for (const [name, , call] of BAD) {
      expect(await failure(native, call), name).toEqual(await failure(js, call));
    }
  });
});
