import { isIP } from 'node:net';
import { join } from 'node:path';
import { type Aios, type AiosConfig, createAios, readOnlyHome } from '@aios/core';
import { AiosError, acquireLease, describeHolder, type Lease, readOnlyCauseOf } from '@aios/utils';
import type { FastifyServerOptions } from 'fastify';
import { ensureDefaultTenant } from './access/keys.js';
import { type AiosServer, buildServer } from './app.js';
import { yieldWorkerThreads } from './http/worker-priority.js';
import { clearUploads } from './routes/ingest-upload.js';

export interface StartOptions {
  config: AiosConfig;
  /** Overrides `server.host` / `server.port` (port 0: any free port). */
  host?: string;
  port?: number;
  /** Never call a language model. */
  offline?: boolean;
  logger?: FastifyServerOptions['logger'];
}

export interface RunningServer {
  /** `http://host:port` the server listens on. */
  readonly url: string;
  readonly server: AiosServer;
  readonly system: Aios;
  /**
   * Stops taking connections, lets running requests and jobs finish (bounded by
   * `server.shutdownTimeoutMs`), closes every tenant's system, then gives up the home.
   */
  close(): Promise<void>;
}

/** Loopback names and addresses: where a server may listen before any key exists. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1';
  return false;
}

/**
 * One server per home: a second one fails at once, naming the first. A home that cannot be
 * written (a read-only filesystem, another user's home) is not served: a server takes the
 * home and records what it serves (the audit log, the use of API keys, metrics), and
 * takes writes; one that refused most of its routes would be a server in name only. The
 * memory of such a home is read with the CLI or `aios mcp`, which open it to read only.
 */
async function takeHome(home: string): Promise<Lease> {
  try {
    return await holdHome(home);
  } catch (error) {
    const cause = readOnlyCauseOf(error);
    if (cause === undefined) throw error;
    throw readOnlyHome(
      home,
      cause,
      'serving it (a server records its requests and takes writes; `aios memory search`, `aios ask` and `aios mcp` read it)',
    );
  }
}

function holdHome(home: string): Promise<Lease> {
  return acquireLease('exclusive', {
    dir: join(home, '.serve.lock'),
    operation: 'aios serve',
    busy: (holder) =>
      new AiosError(
        'SERVER_RUNNING',
        `a server already runs on ${home}: ${describeHolder(holder)}`,
        {
          details: { home, pid: holder.pid },
        },
      ),
  });
}

/**
 * `aios serve`: takes the home (one server per home; the CLI and other processes keep
 * working beside it), opens the system through `createAios`, and listens. Binding anything
 * but loopback is refused while no API key exists: the server would be open to no one, or,
 * worse, be mistaken for open.
 */
export async function startServer(options: StartOptions): Promise<RunningServer> {
  const host = options.host ?? options.config.server.host;
  const port = options.port ?? options.config.server.port;
  const lease = await takeHome(options.config.home);
  let system: Aios | undefined;
  let server: AiosServer | undefined;
  try {
    await clearUploads(options.config.home);
    system = await createAios({
      config: options.config,
      ...(options.offline ? { offline: true } : {}),
      // A database this user may not write, in a home it may: not served either (above).
      writes: '`aios serve`',
    });
    await ensureDefaultTenant(system.data);
    if (!isLoopback(host)) {
      const keys = (await system.data.apiKeys.list()).filter((k) => k.revokedAt === null);
      if (keys.length === 0) {
        throw new AiosError(
          'BIND_NEEDS_KEY',
          `refusing to listen on ${host} while no API key exists: create one with \`aios keys create --name <name> --scope admin\`, or listen on 127.0.0.1`,
          { details: { host } },
        );
      }
    }
    server = await buildServer({
      system,
      ...(options.offline ? { offline: true } : {}),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
    await server.app.listen({ host, port }).catch((error: NodeJS.ErrnoException) => {
      throw new AiosError(
        error.code === 'EADDRINUSE' ? 'ADDRESS_IN_USE' : 'LISTEN_FAILED',
        `cannot listen on ${host}:${port}: ${error.message}`,
        { details: { host, port } },
      );
    });
    await yieldWorkerThreads(options.config.server.workerNice);
  } catch (error) {
    await server?.close().catch(() => undefined);
    await system?.close().catch(() => undefined);
    await lease.release();
    throw error;
  }
  const address = server.app.server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  const shown = host.includes(':') ? `[${host}]` : host;
  const openSystem = system;
  const openServer = server;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shown}:${boundPort}`,
    server: openServer,
    system: openSystem,
    close() {
      closing ??= (async () => {
        try {
          await openServer.close();
          await openSystem.close();
        } finally {
          await lease.release();
        }
      })();
      return closing;
    },
  };
}
