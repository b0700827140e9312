import { type ProcessRun, runProcess } from '@aios/utils/testing';
import { cli } from './cli.js';

// Test support: the CLI run without blocking the test process, for suites whose loopback
// servers (a scripted language model) answer from it; `runCli` would block them.

export type CliRun = ProcessRun;

/** Runs `aios ...args` with only PATH, AIOS_HOME and `env` set, in `home`; `input` is its stdin. */
export function runCliAsync(
  home: string,
  args: string[],
  env: Record<string, string> = {},
  input = '',
): Promise<CliRun> {
  return runProcess(process.execPath, [cli, ...args], {
    cwd: home,
    env: { PATH: process.env.PATH ?? '', AIOS_HOME: home, ...env },
    input,
  });
}
