/**
 * End to end on the real cores (CARMA and the SQLite store, both implementations) over a
 * household's notes (test-fixtures/household: 16 Markdown notes, each stored as an ingested
 * note is: its text with `source`, `line` and `offset`): questions the notes answer quote
 * the right note, each sentence with its subject; questions they do not answer are refused,
 * with what came closest labelled as such.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { testImplementations } from '@aios/utils/testing';
import { describe, expect, it } from 'vitest';
import { carmaMemory } from './carma.js';
import { HOUSEHOLD, householdNotes } from './testing/household.js';
import { useOfflineLuna } from './testing/use-offline-luna.js';

/** Answerable questions: the note that answers, and what the quote must say. */
const ANSWERABLE: Array<[question: string, note: string, quoted: RegExp[]]> = [
  ['Who is allergic to cats?', 'grandma.md', [/\[Grandma Rose\] is allergic to cats/]],
  ['How is the heating serviced?', 'heating.md', [/Heating: \[The boiler\] is serviced/]],
  ['What food must Maya avoid?', 'maya.md', [/\[Maya\] is allergic to peanuts/]],
  ["When is Grandma's birthday?", 'grandma.md', [/\[Grandma Rose's\] birthday is on 14 March/]],
  ["When is Maya's dental check-up?", 'dentist.md', [/Maya's next dental check-up is on 3 June/]],
  ['When does the black bin go out?', 'bins.md', [/black bin .* Monday evenings/]],
  ['What is the wifi password hint?', 'wifi.md', [/Wifi: The password hint/]],
  ['Who services the car?', 'car.md', [/Miller's Garage/]],
  ['Who is allergic to penicillin?', 'anna.md', [/\[Anna\] is allergic to penicillin/]],
  ['When does the home insurance renew?', 'insurance.md', [/\[The home insurance\] renews/]],
  ['How do I restart the router?', 'wifi.md', [/hold the reset button/]],
];

/** Questions no note answers (though several notes share a word or a name with them). */
const UNANSWERABLE = [
  "What is Tom's shoe size?",
  "Who is Maya's teacher?",
  "When is Tom's birthday?",
  'Where does Klaus live?',
  "What is Anna's phone number?",
  'How old is the dog?',
  'What is the gate code?',
  "What is Maya's favourite colour?",
];

describe.each(testImplementations())('a household of notes, end to end (%s)', (impl) => {
  const luna = useOfflineLuna(impl, () =>
    householdNotes().map((n) => ({ ...n, namespace: 'documents' })),
  );

  it.each(ANSWERABLE)('answers %j from %s, quoting its subject', async (question, note, quoted) => {
    const answer = await luna.current.ask(question);
    expect(answer.grounded).toBe(true);
    expect(answer.relevance).toBeGreaterThanOrEqual(0.5);
    expect(answer.answer).toMatch(/from memory: /);
    for (const q of quoted) expect(answer.answer).toMatch(q);
    const [first] = answer.sources;
    expect(first?.metadata.source).toBe(join(HOUSEHOLD, note));
    expect(first?.grounded).toBe(true);
    // Cited at the line of the quoted sentence, in the note's file.
    const lines = readFileSync(join(HOUSEHOLD, note), 'utf8').split('\n');
    const sentence = (first?.quote ?? '').replace(/^.*?\] |^[^:]*: /, '').slice(0, 20);
    expect(lines[(first?.line ?? 0) - 1]).toContain(sentence);
  });

  it("never quotes one person's note as another's", async () => {
    const maya = await luna.current.ask('What food must Maya avoid?');
    expect(maya.answer).not.toMatch(/cats/);
    for (const s of maya.sources) expect(s.metadata.source).toBe(join(HOUSEHOLD, 'maya.md'));
  });

  it.each(UNANSWERABLE)('refuses %j, and labels what came closest', async (question) => {
    const answer = await luna.current.ask(question);
    expect(answer.grounded).toBe(false);
    expect(answer.relevance).toBeLessThan(0.5);
    expect(answer.answer).toContain(`memory holds nothing that answers "${question}"`);
    expect(answer.answer).not.toMatch(/from memory: /);
    if (answer.sources.length > 0) {
      expect(answer.answer).toMatch(/Closest \(not an answer\): .+ \[1\]$/);
      expect(answer.sources).toHaveLength(1);
      expect(answer.sources[0]?.grounded).toBe(false);
    }
  });

  it('gives each search result its relevance on the same absolute scale, in every mode', async () => {
    for (const mode of ['hybrid', 'lexical', 'vector'] as const) {
      const memory = carmaMemory(luna.current.carma, { mode });
      const [cats] = await memory.search('Who is allergic to cats?', { k: 3 });
      expect(cats?.metadata?.source).toBe(join(HOUSEHOLD, 'grandma.md'));
      expect(cats?.relevance).toBe(1);
      const shoe = await memory.search("What is Tom's shoe size?", { k: 3 });
      for (const f of shoe) expect(f.relevance).toBeLessThan(0.5);
    }
  });

  it('answers a follow-up about whoever the last answer was about', async () => {
    const first = await luna.current.ask('Who is allergic to cats?');
    const next = await luna.current.ask('When is her birthday?', {
      conversationId: first.conversationId,
    });
    expect(next.conversationId).toBe(first.conversationId);
    expect(next.grounded).toBe(true);
    expect(next.answer).toMatch(/\[Grandma Rose's\] birthday is on 14 March/);
    // Asked on its own, the question names no one: Anna's and Grandma's birthdays both fit,
    // and each is quoted with its subject.
    const alone = await luna.current.ask('When is her birthday?');
    expect(alone.conversationId).not.toBe(first.conversationId);
    expect(alone.answer).toMatch(/\[Anna's\] birthday is on 2 November/);
    expect(alone.answer).toMatch(/\[Grandma Rose's\] birthday is on 14 March/);
  });
});
