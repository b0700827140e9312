import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess } from '@aios/utils/testing';
import { loadServerPackages } from '../../scripts/openapi.js';

/** A live `aios serve` on 127.0.0.1 (any free port) in a temporary home, started by the CLI. */
export interface LiveServer {
  url: string;
  home: string;
  /** An admin key of the default tenant, made with `aios keys create` before the server. */
  adminKey: string;
  /** Runs the `aios` CLI on the same home. */
  aios(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

const { cliPath } = loadServerPackages();

function environment(home: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '',
    AIOS_HOME: home,
    AIOS_LOG_LEVEL: 'warn',
    // The browser suite makes many requests with one key; the limit is not under test here.
    AIOS_SERVER__REQUESTS_PER_MINUTE: '100000',
    ...(process.env.AIOS_NATIVE ? { AIOS_NATIVE: process.env.AIOS_NATIVE } : {}),
  };
}

function runCli(home: string, args: string[]) {
  return runProcess(process.execPath, [cliPath, ...args], { env: environment(home) });
}

/** Waits for the line where `command` prints its address, and returns the URL. */
export function addressOf(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const onData = (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = pattern.exec(stdout);
      if (match?.[1]) {
        child.stdout?.off('data', onData);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('exit', (code) =>
      reject(new Error(`the server exited (${code}) before listening: ${stderr}`)),
    );
  });
}

/** Sends SIGTERM and waits for the process to end (the server stops cleanly on it). */
export function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

export async function startLiveServer(
  options: { home?: string; offline?: boolean } = {},
): Promise<LiveServer> {
  const home = options.home ?? mkdtempSync(join(tmpdir(), 'aios-web-e2e-'));
  const created = await runCli(home, [
    'keys',
    'create',
    '--name',
    'e2e',
    '--scope',
    'admin',
    '--json',
  ]);
  if (created.code !== 0) throw new Error(`aios keys create failed: ${created.stderr}`);
  const adminKey = (JSON.parse(created.stdout) as { key: string }).key;
  const args = [cliPath, 'serve', '--host', '127.0.0.1', '--port', '0'];
  if (options.offline !== false) args.push('--offline');
  const child = spawn(process.execPath, args, {
    env: environment(home),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = await addressOf(child, /listening on (http:\/\/127\.0\.0\.1:\d+)/);
  return {
    url,
    home,
    adminKey,
    aios: (a) => runCli(home, a),
    async stop() {
      await stopProcess(child);
      if (!options.home) rmSync(home, { recursive: true, force: true });
    },
  };
}
