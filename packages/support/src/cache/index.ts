import { AiosError, invalidInput } from '@aios/utils';
import { LRUCache } from 'lru-cache';
import type { CacheStatsSource, Metrics } from '../metrics/index.js';

export interface CacheOptions<V> {
  /** Name in metrics (`aios_cache_*{cache="<name>"}`) and errors. */
  name?: string;
  /** Most entries held; the least recently used goes first. */
  maxEntries: number;
  /** Most bytes held, as `sizeOf` counts them. Unset: no byte limit. */
  maxBytes?: number;
  /** Default time to live, ms. Unset: entries live until evicted. */
  ttlMs?: number;
  /**
   * Bytes of one value. Default: `byteLength` of a Uint8Array/ArrayBuffer, 2 bytes a char
   * of a string (its UTF-16 size); other values need this when `maxBytes` is set.
   */
  sizeOf?: (value: V, key: string) => number;
  /** Registers the cache's hit/miss/load/eviction counters and sizes here. */
  metrics?: Metrics;
}

export interface CacheStats {
  hits: number;
  misses: number;
  /** Loader calls: concurrent misses of one key share one. */
  loads: number;
  /** Entries pushed out by the entry or byte limit (not by expiry or delete). */
  evictions: number;
  entries: number;
  bytes: number;
}

/** Loads a missing value; `signal` aborts when the entry is deleted or the cache cleared. */
export type CacheLoader<V> = (key: string, signal: AbortSignal) => Promise<V> | V;

function defaultSizeOf(name: string) {
  return (value: unknown): number => {
    if (typeof value === 'string') return value.length * 2;
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return value.byteLength;
    throw invalidInput(
      `cache ${name} value`,
      value,
      'a string or Uint8Array, or a sizeOf option since maxBytes is set',
    );
  };
}

function positiveInt(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw invalidInput(field, value, 'an integer >= 1');
  }
  return value;
}

function positiveNumber(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw invalidInput(field, value, 'a number > 0');
  }
  return value;
}

/**
 * A TTL + LRU cache bounded by entries and bytes, with single-flight loading and
 * hit/miss counters. Built on lru-cache, which the benchmark shows is the fastest home
 * for it: a native cache pays the napi boundary on every call (see the README).
 */
export class Cache<V extends {}> implements CacheStatsSource {
  readonly name: string;
  private readonly lru: LRUCache<string, V, CacheLoader<V>>;
  private hits = 0;
  private misses = 0;
  private loads = 0;
  private evictions = 0;

  constructor(options: CacheOptions<V>) {
    if (typeof options !== 'object' || options === null) {
      throw invalidInput('options', options, 'an object with maxEntries');
    }
    this.name = options.name ?? 'default';
    if (typeof this.name !== 'string' || this.name === '') {
      throw invalidInput('name', this.name, 'a non-empty string');
    }
    const max = positiveInt('maxEntries', options.maxEntries);
    const maxSize =
      options.maxBytes === undefined ? undefined : positiveInt('maxBytes', options.maxBytes);
    const ttl = options.ttlMs === undefined ? undefined : positiveNumber('ttlMs', options.ttlMs);
    const sizeOf = options.sizeOf ?? (defaultSizeOf(this.name) as (value: V) => number);
    this.lru = new LRUCache<string, V, CacheLoader<V>>({
      max,
      ...(maxSize === undefined
        ? {}
        : {
            maxSize,
            sizeCalculation: (value: V, key: string) => {
              const size = sizeOf(value, key);
              if (typeof size !== 'number' || !Number.isFinite(size) || size < 0) {
                throw invalidInput('sizeOf()', size, 'a finite number >= 0');
              }
              return Math.max(1, Math.ceil(size));
            },
          }),
      ...(ttl === undefined ? {} : { ttl }),
      dispose: (_value, _key, reason) => {
        if (reason === 'evict') this.evictions++;
      },
      fetchMethod: async (key, _stale, { signal, context }) => {
        this.loads++;
        const value = await context(key, signal);
        if (value === undefined || value === null) {
          throw new AiosError(
            'CACHE_LOAD_EMPTY',
            `cache ${this.name}: loader gave no value for ${key}`,
            {
              details: { cache: this.name, key },
            },
          );
        }
        return value;
      },
    });
    options.metrics?.trackCache(this);
  }

  /** The live value for `key`, or undefined (expired entries count as misses). */
  get(key: string): V | undefined {
    const value = this.lru.get(key);
    if (value === undefined) this.misses++;
    else this.hits++;
    return value;
  }

  /** Looks without counting a hit or a miss and without refreshing recency. */
  peek(key: string): V | undefined {
    return this.lru.peek(key);
  }

  has(key: string): boolean {
    return this.lru.has(key);
  }

  /** Stores a value; `ttlMs` overrides the default time to live for this entry. */
  set(key: string, value: V, options: { ttlMs?: number } = {}): this {
    if (typeof key !== 'string') throw invalidInput('key', key, 'a string');
    if (value === undefined || value === null) {
      throw invalidInput('value', value, 'a value (undefined and null cannot be cached)');
    }
    const ttl = options.ttlMs === undefined ? undefined : positiveNumber('ttlMs', options.ttlMs);
    this.lru.set(key, value, ttl === undefined ? undefined : { ttl });
    return this;
  }

  /**
   * The cached value, or the loader's (then cached). Concurrent misses of one key call the
   * loader once and share its promise; a failed load is not cached and rejects every waiter.
   */
  async getOrLoad(key: string, loader: CacheLoader<V>): Promise<V> {
    if (typeof loader !== 'function') throw invalidInput('loader', loader, 'a function');
    const cached = this.get(key);
    if (cached !== undefined) return cached;
    const value = await this.lru.fetch(key, { context: loader });
    if (value === undefined) {
      throw new AiosError('CACHE_LOAD_ABORTED', `cache ${this.name}: load of ${key} was aborted`, {
        details: { cache: this.name, key },
      });
    }
    return value;
  }

  delete(key: string): boolean {
    return this.lru.delete(key);
  }

  clear(): void {
    this.lru.clear();
  }

  get size(): number {
    return this.lru.size;
  }

  stats(): CacheStats {
    return {
      hits: this.hits,
      misses: this.misses,
      loads: this.loads,
      evictions: this.evictions,
      entries: this.lru.size,
      bytes: this.lru.calculatedSize ?? 0,
    };
  }
}

export function createCache<V extends {}>(options: CacheOptions<V>): Cache<V> {
  return new Cache<V>(options);
}
