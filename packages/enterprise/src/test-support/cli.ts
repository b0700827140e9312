import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The built `aios` CLI of @aios/core (tests drive it as a user would). */
export const aiosCli = join(
  dirname(createRequire(import.meta.url).resolve('@aios/core/package.json')),
  'dist',
  'cli.js',
);

export function runAios(home: string, args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [aiosCli, ...args], {
    encoding: 'utf8',
    cwd: home,
    // A loaded 2-core machine can take many seconds per command; a hang still ends.
    timeout: 180_000,
    env: { PATH: process.env.PATH ?? '', AIOS_HOME: home, AIOS_LOG_LEVEL: 'warn', ...env },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Starts `aios serve --port 0` on `home`; resolves with its URL once it listens. */
export function serveAios(
  home: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<{
  url: string;
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}> {
  const child = spawn(process.execPath, [aiosCli, 'serve', '--port', '0', ...args], {
    cwd: home,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', AIOS_HOME: home, AIOS_LOG_LEVEL: 'warn', ...env },
  });
  let err = '';
  let out = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /AIOS listening on (http:\/\/\S+)/.exec(out);
      if (match?.[1])
        resolve({ url: match[1], child, stdout: () => out, stderr: () => err, exited });
    });
    void exited.then((code) =>
      reject(new Error(`aios serve exited (${code}) before listening: ${err}`)),
    );
  });
}
