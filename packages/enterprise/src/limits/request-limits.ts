import type { AiosConfig } from '@aios/core';
import type { HealthCheck } from '@aios/support';
import { hideUrlPassword } from '@aios/utils';
import type { FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import { sharedStore } from './rate-store.js';

/** Where the per-key request limit is counted, as `/v1/status` shows it. */
export interface RateLimitStatus {
  /** `shared`: counted in Redis for every instance using it; `instance`: by this process. */
  scope: 'shared' | 'instance';
  /** The Redis URL, without a password; null without Redis. */
  redis: string | null;
  /** Whether Redis answers now (null without Redis); while it does not, counting is local. */
  reachable: boolean | null;
  requestsPerMinute: number;
}

/**
 * A command that takes longer than this counts locally instead: a request never waits
 * long on a Redis that hangs. Not much shorter: a timer that fires after the event loop
 * was busy for a while would call a healthy Redis too slow.
 */
const COMMAND_TIMEOUT_MS = 1_000;

/**
 * The per-key request limit of the server: counted in Redis when `redis.url` is set, so
 * that a key allowed N requests a minute gets N from all instances together, else (and
 * whenever Redis cannot be reached) by this process alone.
 */
export class RequestLimits {
  /** The `store` of @fastify/rate-limit; undefined: its own in-memory store. */
  readonly store: FastifyRateLimitStoreCtor | undefined;
  readonly requestsPerMinute: number;
  private readonly client: Redis | undefined;
  private readonly url: string | null;
  private down = false;

  constructor(
    config: AiosConfig,
    private readonly log: FastifyBaseLogger,
  ) {
    this.requestsPerMinute = config.server.requestsPerMinute;
    const { url, password } = config.redis;
    this.url = url === undefined ? null : hideUrlPassword(url);
    if (url === undefined) return;
    this.client = new Redis(url, {
      ...(password === undefined ? {} : { password }),
      // Fail at once rather than queue while disconnected: the request counts locally.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: COMMAND_TIMEOUT_MS,
      // Requests do not wait for a connection (they count locally meanwhile): a busy
      // process may take a while to see it made.
      connectTimeout: 10_000,
      // Keeps reconnecting for as long as the server runs, at most every 2 s.
      retryStrategy: (times) => Math.min(times * 100, 2_000),
    });
    this.client.on('error', (error: Error) => this.lost(error));
    this.client.on('close', () => this.lost(new Error('connection closed')));
    this.client.on('ready', () => {
      if (!this.down) return;
      this.down = false;
      this.log.info({ redis: this.url }, 'Redis is reachable again: rate limits are shared');
    });
    this.store = sharedStore(this.client, (error) => this.lost(error));
  }

  /** Logs once per outage, not once per request or reconnection attempt. */
  private lost(error: Error): void {
    if (this.down || this.client?.status === 'end') return;
    this.down = true;
    this.log.warn(
      { redis: this.url, reason: error.message },
      'Redis is unreachable: each instance limits requests alone until it is back',
    );
  }

  /**
   * Resolves once the first connection is made or has failed (at most `timeoutMs`), so
   * that a server started beside a running Redis shares its count from the first request.
   */
  connected(timeoutMs = 5_000): Promise<void> {
    const client = this.client;
    if (!client || client.status === 'ready') return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        client.off('ready', done);
        client.off('error', done);
        client.off('end', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      client.once('ready', done);
      client.once('error', done);
      client.once('end', done);
    });
  }

  status(): RateLimitStatus {
    return {
      scope: this.client ? 'shared' : 'instance',
      redis: this.url,
      reachable: this.client ? this.client.status === 'ready' : null,
      requestsPerMinute: this.requestsPerMinute,
    };
  }

  /**
   * `redis:responseTime`: a PING's round trip. Unreachable is a warning, not a failure:
   * the server still answers (limits per instance), so readiness must not take every
   * instance out of a load balancer at once because Redis is down.
   */
  healthCheck(): HealthCheck | undefined {
    const client = this.client;
    if (!client) return undefined;
    const url = this.url;
    return {
      name: 'redis:responseTime',
      componentType: 'datastore',
      async run() {
        const started = performance.now();
        const elapsed = () => Math.round((performance.now() - started) * 100) / 100;
        if (client.status !== 'ready') {
          return {
            status: 'warn',
            observedValue: client.status,
            output: `${url} is unreachable (${client.status}): rate limits are per instance until it is back`,
          };
        }
        try {
          await client.ping();
          return {
            status: 'pass',
            observedValue: elapsed(),
            observedUnit: 'ms',
            output: url ?? '',
          };
        } catch (error) {
          return {
            status: 'warn',
            observedValue: elapsed(),
            observedUnit: 'ms',
            output: `PING ${url}: ${(error as Error).message}: rate limits are per instance until it answers`,
          };
        }
      },
    };
  }

  /** Closes the connection (and stops reconnecting). */
  async close(): Promise<void> {
    const client = this.client;
    if (!client || client.status === 'end') return;
    if (client.status !== 'ready') {
      client.disconnect();
      return;
    }
    await client.quit().catch(() => client.disconnect());
  }
}
