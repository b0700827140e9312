import { AsyncResource } from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import { ReentrantQueue } from './reentrant-queue.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe('ReentrantQueue', () => {
  it('runs calls from inside a turn in it, and keeps outside calls out until it ends', async () => {
    const queue = new ReentrantQueue();
    const log: string[] = [];
    // Bound here, outside any turn: calling it from inside still queues as a stranger.
    const fromOutside = AsyncResource.bind(() =>
      queue.run(() => {
        log.push('outside');
      }),
    );
    let outside: Promise<void> | undefined;
    await queue.run(async () => {
      log.push('turn start');
      outside = fromOutside();
      await tick();
      // With a plain serial queue these would wait for the turn that waits for them.
      await queue.run(async () => {
        log.push('inner a');
        await queue.run(() => log.push('inner a.1'));
      });
      await queue.run(() => log.push('inner b'));
      log.push('turn end');
    });
    await outside;
    expect(log).toEqual(['turn start', 'inner a', 'inner a.1', 'inner b', 'turn end', 'outside']);
    expect(queue.pending).toBe(0);
  });

  it('runs the calls made inside one turn one at a time, in order', async () => {
    const queue = new ReentrantQueue();
    const log: string[] = [];
    let running = 0;
    const job = (name: string) =>
      queue.run(async () => {
        running++;
        expect(running).toBe(1);
        log.push(`start ${name}`);
        await tick();
        log.push(`end ${name}`);
        running--;
      });
    await queue.run(async () => {
      running = 0; // the turn itself is not one of its calls
      await Promise.all([job('a'), job('b')]);
    });
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b']);
  });

  it('ends a turn only when the calls made inside it have settled', async () => {
    const queue = new ReentrantQueue();
    const log: string[] = [];
    const fromOutside = AsyncResource.bind(() => queue.run(() => log.push('outside')));
    let left: Promise<unknown> | undefined;
    let outside: Promise<unknown> | undefined;
    await queue.run(() => {
      outside = fromOutside();
      // Not awaited: still part of the turn.
      left = queue.run(async () => {
        await tick();
        log.push('left behind');
      });
    });
    await Promise.all([left, outside]);
    expect(log).toEqual(['left behind', 'outside']);
  });

  it('queues a late call from a finished turn as any other, and keeps queues apart', async () => {
    const queue = new ReentrantQueue();
    const other = new ReentrantQueue();
    let late: (() => Promise<unknown>) | undefined;
    await queue.run(() => {
      // Bound to the turn's context, as a timer set inside it would be.
      late = AsyncResource.bind(() => queue.run(() => 'late'));
      expect(queue.inside()).toBe(true);
      expect(other.inside()).toBe(false);
    });
    let release = () => {};
    const holder = queue.run(() => new Promise<void>((resolve) => (release = resolve)));
    let settled = false;
    const call = (late as () => Promise<unknown>)().then(() => (settled = true));
    await tick();
    expect(settled).toBe(false); // it waits for the holder like a stranger would
    release();
    await holder;
    await call;
    expect(settled).toBe(true);
  });

  it('reports a failure to its caller and goes on', async () => {
    const queue = new ReentrantQueue();
    await expect(
      queue.run(async () => {
        await expect(
          queue.run(() => {
            throw new Error('inner');
          }),
        ).rejects.toThrow('inner');
        throw new Error('outer');
      }),
    ).rejects.toThrow('outer');
    await expect(queue.run(() => 5)).resolves.toBe(5);
  });
});
