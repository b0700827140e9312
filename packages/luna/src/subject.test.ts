import { describe, expect, it } from 'vitest';
import { sentenceSpans } from './sentences.js';
import { leadingSubject, subjectSentences } from './subject.js';

describe('sentenceSpans', () => {
  it('gives each sentence the line it starts on and the heading it is under', () => {
    const text = [
      'Title', // 0
      '=====', // 1
      '', // 2
      'First sentence runs', // 3
      'over two lines. Second one', // 4
      'starts on line four.', // 5
      '', // 6
      '## Part two', // 7
      '- an item', // 8
      '| a | b |', // 9
    ].join('\n');
    expect(sentenceSpans(text)).toEqual([
      { text: 'First sentence runs over two lines.', line: 3, heading: 'Title', block: 0 },
      { text: 'Second one starts on line four.', line: 4, heading: 'Title', block: 0 },
      { text: 'an item', line: 8, heading: 'Part two', block: 1 },
      { text: 'a | b', line: 9, heading: 'Part two', block: 2 },
    ]);
  });
});

describe('subjectSentences', () => {
  it('resolves an opening pronoun to the nearest earlier sentence that names an agreeing subject', () => {
    const quotes = subjectSentences(
      '# Heating\n\nThe boiler is a Vaillant in the utility room.\nIt is serviced every autumn by Klaus.',
    ).map((s) => s.quote);
    expect(quotes).toEqual([
      'Heating: The boiler is a Vaillant in the utility room.',
      'Heating: [The boiler] is serviced every autumn by Klaus.',
    ]);
    const grandma = subjectSentences(
      '# Grandma Rose\n\nGrandma Rose lives with us. She is allergic to cats.\nHer birthday is on 14 March.',
    );
    expect(grandma.map((s) => s.quote)).toEqual([
      'Grandma Rose lives with us.',
      '[Grandma Rose] is allergic to cats.',
      "[Grandma Rose's] birthday is on 14 March.",
    ]);
    expect(grandma[2]).toMatchObject({ subject: 'Grandma Rose', line: 3 });
    expect(grandma[2]?.context).toEqual(expect.arrayContaining(['birthday', 'grandma', 'rose']));
  });

  it('falls back on the heading, then the file name, and never reaches into another section', () => {
    const text = '# Maya\n\nMaya is eight.\n\n# Grandma\n\nShe is allergic to cats.';
    expect(subjectSentences(text).map((s) => s.quote)).toEqual([
      'Maya is eight.',
      '[Grandma] is allergic to cats.',
    ]);
    expect(subjectSentences('She is allergic to cats.', '/notes/grandma-rose.txt')[0]?.quote).toBe(
      '[grandma rose] is allergic to cats.',
    );
    expect(subjectSentences('She is allergic to cats.')[0]?.quote).toBe('She is allergic to cats.');
    // Not the name of a JSON or chat export file, nor Luna's own source.
    for (const [source, kind] of [
      ['/exports/conversations.json', 'chatgpt'],
      ['/data/people.jsonl', 'jsonl'],
      ['luna', undefined],
    ]) {
      expect(subjectSentences('She is allergic to cats.', source, kind)[0]?.quote).toBe(
        'She is allergic to cats.',
      );
    }
    // A file name resolves a pronoun but is not put before every sentence.
    expect(subjectSentences('The kettle is descaled on Sundays.', '/notes/note.md')[0]?.quote).toBe(
      'The kettle is descaled on Sundays.',
    );
  });

  it('says which note a sentence that names neither heading nor subject comes from', () => {
    expect(subjectSentences("# Dentist\n\nTom's check-up is in September.")[0]?.quote).toBe(
      "Dentist: Tom's check-up is in September.",
    );
  });

  it('resolves she, he, her and his to a person, never to a capitalised common word', () => {
    const quote = (text: string) => subjectSentences(text).map((s) => s.quote);
    const phone = 'Her office phone number is 555-0199.';
    expect(
      quote(`My dentist is Dr. Helga Sørensen. Appointment on March 14th at 10:30.\n${phone}`),
    ).toContain("[Dr. Helga Sørensen's] office phone number is 555-0199.");
    // No one named before it: the sentence is left as written.
    for (const before of ['Appointment on March 14th at 10:30.', 'Reservation is at 8pm.']) {
      expect(quote(`${before}\n${phone}`)).toEqual([before, phone]);
    }
    expect(quote('Meeting at noon in room 4. He chairs it.')[1]).toBe('He chairs it.');
    // A name opening a sentence is a person's, as is one with a title or said to be someone.
    expect(quote('Maya is eight. She is allergic to peanuts.')[1]).toBe(
      '[Maya] is allergic to peanuts.',
    );
    expect(quote("Tom's shift starts at 9. He takes the bus.")[1]).toBe('[Tom] takes the bus.');
    expect(quote('Check-up with Dr. Patel on Monday. Her surgery is on High Street.')[1]).toBe(
      "[Dr. Patel's] surgery is on High Street.",
    );
    expect(quote('Our babysitter is Lena. Her number is 555-0100.')[1]).toBe(
      "[Lena's] number is 555-0100.",
    );
    // A word written capitalised inside a sentence is a name wherever it stands.
    expect(quote('Pixel sleeps a lot; we adopted Pixel in 2019. She likes fish.')[1]).toBe(
      '[Pixel] likes fish.',
    );
    // Nor is a word the note also writes in lower case.
    expect(quote('Parking is free; parking closes at 10pm. Her office is on floor 2.')[1]).toBe(
      'Her office is on floor 2.',
    );
    // A month is no one, even capitalised inside a sentence.
    expect(quote('March is busy, from 1 March on. Her shop is full.')[1]).toBe('Her shop is full.');
    // It and its still take the thing a sentence opens with.
    expect(quote('The gym opens at 6am. Its pool closes at 9pm.')[1]).toBe(
      "[The gym's] pool closes at 9pm.",
    );
  });

  it('ends a subject at the present-tense verb after it', () => {
    expect(leadingSubject('The gym opens at 6am.')).toBe('The gym');
    expect(leadingSubject('The corner shop closes early on Sundays.')).toBe('The corner shop');
    expect(leadingSubject('The night bus carries bikes.')).toBe('The night bus');
    expect(leadingSubject('The tennis class starts at 9.')).toBe('The tennis class');
    // A plural noun before a verb is part of the subject.
    expect(leadingSubject('The car keys are in the drawer.')).toBe('The car keys');
    expect(leadingSubject('The school holidays will start in July.')).toBe('The school holidays');
  });

  it('finds the subject a sentence opens with', () => {
    expect(leadingSubject('Grandma Rose has lived with us since 2021.')).toBe('Grandma Rose');
    expect(leadingSubject("Maya's next check-up is in June.")).toBe('Maya');
    expect(leadingSubject('The home insurance renews in May.')).toBe('The home insurance');
    expect(leadingSubject('If the pressure drops, top it up.')).toBeUndefined();
    expect(leadingSubject('She is allergic.')).toBeUndefined();
  });
});
