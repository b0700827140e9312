import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { isProcessAlive } from './alive.js';

describe('isProcessAlive', () => {
  it('is true for this process and for a running child', async () => {
    expect(isProcessAlive(process.pid)).toBe(true);
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
    try {
      await once(child, 'spawn');
      expect(isProcessAlive(child.pid as number)).toBe(true);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('is false once a child has exited', async () => {
    const child = spawn(process.execPath, ['-e', '']);
    const pid = child.pid as number;
    await once(child, 'exit');
    expect(isProcessAlive(pid)).toBe(false);
  });

  it('is false for ids that name no process (0 and negatives would signal groups)', () => {
    for (const pid of [0, -1, -process.pid, 1.5, Number.NaN, Number.MAX_VALUE]) {
      expect(isProcessAlive(pid)).toBe(false);
    }
  });
});
