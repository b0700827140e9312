import { openDataStore } from '@aios/data';
import { isAiosError } from '@aios/utils';
import { testImplementations } from '@aios/utils/testing';
import { describe, expect, it } from 'vitest';
import { openMemory } from './memory.js';

/** A clock that moves on at every reading: a batch is stored at one reading of it. */
function ticking() {
  let t = 1_800_000_000_000;
  return () => t++;
}

describe.each(testImplementations())('adds waiting for their turn (%s)', (impl) => {
  const open = () => openMemory({ native: impl, dimension: 64, now: ticking() });

  it('are stored as one batch, each caller getting the results of its own inputs', async () => {
    const memory = await open();
    try {
      const texts = Array.from({ length: 20 }, (_, i) => `note ${i}: the parcel for flat ${i * 7}`);
      const results = await Promise.all(texts.map((text) => memory.add(text)));
      expect(results.map((r) => r.fragment.text)).toEqual(texts);
      expect(results.every((r) => r.status === 'added')).toBe(true);
      // One batch: stored at one reading of the clock.
      expect(new Set(results.map((r) => r.fragment.createdAt)).size).toBe(1);
      // A caller with several inputs gets all of its own, in order.
      const [one, many] = await Promise.all([
        memory.add('the boiler is serviced in October'),
        memory.addMany(['the gutters are cleared in November', 'the kettle is descaled monthly']),
      ]);
      expect(one.fragment.text).toBe('the boiler is serviced in October');
      expect(many.map((r) => r.fragment.text)).toEqual([
        'the gutters are cleared in November',
        'the kettle is descaled monthly',
      ]);
      expect(one.fragment.createdAt).toBe(many[0]?.fragment.createdAt);
      expect(memory.size).toBe(23);
      const [found] = await memory.search('parcel flat 91', { k: 1, mode: 'lexical' });
      expect(found?.fragment.text).toBe(texts[13]);
    } finally {
      await memory.close();
    }
  });

  it('keep what each would get alone: a duplicate of an earlier caller, a bad input its own error', async () => {
    const memory = await open();
    try {
      const [first, second, bad, other] = await Promise.allSettled([
        memory.add('the spare key is under the blue pot'),
        memory.add('the spare key is under the blue pot'),
        memory.add(''),
        memory.add('the wifi password is on the fridge'),
      ]);
      expect(first).toMatchObject({ status: 'fulfilled', value: { status: 'added' } });
      expect(second).toMatchObject({ status: 'fulfilled', value: { status: 'duplicate' } });
      if (first.status === 'fulfilled' && second.status === 'fulfilled') {
        expect(second.value.fragment.id).toBe(first.value.fragment.id);
      }
      expect(bad.status).toBe('rejected');
      expect(isAiosError((bad as PromiseRejectedResult).reason, 'TEXT_EMPTY')).toBe(true);
      expect(other).toMatchObject({ status: 'fulfilled', value: { status: 'added' } });
      expect(memory.size).toBe(2);
    } finally {
      await memory.close();
    }
  });

  it('never overtake a mutation called before them', async () => {
    const memory = await open();
    try {
      const { fragment } = await memory.add('the car is serviced in May');
      // Queued in this order, at once: the update runs first, so the add finds its text.
      const updating = memory.update(fragment.id, { text: 'the car is serviced in June' });
      const adding = memory.add('the car is serviced in June');
      const deleting = memory.delete(fragment.id);
      const addingAgain = memory.add('the car is serviced in June');
      await updating;
      expect(await adding).toMatchObject({ status: 'duplicate', fragment: { id: fragment.id } });
      await deleting;
      const again = await addingAgain;
      expect(again.status).toBe('added');
      expect(again.fragment.id).not.toBe(fragment.id);
      expect(memory.size).toBe(1);
    } finally {
      await memory.close();
    }
  });

  it('after a turn that failed before storing, start a turn of their own instead of waiting forever', async () => {
    const data = await openDataStore({ path: ':memory:', native: impl });
    const memory = await openMemory({ data, native: impl, dimension: 64 });
    try {
      await memory.add('stored while the store was open');
      // The store goes away under the memory (as PostgreSQL restarting): each turn fails
      // as it catches up with it, before it stores anything.
      await data.close();
      const first = memory.add('the first add after the store closed');
      await expect(first).rejects.toSatisfy((error) => isAiosError(error));
      // The next add, queued after that turn, gets its own answer.
      const next = memory.add('the next add');
      const answer = await Promise.race([
        next.then(
          () => 'stored',
          () => 'refused',
        ),
        new Promise((resolve) => setTimeout(() => resolve('no answer'), 5_000)),
      ]);
      expect(answer).toBe('refused');
    } finally {
      await memory.close().catch(() => undefined);
    }
  });

  it('fail together when their batch fails, and the memory goes on', async () => {
    const memory = await open();
    const adds = [memory.add('first of the batch'), memory.add('second of the batch')];
    const closing = memory.close();
    const settled = await Promise.allSettled(adds);
    await closing;
    // Closed before their turn: each is refused with the memory's error, none half-stored.
    for (const s of settled) {
      if (s.status === 'rejected') expect(isAiosError(s.reason)).toBe(true);
    }
    expect(new Set(settled.map((s) => s.status)).size).toBe(1);
  });
});
