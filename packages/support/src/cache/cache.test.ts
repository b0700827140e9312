import { testImplementations } from '@aios/utils/testing';
import { describe, expect, it } from 'vitest';
import { loadSupportBinding } from '../binding.js';
import { Metrics } from '../metrics/index.js';
import { Cache, createCache } from './index.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('cache', () => {
  it('evicts the least recently used entry past maxEntries', () => {
    const cache = createCache<string>({ maxEntries: 2 });
    cache.set('a', '1').set('b', '2');
    expect(cache.get('a')).toBe('1'); // a is now more recent than b
    cache.set('c', '3');
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe('1');
    expect(cache.get('c')).toBe('3');
    expect(cache.stats()).toMatchObject({ hits: 3, misses: 1, evictions: 1, entries: 2 });
  });

  it('keeps within maxBytes and refuses a value larger than the budget', () => {
    const cache = createCache<Uint8Array>({ maxEntries: 100, maxBytes: 1000 });
    for (let i = 0; i < 5; i++) cache.set(`k${i}`, new Uint8Array(300));
    expect(cache.stats()).toMatchObject({ entries: 3, bytes: 900, evictions: 2 });
    expect(cache.has('k0')).toBe(false);
    expect(cache.has('k4')).toBe(true);
    cache.set('huge', new Uint8Array(1001));
    expect(cache.has('huge')).toBe(false);
    expect(cache.stats().bytes).toBeLessThanOrEqual(1000);
    // Strings count their UTF-16 size.
    const text = createCache<string>({ maxEntries: 10, maxBytes: 10 });
    text.set('a', 'abcd').set('b', 'efgh');
    expect(text.stats()).toMatchObject({ entries: 1, bytes: 8 });
  });

  it('uses sizeOf for other values, and asks for it when missing', () => {
    const sized = createCache<{ vector: Float32Array }>({
      maxEntries: 10,
      maxBytes: 64,
      sizeOf: (v) => v.vector.byteLength,
    });
    sized.set('a', { vector: new Float32Array(8) });
    sized.set('b', { vector: new Float32Array(8) });
    sized.set('c', { vector: new Float32Array(8) });
    expect(sized.stats()).toMatchObject({ entries: 2, bytes: 64 });
    const unsized = createCache<{ n: number }>({ name: 'objs', maxEntries: 10, maxBytes: 64 });
    expect(() => unsized.set('a', { n: 1 })).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/sizeOf/) }),
    );
  });

  it('expires entries after their time to live', async () => {
    const cache = createCache<string>({ maxEntries: 10, ttlMs: 150 });
    cache.set('a', 'x');
    cache.set('long', 'y', { ttlMs: 60_000 });
    expect(cache.get('a')).toBe('x');
    await sleep(250);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('long')).toBe('y');
  });

  it('loads a missing key once for concurrent callers (single flight)', async () => {
    const cache = new Cache<string>({ maxEntries: 10 });
    let calls = 0;
    const loader = async (key: string, signal: AbortSignal) => {
      calls++;
      expect(signal).toBeInstanceOf(AbortSignal);
      await sleep(20);
      return `value of ${key}`;
    };
    const results = await Promise.all(
      Array.from({ length: 10 }, () => cache.getOrLoad('k', loader)),
    );
    expect(new Set(results)).toEqual(new Set(['value of k']));
    expect(calls).toBe(1);
    expect(await cache.getOrLoad('k', loader)).toBe('value of k');
    expect(calls).toBe(1);
    expect(cache.stats()).toMatchObject({ loads: 1, misses: 10, hits: 1 });
  });

  it('does not cache a failed load, and every waiter sees the failure', async () => {
    const cache = new Cache<string>({ maxEntries: 10 });
    let calls = 0;
    const failing = async () => {
      calls++;
      await sleep(5);
      throw new Error('backend down');
    };
    const settled = await Promise.allSettled([
      cache.getOrLoad('k', failing),
      cache.getOrLoad('k', failing),
    ]);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected']);
    expect(calls).toBe(1);
    expect(cache.has('k')).toBe(false);
    expect(await cache.getOrLoad('k', () => 'recovered')).toBe('recovered');
    await expect(cache.getOrLoad('n', () => undefined as unknown as string)).rejects.toMatchObject({
      code: 'CACHE_LOAD_EMPTY',
    });
  });

  it('exports hit/miss/load counters to the metrics registry', async () => {
    const metrics = new Metrics();
    const cache = createCache<string>({ name: 'answers', maxEntries: 1, metrics });
    cache.set('a', '1');
    cache.get('a');
    cache.get('zz');
    await cache.getOrLoad('b', () => '2');
    const text = await metrics.render();
    expect(text).toContain('aios_cache_hits_total{cache="answers"} 1');
    expect(text).toContain('aios_cache_misses_total{cache="answers"} 2');
    expect(text).toContain('aios_cache_loads_total{cache="answers"} 1');
    expect(text).toContain('aios_cache_evictions_total{cache="answers"} 1');
    expect(text).toContain('aios_cache_entries{cache="answers"} 1');
    expect(text).toMatch(/\naios_cache_size_bytes\{cache="answers"\} \d+\n/);
    // What a cache counts up is a counter; what it holds now, a gauge.
    for (const name of ['hits', 'misses', 'loads', 'evictions']) {
      expect(text).toContain(`# TYPE aios_cache_${name}_total counter`);
    }
    expect(text).toContain('# TYPE aios_cache_entries gauge');
    expect(text).toContain('# TYPE aios_cache_size_bytes gauge');
  });

  it('validates its options and arguments', async () => {
    expect(() => createCache({ maxEntries: 0 })).toThrow(/maxEntries: expected an integer >= 1/);
    expect(() => createCache({ maxEntries: 1, maxBytes: 1.5 })).toThrow(/maxBytes/);
    expect(() => createCache({ maxEntries: 1, ttlMs: -5 })).toThrow(/ttlMs/);
    const cache = createCache<string>({ maxEntries: 1 });
    expect(() => cache.set('a', undefined as unknown as string)).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
    expect(() => cache.set(1 as unknown as string, 'x')).toThrow(/key: expected a string/);
    await expect(cache.getOrLoad('a', 'nope' as never)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
  });
});

describe('native byte cache (kept for the boundary-cost benchmark)', () => {
  it.runIf(testImplementations().includes('native'))('behaves like the cache', () => {
    const { binding } = loadSupportBinding('native');
    if (!binding) throw new Error('native binding did not load');
    const native = new binding.NativeByteCache(2, 1000);
    const js = createCache<Uint8Array>({ maxEntries: 2, maxBytes: 1000 });
    for (const c of [native, js]) {
      c.set('a', Buffer.from('1'));
      c.set('b', Buffer.from('2'));
      c.get('a');
      c.set('c', Buffer.from('3'));
    }
    expect(native.get('b')).toBeNull();
    expect(js.get('b')).toBeUndefined();
    expect(Buffer.from(native.get('a') ?? [])).toEqual(Buffer.from('1'));
    expect(native.size).toBe(js.size);
    expect(() => new binding.NativeByteCache(0, 10)).toThrow(/\[AIOS:INVALID_INPUT\] maxEntries/);
  });
});
