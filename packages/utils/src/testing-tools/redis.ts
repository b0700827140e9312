import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

/** A real `redis-server` for tests: loopback, no persistence, its own temporary directory. */
export interface TestRedis {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` (the password is separate, as in the config). */
  readonly url: string;
  readonly password: string;
  /** Stops the server (SIGKILL: as a crash would) and waits until it has exited. */
  stop(): Promise<void>;
  /** Starts it again on the same port (empty: nothing was saved). */
  start(): Promise<void>;
  /** Stops it and removes its directory. */
  close(): Promise<void>;
}

/** Starts `redis-server` (the path `testTool('redis-server')` found) and waits until it is ready. */
export async function startTestRedis(
  path: string,
  password = 'test-redis-password',
): Promise<TestRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'aios-redis-'));
  let child: ChildProcess | undefined;

  const start = () =>
    new Promise<void>((resolve, reject) => {
      const args = [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--requirepass',
        password,
      ];
      const started = spawn(path, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      child = started;
      let output = '';
      const onData = (chunk: Buffer) => {
        output = (output + chunk.toString()).slice(-4_000);
        if (output.includes('Ready to accept connections')) {
          started.stdout?.off('data', onData);
          started.stdout?.resume();
          resolve();
        }
      };
      started.stdout?.on('data', onData);
      started.stderr?.on('data', onData);
      started.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${output}`)));
    });

  const stop = () => {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) {
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill('SIGKILL');
    });
  };

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    password,
    stop,
    start,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
