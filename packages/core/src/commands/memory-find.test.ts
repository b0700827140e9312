import { openMemory } from '@aios/carma';
import { openDataStore } from '@aios/data';
import { isAiosError } from '@aios/utils';
import { testImplementations } from '@aios/utils/testing';
import { describe, expect, it } from 'vitest';
import { findFragment, shortFragmentId } from './memory-find.js';

describe.each(testImplementations())('findFragment (%s)', (impl) => {
  it('finds a fragment by its id, the end the CLI prints, or a unique start', async () => {
    const data = await openDataStore({ path: ':memory:', native: impl });
    const memory = await openMemory({ data, native: impl });
    // One batch: ids made in the same moment share their first characters.
    const added = await memory.addMany([
      'the kettle is descaled every month',
      'the boiler is serviced in October',
      'the gutters are cleared after autumn',
    ]);
    const id = added[1]?.fragment.id as string;
    for (const given of [id, shortFragmentId(id), ` ${shortFragmentId(id)} `, id.slice(0, 30)]) {
      expect((await findFragment(memory, given)).id, given).toBe(id);
    }
    // The first 8 characters are the time of the batch: all three match.
    const shared = await findFragment(memory, id.slice(0, 8)).catch((error: unknown) => error);
    expect(isAiosError(shared, 'INVALID_INPUT')).toBe(true);
    expect((shared as Error).message).toMatch(/matches 3 fragments/);
    const none = await findFragment(memory, 'ffffffffffff').catch((error: unknown) => error);
    expect(isAiosError(none, 'FRAGMENT_NOT_FOUND')).toBe(true);
    await memory.close();
    await data.close();
  });
});
