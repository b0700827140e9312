import { createRequire } from 'node:module';
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { Redis } from 'ioredis';

type StoreParams = { continueExceeding?: boolean; exponentialBackoff?: boolean };
type Callback = Parameters<FastifyRateLimitStore['incr']>[1];

// The plugin's own stores (its Lua script on Redis, its LRU in memory): the package
// exports only the plugin, so they are loaded by path.
const require = createRequire(import.meta.url);
const RedisStore = require('@fastify/rate-limit/store/RedisStore.js') as new (
  continueExceeding: boolean,
  exponentialBackoff: boolean,
  redis: Redis,
  key?: string,
) => FastifyRateLimitStore;
const LocalStore = require('@fastify/rate-limit/store/LocalStore.js') as new (
  continueExceeding: boolean,
  exponentialBackoff: boolean,
  cache?: number,
) => FastifyRateLimitStore;

/** Prefix of the counters in Redis: one per key (or client address) and window. */
export const REDIS_KEY_PREFIX = 'aios:ratelimit:';

/** How many keys the in-memory counters keep (the least recently seen are dropped). */
const LOCAL_KEYS = 5000;

/**
 * Counts in Redis while it is reachable, so that every instance sharing it counts each
 * key once; while it is not (down at start, lost later, a command timing out) in this
 * process's memory, so a request is never failed for want of Redis and a key still gets
 * no more than the limit from each instance.
 */
class FallbackStore implements FastifyRateLimitStore {
  constructor(
    private readonly redis: Redis,
    private readonly shared: FastifyRateLimitStore,
    private readonly local: FastifyRateLimitStore,
    private readonly onRedisError: (error: Error) => void,
  ) {}

  incr(key: string, callback: Callback, timeWindow: number, max: number): void {
    // Without a connection the command would fail at once (no offline queue): skip it.
    if (this.redis.status !== 'ready') {
      this.local.incr(key, callback, timeWindow, max);
      return;
    }
    this.shared.incr(
      key,
      (error, result) => {
        if (error || !result) {
          this.onRedisError(error ?? new Error('Redis gave no count'));
          this.local.incr(key, callback, timeWindow, max);
          return;
        }
        callback(null, result);
      },
      timeWindow,
      max,
    );
  }

  child(routeOptions: Parameters<FastifyRateLimitStore['child']>[0]): FastifyRateLimitStore {
    return new FallbackStore(
      this.redis,
      this.shared.child(routeOptions),
      this.local.child(routeOptions),
      this.onRedisError,
    );
  }
}

/** The store class @fastify/rate-limit constructs (`store` option) over `redis`. */
export function sharedStore(
  redis: Redis,
  onRedisError: (error: Error) => void,
): FastifyRateLimitStoreCtor {
  return class extends FallbackStore {
    constructor(params: StoreParams) {
      const continueExceeding = params.continueExceeding === true;
      const exponentialBackoff = params.exponentialBackoff === true;
      super(
        redis,
        new RedisStore(continueExceeding, exponentialBackoff, redis, REDIS_KEY_PREFIX),
        new LocalStore(continueExceeding, exponentialBackoff, LOCAL_KEYS),
        onRedisError,
      );
    }
  } as unknown as FastifyRateLimitStoreCtor;
}
