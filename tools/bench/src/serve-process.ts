import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { type Aios, createAios, loadConfig } from '@aios/core';
import { cli } from '@aios/enterprise';

// What the suites that measure `aios serve` share: a home with a memory and a key, the
// server in its own process, percentiles of a sorted sample.

const require = createRequire(import.meta.url);
const aiosCli = join(require.resolve('@aios/core/package.json'), '..', 'dist', 'cli.js');

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;
}

/**
 * CPU time (user + system, ms) a process has used so far, read from /proc (Linux; undefined
 * elsewhere). Clock ticks are 1/100 s: USER_HZ is fixed at 100 in Linux's ABI.
 */
export function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/**
 * Resident memory (bytes: all of it, and the part that is not a mapped file) and open file
 * descriptors of a process, from /proc (Linux).
 */
export function processResources(pid: number): {
  rssBytes: number;
  anonBytes: number;
  fds: number;
} {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
  return {
    rssBytes: kb('VmRSS'),
    anonBytes: kb('RssAnon'),
    fds: readdirSync(`/proc/${pid}/fd`).length,
  };
}

/** A home in `dir` holding `texts` and a key with `scopes`; the system is left open. */
export async function seededHome(
  dir: string,
  native: 'native' | 'js',
  texts: string[],
  scopes: string[],
  log: (message: string) => void,
): Promise<{ home: string; system: Aios; key: string }> {
  const config = loadConfig({
    overrides: { home: dir, native, logLevel: 'silent' },
    env: {},
  }).config;
  const system = await createAios({ config, offline: true });
  log(`${native}: adding ${texts.length} fragments`);
  for (let i = 0; i < texts.length; i += 1000)
    await system.memory.addMany(texts.slice(i, i + 1000));
  const { key } = await cli.keysCreate(system, { name: 'bench', scopes });
  return { home: dir, system, key };
}

/** `aios serve --port 0` on `home` in its own process; resolves once it listens. */
export function serveProcess(
  home: string,
  native: string,
  options: { offline?: boolean; env?: Record<string, string>; nodeArgs?: string[] } = {},
): Promise<{ url: string; child: ChildProcess; stop(): Promise<void> }> {
  const args = [
    ...(options.nodeArgs ?? []),
    aiosCli,
    'serve',
    '--port',
    '0',
    ...(options.offline ? ['--offline'] : []),
  ];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      AIOS_HOME: home,
      AIOS_NATIVE: native,
      AIOS_LOG_LEVEL: 'warn',
      // The measurement, not the limit, is the point.
      AIOS_SERVER__REQUESTS_PER_MINUTE: '10000000',
      ...options.env,
    },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /AIOS listening on (http:\/\/\S+)/.exec(out);
      if (match?.[1]) {
        resolve({
          url: match[1],
          child,
          stop: () => {
            child.kill('SIGTERM');
            return exited;
          },
        });
      }
    });
    child.on('exit', (code) => reject(new Error(`aios serve exited with ${code}`)));
  });
}
