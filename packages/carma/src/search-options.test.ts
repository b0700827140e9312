import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Memory, type MemoryOptions, openMemory, type SearchOptions } from './memory.js';

const TEXTS = [
  'Alice prefers green tea in the morning',
  'The backup of the photo library runs every Sunday',
  'Bob plays the cello in a community orchestra',
];

/** Search options that must be refused, with the field the error names. */
const BAD_SEARCH: Array<[string, unknown]> = [
  ['fusion.lexicalWeight', { fusion: { lexicalWeight: Number.NaN } }],
  ['fusion.lexicalWeight', { fusion: { lexicalWeight: 1.5 } }],
  ['fusion.lexicalWeight', { fusion: { lexicalWeight: '0.5' } }],
  ['fusion.rrfK', { fusion: { method: 'rrf', rrfK: Number.NaN } }],
  ['fusion.rrfK', { fusion: { rrfK: -1 } }],
  ['fusion.rrfK', { fusion: { rrfK: Number.POSITIVE_INFINITY } }],
  ['fusion.method', { fusion: { method: 'best' } }],
  ['fusion.weight', { fusion: { weight: Number.NaN } }],
  ['fusion', { fusion: 'rrf' }],
  ['fusion', { fusion: null }],
  ['recency', { recency: null }],
  ['recency.weight', { recency: { halfLifeMs: 1000 } }],
  ['recency.weight', { recency: { weight: Number.NaN, halfLifeMs: 1000 } }],
  ['recency.weight', { recency: { weight: -0.1, halfLifeMs: 1000 } }],
  ['recency.halfLifeMs', { recency: { weight: 0.5, halfLifeMs: 0 } }],
  ['recency.halfLifeMs', { recency: { weight: 0.5, halfLifeMs: Number.POSITIVE_INFINITY } }],
  ['recency.halfLife', { recency: { weight: 0.5, halfLifeMs: 10, halfLife: 10 } }],
  ['importance', { importance: 0.5 }],
  ['importance.weight', { importance: {} }],
  ['importance.weight', { importance: { weight: Number.NaN } }],
  ['importance.weight', { importance: { weight: 2 } }],
  ['exact', { exact: 'yes' }],
  ['explain', { explain: 1 }],
  ['k', { k: 2.5 }],
  ['k', { k: Number.NaN }],
  ['options', [] as unknown],
];

/** Memory options about search that must be refused at open. */
const BAD_OPEN: Array<[string, MemoryOptions]> = [
  ['efSearch', { efSearch: Number.NaN }],
  ['efSearch', { efSearch: 2.5 }],
  ['efSearch', { efSearch: 0 }],
  ['efSearch', { efSearch: 1e9 }],
  ['checkpointEvery', { checkpointEvery: Number.NaN }],
  ['checkpointEvery', { checkpointEvery: -1 }],
  ['fusion.rrfK', { fusion: { rrfK: Number.NaN } }],
  ['fusion.lexicalWeight', { fusion: { lexicalWeight: Number.NaN } }],
  ['fusion.weight', { fusion: { weight: 0.5 } as never }],
];

describe.each(testImplementations())('search options (%s)', (impl) => {
  let memory: Memory;
  beforeAll(async () => {
    memory = await openMemory({ native: impl, dimension: 64 });
    await memory.addMany(TEXTS);
  });
  afterAll(() => memory.close());

  it.each(BAD_SEARCH)('refuses %s (case %#)', async (field, options) => {
    const error = await memory.search('green tea', options as SearchOptions).catch((e) => e);
    expect(error).toMatchObject({ code: 'INVALID_INPUT' });
    expect(error.message.startsWith(`${field}: expected `)).toBe(true);
  });

  it('accepts the limits of each option', async () => {
    const ok: SearchOptions[] = [
      { fusion: { lexicalWeight: 0 } },
      { fusion: { lexicalWeight: 1, method: 'weighted' } },
      { fusion: { method: 'rrf', rrfK: 0 } },
      { recency: { weight: 1, halfLifeMs: 1 }, importance: { weight: 0 } },
      { exact: true, explain: false, k: 10_000 },
    ];
    for (const options of ok) {
      const [hit] = await memory.search('green tea', options);
      expect(hit?.fragment.text).toBe(TEXTS[0]);
      expect(Number.isFinite(hit?.score)).toBe(true);
    }
  });

  it.each(BAD_OPEN)('refuses %s at open (case %#)', async (field, options) => {
    const error = await openMemory({ native: impl, dimension: 64, ...options }).catch((e) => e);
    expect(error).toMatchObject({ code: 'INVALID_INPUT' });
    expect(error.message.startsWith(`${field}: expected `)).toBe(true);
  });
});
