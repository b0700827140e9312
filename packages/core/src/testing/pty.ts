import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testTool } from '@aios/utils/testing';
import { cli } from './cli.js';

// Test support: the CLI at a pseudo-terminal, as a person types at it, through Python's
// pty module (pty-driver.py; no native module to download). Each input is written once
// the output it answers has appeared, never after a timer.

/** Python, or null where it is missing (the suites that need it are skipped then). */
export const python = testTool('python3');
const driver = join(dirname(fileURLToPath(import.meta.url)), 'pty-driver.py');

export const ENTER = '\r';
export const CTRL_C = '\u0003';
export const CTRL_D = '\u0004';

/** Wait until `wait` shows (after the previous step's), then type `send`. */
export interface PtyStep {
  wait: string;
  send?: string;
}

export interface PtySession {
  /** What the terminal showed, without colours, cursor moves and carriage returns. */
  output: string;
  /** The bytes as written, to see where the cursor was left. */
  raw: string;
  /** The exit status; null when the driver killed it at its timeout. */
  status: number | null;
  /** How many steps' text appeared. */
  done: number;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escape sequences
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;

/** Runs `aios ...args` at a pseudo-terminal (no colours), going through `steps`. */
export function runInPty(
  home: string,
  args: string[],
  env: Record<string, string>,
  steps: PtyStep[],
): Promise<PtySession> {
  if (!python) throw new Error('python3 is needed to drive a pseudo-terminal');
  const spec = {
    argv: [process.execPath, cli, ...args],
    env: { PATH: process.env.PATH ?? '', AIOS_HOME: home, NO_COLOR: '1', TERM: 'xterm', ...env },
    timeout: 150,
    steps,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(python, [driver, JSON.stringify(spec)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('error', reject);
    child.on('close', () => {
      try {
        const r = JSON.parse(out) as { output: string; status: number | null; done: number };
        resolve({ ...r, raw: r.output, output: r.output.replace(ANSI, '').replace(/\r/g, '') });
      } catch {
        reject(new Error(`the pty driver failed: ${err || out}`));
      }
    });
  });
}
