import { describe, expect, it } from 'vitest';
import { SerialQueue, serial } from './serial-queue.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe('SerialQueue', () => {
  it('runs calls one at a time, in order, whatever the earlier ones did', async () => {
    const queue = new SerialQueue();
    const log: string[] = [];
    let running = 0;
    const job = (name: string, fail = false) =>
      queue.run(async () => {
        running++;
        expect(running).toBe(1);
        log.push(`start ${name}`);
        await tick();
        log.push(`end ${name}`);
        running--;
        if (fail) throw new Error(name);
        return name;
      });
    const results = await Promise.allSettled([job('a'), job('b', true), job('c')]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : 'failed'))).toEqual([
      'a',
      'failed',
      'c',
    ]);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    expect(queue.pending).toBe(0);
  });

  it('reports a synchronous throw as a rejection and keeps going', async () => {
    const queue = new SerialQueue();
    await expect(
      queue.run(() => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await expect(queue.run(() => 7)).resolves.toBe(7);
  });

  it('counts pending calls and settles idle() after all of them', async () => {
    const queue = new SerialQueue();
    let release = () => {};
    const first = queue.run(() => new Promise<void>((resolve) => (release = resolve)));
    const second = queue.run(() => Promise.reject(new Error('x')));
    second.catch(() => undefined);
    expect(queue.pending).toBe(2);
    let idle = false;
    const done = queue.idle().then(() => (idle = true));
    await tick();
    expect(idle).toBe(false);
    release();
    await first;
    await done;
    expect(queue.pending).toBe(0);
  });

  it('runs at once when idle only with `immediate`', async () => {
    const lazy = new SerialQueue();
    let ran = false;
    const a = lazy.run(() => {
      ran = true;
    });
    expect(ran).toBe(false);
    await a;
    const eager = new SerialQueue({ immediate: true });
    let now = false;
    const b = eager.run(() => {
      now = true;
      return 1;
    });
    expect(now).toBe(true);
    expect(eager.pending).toBe(0);
    await expect(b).resolves.toBe(1);
    // Busy: the next call waits for the running one.
    let release = () => {};
    const slow = eager.run(() => new Promise<void>((resolve) => (release = resolve)));
    let after = false;
    const c = eager.run(() => {
      after = true;
    });
    expect(after).toBe(false);
    release();
    await slow;
    await c;
    expect(after).toBe(true);
  });

  it('serial() wraps one queue in a function', async () => {
    const run = serial();
    const order: number[] = [];
    await Promise.all([
      run(async () => {
        await tick();
        order.push(1);
      }),
      run(() => {
        order.push(2);
      }),
    ]);
    expect(order).toEqual([1, 2]);
  });
});
