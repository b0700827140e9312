import { describe, expect, it } from 'vitest';
import { findConflicts } from './conflicts.js';
import type { MemoryFragment } from './memory.js';
import { householdNotes } from './testing/household.js';

const fragment = (
  id: string,
  text: string,
  metadata: Record<string, unknown> = {},
): MemoryFragment => ({
  id,
  text,
  score: 0,
  metadata,
});
const household = () => householdNotes().map((n, i) => fragment(`n${i}`, n.text, n.metadata));

describe('findConflicts', () => {
  it('finds none among notes that agree, whatever words they share', () => {
    // Two birthdays (Anna's, Grandma's), two services (car, boiler): different subjects.
    expect(findConflicts(household())).toEqual([]);
  });

  it('finds the same thing said of the same subject with other values', () => {
    const conflicts = findConflicts([
      ...household(),
      fragment('bin', 'The black bin goes out on Tuesday evenings now.', { kind: 'fact' }),
      fragment('same', "Maya's dental check-up is on 3 June.", { kind: 'fact' }),
      fragment('exchange', 'Q: When is the check-up?\nA: On 9 June.', { kind: 'exchange' }),
    ]);
    expect(conflicts).toHaveLength(1);
    expect(conflicts[0]).toMatchObject({
      a: {
        quote: 'The black bin for general waste goes out on Monday evenings.',
        values: ['monday'],
      },
      b: { fragmentId: 'bin', values: ['tuesday'], metadata: { kind: 'fact' } },
    });
    expect(conflicts[0]?.about).toEqual(expect.arrayContaining(['black', 'bin']));
  });

  it('limits them to the fragments asked about', () => {
    const fragments = [
      fragment('a', 'The black bin goes out on Mondays.'),
      fragment('b', 'The black bin goes out on Tuesdays.'),
      fragment('c', 'The blue bin goes out on Thursdays.'),
      fragment('d', 'The blue bin goes out on Fridays.'),
    ];
    expect(findConflicts(fragments).map((c) => [c.a.fragmentId, c.b.fragmentId])).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    expect(findConflicts(fragments, new Set(['d'])).map((c) => c.b.fragmentId)).toEqual(['d']);
  });

  it('finds a contradiction of one word said of the same named subject', () => {
    const pair = (a: string, b: string) =>
      findConflicts([fragment('a', a), fragment('b', b)]).map((c) => c.about);
    expect(pair("Anna's birthday is on 3 May", "Anna's birthday is on 9 June")).toEqual([
      ['Anna', 'birthday'],
    ]);
    expect(pair('The gym opens at 6am', 'The gym opens at 7am')).toEqual([['gym', 'opens']]);
    expect(pair('The corner shop closes at 5pm.', 'The corner shop closes at 6pm.')).toEqual([
      ['corner', 'shop', 'closes'],
    ]);
    // The words as written, not their stems.
    expect(pair("Anna's birthday party is on 3 May", "Anna's birthday party is on 9 June")).toEqual(
      [['Anna', 'birthday', 'party']],
    );
  });

  it('finds none between different subjects, or sentences that agree or say other things', () => {
    const none = [
      ['The gym opens at 6am', 'The pool opens at 7am'],
      ["Anna's birthday is on 3 May", "Ben's birthday is on 9 June"],
      ["Anna's birthday is on 3 May", "Anna's birthday is on 3 May."],
      ["Anna's birthday is on 3 May", 'Her birthday is on 3 May.'],
      // A party can be on another day than the birthday.
      ["Anna's birthday is on 3 May", "Anna's birthday party is on 9 June"],
      ['The gym opens at 6am', 'The gym closes at 10pm'],
      ['The school opens at 8am', 'The school library opens at 9am'],
      ['The library closes at 5pm on Saturdays', 'The library closes at 8pm on weekdays'],
      // One word said of no one named could be said of anyone.
      ['Call at 5pm.', 'Call at 6pm.'],
    ];
    for (const [a, b] of none) {
      expect(findConflicts([fragment('a', a as string), fragment('b', b as string)])).toEqual([]);
    }
  });
});
