import { spawn } from 'node:child_process';
import { cli } from './cli.js';

// Test support: the CLI run without blocking the test process, for suites whose loopback
// servers (a scripted language model) answer from it; `runCli` would block them.

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `aios ...args` with only PATH, AIOS_HOME and `env` set, in `home`; `input` is its stdin. */
export function runCliAsync(
  home: string,
  args: string[],
  env: Record<string, string> = {},
  input = '',
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], {
      cwd: home,
      env: { PATH: process.env.PATH ?? '', AIOS_HOME: home, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}
