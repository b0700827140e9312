/**
 * Offline answers from a note that says what was asked in other words: a birthday by the
 * age someone turns, a marriage by a husband, a mother by her daughter. Over the
 * household's notes too, which say "birthday" of others: on the real cores, both
 * implementations.
 */
import { testImplementations } from '@aios/utils/testing';
import { describe, expect, it } from 'vitest';
import { householdNotes } from './testing/household.js';
import { markdownNote, useOfflineLuna } from './testing/use-offline-luna.js';

const NOTES = [
  markdownNote('emma.md', 'Emma turns six on 14 March; the party is at the swimming hall.'),
  markdownNote('karin.md', 'My sister Karin lives in Trondheim with her husband Ole.'),
  markdownNote('lisa.md', "Karin's daughter Lisa started school this year."),
  markdownNote('familie.md', 'Meine Schwester Greta wohnt mit ihrem Ehemann Jonas in Kiel.'),
  markdownNote('bike.md', "Noah's old bike in the shed needs new brakes."),
  markdownNote('school-run.md', 'The children walk to school together on Mondays.'),
];

describe.each(testImplementations())('questions in other words than the note (%s)', (impl) => {
  const luna = useOfflineLuna(impl, () => [...NOTES, ...householdNotes()]);

  it.each([
    ["When is Emma's birthday?", 'emma.md', /Emma turns six on 14 March/],
    ['How old is Emma?', 'emma.md', /Emma turns six/],
    ['Who is Karin married to?', 'karin.md', /her husband Ole/],
    ["Who is Lisa's mother?", 'lisa.md', /Karin's daughter Lisa/],
    ['Mit wem ist Greta verheiratet?', 'familie.md', /Ehemann Jonas/],
  ])('%j is answered from the note that says it otherwise', async (question, file, quote) => {
    const answer = await luna.current.ask(question);
    expect(answer.grounded, answer.answer).toBe(true);
    expect(answer.answer).toMatch(quote);
    expect(answer.sources[0]?.metadata.source).toBe(`/notes/${file}`);
  });

  it('still answers from the note that uses the very word asked', async () => {
    const answer = await luna.current.ask("When is Grandma Rose's birthday?");
    expect(answer.grounded).toBe(true);
    expect(answer.answer).toMatch(/14 March/);
    expect(answer.sources[0]?.metadata.source).toMatch(/grandma\.md$/);
  });

  it.each([["When is Ole's birthday?"], ['Who is Emma married to?']])(
    '%j, which no note answers, is not answered by a related word alone',
    async (question) => {
      const answer = await luna.current.ask(question);
      expect(answer.grounded, answer.answer).toBe(false);
    },
  );
});

// Over a few notes every one is retrieved for any question: only the judgement stands
// between a related word and an answer.
describe.each(testImplementations())('a related word alone, over a few notes (%s)', (impl) => {
  const luna = useOfflineLuna(impl, () => NOTES);

  it.each([['Who is my mother?'], ['When is the wedding?'], ["When is Noah's birthday?"]])(
    '%j is answered by none of these notes',
    async (question) => {
      const answer = await luna.current.ask(question);
      expect(answer.grounded, answer.answer).toBe(false);
    },
  );
});
