import { describe, expect, it } from 'vitest';
import { runAll } from './run-all.js';

describe('runAll', () => {
  it('runs every step in order, even after a failure, and rethrows the first failure', async () => {
    const ran: number[] = [];
    const first = new Error('first');
    const run = runAll([
      () => {
        ran.push(1);
        throw first;
      },
      async () => {
        ran.push(2);
        throw new Error('second');
      },
      () => {
        ran.push(3);
      },
    ]);
    await expect(run).rejects.toBe(first);
    expect(ran).toEqual([1, 2, 3]);
  });

  it('resolves when every step succeeds', async () => {
    await expect(runAll([() => undefined, async () => undefined])).resolves.toBeUndefined();
  });
});
