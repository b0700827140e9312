import type { Fragment, FragmentChange, Memory } from '@aios/carma';
import { AiosError, isAiosError } from '@aios/utils';

/**
 * How many characters of a fragment id the CLI prints: its last ones. Ids are in time
 * order (their first characters are the time they were made, shared by a whole batch), so
 * the end is what tells them apart.
 */
export const SHORT_ID = 8;

/** A fragment id as the CLI prints it (commands take it, or any unambiguous end or start). */
export const shortFragmentId = (id: string): string => id.slice(-SHORT_ID);

/**
 * A fragment by id, or by an unambiguous end of its id (as `search` prints it) or start
 * (ids made before they were in time order were printed by their first characters).
 */
export async function findFragment(memory: Memory, id: string): Promise<Fragment> {
  const wanted = id.trim();
  if (wanted === '') throw new AiosError('INVALID_INPUT', 'id: expected a fragment id');
  const exact = await memory.get(wanted);
  if (exact) return exact;
  // The ids in memory, not a listing: a listing reads every record of a large memory.
  const matches = memory.idsWithPart(wanted);
  if (matches.length === 1) {
    const found = await memory.get(matches[0] as string);
    if (found) return found;
  }
  if (matches.length > 1) {
    throw new AiosError(
      'INVALID_INPUT',
      `id "${wanted}" matches ${matches.length} fragments; give more characters`,
    );
  }
  throw new AiosError('FRAGMENT_NOT_FOUND', `no fragment "${wanted}" (see \`aios memory search\`)`);
}

/**
 * A fragment (by id or prefix) with its history, or the history of one that was deleted
 * (or merged away), which outlives it: a deleted fragment is found by its full id only, as
 * `memory delete` prints it.
 */
export async function findWithHistory(
  memory: Memory,
  id: string,
): Promise<{ id: string; fragment: Fragment | undefined; history: FragmentChange[] }> {
  let fragment: Fragment | undefined;
  try {
    fragment = await findFragment(memory, id);
  } catch (error) {
    if (!isAiosError(error, 'FRAGMENT_NOT_FOUND')) throw error;
  }
  const wanted = fragment?.id ?? id.trim();
  let history: FragmentChange[] = [];
  try {
    history = await memory.history(wanted);
  } catch (error) {
    if (!isAiosError(error, 'FRAGMENT_NOT_FOUND')) throw error;
  }
  if (!fragment && history.length === 0) {
    throw new AiosError(
      'FRAGMENT_NOT_FOUND',
      `no fragment "${wanted}" (see \`aios memory search\`; a deleted fragment's history is found by its full id)`,
    );
  }
  return { id: wanted, fragment, history };
}
