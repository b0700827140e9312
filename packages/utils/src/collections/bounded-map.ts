import { positiveInteger } from '../validate/numbers.js';

/**
 * A Map that holds at most `max` entries, dropping the least recently used one (read by
 * `get` or written by `set`) when a new one would pass the bound. For what a long-running
 * process remembers per key it meets (a client, a conversation): a lookup cache that
 * never grows with the number of keys seen over its life, only with `max`. Support's
 * caches use lru-cache for its sizes in bytes and ages; this needs neither, and lru-cache
 * would add 2 MB to an install of @aios/luna, which is held under 25 MB.
 */
export class BoundedMap<K, V> {
  private readonly entries = new Map<K, V>();
  readonly max: number;

  constructor(max: number) {
    this.max = positiveInteger(max, 'max');
  }

  get size(): number {
    return this.entries.size;
  }

  /** The value of `key`, which becomes the most recently used. */
  get(key: K): V | undefined {
    if (!this.entries.has(key)) return undefined;
    const value = this.entries.get(key) as V;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  /** Whether `key` is held (without making it recently used). */
  has(key: K): boolean {
    return this.entries.has(key);
  }

  set(key: K, value: V): this {
    this.entries.delete(key);
    this.entries.set(key, value);
    // Map iterates in insertion order: the first key is the least recently used.
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.max) break;
      this.entries.delete(oldest);
    }
    return this;
  }

  delete(key: K): boolean {
    return this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
